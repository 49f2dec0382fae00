/*
 * session.c — one session: its thread body, the park/resume handshake with the host, the
 * state machine, cancellation (checkpoints A–D) and the alc_lua_host callbacks.
 *
 * Threads:
 *  - alc__session_main runs on the session's own thread and is the only code that touches
 *    the session's lua_State.
 *  - alc_session_continue / alc_session_cancel / snapshots run on any other thread; they
 *    take s->mu, change state, wake s->park (alc_park: a condition variable for its one
 *    waiter) and never call Lua.
 *  - Cancelling a session whose thread is inside Lua sends it SIGUSR2; the handler (on the
 *    session thread itself, like lua.c's SIGINT handler) installs a hook that raises
 *    "cancelled" at the next instruction and re-raises on every line, so pcall cannot
 *    swallow it.
 */
#include "session_internal.h"

#include "alc/error.h"
#include "alc/json_conv.h"
#include "alc/lua_runtime.h"
#include "alc/transcript.h"
#include "alc/warm_pool.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANCEL_SIGNAL SIGUSR2

static _Thread_local atomic_bool *tls_cancel_flag; /* the flag of the Lua this thread runs */

/* Tells the cancel signal handler that this thread now runs L (session or fork child) under
 * cancel_flag; L NULL: it left Lua. */
void alc__thread_set_lua(lua_State *L, atomic_bool *cancel_flag) {
    if (L) {
        tls_cancel_flag = cancel_flag;
        alc_lua_enter(L);
    } else {
        alc_lua_leave();
        tls_cancel_flag = NULL;
    }
}

const char *alc_state_name(alc_state st) {
    switch (st) {
    case ALC_STATE_RUNNING: return "running";
    case ALC_STATE_PAUSED: return "paused";
    case ALC_STATE_DONE: return "done";
    case ALC_STATE_FAILED: return "failed";
    case ALC_STATE_CANCELLED: return "cancelled";
    }
    return "unknown";
}

bool alc_state_is_terminal(alc_state st) {
    return st == ALC_STATE_DONE || st == ALC_STATE_FAILED || st == ALC_STATE_CANCELLED;
}

void alc_queries_free(alc_query *q, size_t n) {
    if (!q) return;
    for (size_t i = 0; i < n; i++) {
        free(q[i].id);
        free(q[i].prompt);
        free(q[i].system);
    }
    free(q);
}

/* ---- cancellation hook ------------------------------------------------------------- */

static void cancel_signal_handler(int sig) {
    (void)sig;
    int saved = errno;
    if (tls_cancel_flag && atomic_load(tls_cancel_flag)) alc_lua_arm_stop_active();
    errno = saved;
}

static pthread_once_t signal_once = PTHREAD_ONCE_INIT;
static void install_signal(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cancel_signal_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(CANCEL_SIGNAL, &sa, NULL);
}
void alc__session_install_signal(void) { pthread_once(&signal_once, install_signal); }

/* ---- events ----------------------------------------------------------------------- */

static void publish_transition(alc_session *s, alc_state from, alc_state to) {
    char buf[96]; /* {"from":"<state>","to":"<state>"}, built without printf (hot path) */
    const char *f = alc_state_name(from), *t = alc_state_name(to);
    size_t fl = strlen(f), tl = strlen(t), n = 0;
    memcpy(buf, "{\"from\":\"", 9);
    n = 9;
    memcpy(buf + n, f, fl);
    n += fl;
    memcpy(buf + n, "\",\"to\":\"", 8);
    n += 8;
    memcpy(buf + n, t, tl);
    n += tl;
    memcpy(buf + n, "\"}", 3);
    alc__session_publish(s, ALC_EV_STATE_TRANSITION, buf);
}

/* Transition under s->mu. */
bool alc__session_transition(alc_session *s, alc_state to) {
    alc_state from = s->state;
    if (alc_state_is_terminal(from)) return false; /* first terminal state wins */
    if (from == to) return false;
    s->state = to;
    s->last_activity_wall_ms = alc_wall_ms();
    if (alc_state_is_terminal(to)) {
        s->ended_mono_ms = alc_now_ms();
        s->metrics.ended_mono_ms = s->ended_mono_ms;
    }
    publish_transition(s, from, to);
    return true;
}

