/*
 * inflight.c — waiting tool calls: request-id table, engine waiter callbacks, progress
 * notifications, heartbeats and notifications/cancelled (see inflight.h).
 *
 * Threads and locks:
 *  - table->mu guards the hash chains and each record's session_id; it is taken briefly and
 *    never held while writing to the client or calling the engine.
 *  - a record's gate (atomic) and progress counter are used only inside alc_out's leaf lock.
 *  - records are reference counted: one reference for the table entry, one for the engine
 *    waiter, one held for the caller until it records the session id (alc_inflight_set_session)
 *    or answers the call itself (a session can answer, and drop the other two, before
 *    alc_session_start has even returned), and temporary ones taken by the heartbeat thread.
 *  - a tool may attach a done hook to its record (alc_inflight_set_done); on_outcome runs it on
 *    the session's final outcome, or parks it in table->parked (guarded by table->mu) when
 *    the first outcome is a pause, so the later alc_continue that receives the end runs it.
 *  - table->rl_mu guards the log-message token bucket (alc_server_log_message); it is a leaf,
 *    taken briefly and never held while writing.
 *
 * MCP logging: once the client sent logging/setLevel, the alc.log and print lines of a session
 * whose call is waiting here (ALC_EV_LOG events) become notifications/message at or above that
 * level, at most LOG_RATE per second per server (token bucket of LOG_RATE tokens); messages
 * over the limit are dropped and counted, and a "warning" message reports the count at most
 * once per second: when a second has passed since the first uncounted drop and the bucket has
 * a token again (checked on the next message and on every heartbeat tick), so a burst shorter
 * than a second gets exactly one notice.
 */
#include "inflight.h"
#include "sampling.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 256
#define LOG_RATE 100             /* notifications/message per second (and bucket size) */
#define SESSION_ID_WAIT_MS 1000  /* longest wait of a log event for its call's session id */

/* A tool's hook on the final outcome of its session (alc_inflight_set_done). */
typedef struct done_hook {
    alc_inflight_done_fn fn;
    void *ud;
    void (*free_ud)(void *);
    char session_id[48];         /* set when parked */
    struct done_hook *next;      /* chain of parked hooks; guarded by table->mu */
} done_hook;

struct alc_inflight {
    atomic_int refs;
    alc_inflight_table *table;
    alc_inflight *next;          /* chain; guarded by table->mu */
    bool in_table;               /* guarded by table->mu */
    char *key;                   /* "s:<id>" or "i:<n>" */
    cJSON *id;                   /* request id (owned) */
    cJSON *progress_token;       /* owned, or NULL */
    char session_id[48];         /* guarded by table->mu */
    bool caller_ref;             /* the caller's reference is still held; guarded by table->mu */
    atomic_bool gate;            /* true once answered or cancelled (see alc_out_write_gated) */
    bool sampling;               /* pauses are answered through MCP sampling (immutable) */
    uint64_t progress;           /* last progress value sent; used under alc_out's lock */
    _Atomic int64_t last_notify_ms; /* monotonic ms of the last notification (or start) */
    int64_t started_ms;
    done_hook *done;             /* owned, or NULL: set before the session starts, taken by
                                    on_outcome (session thread) or freed by the last unref */
};

struct alc_inflight_table {
    alc_server *srv;
    alc_mutex mu;                /* guards buckets[], stop, records' session_id */
    alc_cond cond;               /* heartbeat thread sleeps here */
    alc_cond id_cond;            /* broadcast when a record gets its session id */
    alc_mutex rl_mu;             /* leaf: guards the rl_* fields */
    double rl_tokens;            /* log messages that may be sent now (<= LOG_RATE) */
    int64_t rl_last_ms;          /* monotonic time of the last refill */
    unsigned long long rl_dropped; /* messages dropped since the last drop notice */
    int64_t rl_first_drop_ms;    /* monotonic time of the first of those drops */
    alc_inflight *buckets[BUCKETS];
    done_hook *parked;           /* hooks of sessions that paused: they run on the session's
                                    final outcome; guarded by mu */
    bool stop;
    pthread_t heartbeat;
    bool heartbeat_started;
};

