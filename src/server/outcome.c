/*
 * outcome.c — turns an engine outcome into the tool-result JSON of the execution tools
 * (alc_run, alc_continue, alc_advice, alc_eval), keys in alphabetical order as in the
 * original: needs_response (single or batch), completed, error, cancelled.
 * Pure function; any thread (called on session threads).
 */
#include "inflight.h"

#include <stdlib.h>
#include <string.h>

static void put_query_fields(alc_jbuf *b, const alc_query *q, const char *id_key) {
    /* keys sorted: grounded, id|query_id, max_tokens, prompt, system, underspecified */
    if (q->grounded) alc_jbuf_puts(b, "\"grounded\":true,");
    if (strcmp(id_key, "id") == 0) {
        alc_jbuf_puts(b, "\"id\":");
        alc_jbuf_json_str(b, q->id, strlen(q->id));
        alc_jbuf_puts(b, ",");
    }
    alc_jbuf_puts(b, "\"max_tokens\":");
    alc_jbuf_put_ll(b, q->max_tokens);
    alc_jbuf_puts(b, ",\"prompt\":");
    alc_jbuf_json_str(b, q->prompt, q->prompt_len);
    if (strcmp(id_key, "query_id") == 0) {
        alc_jbuf_puts(b, ",\"query_id\":");
        alc_jbuf_json_str(b, q->id, strlen(q->id));
    }
    alc_jbuf_puts(b, ",");
}

static void put_system_and_flags_tail(alc_jbuf *b, const alc_query *q) {
    /* "system" then "underspecified" (alphabetical after session_id/status in single form is
     * handled by the caller) */
    alc_jbuf_puts(b, "\"system\":");
    if (q->system) alc_jbuf_json_str(b, q->system, strlen(q->system));
    else alc_jbuf_puts(b, "null");
    if (q->underspecified) alc_jbuf_puts(b, ",\"underspecified\":true");
}

/* Closes a terminal result: `"status":"<status>"`, then "transcript_warning" (sorted after
 * it) when the session log could not be written, then '}'. */
static void put_status_tail(alc_jbuf *b, const char *status, const alc_outcome *o) {
    alc_jbuf_puts(b, ",\"status\":\"");
    alc_jbuf_puts(b, status);
    alc_jbuf_puts(b, "\"");
    if (o->transcript_warning) {
        alc_jbuf_puts(b, ",\"transcript_warning\":");
        alc_jbuf_json_str(b, o->transcript_warning, strlen(o->transcript_warning));
    }
    alc_jbuf_puts(b, "}");
}

/* Formats o as the tool-result text. Returns new. */
char *alc_outcome_text(const alc_outcome *o, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    const char *sid = o->session_id;
    switch (o->kind) {
    case ALC_OUT_PAUSED:
        if (o->n_queries == 1) {
            const alc_query *q = &o->queries[0];
            alc_jbuf_puts(&b, "{");
            put_query_fields(&b, q, "query_id");
            alc_jbuf_puts(&b, "\"session_id\":");
            alc_jbuf_json_str(&b, sid, strlen(sid));
            alc_jbuf_puts(&b, ",\"status\":\"needs_response\",");
            put_system_and_flags_tail(&b, q);
            alc_jbuf_puts(&b, "}");
        } else {
            alc_jbuf_puts(&b, "{\"queries\":[");
            for (size_t i = 0; i < o->n_queries; i++) {
                if (i) alc_jbuf_puts(&b, ",");
                alc_jbuf_puts(&b, "{");
                put_query_fields(&b, &o->queries[i], "id");
                put_system_and_flags_tail(&b, &o->queries[i]);
                alc_jbuf_puts(&b, "}");
            }
            alc_jbuf_puts(&b, "],\"session_id\":");
            alc_jbuf_json_str(&b, sid, strlen(sid));
            alc_jbuf_puts(&b, ",\"status\":\"needs_response\"}");
        }
        break;
    case ALC_OUT_DONE:
        alc_jbuf_puts(&b, "{\"result\":");
        alc_jbuf_puts(&b, o->result_json ? o->result_json : "null");
        alc_jbuf_puts(&b, ",\"session_id\":");
        alc_jbuf_json_str(&b, sid, strlen(sid));
        alc_jbuf_puts(&b, ",\"stats\":");
        alc_jbuf_puts(&b, o->stats_json ? o->stats_json : "{}");
        put_status_tail(&b, "completed", o);
        break;
    case ALC_OUT_FAILED:
        alc_jbuf_puts(&b, "{\"error\":");
        alc_jbuf_json_str(&b, o->error ? o->error : "unknown error", strlen(o->error ? o->error : "unknown error"));
        alc_jbuf_puts(&b, ",\"kind\":");
        alc_jbuf_json_str(&b, o->fail_kind ? o->fail_kind : "lua_error", strlen(o->fail_kind ? o->fail_kind : "lua_error"));
        alc_jbuf_puts(&b, ",\"session_id\":");
        alc_jbuf_json_str(&b, sid, strlen(sid));
        alc_jbuf_puts(&b, ",\"stats\":");
        alc_jbuf_puts(&b, o->stats_json ? o->stats_json : "{}");
        put_status_tail(&b, "error", o);
        break;
    case ALC_OUT_CANCELLED:
        alc_jbuf_puts(&b, "{\"reason\":{\"code\":");
        alc_jbuf_json_str(&b, o->cancel_code ? o->cancel_code : "user", strlen(o->cancel_code ? o->cancel_code : "user"));
        alc_jbuf_puts(&b, ",\"detail\":");
        if (o->cancel_detail) alc_jbuf_json_str(&b, o->cancel_detail, strlen(o->cancel_detail));
        else alc_jbuf_puts(&b, "null");
        alc_jbuf_printf(&b, ",\"requested_at\":%lld},\"session_id\":", (long long)o->cancel_requested_at);
        alc_jbuf_json_str(&b, sid, strlen(sid));
        alc_jbuf_puts(&b, ",\"stats\":");
        alc_jbuf_puts(&b, o->stats_json ? o->stats_json : "{}");
        put_status_tail(&b, "cancelled", o);
        break;
    }
    return alc_jbuf_take(&b, len);
}