/* Collects the events published while a waiter waits; delivered after unlocking. */
static void deliver_event(alc_session *s, alc_event_kind kind, const char *json) {
    alc_waiter w;
    bool has;
    alc_mutex_lock(&s->mu);
    w = s->waiter;
    has = s->has_waiter && w.on_event;
    alc_mutex_unlock(&s->mu);
    if (!has) return;
    alc_event ev = {.seq = 0, .kind = kind, .at_ms = alc_wall_ms(), .json = (char *)json};
    w.on_event(w.ud, &ev);
}

/* ---- alc_lua_host callbacks (session thread) ---------------------------------------- */

/* host_ask's way out before a pause was published: unlocks s->mu, frees what ask took or
 * allocated, returns rc. */
static int ask_refused(alc_session *s, char **answers, size_t *lens, bool *errs, alc_query *q, size_t n, int rc) {
    alc_mutex_unlock(&s->mu);
    free(answers);
    free(lens);
    free(errs);
    alc_queries_free(q, n);
    return rc;
}

int alc__host_ask(void *ud, alc_query *q, size_t n, alc_lua_answers *out) {
    alc_session *s = ud;
    char **answers = calloc(n, sizeof *answers);
    size_t *lens = calloc(n, sizeof *lens);
    bool *errs = calloc(n, sizeof *errs);
    if (!answers || !lens || !errs) {
        free(answers);
        free(lens);
        free(errs);
        alc_queries_free(q, n);
        return ALC_E_NOMEM;
    }
    alc_mutex_lock(&s->mu);
    /* a Lua finalizer run by the collection below (or any other re-entry) while this thread is
     * inside a pause: refused, the pause in progress must stay intact */
    if (s->in_ask) return ask_refused(s, answers, lens, errs, q, n, ALC_E_BUSY);
    /* checkpoint B: a cancel that arrived before the pause is published wins */
    if (atomic_load(&s->cancel_flag) || s->state != ALC_STATE_RUNNING || s->closing)
        return ask_refused(s, answers, lens, errs, q, n, ALC_E_CANCELLED);
    if (alc_metrics_on_paused(&s->metrics, q, n) != ALC_OK) return ask_refused(s, answers, lens, errs, q, n, ALC_E_NOMEM);
    s->in_ask = true;
    s->queries = q;
    s->n_queries = n;
    s->answers = answers;
    s->answer_lens = lens;
    s->answer_errors = errs;
    s->n_answered = 0;
    alc__session_transition(s, ALC_STATE_PAUSED);
    {
        alc_jbuf b;
        alc_jbuf_init(&b);
        alc_jbuf_puts(&b, n == 1 ? "{\"kind\":\"single\",\"query_ids\":[" : "{\"kind\":\"batch\",\"query_ids\":[");
        for (size_t i = 0; i < n; i++) {
            if (i) alc_jbuf_puts(&b, ",");
            alc_jbuf_json_str(&b, q[i].id, strlen(q[i].id));
        }
        alc_jbuf_puts(&b, "]}");
        char *j = alc_jbuf_take(&b, NULL);
        alc__session_publish(s, ALC_EV_PAUSE_REQUESTED, j);
        free(j);
    }
    alc_waiter w = s->waiter;
    bool has = s->has_waiter;
    s->has_waiter = false;
    alc_mutex_unlock(&s->mu);

    if (has) {
        alc_outcome o = {.kind = ALC_OUT_PAUSED, .session_id = s->id, .queries = q, .n_queries = n};
        w.on_outcome(w.ud, &o);
    }
    /* The first pause is where most sessions wait longest, for an LLM: with the reply out,
     * collect what setting up and the first steps left behind, so that a parked session keeps
     * only live memory (a few KiB each, times thousands of sessions). */
    if (s->metrics.pauses == 1 && s->lua) lua_gc(s->lua, LUA_GCCOLLECT);

    alc_mutex_lock(&s->mu);
    /* checkpoint D (parked): wake on the last answer or on cancel */
    while (s->n_answered < s->n_queries && !atomic_load(&s->cancel_flag)) alc_park_wait(&s->park, &s->mu);
    int rc = ALC_OK;
    if (atomic_load(&s->cancel_flag)) {
        rc = ALC_E_CANCELLED;
        for (size_t i = 0; i < s->n_queries; i++) free(s->answers[i]);
        free(s->answers);
        free(s->answer_lens);
        free(s->answer_errors);
    } else {
        out->texts = s->answers;
        out->lens = s->answer_lens;
        out->errors = s->answer_errors;
        out->n = s->n_queries;
    }
    alc_queries_free(s->queries, s->n_queries);
    s->queries = NULL;
    s->answers = NULL;
    s->answer_lens = NULL;
    s->answer_errors = NULL;
    s->n_queries = s->n_answered = 0;
    s->in_ask = false;
    alc_mutex_unlock(&s->mu);
    return rc;
}

