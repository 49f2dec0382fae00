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
 *   - `room` is a semaphore counting the free places (capacity - ready - being built). A
 *     taker posts it; the builder and a refill take a place with sem_trywait. Posting a glibc
 *     semaphore takes no lock.
 *   - `wanted` wakes the builder: posted by alc_warm_pool_tick (the first tick fills the pool,
 *     250 ms after start, so that start-up does not compete with it) and at stop.
 *   - `stop` is atomic; alc_warm_pool_free sets it and posts `wanted`.
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
    sem_t wanted;                 /* posted to send the builder to work (tick, start, stop) */
    atomic_bool requested;        /* a post of `wanted` is pending: do not pile them up */
    atomic_bool stop;
    _Atomic int64_t last_take_ms; /* monotonic ms of the last take (0: none yet) */
    pthread_t thread;
};

/* The builder is sent to work only by alc_warm_pool_tick, once no state has been taken for
 * this long: its work never lands in the middle of a burst of alc_run calls, next to the
 * sessions just started (an ending session tops the pool up itself). It has no timer of its
 * own, so an idle server stays idle. */
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
        while (sem_wait(&p->wanted) != 0 && errno == EINTR) {}
        atomic_store(&p->requested, false);
        /* fill every free place (a failed build, e.g. out of memory, waits for the next tick) */
        while (!atomic_load(&p->stop) && sem_trywait(&p->room) == 0)
            if (!build_into_place(p)) break;
        if (atomic_load(&p->stop)) break;
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
    if (sem_init(&p->wanted, 0, 0) != 0) { /* the first tick fills it: start-up stays quick */
        sem_destroy(&p->room);
        free(p->slots);
        free(p);
        return NULL;
    }
    atomic_init(&p->requested, false);
    for (size_t i = 0; i < capacity; i++) atomic_init(&p->slots[i], NULL);
    atomic_init(&p->stop, false);
    atomic_init(&p->last_take_ms, 0);
    p->cfg = cfg;
    p->cap = capacity;
    if (alc_thread_start(&p->thread, builder_main, p, 256 * 1024, "alc-warm", false) != ALC_OK) {
        sem_destroy(&p->wanted);
        sem_destroy(&p->room);
        free(p->slots);
        free(p);
        return NULL;
    }
    return p;
}

/* Stops building; see warm_pool.h. */
void alc_warm_pool_stop(alc_warm_pool *p) {
    if (p) atomic_store(&p->stop, true);
}

/* Stops the builder and closes what is left; see warm_pool.h. */
void alc_warm_pool_free(alc_warm_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, true);
    sem_post(&p->wanted);
    alc_thread_join(p->thread);
    for (size_t i = 0; i < p->cap; i++) {
        warm_state *w = atomic_exchange(&p->slots[i], NULL);
        if (w) close_warm(w);
    }
    sem_destroy(&p->wanted);
    sem_destroy(&p->room);
    free(p->slots);
    free(p);
}

/* Sends the builder to work when the pool is short and quiet; see warm_pool.h. */
void alc_warm_pool_tick(alc_warm_pool *p) {
    if (!p || atomic_load(&p->stop) || alc_warm_pool_ready(p) >= p->cap) return;
    if (alc_now_ms() - atomic_load(&p->last_take_ms) < QUIET_MS) return;
    if (!atomic_exchange(&p->requested, true)) sem_post(&p->wanted);
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
    sem_post(&p->room); /* a free place: filled by an ending session or the next tick */
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