static unsigned hash_key(const char *k) {
    unsigned h = 2166136261u;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    return h % BUCKETS;
}

static char *make_key(const cJSON *id) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, cJSON_IsString(id) ? "s:" : "i:");
    if (cJSON_IsString(id)) alc_jbuf_puts(&b, id->valuestring);
    else alc_jbuf_put_ll(&b, (long long)id->valuedouble);
    return alc_jbuf_take(&b, NULL);
}

static void hook_free(done_hook *h) {
    if (!h) return;
    if (h->free_ud) h->free_ud(h->ud);
    free(h);
}

static void unref(alc_inflight *f) {
    if (atomic_fetch_sub(&f->refs, 1) != 1) return;
    hook_free(f->done);
    cJSON_Delete(f->id);
    cJSON_Delete(f->progress_token);
    free(f->key);
    free(f);
}

static void table_remove(alc_inflight *f) {
    alc_inflight_table *t = f->table;
    bool drop = false;
    alc_mutex_lock(&t->mu);
    if (f->in_table) {
        alc_inflight **pp = &t->buckets[hash_key(f->key)];
        while (*pp && *pp != f) pp = &(*pp)->next;
        if (*pp) *pp = f->next;
        f->in_table = false;
        drop = true;
    }
    alc_mutex_unlock(&t->mu);
    if (drop) unref(f);
}

/* ---- progress notifications -------------------------------------------------------- */

typedef struct progress_msg {
    const cJSON *token;
    const char *message;
} progress_msg;

static char *build_progress(void *ud, uint64_t value, size_t *len) {
    progress_msg *pm = ud;
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":");
    alc_rpc_put_id(&b, pm->token);
    alc_jbuf_printf(&b, ",\"progress\":%llu", (unsigned long long)value);
    if (pm->message) {
        alc_jbuf_puts(&b, ",\"message\":");
        alc_jbuf_json_str(&b, pm->message, strlen(pm->message));
    }
    alc_jbuf_puts(&b, "}}");
    return alc_jbuf_take(&b, len);
}

static void send_progress(alc_inflight *f, const char *message) {
    if (!f->progress_token) return;
    progress_msg pm = {f->progress_token, message};
    atomic_store(&f->last_notify_ms, alc_now_ms());
    alc_out_write_counted(f->table->srv->out, &f->gate, &f->progress, build_progress, &pm);
}

/* ---- engine waiter callbacks --------------------------------------------------------- */

/* The done hook to run for outcome o of f's session, or NULL. A hook attached to f is parked
 * in the table when o is a pause (before the pause is answered, so before any later outcome
 * of the session can arrive); a final outcome takes the hook attached to f or the one parked
 * for its session. */
static done_hook *take_done_hook(alc_inflight *f, const alc_outcome *o) {
    alc_inflight_table *t = f->table;
    done_hook *h = f->done;
    f->done = NULL;
    if (o->kind == ALC_OUT_PAUSED) {
        if (h) {
            snprintf(h->session_id, sizeof h->session_id, "%s", o->session_id);
            alc_mutex_lock(&t->mu);
            h->next = t->parked;
            t->parked = h;
            alc_mutex_unlock(&t->mu);
        }
        return NULL;
    }
    if (h) return h;
    alc_mutex_lock(&t->mu);
    for (done_hook **pp = &t->parked; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->session_id, o->session_id) == 0) {
            h = *pp;
            *pp = h->next;
            break;
        }
    }
    alc_mutex_unlock(&t->mu);
    return h;
}

static void on_outcome(void *ud, const alc_outcome *o) {
    alc_inflight *f = ud;
    /* a sampling call stays open across pauses: the queries go to the client instead */
    if (f->sampling && o->kind == ALC_OUT_PAUSED && alc_sampling_dispatch(f->table->srv->sampling, f, o)) return;
    done_hook *h = take_done_hook(f, o);
    size_t len = 0;
    char *text = alc_outcome_text(o, &len);
    if (h && text) {
        size_t alt_len = 0;
        char *alt = h->fn(h->ud, o, text, len, &alt_len);
        if (alt) {
            free(text);
            text = alt;
            len = alt_len;
        }
    }
    hook_free(h);
    size_t n = 0;
    char *line = text ? alc_rpc_tool_result_line(f->id, text, len, false, &n)
                      : alc_rpc_tool_result_line(f->id, "out of memory formatting the result", 35, true, &n);
    if (line) alc_out_write_gated(f->table->srv->out, line, n, &f->gate, true);
    free(line);
    free(text);
    table_remove(f);
    unref(f); /* the waiter's reference */
}

