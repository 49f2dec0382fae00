/*
 * sampling.c — runs a session's LLM queries through MCP sampling (see sampling.h).
 *
 * One group per pause: n requests with ids "alc-sampling-<k>", their answers (text or error),
 * optional usage, and a reference to the waiting tool call. When every request of a group has
 * an answer (or failed, or timed out), the answers resume the session exactly like
 * alc_continue, and the tool call waits for the next pause or the end.
 */
#include "sampling.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sampling_group {
    struct sampling_group *next;
    alc_inflight *f;             /* reference held */
    char session_id[48];
    size_t n, remaining;
    char **ids;                  /* request ids sent to the client */
    char **qids;                 /* the session's query ids, same order */
    char **texts;
    size_t *lens;
    bool *errors;
    bool *done;
    long long *pt, *ct;          /* usage, -1 when not reported */
    int64_t deadline_ms;
} sampling_group;

struct alc_sampling_table {
    alc_server *srv;
    alc_mutex mu;                /* guards groups and next_id */
    sampling_group *groups;
    unsigned long long next_id;
};

static void group_free(sampling_group *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        if (g->ids) free(g->ids[i]);
        if (g->qids) free(g->qids[i]);
        if (g->texts) free(g->texts[i]);
    }
    free(g->ids); free(g->qids); free(g->texts); free(g->lens); free(g->errors); free(g->done); free(g->pt); free(g->ct);
    if (g->f) alc_inflight_unref(g->f);
    free(g);
}

int alc_sampling_new(alc_server *srv, alc_sampling_table **out) {
    alc_sampling_table *t = calloc(1, sizeof *t);
    if (!t) return ALC_E_NOMEM;
    t->srv = srv;
    alc_mutex_init(&t->mu);
    *out = t;
    return ALC_OK;
}

void alc_sampling_free(alc_sampling_table *t) {
    if (!t) return;
    sampling_group *g = t->groups;
    while (g) {
        sampling_group *next = g->next;
        group_free(g);
        g = next;
    }
    alc_mutex_deinit(&t->mu);
    free(t);
}

static char *request_line(const char *id, const alc_query *q, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"jsonrpc\":\"2.0\",\"id\":");
    alc_jbuf_json_str(&b, id, strlen(id));
    alc_jbuf_puts(&b, ",\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":");
    alc_jbuf_json_str(&b, q->prompt, q->prompt_len);
    alc_jbuf_puts(&b, "}}]");
    if (q->system) {
        alc_jbuf_puts(&b, ",\"systemPrompt\":");
        alc_jbuf_json_str(&b, q->system, strlen(q->system));
    }
    alc_jbuf_printf(&b, ",\"maxTokens\":%lld,\"includeContext\":\"none\"}}", q->max_tokens);
    return alc_jbuf_take(&b, len);
}

static void send_cancelled(alc_sampling_table *t, const char *id, const char *reason) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"requestId\":");
    alc_jbuf_json_str(&b, id, strlen(id));
    alc_jbuf_puts(&b, ",\"reason\":");
    alc_jbuf_json_str(&b, reason, strlen(reason));
    alc_jbuf_puts(&b, "}");
    char *params = alc_jbuf_take(&b, NULL);
    if (!params) return;
    size_t n;
    char *line = alc_rpc_notification_line("notifications/cancelled", params, &n);
    free(params);
    if (line) alc_out_write(t->srv->out, line, n);
    free(line);
}

