/*
 * registry.c — the map of sessions by id, session creation, reference counting, the
 * housekeeping (GC) thread, and shutdown.
 *
 * Threads: any thread may call the public functions. reg->mu guards the map, counts and
 * the stop flag; it is never held while touching Lua or calling a waiter, and a session's
 * mutex may be taken while holding it (order registry → session), never the reverse.
 */
#define _GNU_SOURCE /* getrandom */
#include "session_internal.h"

#include "alc/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void alc__session_install_signal(void);

unsigned alc__reg_hash(const char *id) {
    unsigned h = 2166136261u;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 16777619u;
    return h % ALC_REG_BUCKETS;
}

void alc__session_ref(alc_session *s) { atomic_fetch_add(&s->refs, 1); }

void alc_session_unref(alc_session *s) {
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) alc__session_free(s);
}

/* Publishes an event (s->mu may be held). */
void alc__session_publish(alc_session *s, alc_event_kind kind, const char *json) {
    alc_ring_publish(s->ring, kind, alc_wall_ms(), json, NULL);
}

/* 128 bits from the OS CSPRNG as "s-" + 32 hex digits. */
static int new_id(char *out) {
    unsigned char rnd[16];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ALC_E_IO;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    out[0] = 's';
    out[1] = '-';
    for (size_t i = 0; i < 16; i++) {
        out[2 + 2 * i] = hex[rnd[i] >> 4];
        out[3 + 2 * i] = hex[rnd[i] & 15];
    }
    out[34] = '\0';
    return ALC_OK;
}

static void map_remove_locked(alc_registry *r, alc_session *s) {
    alc_session **pp = &r->buckets[alc__reg_hash(s->id)];
    while (*pp && *pp != s) pp = &(*pp)->next;
    if (*pp) {
        *pp = s->next;
        s->in_map = false;
        r->count--;
    }
}

/* GC: drops finished sessions after the retention window; cancels idle paused ones. */
static void *gc_main(void *arg) {
    alc_registry *r = arg;
    const alc_config *cfg = r->cfg;
    int64_t tick = 250; /* also how soon an elapsed-time budget is enforced */
    if (cfg->retention_ms < tick) tick = cfg->retention_ms > 50 ? cfg->retention_ms : 50;
    alc_mutex_lock(&r->mu);
    while (!r->stop) {
        alc_cond_timedwait_ns(&r->cond, &r->mu, tick * 1000000);
        if (r->stop) break;
        alc_warm_pool_tick(r->warm); /* never blocks */
        int64_t now = alc_now_ms();
        alc_session *drop[128], *idle[128], *late[128];
        size_t nd = 0, ni = 0, nl = 0;
        for (int b = 0; b < ALC_REG_BUCKETS; b++) {
            alc_session **pp = &r->buckets[b];
            while (*pp) {
                alc_session *s = *pp;
                alc_mutex_lock(&s->mu);
                bool expired = alc_state_is_terminal(s->state) && s->ended_mono_ms &&
                               now - s->ended_mono_ms >= cfg->retention_ms;
                bool is_idle = s->state == ALC_STATE_PAUSED && now - s->last_active_mono_ms >= cfg->session_ttl_ms;
                /* a running script past its elapsed-time budget (it may never call alc.llm) */
                bool is_late = s->state == ALC_STATE_RUNNING && s->metrics.max_elapsed_ms >= 0 &&
                               alc_metrics_elapsed_ms(&s->metrics) > s->metrics.max_elapsed_ms;
                alc_mutex_unlock(&s->mu);
                if (expired && nd < 128) {
                    *pp = s->next;
                    s->in_map = false;
                    r->count--;
                    drop[nd++] = s;
                    continue;
                }
                if (is_idle && ni < 128) {
                    alc__session_ref(s);
                    idle[ni++] = s;
                }
                if (is_late && nl < 128) {
                    alc__session_ref(s);
                    late[nl++] = s;
                }
                pp = &s->next;
            }
        }
        alc_mutex_unlock(&r->mu);
        for (size_t i = 0; i < ni; i++) {
            char why[96];
            snprintf(why, sizeof why, "idle for more than %lld s (ALC_SESSION_TTL)", (long long)(cfg->session_ttl_ms / 1000));
            alc_session_cancel(idle[i], "timeout", why, NULL);
            alc_session_unref(idle[i]);
        }
        for (size_t i = 0; i < nl; i++) {
            char why[160];
            snprintf(why, sizeof why, "budget_exceeded: max_elapsed_ms (%lldms) reached while the script was running",
                     late[i]->metrics.max_elapsed_ms);
            alc__session_timeout(late[i], why);
            alc_session_unref(late[i]);
        }
        for (size_t i = 0; i < nd; i++) alc_session_unref(drop[i]); /* the map's reference */
        alc_mutex_lock(&r->mu);
    }
    alc_mutex_unlock(&r->mu);
    return NULL;
}

