/*
 * status.c — snapshots of sessions for alc_status (reference §3.4 alc_status).
 * Any thread; takes the registry lock (to collect references) and each session's lock
 * (to copy fields) separately, in that order, never calling Lua.
 */
#include "session_internal.h"

#include <stdlib.h>
#include <string.h>

static cJSON *num(double v) { return cJSON_CreateNumber(v); }

static void add_pending(cJSON *o, const alc_session *s, const alc_status_opts *opts) {
    if (!opts || opts->pending_mode == 0 || s->state != ALC_STATE_PAUSED) return;
    cJSON *arr = cJSON_AddArrayToObject(o, "pending");
    for (size_t i = 0; i < s->n_queries; i++) {
        if (s->answers && s->answers[i]) continue;
        const alc_query *q = &s->queries[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "query_id", q->id);
        cJSON_AddNumberToObject(e, "max_tokens", (double)q->max_tokens);
        if (opts->pending_mode == 3) {
            if (q->system) cJSON_AddStringToObject(e, "system", q->system); else cJSON_AddNullToObject(e, "system");
            cJSON_AddBoolToObject(e, "grounded", q->grounded);
            cJSON_AddBoolToObject(e, "underspecified", q->underspecified);
            cJSON_AddStringToObject(e, "prompt", q->prompt);
        } else if (opts->pending_mode == 2) {
            /* preview: the first N Unicode scalars */
            size_t i2 = 0, chars = 0;
            while (i2 < q->prompt_len && chars < opts->preview_chars) {
                i2++;
                while (i2 < q->prompt_len && ((unsigned char)q->prompt[i2] & 0xC0) == 0x80) i2++;
                chars++;
            }
            char *p = malloc(i2 + 1);
            if (p) {
                memcpy(p, q->prompt, i2);
                p[i2] = '\0';
                cJSON_AddStringToObject(e, "prompt_preview", p);
                free(p);
            }
        }
        cJSON_AddItemToArray(arr, e);
    }
}

/* Snapshot with s->mu held. */
static cJSON *snapshot_locked(alc_session *s, const alc_status_opts *opts) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", s->id);
    cJSON_AddStringToObject(o, "state", alc_state_name(s->state));
    if (s->strategy) cJSON_AddStringToObject(o, "strategy", s->strategy);
    cJSON_AddItemToObject(o, "started_at", num((double)s->started_wall_ms));
    cJSON_AddItemToObject(o, "last_activity_at", num((double)s->last_activity_wall_ms));
    size_t open = s->state == ALC_STATE_PAUSED ? s->n_queries - s->n_answered : 0;
    cJSON_AddNumberToObject(o, "pending_queries", (double)open);
    cJSON *m = cJSON_AddObjectToObject(o, "metrics");
    const alc_metrics *mt = &s->metrics;
    cJSON_AddNumberToObject(m, "elapsed_ms", (double)alc_metrics_elapsed_ms(mt));
    cJSON_AddNumberToObject(m, "llm_calls", (double)mt->llm_calls);
    cJSON_AddNumberToObject(m, "pauses", (double)mt->pauses);
    cJSON_AddNumberToObject(m, "rounds", (double)mt->rounds);
    long long pt = 0, rt = 0;
    for (size_t i = 0; i < mt->n_entries; i++) { pt += mt->entries[i].prompt_tokens; rt += mt->entries[i].response_tokens; }
    cJSON *tok = cJSON_AddObjectToObject(m, "tokens");
    cJSON_AddNumberToObject(tok, "prompt_total", (double)pt);
    cJSON_AddNumberToObject(tok, "response_total", (double)rt);
    cJSON_AddNumberToObject(tok, "total", (double)(pt + rt));
    if (mt->n_entries && !mt->entries[mt->n_entries - 1].response) {
        const alc_transcript_entry *e = &mt->entries[mt->n_entries - 1];
        cJSON *cq = cJSON_AddObjectToObject(tok, "current_query");
        cJSON_AddStringToObject(cq, "query_id", e->query_id);
        cJSON_AddNumberToObject(cq, "prompt_tokens", (double)e->prompt_tokens);
        cJSON_AddNumberToObject(cq, "started_waiting_at", (double)e->started_at_ms);
    } else {
        cJSON_AddNullToObject(tok, "current_query");
    }
    cJSON *logs = cJSON_AddArrayToObject(m, "recent_logs");
    size_t first = s->n_logs > ALC_LOG_RING ? s->n_logs - ALC_LOG_RING : 0;
    for (size_t i = first; i < s->n_logs; i++) {
        const alc_log_line *l = &s->logs[i % ALC_LOG_RING];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "ts", (double)l->ts);
        cJSON_AddStringToObject(e, "level", l->level);
        cJSON_AddStringToObject(e, "source", l->source);
        cJSON_AddStringToObject(e, "message", l->message ? l->message : "");
        cJSON_AddItemToArray(logs, e);
    }
    if (s->has_progress) {
        cJSON *p = cJSON_AddObjectToObject(m, "progress");
        cJSON_AddNumberToObject(p, "step", (double)s->progress_step);
        cJSON_AddNumberToObject(p, "total", (double)s->progress_total);
        if (s->progress_msg) cJSON_AddStringToObject(p, "message", s->progress_msg); else cJSON_AddNullToObject(p, "message");
    }
    long long c, ms, t;
    if (alc_metrics_budget_remaining(mt, &c, &ms, &t)) {
        cJSON *b = cJSON_AddObjectToObject(m, "budget_remaining");
        if (c >= 0) cJSON_AddNumberToObject(b, "llm_calls", (double)c); else cJSON_AddNullToObject(b, "llm_calls");
        if (ms >= 0) cJSON_AddNumberToObject(b, "elapsed_ms", (double)ms); else cJSON_AddNullToObject(b, "elapsed_ms");
        if (t >= 0) cJSON_AddNumberToObject(b, "tokens", (double)t); else cJSON_AddNullToObject(b, "tokens");
    }
    if (opts && opts->include_history) {
        cJSON *h = cJSON_AddArrayToObject(m, "conversation_history");
        size_t from = mt->n_entries > 10 ? mt->n_entries - 10 : 0;
        for (size_t i = from; i < mt->n_entries; i++) {
            const alc_transcript_entry *e = &mt->entries[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "query_id", e->query_id);
            cJSON_AddStringToObject(x, "prompt", e->prompt);
            if (e->response) cJSON_AddStringToObject(x, "response", e->response); else cJSON_AddNullToObject(x, "response");
            cJSON_AddNumberToObject(x, "prompt_tokens", (double)e->prompt_tokens);
            cJSON_AddNumberToObject(x, "response_tokens", (double)e->response_tokens);
            cJSON_AddNumberToObject(x, "started_at", (double)e->started_at_ms);
            if (e->completed_at_ms) cJSON_AddNumberToObject(x, "completed_at", (double)e->completed_at_ms);
            else cJSON_AddNullToObject(x, "completed_at");
            cJSON_AddItemToArray(h, x);
        }
    }
    if (s->state == ALC_STATE_CANCELLED && s->cancel_code) {
        cJSON *r = cJSON_AddObjectToObject(o, "cancel_reason");
        cJSON_AddStringToObject(r, "code", s->cancel_code);
        if (s->cancel_detail) cJSON_AddStringToObject(r, "detail", s->cancel_detail); else cJSON_AddNullToObject(r, "detail");
        cJSON_AddNumberToObject(r, "requested_at", (double)s->cancel_at_ms);
        cJSON_AddStringToObject(r, "state_before", alc_state_name(s->state_before_cancel));
    }
    if (s->state == ALC_STATE_FAILED && s->error) {
        cJSON_AddStringToObject(o, "error", s->error);
        cJSON_AddStringToObject(o, "error_kind", s->fail_kind ? s->fail_kind : "lua_error");
    }
    add_pending(o, s, opts);
    return o;
}