/* The session id of f, waiting (bounded) for alc_inflight_set_session: a session may log
 * before alc_session_start has returned its id to the caller. Writes "" if it never comes. */
static void session_id_of(alc_inflight *f, char *out, size_t outlen) {
    alc_inflight_table *t = f->table;
    int64_t deadline = alc_now_ms() + SESSION_ID_WAIT_MS;
    alc_mutex_lock(&t->mu);
    for (;;) {
        int64_t left = deadline - alc_now_ms();
        if (f->session_id[0] || left <= 0) break;
        alc_cond_timedwait_ns(&t->id_cond, &t->mu, left * 1000000);
    }
    snprintf(out, outlen, "%s", f->session_id);
    alc_mutex_unlock(&t->mu);
}

static int level_index(const char *level);

/* An ALC_EV_LOG event {"level","message","source"} becomes a notifications/message. */
static void forward_log(alc_inflight *f, const alc_event *ev) {
    alc_server *srv = f->table->srv;
    int min = atomic_load(&srv->log_level);
    if (min < 0 || !ev->json) return; /* logging/setLevel not received yet */
    cJSON *p = cJSON_ParseWithLengthOpts(ev->json, strlen(ev->json) + 1, NULL, 1);
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(p, "level");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(p, "source");
    const char *lv = cJSON_IsString(level) ? level->valuestring : "info";
    if (cJSON_IsString(msg) && level_index(lv) >= min) {
        char sid[48];
        session_id_of(f, sid, sizeof sid);
        alc_server_log_message(srv, lv, sid[0] ? sid : NULL,
                               cJSON_IsString(source) ? source->valuestring : NULL, msg->valuestring);
    }
    cJSON_Delete(p);
}

static void on_event(void *ud, const alc_event *ev) {
    alc_inflight *f = ud;
    if (ev->kind == ALC_EV_LOG) {
        forward_log(f, ev);
        return;
    }
    if (ev->kind != ALC_EV_PROGRESS || !f->progress_token || !ev->json) return;
    cJSON *p = cJSON_Parse(ev->json);
    if (!p) return;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(p, "step");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(p, "total");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
    char buf[1200];
    if (cJSON_IsNumber(step) && cJSON_IsNumber(total))
        snprintf(buf, sizeof buf, "step %g/%g%s%.1000s", step->valuedouble, total->valuedouble,
                 cJSON_IsString(msg) ? ": " : "", cJSON_IsString(msg) ? msg->valuestring : "");
    else
        snprintf(buf, sizeof buf, "%.1000s", cJSON_IsString(msg) ? msg->valuestring : "progress");
    cJSON_Delete(p);
    send_progress(f, buf);
}

/* ---- table --------------------------------------------------------------------------- */

static void flush_dropped(alc_inflight_table *t);

static void *heartbeat_main(void *arg) {
    alc_inflight_table *t = arg;
    int64_t period = t->srv->cfg->heartbeat_ms;
    int64_t tick = period < 1000 ? period : 1000;
    alc_mutex_lock(&t->mu);
    while (!t->stop) {
        alc_cond_timedwait_ns(&t->cond, &t->mu, tick * 1000000);
        if (t->stop) break;
        /* collect due records with a reference each, then write without the lock */
        alc_inflight *due[64];
        size_t n = 0;
        int64_t now = alc_now_ms();
        for (int i = 0; i < BUCKETS && n < 64; i++) {
            for (alc_inflight *f = t->buckets[i]; f && n < 64; f = f->next) {
                if (f->progress_token && now - atomic_load(&f->last_notify_ms) >= period) {
                    atomic_fetch_add(&f->refs, 1);
                    due[n++] = f;
                }
            }
        }
        alc_mutex_unlock(&t->mu);
        flush_dropped(t);
        alc_sampling_tick(t->srv->sampling);
        for (size_t i = 0; i < n; i++) {
            char msg[96];
            snprintf(msg, sizeof msg, "running (%lld s elapsed)", (long long)((now - due[i]->started_ms) / 1000));
            send_progress(due[i], msg);
            unref(due[i]);
        }
        alc_mutex_lock(&t->mu);
    }
    alc_mutex_unlock(&t->mu);
    return NULL;
}