/* Creates a registry and starts its GC thread. */
int alc_registry_new(const alc_config *cfg, alc_registry **out) {
    alc__session_install_signal();
    alc_registry *r = calloc(1, sizeof *r);
    if (!r) return ALC_E_NOMEM;
    r->cfg = cfg;
    size_t hl = strlen(cfg->home);
    r->state_root = malloc(hl + 7);
    if (!r->state_root) { free(r); return ALC_E_NOMEM; }
    memcpy(r->state_root, cfg->home, hl);
    memcpy(r->state_root + hl, "/state", 7);
    alc_mutex_init(&r->mu);
    alc_cond_init(&r->cond);
    alc_cond_init(&r->live_cond);
    alc_cond_init(&r->logs_cond);
    atomic_init(&r->log_dir_ok, false);
    r->warm = alc_warm_pool_new(cfg, cfg->warm_states); /* NULL: sessions build their own states */
    int rc = alc_thread_start(&r->gc_thread, gc_main, r, 256 * 1024, "alc-gc", false);
    if (rc != ALC_OK) {
        alc_warm_pool_free(r->warm);
        alc_cond_deinit(&r->cond);
        alc_cond_deinit(&r->live_cond);
        alc_cond_deinit(&r->logs_cond);
        alc_mutex_deinit(&r->mu);
        free(r->state_root);
        free(r);
        return rc;
    }
    *out = r;
    return ALC_OK;
}

uint64_t alc__registry_log_begin(alc_registry *r) {
    alc_mutex_lock(&r->mu);
    uint64_t t = 0;
    if (r->n_log_pending == r->cap_log_pending) {
        size_t cap = r->cap_log_pending ? r->cap_log_pending * 2 : 16;
        uint64_t *grown = realloc(r->log_pending, cap * sizeof *grown);
        if (grown) {
            r->log_pending = grown;
            r->cap_log_pending = cap;
        }
    }
    if (r->n_log_pending < r->cap_log_pending) {
        t = ++r->log_ticket;
        r->log_pending[r->n_log_pending++] = t;
    }
    alc_mutex_unlock(&r->mu);
    return t;
}

void alc__registry_log_end(alc_registry *r, uint64_t ticket) {
    if (ticket == 0) return;
    alc_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_log_pending; i++)
        if (r->log_pending[i] == ticket) {
            r->log_pending[i] = r->log_pending[--r->n_log_pending];
            break;
        }
    alc_cond_broadcast(&r->logs_cond);
    alc_mutex_unlock(&r->mu);
}

/* True when a ticket <= upto is still pending. r->mu held. */
static bool log_pending_upto_locked(const alc_registry *r, uint64_t upto) {
    for (size_t i = 0; i < r->n_log_pending; i++)
        if (r->log_pending[i] <= upto) return true;
    return false;
}

/* Waits for the logs of the sessions already answered; see session.h. */
bool alc_registry_wait_logs(alc_registry *r, int64_t timeout_ms) {
    int64_t deadline = alc_now_ms() + timeout_ms;
    alc_mutex_lock(&r->mu);
    uint64_t upto = r->log_ticket; /* logs begun later belong to results the caller has not seen */
    int64_t left;
    while (log_pending_upto_locked(r, upto) && (left = deadline - alc_now_ms()) > 0)
        alc_cond_timedwait_ns(&r->logs_cond, &r->mu, left * 1000000);
    bool done = !log_pending_upto_locked(r, upto);
    alc_mutex_unlock(&r->mu);
    return done;
}

