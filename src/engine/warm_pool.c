/*
 * warm_pool.c — Lua states prepared ahead of their sessions (see warm_pool.h).
 *
 * Owns the builder thread "alc-warm" and the states in `ready`, each with its own heap
 * budget (alc_lua_mem). The builder prepares a state with no lock held, then publishes it;
 * takers pop under the lock and wake the builder. A taken state's allocator is switched to
 * the taker's budget before it is returned, so the pool keeps no pointer into it.
 *
 * Locking: p->mu guards ready, n_ready and stop; it is a leaf lock and is never held while a
 * state is built, closed or run.
 */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "alc/warm_pool.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct warm_state {
    lua_State *L;
    alc_lua_mem *mem; /* the state's allocator ud while it is in the pool */
} warm_state;

struct alc_warm_pool {
    const alc_config *cfg;
    alc_mutex mu;
    alc_cond cond;       /* the builder waits here for room (or stop) */
    warm_state *ready;   /* (mu) */
    size_t n_ready, cap; /* (mu) n_ready; cap is fixed */
    size_t building;     /* (mu) states being built (by the builder or an ending session) */
    bool stop;           /* (mu) */
    pthread_t thread;
};

static void close_warm(warm_state *w) {
    lua_close(w->L);
    free(w->mem);
}

/* Builds one state prepared up to alc_lua_setup_base; false when that failed. */
static bool build(const alc_config *cfg, warm_state *out) {
    alc_lua_mem *mem = calloc(1, sizeof *mem);
    if (!mem) return false;
    mem->limit = cfg->max_memory;
    lua_State *L = lua_newstate(alc_lua_alloc, mem);
    if (!L) { free(mem); return false; }
    char err[256];
    if (alc_lua_setup_base(L, cfg, err, sizeof err) != ALC_OK) {
        lua_close(L);
        free(mem);
        return false;
    }
    lua_gc(L, LUA_GCCOLLECT); /* drop what setting up left behind: a smaller heap to hand over */
    out->L = L;
    out->mem = mem;
    return true;
}

/* Builds one state into a reserved slot (p->building counted by the caller, mu held) and
 * publishes it. Returns with mu held; false when the build failed. */
static bool build_reserved_locked(alc_warm_pool *p) {
    alc_mutex_unlock(&p->mu);
    warm_state w;
    bool ok = build(p->cfg, &w);
    alc_mutex_lock(&p->mu);
    p->building--;
    if (!ok) return false;
    if (p->stop || p->n_ready >= p->cap) {
        alc_mutex_unlock(&p->mu);
        close_warm(&w);
        alc_mutex_lock(&p->mu);
        return true;
    }
    p->ready[p->n_ready++] = w;
    return true;
}

static void *builder_main(void *arg) {
    alc_warm_pool *p = arg;
    /* background work: never compete with the front end or a session for a CPU */
    struct sched_param sp = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    alc_mutex_lock(&p->mu);
    while (!p->stop) {
        if (p->n_ready + p->building >= p->cap) {
            alc_cond_wait(&p->cond, &p->mu);
            continue;
        }
        p->building++;
        if (!build_reserved_locked(p)) {
            /* out of memory or similar: sessions build their own states; try again later */
            alc_cond_timedwait_ns(&p->cond, &p->mu, 1000 * 1000000LL);
        }
    }
    alc_mutex_unlock(&p->mu);
    return NULL;
}

/* States ready now; see warm_pool.h. */
size_t alc_warm_pool_ready(alc_warm_pool *p) {
    if (!p) return 0;
    alc_mutex_lock(&p->mu);
    size_t n = p->n_ready;
    alc_mutex_unlock(&p->mu);
    return n;
}

/* Tops the pool up by one state on the calling thread; see warm_pool.h. */
void alc_warm_pool_refill(alc_warm_pool *p) {
    if (!p) return;
    alc_mutex_lock(&p->mu);
    if (!p->stop && p->n_ready + p->building < p->cap) {
        p->building++;
        (void)build_reserved_locked(p);
    }
    alc_mutex_unlock(&p->mu);
}

/* Starts a pool; see warm_pool.h. */
alc_warm_pool *alc_warm_pool_new(const alc_config *cfg, size_t capacity) {
    if (capacity == 0 || cfg->sandbox == ALC_SANDBOX_STRICT) return NULL;
    alc_warm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->ready = calloc(capacity, sizeof *p->ready);
    if (!p->ready) { free(p); return NULL; }
    p->cfg = cfg;
    p->cap = capacity;
    alc_mutex_init(&p->mu);
    alc_cond_init(&p->cond);
    if (alc_thread_start(&p->thread, builder_main, p, 256 * 1024, "alc-warm", false) != ALC_OK) {
        alc_cond_deinit(&p->cond);
        alc_mutex_deinit(&p->mu);
        free(p->ready);
        free(p);
        return NULL;
    }
    return p;
}

/* Stops the builder and closes what is left; see warm_pool.h. */
void alc_warm_pool_free(alc_warm_pool *p) {
    if (!p) return;
    alc_mutex_lock(&p->mu);
    p->stop = true;
    alc_cond_broadcast(&p->cond);
    alc_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    for (size_t i = 0; i < p->n_ready; i++) close_warm(&p->ready[i]);
    alc_cond_deinit(&p->cond);
    alc_mutex_deinit(&p->mu);
    free(p->ready);
    free(p);
}

/* Takes a prepared state or returns NULL; see warm_pool.h. */
lua_State *alc_warm_pool_take(alc_warm_pool *p, alc_lua_mem *mem) {
    if (!p) return NULL;
    warm_state w;
    alc_mutex_lock(&p->mu);
    if (p->n_ready == 0) {
        alc_mutex_unlock(&p->mu);
        return NULL;
    }
    w = p->ready[--p->n_ready];
    alc_cond_signal(&p->cond);
    alc_mutex_unlock(&p->mu);
    if (w.mem->used > mem->limit) { /* a budget below a prepared state: let the caller fail it */
        close_warm(&w);
        return NULL;
    }
    mem->used = w.mem->used;
    mem->peak = w.mem->used;
    lua_setallocf(w.L, alc_lua_alloc, mem);
    free(w.mem);
    return w.L;
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