int alc_inflight_new(alc_server *srv, alc_inflight_table **out) {
    alc_inflight_table *t = calloc(1, sizeof *t);
    if (!t) return ALC_E_NOMEM;
    t->srv = srv;
    alc_mutex_init(&t->mu);
    alc_cond_init(&t->cond);
    alc_cond_init(&t->id_cond);
    alc_mutex_init(&t->rl_mu);
    t->rl_tokens = LOG_RATE;
    t->rl_last_ms = alc_now_ms();
    int rc = alc_thread_start(&t->heartbeat, heartbeat_main, t, 256 * 1024, "alc-heartbeat", false);
    if (rc != ALC_OK) {
        alc_mutex_deinit(&t->rl_mu);
        alc_cond_deinit(&t->id_cond);
        alc_cond_deinit(&t->cond);
        alc_mutex_deinit(&t->mu);
        free(t);
        return rc;
    }
    t->heartbeat_started = true;
    *out = t;
    return ALC_OK;
}

void alc_inflight_free(alc_inflight_table *t) {
    if (!t) return;
    alc_mutex_lock(&t->mu);
    t->stop = true;
    alc_cond_broadcast(&t->cond);
    alc_mutex_unlock(&t->mu);
    if (t->heartbeat_started) alc_thread_join(t->heartbeat);
    /* records still in the table belong to calls the engine never answered (it always
     * answers before alc_registry_free returns); drop the table references */
    for (int i = 0; i < BUCKETS; i++) {
        alc_inflight *f = t->buckets[i];
        while (f) {
            alc_inflight *next = f->next;
            f->in_table = false;
            unref(f);
            f = next;
        }
    }
    /* hooks of sessions that ended (or were dropped) while no call waited for them */
    while (t->parked) {
        done_hook *h = t->parked;
        t->parked = h->next;
        hook_free(h);
    }
    alc_mutex_deinit(&t->rl_mu);
    alc_cond_deinit(&t->id_cond);
    alc_cond_deinit(&t->cond);
    alc_mutex_deinit(&t->mu);
    free(t);
}

alc_inflight *alc_inflight_begin(alc_inflight_table *t, alc_call *c) {
    alc_inflight *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->key = make_key(c->id);
    if (!f->key) { free(f); return NULL; }
    f->table = t;
    f->id = c->id;
    f->progress_token = c->progress_token;
    c->id = NULL;
    c->progress_token = NULL;
    c->answered = true;
    f->sampling = c->sampling;
    atomic_init(&f->refs, 3); /* table + waiter + caller (until set_session or a reply) */
    f->caller_ref = true;
    atomic_init(&f->gate, false);
    f->started_ms = alc_now_ms();
    atomic_init(&f->last_notify_ms, f->started_ms);
    alc_mutex_lock(&t->mu);
    unsigned h = hash_key(f->key);
    f->next = t->buckets[h];
    t->buckets[h] = f;
    f->in_table = true;
    alc_mutex_unlock(&t->mu);
    return f;
}

/* Drops the caller's reference once (from set_session or from the caller's own reply). */
static void release_caller_ref(alc_inflight *f) {
    alc_mutex_lock(&f->table->mu);
    bool drop = f->caller_ref;
    f->caller_ref = false;
    alc_mutex_unlock(&f->table->mu);
    if (drop) unref(f);
}

