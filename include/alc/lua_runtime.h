/*
 * lua_runtime.h — prepares a session's lua_State: standard libraries per sandbox profile,
 * the `alc` table (Layer 0 in C + the embedded Layer 1 prelude), the `ctx` global, a
 * `print` that goes to the session log, and `require` over the package roots.
 *
 * Called only on the thread that owns the state.
 */
#ifndef ALC_LUA_RUNTIME_H
#define ALC_LUA_RUNTIME_H

#include <cjson/cJSON.h>
#include <lua.h>

#include "alc/config.h"
#include "alc/lua_host.h"

typedef struct alc_lua_env {
    const alc_config *cfg;     /* borrowed */
    const char *project_root;  /* may be NULL */
    const cJSON *ctx;          /* borrowed; NULL means {} */
} alc_lua_env;

/*
 * Sets L up for a session. host is copied into a Lua userdata owned by L. Returns ALC_OK,
 * or an error code with a message (e.g. "prelude failed: ...") in err. Runs in protected
 * mode; never raises.
 */
int alc_lua_setup(lua_State *L, const alc_lua_host *host, const alc_lua_env *env, char *err, size_t errlen);

/*
 * The two halves of alc_lua_setup, for states prepared ahead of their session (warm_pool.c):
 * alc_lua_setup_base does everything that depends on cfg alone (libraries, sandbox, the alc
 * table, the prelude; refused with ALC_E_INVAL for the strict sandbox, which needs the
 * session's roots), alc_lua_setup_session the rest (host, require roots, ctx). Either may run
 * on any thread that owns L at the time. Same errors as alc_lua_setup; never raise.
 */
int alc_lua_setup_base(lua_State *L, const alc_config *cfg, char *err, size_t errlen);
int alc_lua_setup_session(lua_State *L, const alc_lua_host *host, const alc_lua_env *env, char *err, size_t errlen);

/* A Lua heap with a byte budget: the ud of alc_lua_alloc. */
typedef struct alc_lua_mem {
    size_t used, peak, limit;
} alc_lua_mem;
/* lua_Alloc over malloc that refuses to grow past m->limit (Lua then raises "not enough
 * memory") and tracks used/peak. ud: alc_lua_mem *, touched only by L's owning thread. */
void *alc_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Returns the host stored in L's registry (asserts it is there). */
const alc_lua_host *alc_lua_host_of(lua_State *L);

/* Installs the stop hook: the next instruction raises "cancelled", and every line after
 * it raises again, so pcall cannot swallow the stop. Safe to call from a signal handler
 * running on L's own thread. */
void alc_lua_arm_stop_hook(lua_State *L);

/* interrupt.c: the states this thread is executing, for the cancel signal handler. */
void alc_lua_enter(lua_State *L);
void alc_lua_leave(void);
/* Arms the stop hook on every state this thread is executing (async-signal-safe). */
void alc_lua_arm_stop_active(void);
/* ThreadSanitizer builds only: a permanent count hook that polls the cancel flag. */
void alc_lua_install_poll_hook(lua_State *L);
/* Installs the coroutine / xpcall / setmetatable wrappers that keep cancellation working. */
void alc_lua_open_interrupt(lua_State *L);

/* Call right before lua_close(L): Lua-written finalizers then fail at once instead of
 * running after the session ended; C finalizers still run. */
void alc_lua_prepare_close(lua_State *L);

/* ALC_SANDBOX=strict: confines io.open/io.lines/io.input/io.output/loadfile/dofile to the
 * package roots, the project root and ALC_HOME (sandbox_strict.c). */
void alc_lua_sandbox_strict(lua_State *L, const alc_lua_env *env);

/* Registers the Layer 0 functions into the table at the top of the stack (bridge.c). */
void alc_lua_open_bridge(lua_State *L);
/* Registers alc.state into the table at the top of the stack (lib_state.c). */
void alc_lua_open_state(lua_State *L);

#endif