/* Takes a session-paused outcome over for a sampling call; see sampling.h. */
bool alc_sampling_dispatch(alc_sampling_table *t, alc_inflight *f, const alc_outcome *o) {
    sampling_group *g = calloc(1, sizeof *g);
    if (!g) return false;
    size_t n = o->n_queries;
    g->n = g->remaining = n;
    g->ids = calloc(n, sizeof *g->ids);
    g->qids = calloc(n, sizeof *g->qids);
    g->texts = calloc(n, sizeof *g->texts);
    g->lens = calloc(n, sizeof *g->lens);
    g->errors = calloc(n, sizeof *g->errors);
    g->done = calloc(n, sizeof *g->done);
    g->pt = calloc(n, sizeof *g->pt);
    g->ct = calloc(n, sizeof *g->ct);
    snprintf(g->session_id, sizeof g->session_id, "%s", o->session_id);
    g->deadline_ms = alc_now_ms() + t->srv->cfg->sampling_timeout_ms;
    if (!g->ids || !g->qids || !g->texts || !g->lens || !g->errors || !g->done || !g->pt || !g->ct) { group_free(g); return false; }
    alc_mutex_lock(&t->mu);
    for (size_t i = 0; i < n; i++) {
        char id[48];
        snprintf(id, sizeof id, "alc-sampling-%llu", ++t->next_id);
        g->ids[i] = strdup(id);
        g->qids[i] = strdup(o->queries[i].id);
        g->pt[i] = g->ct[i] = -1;
    }
    alc_mutex_unlock(&t->mu);
    for (size_t i = 0; i < n; i++) if (!g->ids[i] || !g->qids[i]) { group_free(g); return false; }

    /* the call keeps waiting: attach it to the paused session for its next outcome */
    alc_session *s = alc_registry_find(t->srv->reg, o->session_id);
    int rc = ALC_E_NOT_FOUND;
    if (s) {
        alc_waiter w = alc_inflight_waiter(f);
        rc = alc_session_attach(s, &w);
        alc_session_unref(s);
    }
    if (rc != ALC_OK) {
        group_free(g);
        alc_inflight_finish_text(f, "The session was cancelled while its LLM queries were being sent for sampling.", true);
        return true;
    }
    alc_inflight_ref(f);
    g->f = f;
    alc_mutex_lock(&t->mu);
    g->next = t->groups;
    t->groups = g;
    alc_mutex_unlock(&t->mu);
    /* concurrent requests: all of a batch go out at once (ids and queries are immutable now) */
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *line = request_line(g->ids[i], &o->queries[i], &len);
        if (line) alc_out_write(t->srv->out, line, len);
        free(line);
    }
    return true;
}

/* Resumes the session of a complete group (no lock held) and frees it. */
static void complete(alc_sampling_table *t, sampling_group *g) {
    alc_answer *ans = calloc(g->n, sizeof *ans);
    alc_session *s = alc_registry_find(t->srv->reg, g->session_id);
    if (ans && s) {
        for (size_t i = 0; i < g->n; i++) {
            ans[i].query_id = g->qids[i];
            ans[i].response = g->texts[i] ? g->texts[i] : "";
            ans[i].response_len = g->texts[i] ? g->lens[i] : 0;
            ans[i].is_error = g->errors[i];
            ans[i].has_usage = g->pt[i] >= 0 || g->ct[i] >= 0;
            ans[i].prompt_tokens = g->pt[i];
            ans[i].completion_tokens = g->ct[i];
        }
        size_t remaining = 0;
        char err[256];
        /* on failure the session was cancelled: the attached call gets that outcome */
        (void)alc_session_continue(s, ans, g->n, NULL, &remaining, err, sizeof err);
    }
    if (s) alc_session_unref(s);
    free(ans);
    group_free(g);
}

/* Text of a CreateMessageResult: content {type:"text", text} or an array of such blocks. */
static char *result_text(const cJSON *result, size_t *len, char *err, size_t errlen) {
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");
    alc_jbuf b;
    alc_jbuf_init(&b);
    const cJSON *first = cJSON_IsArray(content) ? content->child : content;
    bool single = !cJSON_IsArray(content);
    int found = 0;
    for (const cJSON *c = first; c; c = single ? NULL : c->next) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "text") == 0 && cJSON_IsString(text)) {
            alc_jbuf_puts(&b, text->valuestring);
            found++;
        }
    }
    if (!found) {
        alc_jbuf_deinit(&b);
        snprintf(err, errlen, "sampling/createMessage returned no text content");
        return NULL;
    }
    return alc_jbuf_take(&b, len);
}

static long long usage_value(const cJSON *u, const char *a, const char *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, a);
    if (!cJSON_IsNumber(v)) v = cJSON_GetObjectItemCaseSensitive(u, b);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (long long)v->valuedouble : -1;
}