bool alc__host_budget_ok(void *ud, char *msg, size_t msglen) {
    alc_session *s = ud;
    alc_mutex_lock(&s->mu);
    bool ok = alc_metrics_budget_ok(&s->metrics, msg, msglen);
    alc_mutex_unlock(&s->mu);
    return ok;
}

bool alc__host_budget_remaining(void *ud, long long *c, long long *ms, long long *t) {
    alc_session *s = ud;
    alc_mutex_lock(&s->mu);
    bool ok = alc_metrics_budget_remaining(&s->metrics, c, ms, t);
    alc_mutex_unlock(&s->mu);
    return ok;
}

void alc__host_progress(void *ud, long long step, long long total, const char *msg) {
    alc_session *s = ud;
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_printf(&b, "{\"step\":%lld,\"total\":%lld", step, total);
    if (msg) {
        alc_jbuf_puts(&b, ",\"message\":");
        alc_jbuf_json_str(&b, msg, strlen(msg));
    }
    alc_jbuf_puts(&b, "}");
    char *j = alc_jbuf_take(&b, NULL);
    char *m = msg ? strdup(msg) : NULL;
    alc_mutex_lock(&s->mu);
    s->has_progress = true;
    s->progress_step = step;
    s->progress_total = total;
    free(s->progress_msg);
    s->progress_msg = m;
    s->last_activity_wall_ms = alc_wall_ms();
    if (j) alc__session_publish(s, ALC_EV_PROGRESS, j);
    alc_mutex_unlock(&s->mu);
    if (j) deliver_event(s, ALC_EV_PROGRESS, j);
    free(j);
}

void alc__host_log(void *ud, const char *level, const char *source, const char *msg, size_t len) {
    alc_session *s = ud;
    char *copy = malloc(len + 1);
    if (!copy) return;
    memcpy(copy, msg, len);
    copy[len] = '\0';
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"level\":");
    alc_jbuf_json_str(&b, level, strlen(level));
    alc_jbuf_puts(&b, ",\"message\":");
    alc_jbuf_json_str(&b, msg, len);
    alc_jbuf_puts(&b, ",\"source\":");
    alc_jbuf_json_str(&b, source, strlen(source));
    alc_jbuf_puts(&b, "}");
    char *j = alc_jbuf_take(&b, NULL);
    alc_mutex_lock(&s->mu);
    alc_log_line *l = &s->logs[s->n_logs % ALC_LOG_RING];
    char *old = l->message;
    l->ts = alc_wall_ms();
    snprintf(l->level, sizeof l->level, "%s", level);
    snprintf(l->source, sizeof l->source, "%s", source);
    l->message = copy;
    s->n_logs++;
    if (j) alc__session_publish(s, ALC_EV_LOG, j);
    alc_mutex_unlock(&s->mu);
    free(old);
    if (j) deliver_event(s, ALC_EV_LOG, j);
    free(j);
}

void alc__host_stats_record(void *ud, const char *key, const char *value_json) {
    alc_session *s = ud;
    cJSON *v = cJSON_Parse(value_json);
    if (!v) return;
    alc_mutex_lock(&s->mu);
    if (!s->metrics.custom) s->metrics.custom = cJSON_CreateObject();
    if (s->metrics.custom) {
        cJSON_DeleteItemFromObjectCaseSensitive(s->metrics.custom, key);
        if (!cJSON_AddItemToObject(s->metrics.custom, key, v)) cJSON_Delete(v);
        v = NULL;
    }
    alc_mutex_unlock(&s->mu);
    cJSON_Delete(v);
}