void alc__registry_session_ended(alc_registry *r) {
    alc_mutex_lock(&r->mu);
    r->live--;
    alc_mutex_unlock(&r->mu);
}

/* Called by each session thread as its last act. */
void alc__registry_thread_done(alc_registry *r) {
    alc_mutex_lock(&r->mu);
    r->threads--;
    alc_cond_broadcast(&r->live_cond);
    alc_mutex_unlock(&r->mu);
}

/* Waits up to grace_ms for every running session to reach a pause or its end, so that a
 * client that sends its requests and closes stdin still gets the answers that need no
 * further input. Polls (every 5 ms): shutdown is rare and short. */
void alc_registry_drain(alc_registry *r, int64_t grace_ms) {
    int64_t deadline = alc_now_ms() + grace_ms;
    for (;;) {
        size_t running = 0;
        alc_mutex_lock(&r->mu);
        for (int b = 0; b < ALC_REG_BUCKETS; b++)
            for (alc_session *s = r->buckets[b]; s; s = s->next) {
                alc_mutex_lock(&s->mu);
                if (s->state == ALC_STATE_RUNNING) running++;
                alc_mutex_unlock(&s->mu);
            }
        alc_mutex_unlock(&r->mu);
        if (running == 0 || alc_now_ms() >= deadline) return;
        alc_sleep_ms(5);
    }
}

/* Cancels everything, waits for session threads, frees. */
void alc_registry_free(alc_registry *r) {
    if (!r) return;
    alc_warm_pool_stop(r->warm); /* ending sessions no longer top it up */
    /* cancel every session (collect references first, then cancel without reg->mu) */
    for (;;) {
        alc_session *batch[256];
        size_t n = 0;
        alc_mutex_lock(&r->mu);
        r->stop = true;
        alc_cond_broadcast(&r->cond);
        for (int b = 0; b < ALC_REG_BUCKETS && n < 256; b++) {
            while (r->buckets[b] && n < 256) {
                alc_session *s = r->buckets[b];
                r->buckets[b] = s->next;
                s->in_map = false;
                r->count--;
                batch[n++] = s; /* takes over the map's reference */
            }
        }
        alc_mutex_unlock(&r->mu);
        if (n == 0) break;
        for (size_t i = 0; i < n; i++) {
            alc_session_cancel(batch[i], "system_shutdown", "the server is shutting down", NULL);
            alc_session_unref(batch[i]);
        }
    }
    alc_thread_join(r->gc_thread);
    /* wait for session threads to finish (they report to their waiters first) */
    /* Bounded: a session thread blocked writing to a client that stopped reading must not
     * keep the process alive. Then the registry is deliberately not freed (threads still
     * use it) and the process ends. */
    int64_t deadline = alc_now_ms() + 3000;
    alc_mutex_lock(&r->mu);
    while (r->threads > 0 && alc_now_ms() < deadline) alc_cond_timedwait_ns(&r->live_cond, &r->mu, 50 * 1000000);
    size_t left = r->threads;
    alc_mutex_unlock(&r->mu);
    if (left > 0) {
        fprintf(stderr, "alc: %zu session thread(s) did not stop within 3 s; exiting without waiting\n", left);
        return;
    }
    alc_warm_pool_free(r->warm);
    alc_cond_deinit(&r->cond);
    alc_cond_deinit(&r->live_cond);
    alc_cond_deinit(&r->logs_cond);
    alc_mutex_deinit(&r->mu);
    free(r->log_pending);
    free(r->state_root);
    free(r);
}

size_t alc_registry_count(alc_registry *r) {
    alc_mutex_lock(&r->mu);
    size_t n = r->count;
    alc_mutex_unlock(&r->mu);
    return n;
}