static void add_events(cJSON *o, alc_session *s) {
    alc_event ev[16];
    size_t n = alc_ring_recent(s->ring, ev, 16);
    cJSON *arr = cJSON_AddArrayToObject(o, "recent_events");
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "seq", (double)ev[i].seq);
        cJSON_AddStringToObject(e, "kind", alc_event_kind_name(ev[i].kind));
        cJSON_AddNumberToObject(e, "at", (double)ev[i].at_ms);
        cJSON *data = ev[i].json ? cJSON_Parse(ev[i].json) : NULL;
        if (data) cJSON_AddItemToObject(e, "data", data);
        cJSON_AddItemToArray(arr, e);
        alc_event_deinit(&ev[i]);
    }
}

/* Snapshot of one session; returns new. */
cJSON *alc_session_snapshot(alc_session *s, const alc_status_opts *opts) {
    alc_mutex_lock(&s->mu);
    cJSON *o = snapshot_locked(s, opts);
    alc_mutex_unlock(&s->mu);
    if (o) add_events(o, s);
    return o;
}

static int by_started_desc(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double dx = cJSON_GetObjectItemCaseSensitive(x, "started_at")->valuedouble;
    double dy = cJSON_GetObjectItemCaseSensitive(y, "started_at")->valuedouble;
    return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* Snapshots of every session, newest first; returns new array. */
cJSON *alc_registry_snapshot(alc_registry *r, const alc_status_opts *opts) {
    alc_mutex_lock(&r->mu);
    size_t n = r->count, k = 0;
    alc_session **v = n ? calloc(n, sizeof *v) : NULL;
    for (int b = 0; b < ALC_REG_BUCKETS && v; b++)
        for (alc_session *s = r->buckets[b]; s && k < n; s = s->next) { alc__session_ref(s); v[k++] = s; }
    alc_mutex_unlock(&r->mu);
    cJSON **items = k ? calloc(k, sizeof *items) : NULL;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        alc_mutex_lock(&v[i]->mu);
        cJSON *o = items ? snapshot_locked(v[i], opts) : NULL;
        alc_mutex_unlock(&v[i]->mu);
        if (o) items[m++] = o;
        alc_session_unref(v[i]);
    }
    free(v);
    if (m > 1) qsort(items, m, sizeof *items, by_started_desc);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < m; i++) {
        if (arr) cJSON_AddItemToArray(arr, items[i]); else cJSON_Delete(items[i]);
    }
    free(items);
    return arr;
}