void alc_inflight_set_session(alc_inflight *f, const char *session_id) {
    alc_mutex_lock(&f->table->mu);
    snprintf(f->session_id, sizeof f->session_id, "%s", session_id);
    alc_cond_broadcast(&f->table->id_cond);
    alc_mutex_unlock(&f->table->mu);
    release_caller_ref(f); /* f may be freed now if the session already answered */
}

alc_waiter alc_inflight_waiter(alc_inflight *f) {
    alc_waiter w = {.on_outcome = on_outcome, .on_event = on_event, .ud = f};
    return w;
}

/*
 * Attaches a done hook to f (see inflight.h). Call on the reader thread after
 * alc_inflight_begin and before the session starts, at most once per record. fn: required;
 * ud: owned from ALC_OK on (released by free_ud, which may be NULL). Returns ALC_OK, or
 * ALC_E_NOMEM / ALC_E_INVAL with nothing attached (ud stays the caller's).
 */
int alc_inflight_set_done(alc_inflight *f, alc_inflight_done_fn fn, void *ud, void (*free_ud)(void *)) {
    if (!f || !fn || f->done) return ALC_E_INVAL;
    done_hook *h = calloc(1, sizeof *h);
    if (!h) return ALC_E_NOMEM;
    h->fn = fn;
    h->ud = ud;
    h->free_ud = free_ud;
    f->done = h;
    return ALC_OK;
}

static void reply_and_drop(alc_inflight *f, const char *text, size_t len, bool is_error) {
    size_t n;
    char *line = alc_rpc_tool_result_line(f->id, text, len, is_error, &n);
    if (line) alc_out_write_gated(f->table->srv->out, line, n, &f->gate, true);
    free(line);
    release_caller_ref(f); /* if set_session did not already */
    table_remove(f);
    unref(f); /* the waiter's reference: the engine never took it */
}

void alc_inflight_ref(alc_inflight *f) { atomic_fetch_add(&f->refs, 1); }
void alc_inflight_unref(alc_inflight *f) { unref(f); }

void alc_inflight_finish_text(alc_inflight *f, const char *text, bool is_error) {
    size_t n;
    char *line = alc_rpc_tool_result_line(f->id, text, strlen(text), is_error, &n);
    if (line) alc_out_write_gated(f->table->srv->out, line, n, &f->gate, true);
    free(line);
    table_remove(f);
    unref(f); /* the waiter's reference */
}

void alc_inflight_fail(alc_inflight *f, const char *message) {
    reply_and_drop(f, message, strlen(message), true);
}

void alc_inflight_reply_text(alc_inflight *f, const char *text, size_t len) {
    reply_and_drop(f, text, len, false);
}

void alc_inflight_cancel_request(alc_inflight_table *t, alc_registry *reg, const cJSON *request_id, const char *reason) {
    char *key = make_key(request_id);
    if (!key) return;
    char sid[48] = "";
    alc_inflight *found = NULL;
    alc_mutex_lock(&t->mu);
    for (alc_inflight *f = t->buckets[hash_key(key)]; f; f = f->next) {
        if (strcmp(f->key, key) == 0) {
            found = f;
            atomic_fetch_add(&f->refs, 1);
            snprintf(sid, sizeof sid, "%s", f->session_id);
            break;
        }
    }
    alc_mutex_unlock(&t->mu);
    free(key);
    if (!found) return; /* unknown or already answered: ignored */
    /* close the gate: no response (and no more progress) for this request */
    alc_out_write_gated(t->srv->out, NULL, 0, &found->gate, true);
    if (sid[0]) {
        alc_sampling_abandon(t->srv->sampling, sid);
        alc_session *s = alc_registry_find(reg, sid);
        if (s) {
            alc_session_cancel(s, "user", reason, NULL);
            alc_session_unref(s);
        }
    }
    unref(found);
}

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
#define LEVEL_WARNING 3

/* MCP level index of an alc.log level: the eight MCP names, "warn" → warning, else info. */
static int level_index(const char *level) {
    for (int i = 0; i < 8; i++) if (strcmp(level, level_names[i]) == 0) return i;
    if (strcmp(level, "warn") == 0) return LEVEL_WARNING;
    return 1;
}

