/*
 * warm_pool.h — Lua states prepared ahead of the sessions that will use them.
 *
 * Preparing a session's state (libraries, sandbox, the alc table, the prelude) is most of
 * the time from alc_run to the script's first instruction. The pool keeps up to `capacity`
 * states prepared that far (alc_lua_setup_base): a background thread at nice 19 fills it
 * whenever the housekeeping tick finds it short and quiet (alc_warm_pool_tick), the first time
 * at the first tick after start;
 * a session thread whose session has ended tops it up before it exits (alc_warm_pool_refill). The pool
 * has no lock that a preempted builder could hold (see warm_pool.c). A session takes one if there is one, and finishes it with alc_lua_setup_session;
 * a state is never handed out twice and has never run a line of anybody's code, so a pooled
 * session is indistinguishable from one that built its own state.
 *
 * Threads: alc_warm_pool_new / _free from the registry's owner; alc_warm_pool_take from any
 * thread (it never blocks on the pool's builder).
 */
#ifndef ALC_WARM_POOL_H
#define ALC_WARM_POOL_H

#include <lua.h>
#include <stddef.h>

#include "alc/config.h"
#include "alc/lua_runtime.h"

typedef struct alc_warm_pool alc_warm_pool;

/* Starts a pool of capacity states for cfg (borrowed for the pool's life). Returns NULL when
 * the pool cannot serve (capacity 0, strict sandbox, no memory or no thread): callers then
 * build their states themselves. */
alc_warm_pool *alc_warm_pool_new(const alc_config *cfg, size_t capacity);

/* From now on nothing is built any more (refills and the builder's work become no-ops); the
 * pool can still be taken from. For shutdown, before waiting for session threads. NULL ok;
 * any thread. */
void alc_warm_pool_stop(alc_warm_pool *p);

/* Stops the builder and closes the states nobody took. NULL ok. */
void alc_warm_pool_free(alc_warm_pool *p);

/*
 * Takes a prepared state, or returns NULL at once when none is ready (or its heap already
 * exceeds mem->limit). On success the state allocates through alc_lua_alloc with ud = mem
 * from now on, and mem->used / mem->peak account for what it holds. The caller owns the state
 * and must still run alc_lua_setup_session on it.
 */
lua_State *alc_warm_pool_take(alc_warm_pool *p, alc_lua_mem *mem);

/* Called by the registry's housekeeping tick (every 250 ms): when the pool is short and no
 * state was taken in the last 20 ms, wakes the builder to fill it. Never blocks; NULL ok. */
void alc_warm_pool_tick(alc_warm_pool *p);

/* Number of states ready to be taken now (0 for NULL). Any thread. */
size_t alc_warm_pool_ready(alc_warm_pool *p);

/*
 * Builds one state for the pool on the calling thread, at the caller's priority, if the pool is
 * not full (counting states being built). A session thread calls it after its session ended and
 * its last reply went out: the next alc_run then finds a prepared state even when the builder,
 * which only gets idle CPU time, could not keep up. NULL ok. Blocks for the build (~50 µs).
 */
void alc_warm_pool_refill(alc_warm_pool *p);

/*
 * A session's state, ready for its code: taken from p when one is ready (p may be NULL), else
 * built here, then finished with host and env (alc_lua_setup / alc_lua_setup_session).
 * mem: the session's budget (limit set; used/peak are overwritten). Returns ALC_OK with the
 * new state in *out (caller owns it), or ALC_E_NOMEM / ALC_E_INTERNAL with *out NULL and
 * the reason in err ("cannot create a Lua state (memory limit too low)", "not enough memory
 * while preparing the session: ...", "session setup failed: ...").
 */
int alc_warm_pool_prepare(alc_warm_pool *p, alc_lua_mem *mem, const alc_lua_host *host, const alc_lua_env *env,
                          lua_State **out, char *err, size_t errlen);

#endif
