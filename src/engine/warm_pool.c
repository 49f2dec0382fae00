/*
 * warm_pool.c — Lua states prepared ahead of their sessions (see warm_pool.h).
 *
 * Owns the builder thread "alc-warm" and the prepared states (each with its own heap budget,
 * alc_lua_mem, in a heap-allocated warm_state). A taken state's allocator is switched to the
 * taker's budget before it is returned, so the pool keeps no pointer into it.
 *
 * No mutex: the builder runs at the lowest priority, and a low-priority thread preempted while
 * holding a lock would make every taker wait for it (priority inversion: a spawn stalled until
 * the CPU goes idle). Instead:
 *   - slots[i] is an atomic pointer: a builder publishes with compare-and-swap into an empty
 *     slot, a taker claims with exchange(NULL). A state is therefore handed out at most once.
 *   - `room` is a semaphore counting the free places (capacity - ready - being built). The
 *     builder waits on it; a taker posts it; a refill takes a place with sem_trywait. Posting a
 *     glibc semaphore takes no lock.
 *   - `stop` is atomic; alc_warm_pool_free sets it and posts `room` to wake the builder.
 * Thread roles: see warm_pool.h.
 */
#include "alc/warm_pool.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct warm_state {
    lua_State *L;
    alc_lua_mem mem; /* the state's allocator ud while it is in the pool */
} warm_state;

struct alc_warm_pool {
    const alc_config *cfg;
    size_t cap;
    _Atomic(warm_state *) *slots; /* cap entries; NULL = empty */
    sem_t room;                   /* free places: cap - ready - being built */
    atomic_bool stop;
    _Atomic int64_t last_take_ms; /* monotonic ms of the last take (0: none yet) */
    pthread_t thread;
};

/* The builder leaves a burst of alc_run calls alone: it starts a state only once no state has
 * been taken for this long, so that its work never lands in the middle of a burst, next to
 * the sessions that were just started (an ending session tops the pool up itself). */
#define QUIET_MS 20

static void close_warm(warm_state *w) {
    lua_close(w->L);
    free(w);
}

/* Builds one state prepared up to alc_lua_setup_base, or returns NULL. */
static warm_state *build(const alc_config *cfg) {
    warm_state *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->mem.limit = cfg->max_memory;
    w->L = lua_newstate(alc_lua_alloc, &w->mem);
    if (!w->L) { free(w); return NULL; }
    char err[256];
    if (alc_lua_setup_base(w->L, cfg, err, sizeof err) != ALC_OK) {
        close_warm(w);
        return NULL;
    }
    lua_gc(w->L, LUA_GCCOLLECT); /* drop what setting up left behind: a smaller heap to hand over */
    return w;
}

/* Builds a state for a place already taken from `room` and publishes it; gives the place
 * back when the build fails or the pool is stopping. Returns false when the build failed. */
static bool build_into_place(alc_warm_pool *p) {
    warm_state *w = atomic_load(&p->stop) ? NULL : build(p->cfg);
    if (!w) {
        sem_post(&p->room);
        return atomic_load(&p->stop);
    }
    for (size_t i = 0; i < p->cap; i++) {
        warm_state *empty = NULL;
        if (atomic_compare_exchange_strong(&p->slots[i], &empty, w)) return true;
    }
    /* cannot happen (a place was reserved); never leak */
    close_warm(w);
    sem_post(&p->room);
    return true;
}

static void *builder_main(void *arg) {
    alc_warm_pool *p = arg;
    /* background work: the front end and every session come first (nice 19, not SCHED_IDLE:
     * an idle-class thread can starve for seconds on a busy machine, and anything waiting on a
     * lock it holds inside malloc would wait as long) */
    alc_thread_wind_down();
    for (;;) {
        while (sem_wait(&p->room) != 0 && errno == EINTR) {}
        int64_t quiet;
        while (!atomic_load(&p->stop) && (quiet = alc_now_ms() - atomic_load(&p->last_take_ms)) < QUIET_MS)
            alc_sleep_ms(QUIET_MS - quiet);
        if (atomic_load(&p->stop)) break;
        if (!build_into_place(p)) alc_sleep_ms(1000); /* out of memory or similar: try later */
    }
    return NULL;
}