char *alc__host_stats_get(void *ud, const char *key) {
    alc_session *s = ud;
    char *out = NULL;
    alc_mutex_lock(&s->mu);
    const cJSON *v = s->metrics.custom ? cJSON_GetObjectItemCaseSensitive(s->metrics.custom, key) : NULL;
    if (v) out = cJSON_PrintUnformatted(v);
    alc_mutex_unlock(&s->mu);
    return out;
}

long long alc__host_llm_calls(void *ud) {
    alc_session *s = ud;
    alc_mutex_lock(&s->mu);
    long long n = s->metrics.llm_calls;
    alc_mutex_unlock(&s->mu);
    return n;
}

bool alc__host_cancelled(void *ud) {
    alc_session *s = ud;
    return atomic_load(&s->cancel_flag);
}

/* ---- the thread body ------------------------------------------------------------------ */

static void set_lua_running(alc_session *s, lua_State *L) {
    alc_mutex_lock(&s->mu);
    s->lua_running = L != NULL;
    alc__thread_set_lua(L, &s->cancel_flag);
    alc_mutex_unlock(&s->mu);
}

/* Closes the session's Lua state; no pause can start from a finalizer. */
static void close_state(alc_session *s, lua_State *L) {
    alc_mutex_lock(&s->mu);
    s->closing = true;
    alc_mutex_unlock(&s->mu);
    s->lua = NULL;
    alc_lua_prepare_close(L);
    lua_close(L);
}

/*
 * Copies what the session log needs (reference §5) into *t, with s->mu held, once the session
 * is terminal: nothing when logging is off or no LLM call was made. Takes the "auto" object
 * out of stats (borrowed otherwise). Returns 1 when t was filled, 0 when no log is due, or
 * ALC_E_NOMEM (t is then left empty).
 */
static int log_capture_locked(alc_session *s, alc_state final, cJSON *stats, alc_transcript *t) {
    memset(t, 0, sizeof *t);
    if (!s->reg->cfg->log_enabled || s->metrics.llm_calls <= 0 || !alc_state_is_terminal(final)) return 0;
    const alc_metrics *m = &s->metrics;
    t->state = alc_state_name(final);
    t->ended_at_ms = alc_wall_ms();
    t->session_id = strdup(s->id);
    t->strategy = s->strategy ? strdup(s->strategy) : NULL;
    t->stats = stats ? cJSON_DetachItemFromObjectCaseSensitive(stats, "auto") : NULL;
    t->turns = m->n_entries ? calloc(m->n_entries, sizeof *t->turns) : NULL;
    if (!t->session_id || (s->strategy && !t->strategy) || !t->stats || (m->n_entries && !t->turns)) goto nomem;
    t->n_turns = m->n_entries;
    for (size_t i = 0; i < m->n_entries; i++) {
        const alc_transcript_entry *e = &m->entries[i];
        alc_transcript_turn *u = &t->turns[i];
        u->query_id = strdup(e->query_id);
        u->prompt = malloc(e->prompt_len + 1);
        u->system = e->system ? strdup(e->system) : NULL;
        u->response = e->response ? malloc(e->response_len + 1) : NULL;
        if (!u->query_id || !u->prompt || (e->system && !u->system) || (e->response && !u->response)) goto nomem;
        memcpy(u->prompt, e->prompt, e->prompt_len);
        u->prompt[e->prompt_len] = '\0';
        u->prompt_len = e->prompt_len;
        if (e->response) {
            memcpy(u->response, e->response, e->response_len);
            u->response[e->response_len] = '\0';
            u->response_len = e->response_len;
        }
    }
    return 1;
nomem:
    alc_transcript_deinit(t);
    return ALC_E_NOMEM;
}

/* Writes the log captured by log_capture_locked (no lock held; blocks on disk I/O) and frees
 * t. Returns NULL on success or when nothing was due, else the warning text (in buf). Records
 * in the registry whether the log directory took the write (see finish). */
static const char *log_write(alc_session *s, int captured, alc_transcript *t, char *buf, size_t buflen) {
    const char *warning = NULL;
    if (captured == ALC_E_NOMEM) {
        snprintf(buf, buflen, "session log not written: out of memory");
        warning = buf;
    } else if (captured == 1) {
        char err[512];
        bool ok = alc_transcript_write(s->reg->cfg->log_dir, t, err, sizeof err) == ALC_OK;
        atomic_store(&s->reg->log_dir_ok, ok);
        if (!ok) {
            snprintf(buf, buflen, "session log not written: %s", err);
            warning = buf;
        }
    }
    alc_transcript_deinit(t);
    return warning;
}