/* Finds a session and takes a reference. */
alc_session *alc_registry_find(alc_registry *r, const char *id) {
    if (!id) return NULL;
    alc_mutex_lock(&r->mu);
    alc_session *s = r->buckets[alc__reg_hash(id)];
    while (s && strcmp(s->id, id) != 0) s = s->next;
    if (s) alc__session_ref(s);
    alc_mutex_unlock(&r->mu);
    return s;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Starts a session; see session.h. */
int alc_session_start(alc_registry *r, const alc_session_spec *spec, const alc_waiter *w,
                      char *id_out, char *err, size_t errlen) {
    alc_session *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
    alc_mutex_init(&s->mu);
    alc_park_init(&s->park);
    atomic_init(&s->refs, 1);
    atomic_init(&s->cancel_flag, false);
    s->reg = r;
    s->mem.limit = r->cfg->max_memory;
    s->state = ALC_STATE_RUNNING;
    s->waiter = *w;
    s->has_waiter = true;
    s->started_wall_ms = s->last_activity_wall_ms = alc_wall_ms();
    s->last_active_mono_ms = alc_now_ms();
    s->code = malloc(spec->code_len + 1);
    s->chunkname = strdup(spec->chunkname ? spec->chunkname : "=code");
    s->ctx = spec->ctx ? cJSON_Duplicate(spec->ctx, 1) : cJSON_CreateObject();
    s->strategy = dup_or_null(spec->strategy);
    s->project_root = dup_or_null(spec->project_root);
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(s->ctx, "_ns");
    s->state_ns = strdup(cJSON_IsString(ns) ? ns->valuestring : "default");
    s->ring = alc_ring_new(ALC_RING_SESSION_CAPACITY);
    alc_metrics_init(&s->metrics, s->ctx);
    int rc = ALC_E_NOMEM;
    if (!s->code || !s->chunkname || !s->ctx || !s->state_ns || !s->ring ||
        (spec->strategy && !s->strategy) || (spec->project_root && !s->project_root)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(s->code, spec->code, spec->code_len);
    s->code[spec->code_len] = '\0';
    s->code_len = spec->code_len;
    if ((rc = new_id(s->id)) != ALC_OK) { snprintf(err, errlen, "cannot read the OS random generator"); goto fail; }

    alc_mutex_lock(&r->mu);
    if (r->stop) {
        alc_mutex_unlock(&r->mu);
        rc = ALC_E_CLOSED;
        snprintf(err, errlen, "the server is shutting down");
        goto fail;
    }
    if (r->live >= r->cfg->max_sessions) {
        alc_mutex_unlock(&r->mu);
        rc = ALC_E_LIMIT;
        snprintf(err, errlen, "too many live sessions: %zu running or paused (ALC_MAX_SESSIONS=%zu); finish or cancel some first",
                 r->live, r->cfg->max_sessions);
        goto fail;
    }
    unsigned h = alc__reg_hash(s->id);
    s->next = r->buckets[h];
    r->buckets[h] = s;
    s->in_map = true;
    r->count++;
    r->live++;
    r->threads++;
    atomic_fetch_add(&s->refs, 1); /* map + thread */
    s->thread_alive = true;
    snprintf(id_out, 40, "%s", s->id);
    alc__session_publish(s, ALC_EV_TICK, "{\"phase\":\"running\"}");
    /* start while holding s->mu so that thread/thread_alive are set before anyone cancels */
    alc_mutex_lock(&s->mu);
    char name[16];
    snprintf(name, sizeof name, "alc-s%.9s", s->id + 2);
    rc = alc_thread_start(&s->thread, alc__session_main, s, ALC_LUA_THREAD_STACK, name, true);
    if (rc != ALC_OK) {
        s->thread_alive = false;
        alc_mutex_unlock(&s->mu);
        map_remove_locked(r, s);
        r->live--;
        r->threads--;
        alc_mutex_unlock(&r->mu);
        atomic_fetch_sub(&s->refs, 1);
        snprintf(err, errlen, "cannot start a session thread (the system refused: too many threads?)");
        goto fail;
    }
    alc_mutex_unlock(&s->mu);
    alc_mutex_unlock(&r->mu);
    return ALC_OK;
fail:
    s->has_waiter = false;
    alc_session_unref(s);
    return rc;
}