/* Starts a pool; see warm_pool.h. */
alc_warm_pool *alc_warm_pool_new(const alc_config *cfg, size_t capacity) {
    if (capacity == 0 || cfg->sandbox == ALC_SANDBOX_STRICT) return NULL;
    alc_warm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->slots = calloc(capacity, sizeof *p->slots);
    if (!p->slots || sem_init(&p->room, 0, (unsigned)capacity) != 0) {
        free(p->slots);
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < capacity; i++) atomic_init(&p->slots[i], NULL);
    atomic_init(&p->stop, false);
    atomic_init(&p->last_take_ms, 0);
    p->cfg = cfg;
    p->cap = capacity;
    if (alc_thread_start(&p->thread, builder_main, p, 256 * 1024, "alc-warm", false) != ALC_OK) {
        sem_destroy(&p->room);
        free(p->slots);
        free(p);
        return NULL;
    }
    return p;
}

/* Stops the builder and closes what is left; see warm_pool.h. */
void alc_warm_pool_free(alc_warm_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, true);
    sem_post(&p->room);
    alc_thread_join(p->thread);
    for (size_t i = 0; i < p->cap; i++) {
        warm_state *w = atomic_exchange(&p->slots[i], NULL);
        if (w) close_warm(w);
    }
    sem_destroy(&p->room);
    free(p->slots);
    free(p);
}

/* States ready now; see warm_pool.h. */
size_t alc_warm_pool_ready(alc_warm_pool *p) {
    size_t n = 0;
    for (size_t i = 0; p && i < p->cap; i++) n += atomic_load(&p->slots[i]) != NULL;
    return n;
}

/* Tops the pool up by one state on the calling thread; see warm_pool.h. */
void alc_warm_pool_refill(alc_warm_pool *p) {
    if (!p || atomic_load(&p->stop) || sem_trywait(&p->room) != 0) return; /* full, or all places being built */
    (void)build_into_place(p);
}

/* Takes a prepared state or returns NULL; see warm_pool.h. */
lua_State *alc_warm_pool_take(alc_warm_pool *p, alc_lua_mem *mem) {
    if (!p) return NULL;
    warm_state *w = NULL;
    for (size_t i = 0; i < p->cap && !w; i++)
        if (atomic_load(&p->slots[i])) w = atomic_exchange(&p->slots[i], NULL);
    if (!w) return NULL;
    atomic_store(&p->last_take_ms, alc_now_ms());
    sem_post(&p->room); /* wakes the builder (which waits for a quiet moment) */
    if (w->mem.used > mem->limit) { /* a budget below a prepared state: let the caller fail it */
        close_warm(w);
        return NULL;
    }
    mem->used = w->mem.used;
    mem->peak = w->mem.used;
    lua_State *L = w->L;
    lua_setallocf(L, alc_lua_alloc, mem);
    free(w);
    return L;
}

/* A session's state from the pool or built here; see warm_pool.h. */
int alc_warm_pool_prepare(alc_warm_pool *p, alc_lua_mem *mem, const alc_lua_host *host, const alc_lua_env *env,
                          lua_State **out, char *err, size_t errlen) {
    *out = NULL;
    int rc;
    lua_State *L = alc_warm_pool_take(p, mem);
    if (L) {
        rc = alc_lua_setup_session(L, host, env, err, errlen);
    } else {
        mem->used = mem->peak = 0;
        L = lua_newstate(alc_lua_alloc, mem);
        if (!L) {
            snprintf(err, errlen, "cannot create a Lua state (memory limit too low)");
            return ALC_E_NOMEM;
        }
        rc = alc_lua_setup(L, host, env, err, errlen);
    }
    if (rc != ALC_OK) {
        lua_close(L);
        return rc;
    }
    *out = L;
    return ALC_OK;
}