/* A log written after the reply failed: nobody waits for this session any more, so the
 * warning goes to its recent logs (alc_status) and to stderr. */
static void report_late_log_failure(alc_session *s, const char *warning) {
    alc__host_log(s, "warning", "alc.log", warning, strlen(warning));
    fprintf(stderr, "alc: session %s: %s\n", s->id, warning);
}

static void finish(alc_session *s, alc_state result, const char *result_json, const char *error, const char *kind) {
    alc_mutex_lock(&s->mu);
    if (result == ALC_STATE_FAILED && !alc_state_is_terminal(s->state)) {
        s->error = error ? strdup(error) : NULL;
        s->fail_kind = kind;
    }
    alc__session_transition(s, result);
    alc_state final = s->state;
    alc_waiter w = s->waiter;
    bool has = s->has_waiter;
    s->has_waiter = false;
    cJSON *stats = alc_metrics_stats(&s->metrics);
    char *stats_json = stats ? alc_json_print_sorted(stats) : NULL;
    alc_transcript record;
    int captured = log_capture_locked(s, final, stats, &record);
    cJSON_Delete(stats);
    char *code = s->cancel_code ? strdup(s->cancel_code) : NULL;
    char *detail = s->cancel_detail ? strdup(s->cancel_detail) : NULL;
    char *err = s->error ? strdup(s->error) : NULL;
    const char *fk = s->fail_kind;
    int64_t cat = s->cancel_at_ms;
    alc_mutex_unlock(&s->mu);
    alc_ring_close(s->ring);

    /*
     * The session log is written on this thread with no lock held. A file write costs about a
     * millisecond here (two atomic renames), so once the log directory has taken a write it
     * is written after the reply; the log tools wait for pending writes
     * (alc_registry_wait_logs). Until then (first session, or after a failed write) it is
     * written before the reply, so that a failure reaches the caller as transcript_warning.
     */
    char warning_buf[640];
    const char *log_warning = NULL;
    bool after_reply = has && captured == 1 && atomic_load(&s->reg->log_dir_ok);
    uint64_t log_ticket = after_reply ? alc__registry_log_begin(s->reg) : 0;
    if (!after_reply) log_warning = log_write(s, captured, &record, warning_buf, sizeof warning_buf);

    alc__registry_session_ended(s->reg); /* before the reply: a caller may start the next one at once */
    if (has) {
        alc_outcome o = {.session_id = s->id, .stats_json = stats_json, .transcript_warning = log_warning};
        if (final == ALC_STATE_DONE) { o.kind = ALC_OUT_DONE; o.result_json = result_json; }
        else if (final == ALC_STATE_FAILED) { o.kind = ALC_OUT_FAILED; o.error = err ? err : "unknown error"; o.fail_kind = fk ? fk : "engine_error"; }
        else { o.kind = ALC_OUT_CANCELLED; o.cancel_code = code; o.cancel_detail = detail; o.cancel_requested_at = cat; }
        w.on_outcome(w.ud, &o);
    }
    alc_thread_wind_down(); /* the last reply is out: the rest waits for nobody */
    if (after_reply) {
        const char *late = log_write(s, captured, &record, warning_buf, sizeof warning_buf);
        if (late) report_late_log_failure(s, late);
        alc__registry_log_end(s->reg, log_ticket);
    } else if (!has && log_warning) {
        report_late_log_failure(s, log_warning);
    }
    free(stats_json);
    free(code);
    free(detail);
    free(err);
}