/* Routes a client response to its request; see sampling.h. */
void alc_sampling_on_response(alc_sampling_table *t, const alc_rpc_msg *m) {
    if (!t || !cJSON_IsString(m->id)) return;
    const char *id = m->id->valuestring;
    char *text = NULL;
    size_t len = 0;
    bool is_error = false;
    long long pt = -1, ct = -1;
    char err[600];
    if (m->error) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m->error, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(m->error, "code");
        snprintf(err, sizeof err, "sampling/createMessage was refused by the client: %.400s (code %d)",
                 cJSON_IsString(msg) ? msg->valuestring : "no message", cJSON_IsNumber(code) ? (int)code->valuedouble : 0);
        is_error = true;
    } else {
        text = result_text(m->result, &len, err, sizeof err);
        if (!text) is_error = true;
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(m->result, "usage");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(m->result, "_meta");
        if (!cJSON_IsObject(u) && cJSON_IsObject(meta)) u = cJSON_GetObjectItemCaseSensitive(meta, "usage");
        if (cJSON_IsObject(u)) {
            pt = usage_value(u, "inputTokens", "prompt_tokens");
            ct = usage_value(u, "outputTokens", "completion_tokens");
        }
    }
    if (is_error) { free(text); text = strdup(err); len = text ? strlen(text) : 0; }
    sampling_group *ready = NULL;
    bool matched = false;
    alc_mutex_lock(&t->mu);
    for (sampling_group **pp = &t->groups; *pp && !matched; pp = &(*pp)->next) {
        sampling_group *g = *pp;
        for (size_t i = 0; i < g->n; i++) {
            if (g->done[i] || strcmp(g->ids[i], id) != 0) continue;
            matched = true;
            g->done[i] = true;
            g->texts[i] = text;
            g->lens[i] = len;
            g->errors[i] = is_error;
            g->pt[i] = pt;
            g->ct[i] = ct;
            text = NULL;
            if (--g->remaining == 0) { *pp = g->next; ready = g; }
            break;
        }
    }
    alc_mutex_unlock(&t->mu);
    free(text); /* unknown id: ignored */
    if (ready) complete(t, ready);
}

/* Fails requests past their deadline; see sampling.h. */
void alc_sampling_tick(alc_sampling_table *t) {
    if (!t) return;
    int64_t now = alc_now_ms();
    char expired[64][48];
    size_t ne = 0;
    sampling_group *ready[16];
    size_t nr = 0;
    char msg[160];
    snprintf(msg, sizeof msg, "sampling/createMessage timed out after %lld s (ALC_SAMPLING_TIMEOUT)",
             (long long)(t->srv->cfg->sampling_timeout_ms / 1000));
    alc_mutex_lock(&t->mu);
    for (sampling_group **pp = &t->groups; *pp;) {
        sampling_group *g = *pp;
        if (now >= g->deadline_ms) {
            for (size_t i = 0; i < g->n; i++) {
                if (g->done[i]) continue;
                g->done[i] = true;
                g->errors[i] = true;
                g->texts[i] = strdup(msg);
                g->lens[i] = g->texts[i] ? strlen(g->texts[i]) : 0;
                g->remaining--;
                if (ne < 64) snprintf(expired[ne++], sizeof expired[0], "%s", g->ids[i]);
            }
            if (g->remaining == 0 && nr < 16) { *pp = g->next; ready[nr++] = g; continue; }
        }
        pp = &g->next;
    }
    alc_mutex_unlock(&t->mu);
    for (size_t i = 0; i < ne; i++) send_cancelled(t, expired[i], "timed out");
    for (size_t i = 0; i < nr; i++) complete(t, ready[i]);
}

/* Abandons the requests of a cancelled call; see sampling.h. */
void alc_sampling_abandon(alc_sampling_table *t, const char *session_id) {
    if (!t || !session_id || !*session_id) return;
    sampling_group *gone = NULL;
    alc_mutex_lock(&t->mu);
    for (sampling_group **pp = &t->groups; *pp;) {
        sampling_group *g = *pp;
        if (strcmp(g->session_id, session_id) == 0) {
            *pp = g->next;
            g->next = gone;
            gone = g;
            continue;
        }
        pp = &g->next;
    }
    alc_mutex_unlock(&t->mu);
    while (gone) {
        sampling_group *next = gone->next;
        for (size_t i = 0; i < gone->n; i++)
            if (!gone->done[i]) send_cancelled(t, gone->ids[i], "the tool call was cancelled");
        group_free(gone);
        gone = next;
    }
}