/* Writes one notifications/message (no rate limit; any thread, no lock held). */
static void send_log(alc_server *s, int lv, const char *session_id, const char *source, const char *message) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_printf(&b, "{\"level\":\"%s\",\"logger\":\"alc\",\"data\":{\"message\":", level_names[lv]);
    alc_jbuf_json_str(&b, message, strlen(message));
    if (session_id) {
        alc_jbuf_puts(&b, ",\"session_id\":");
        alc_jbuf_json_str(&b, session_id, strlen(session_id));
    }
    if (source) {
        alc_jbuf_puts(&b, ",\"source\":");
        alc_jbuf_json_str(&b, source, strlen(source));
    }
    alc_jbuf_puts(&b, "}}");
    char *params = alc_jbuf_take(&b, NULL);
    if (!params) return;
    size_t n;
    char *line = alc_rpc_notification_line("notifications/message", params, &n);
    free(params);
    alc__server_write(s, line, n);
}

/* Refills the bucket; called with rl_mu held. */
static void refill_locked(alc_inflight_table *t) {
    int64_t now = alc_now_ms();
    if (now > t->rl_last_ms) {
        t->rl_tokens += (double)(now - t->rl_last_ms) * LOG_RATE / 1000.0;
        if (t->rl_tokens > LOG_RATE) t->rl_tokens = LOG_RATE;
        t->rl_last_ms = now;
    }
}

/* Takes a token for a drop notice when messages were dropped at least a second ago and the
 * bucket has refilled; returns how many were dropped (0: no notice due). rl_mu held. */
static unsigned long long take_notice_locked(alc_inflight_table *t) {
    if (t->rl_dropped == 0 || t->rl_tokens < 1 || t->rl_last_ms - t->rl_first_drop_ms < 1000) return 0;
    unsigned long long n = t->rl_dropped;
    t->rl_dropped = 0;
    t->rl_tokens -= 1;
    return n;
}

static void send_drop_notice(alc_server *s, unsigned long long dropped) {
    if (!dropped || atomic_load(&s->log_level) > LEVEL_WARNING) return;
    char msg[160];
    snprintf(msg, sizeof msg, "%llu log message%s dropped: more than %d per second (rate limit)",
             dropped, dropped == 1 ? "" : "s", LOG_RATE);
    send_log(s, LEVEL_WARNING, NULL, "alc", msg);
}

/* Heartbeat tick: reports drops once the bucket has refilled, even if no message follows. */
static void flush_dropped(alc_inflight_table *t) {
    alc_mutex_lock(&t->rl_mu);
    refill_locked(t);
    unsigned long long dropped = take_notice_locked(t);
    alc_mutex_unlock(&t->rl_mu);
    send_drop_notice(t->srv, dropped);
}

/*
 * Sends a notifications/message {level, logger:"alc", data:{message, session_id?, source?}}
 * to the client when the level set by logging/setLevel allows it (nothing before setLevel).
 * level: an alc.log level ("warn" → warning, unknown → info). session_id, source: may be NULL
 * (then omitted). All strings borrowed. At most LOG_RATE messages per second are sent; the
 * others are dropped and counted, and a warning message reports the count (see the header).
 * Any thread; takes rl_mu (leaf) briefly and writes through alc_out with no lock held.
 */
void alc_server_log_message(alc_server *s, const char *level, const char *session_id, const char *source, const char *message) {
    int min = atomic_load(&s->log_level);
    int lv = level_index(level);
    if (min < 0 || lv < min) return;
    alc_inflight_table *t = s->inflight;
    unsigned long long dropped = 0;
    bool allowed = true;
    if (t) {
        alc_mutex_lock(&t->rl_mu);
        refill_locked(t);
        dropped = take_notice_locked(t);
        allowed = t->rl_tokens >= 1;
        if (allowed) t->rl_tokens -= 1;
        else if (t->rl_dropped++ == 0) t->rl_first_drop_ms = t->rl_last_ms;
        alc_mutex_unlock(&t->rl_mu);
    }
    send_drop_notice(s, dropped);
    if (allowed) send_log(s, lv, session_id, source, message);
}