/* Message handler: adds a traceback; renders non-string error values. */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            msg = lua_tostring(L, -1);
        } else {
            char *json = NULL;
            size_t len = 0;
            char err[64];
            if (lua_type(L, 1) == LUA_TTABLE &&
                alc_json_encode_lua(L, 1, &json, &len, NULL, NULL, err, sizeof err) == ALC_OK) {
                lua_pushfstring(L, "(error object) %s", json);
                free(json);
            } else {
                free(json);
                lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
            }
            msg = lua_tostring(L, -1);
        }
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void run_session(alc_session *s) {
    char err[512];
    alc_lua_host host = {
        .ud = s, .ask = alc__host_ask, .budget_ok = alc__host_budget_ok, .budget_remaining = alc__host_budget_remaining,
        .progress = alc__host_progress, .log = alc__host_log, .stats_record = alc__host_stats_record,
        .stats_get = alc__host_stats_get, .llm_calls = alc__host_llm_calls, .cancelled = alc__host_cancelled, .fork = alc__host_fork,
        .state_root = s->reg->state_root, .state_ns = s->state_ns,
    };
    alc_lua_env env = {
        .cfg = s->reg->cfg, .project_root = s->project_root, .ctx = s->ctx,
    };
    lua_State *L;
    int prc = alc_warm_pool_prepare(s->reg->warm, &s->mem, &host, &env, &L, err, sizeof err);
    if (prc != ALC_OK) {
        finish(s, ALC_STATE_FAILED, NULL, err, prc == ALC_E_NOMEM ? "memory" : "engine_error");
        return;
    }
    s->lua = L;
    lua_pushcfunction(L, msghandler);                         // msgh
    int load = luaL_loadbufferx(L, s->code, s->code_len, s->chunkname, "t"); // msgh fn|err
    if (load != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        char *copy = strdup(m ? m : "syntax error");
        close_state(s, L);
        finish(s, ALC_STATE_FAILED, NULL, copy ? copy : "syntax error", load == LUA_ERRMEM ? "memory" : "lua_error");
        free(copy);
        return;
    }
#if defined(__SANITIZE_THREAD__)
    alc_lua_install_poll_hook(L); /* TSan holds back the cancel signal during pure Lua loops */
#endif
    set_lua_running(s, L);
    /* checkpoint A: no Lua of the script runs after a cancel */
    int status = LUA_OK;
    if (!atomic_load(&s->cancel_flag)) status = lua_pcall(L, 0, 1, 1); // msgh result|err
    set_lua_running(s, NULL);
    lua_sethook(L, NULL, 0, 0);

    if (atomic_load(&s->cancel_flag)) {
        /* a paused session cancelled: nobody waits for its end (alc_cancel answered at once) */
        alc_mutex_lock(&s->mu);
        bool watched = s->has_waiter;
        alc_mutex_unlock(&s->mu);
        if (!watched) alc_thread_wind_down();
        close_state(s, L);
        finish(s, ALC_STATE_CANCELLED, NULL, NULL, NULL);
        return;
    }
    if (status != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        char *copy = strdup(m ? m : "error");
        const char *kind = status == LUA_ERRMEM ? "memory" : "lua_error";
        if (status == LUA_ERRMEM) {
            free(copy);
            char buf[160];
            snprintf(buf, sizeof buf, "not enough memory: the script exceeded its memory limit of %zu bytes (ALC_MAX_MEMORY)", s->mem.limit);
            copy = strdup(buf);
        }
        close_state(s, L);
        finish(s, ALC_STATE_FAILED, NULL, copy ? copy : "error", kind);
        free(copy);
        return;
    }
    char *json = NULL;
    size_t len = 0;
    int rc = alc_json_encode_lua(L, -1, &json, &len, NULL, NULL, err, sizeof err);
    close_state(s, L);
    if (rc != ALC_OK) {
        char buf[640];
        snprintf(buf, sizeof buf, "the script's result cannot be converted to JSON: %s", err);
        finish(s, ALC_STATE_FAILED, NULL, buf, "engine_error");
    } else {
        finish(s, ALC_STATE_DONE, json, NULL, NULL);
    }
    free(json);
}

/* Session thread entry point: runs the script, reports, and drops the thread's reference. */
void *alc__session_main(void *arg) {
    alc_session *s = arg;
    alc_thread_lua_policy(s->reg->cfg->lua_batch);
    run_session(s);
    /* the session is over and its caller has its answer: prepare a Lua state for the next
     * session (only when the pool is short), before the registry stops counting this thread */
    /* (at nice 19, set by finish: never in the way of a reply, yet never starved for long
     * while it may hold a malloc lock or, next, the registry's) */
    if (s->reg->warm) alc_warm_pool_refill(s->reg->warm);
    alc_mutex_lock(&s->mu);
    s->thread_alive = false;
    alc_mutex_unlock(&s->mu);
    alc_registry *r = s->reg;
    alc_session_unref(s);
    alc__registry_thread_done(r);
    return NULL;
}

/* ---- verbs from other threads ----------------------------------------------------- */

static int find_query(const alc_session *s, const char *id) {
    for (size_t i = 0; i < s->n_queries; i++)
        if (strcmp(s->queries[i].id, id) == 0) return (int)i;
    return -1;
}

/* Delivers answers; see session.h. */
int alc_session_continue(alc_session *s, const alc_answer *answers, size_t n, const alc_waiter *w,
                         size_t *remaining, char *err, size_t errlen) {
    if (n == 0) { snprintf(err, errlen, "no responses given"); return ALC_E_INVAL; }
    char **copies = calloc(n, sizeof *copies);
    int *slots = calloc(n, sizeof *slots);
    int rc = ALC_E_NOMEM;
    if (!copies || !slots) { snprintf(err, errlen, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) {
        copies[i] = malloc(answers[i].response_len + 1);
        if (!copies[i]) { snprintf(err, errlen, "out of memory"); goto out; }
        memcpy(copies[i], answers[i].response, answers[i].response_len);
        copies[i][answers[i].response_len] = '\0';
    }
    bool wake = false;
    alc_mutex_lock(&s->mu);
    /* checkpoint C */
    if (atomic_load(&s->cancel_flag) || s->state == ALC_STATE_CANCELLED) {
        rc = ALC_E_CANCELLED;
        snprintf(err, errlen, "session '%s' is cancelled", s->id);
    } else if (alc_state_is_terminal(s->state)) {
        rc = ALC_E_TERMINAL;
        snprintf(err, errlen, "session '%s' has already finished (%s)", s->id, alc_state_name(s->state));
    } else if (s->state != ALC_STATE_PAUSED) {
        rc = ALC_E_NOT_PAUSED;
        snprintf(err, errlen, "session '%s' is not paused (it is %s); wait for its pending reply", s->id, alc_state_name(s->state));
    } else if (s->has_waiter && w) {
        rc = ALC_E_BUSY;
        snprintf(err, errlen, "session '%s' already has a call waiting for it", s->id);
    } else {
        rc = ALC_OK;
        for (size_t i = 0; i < n && rc == ALC_OK; i++) {
            int k;
            if (!answers[i].query_id) {
                size_t open = s->n_queries - s->n_answered;
                k = -1;
                if (open == 1)
                    for (size_t j = 0; j < s->n_queries; j++) if (!s->answers[j]) k = (int)j;
                if (k < 0) {
                    rc = ALC_E_INVAL;
                    snprintf(err, errlen, "%zu queries pending; specify query_id explicitly", open);
                    break;
                }
            } else {
                k = find_query(s, answers[i].query_id);
                if (k < 0) {
                    rc = ALC_E_NOT_FOUND;
                    snprintf(err, errlen, "unknown query_id: %.64s (pending: %s%s)", answers[i].query_id,
                             s->n_queries ? s->queries[0].id : "none", s->n_queries > 1 ? ", ..." : "");
                    break;
                }
            }
            bool dup = s->answers[k] != NULL;
            for (size_t j = 0; j < i; j++) if (slots[j] == k) dup = true;
            if (dup) {
                rc = ALC_E_INVAL;
                snprintf(err, errlen, "query_id %s was already answered", s->queries[k].id);
                break;
            }
            slots[i] = k;
        }
        if (rc == ALC_OK) {
            for (size_t i = 0; i < n; i++) {
                int k = slots[i];
                s->answers[k] = copies[i];
                s->answer_lens[k] = answers[i].response_len;
                s->answer_errors[k] = answers[i].is_error;
                copies[i] = NULL;
                s->n_answered++;
                long long pt = answers[i].has_usage ? answers[i].prompt_tokens : -1;
                long long ct = answers[i].has_usage ? answers[i].completion_tokens : -1;
                alc_metrics_on_response(&s->metrics, s->queries[k].id, s->answers[k], s->answer_lens[k], pt, ct);
            }
            s->last_active_mono_ms = alc_now_ms();
            s->last_activity_wall_ms = alc_wall_ms();
            *remaining = s->n_queries - s->n_answered;
            if (*remaining == 0) {
                s->metrics.rounds++;
                alc__session_transition(s, ALC_STATE_RUNNING);
                alc__session_publish(s, ALC_EV_RESUME_ACCEPTED, s->n_queries == 1 ? "{\"payload_kind\":\"single\"}" : "{\"payload_kind\":\"batch\"}");
                if (w) { s->waiter = *w; s->has_waiter = true; }
                wake = true;
            }
        }
    }
    alc_mutex_unlock(&s->mu);
    /* after unlocking, so the woken session thread does not block on s->mu at once; the
     * caller's reference keeps s alive */
    if (wake) alc_park_wake(&s->park);
out:
    if (copies) for (size_t i = 0; i < n; i++) free(copies[i]);
    free(copies);
    free(slots);
    return rc;
}

/* Fails a running session whose elapsed-time budget is used up (kind "timeout"): stops its
 * Lua like a cancel, but the session ends failed with msg. Called by the GC thread. */
void alc__session_timeout(alc_session *s, const char *msg) {
    char *m = strdup(msg);
    alc_mutex_lock(&s->mu);
    if (s->state == ALC_STATE_RUNNING) {
        free(s->error);
        s->error = m;
        m = NULL;
        s->fail_kind = "timeout";
        atomic_store(&s->cancel_flag, true);
        alc__session_transition(s, ALC_STATE_FAILED);
        alc_park_wake(&s->park);
        if (s->thread_alive && s->lua_running) pthread_kill(s->thread, CANCEL_SIGNAL);
    }
    alc_mutex_unlock(&s->mu);
    free(m);
}

/* Attaches a waiter to a paused session; see session.h. */
int alc_session_attach(alc_session *s, const alc_waiter *w) {
    alc_mutex_lock(&s->mu);
    int rc = ALC_OK;
    if (atomic_load(&s->cancel_flag) || s->state == ALC_STATE_CANCELLED) rc = ALC_E_CANCELLED;
    else if (s->state != ALC_STATE_PAUSED) rc = ALC_E_NOT_PAUSED;
    else if (s->has_waiter) rc = ALC_E_BUSY;
    else {
        s->waiter = *w;
        s->has_waiter = true;
    }
    alc_mutex_unlock(&s->mu);
    return rc;
}

/* Cancels; see session.h. */
void alc_session_cancel(alc_session *s, const char *code, const char *detail, alc_state *state_out) {
    char *c = strdup(code ? code : "user");
    char *d = detail ? strdup(detail) : NULL;
    alc_mutex_lock(&s->mu);
    if (!alc_state_is_terminal(s->state)) {
        if (!s->cancel_code) {      /* the first reason wins */
            s->cancel_code = c;
            s->cancel_detail = d;
            s->cancel_at_ms = alc_wall_ms();
            c = d = NULL;
        }
        s->state_before_cancel = s->state;
        atomic_store(&s->cancel_flag, true);
        alc__session_transition(s, ALC_STATE_CANCELLED);
        alc_park_wake(&s->park);
        /* checkpoint D for running Lua: the handler runs on the session thread */
        if (s->thread_alive && s->lua_running) pthread_kill(s->thread, CANCEL_SIGNAL);
    }
    if (state_out) *state_out = s->state;
    alc_mutex_unlock(&s->mu);
    free(c);
    free(d);
}

alc_state alc_session_state(alc_session *s) {
    alc_mutex_lock(&s->mu);
    alc_state st = s->state;
    alc_mutex_unlock(&s->mu);
    return st;
}

alc_ring *alc_session_ring(alc_session *s) { return s->ring; }
const char *alc_session_id(const alc_session *s) { return s->id; }

/* Frees a session whose last reference is gone. */
void alc__session_free(alc_session *s) {
    alc_queries_free(s->queries, s->n_queries);
    if (s->answers) for (size_t i = 0; i < s->n_queries; i++) free(s->answers[i]);
    free(s->answers);
    free(s->answer_lens);
    free(s->answer_errors);
    free(s->cancel_code);
    free(s->cancel_detail);
    alc_metrics_deinit(&s->metrics);
    free(s->progress_msg);
    for (size_t i = 0; i < ALC_LOG_RING; i++) free(s->logs[i].message);
    free(s->error);
    free(s->code);
    free(s->chunkname);
    cJSON_Delete(s->ctx);
    free(s->strategy);
    free(s->project_root);
    free(s->state_ns);
    alc_ring_free(s->ring);
    alc_park_deinit(&s->park);
    alc_mutex_deinit(&s->mu);
    free(s);
}
