/*
 * metrics.c — session counters, transcript and budget (reference §2.5).
 * Every function is called with the owning session's mutex held; nothing here blocks.
 */
#include "metrics.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long budget_value(const cJSON *b, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, key);
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    /* only non-negative integers count; floats such as 3.5 are ignored */
    if (d < 0 || d != (double)(long long)d || d > 9.0e15) return -1;
    return (long long)d;
}

/* Initialises m; reads ctx.budget when it is an object. */
void alc_metrics_init(alc_metrics *m, const cJSON *ctx) {
    memset(m, 0, sizeof *m);
    m->started_mono_ms = alc_now_ms();
    m->max_llm_calls = m->max_elapsed_ms = m->max_tokens = -1;
    const cJSON *b = ctx ? cJSON_GetObjectItemCaseSensitive(ctx, "budget") : NULL;
    if (cJSON_IsObject(b)) {
        m->max_llm_calls = budget_value(b, "max_llm_calls");
        m->max_elapsed_ms = budget_value(b, "max_elapsed_ms");
        m->max_tokens = budget_value(b, "max_tokens");
        m->has_budget = m->max_llm_calls >= 0 || m->max_elapsed_ms >= 0 || m->max_tokens >= 0;
    }
}

void alc_metrics_deinit(alc_metrics *m) {
    for (size_t i = 0; i < m->n_entries; i++) {
        alc_transcript_entry *e = &m->entries[i];
        free(e->query_id);
        free(e->prompt);
        free(e->system);
        free(e->response);
    }
    free(m->entries);
    cJSON_Delete(m->custom);
    memset(m, 0, sizeof *m);
}

/* ceil(A/4) + ceil(2N/3) over Unicode scalars (A ascii, N others). */
long long alc_tokens_estimate(const char *s, size_t len) {
    long long a = 0, n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) a++;
        else if ((c & 0xC0) != 0x80) n++; /* count lead bytes only */
    }
    return (a + 3) / 4 + (2 * n + 2) / 3;
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Counts a pause of n queries. */
int alc_metrics_on_paused(alc_metrics *m, const alc_query *q, size_t n) {
    if (m->n_entries + n > m->cap_entries) {
        size_t cap = m->cap_entries ? m->cap_entries * 2 : 8;
        while (cap < m->n_entries + n) cap *= 2;
        alc_transcript_entry *p = realloc(m->entries, cap * sizeof *p);
        if (!p) return ALC_E_NOMEM;
        m->entries = p;
        m->cap_entries = cap;
    }
    int64_t now = alc_wall_ms();
    for (size_t i = 0; i < n; i++) {
        alc_transcript_entry *e = &m->entries[m->n_entries];
        memset(e, 0, sizeof *e);
        e->query_id = strdup(q[i].id);
        e->prompt = dup_n(q[i].prompt, q[i].prompt_len);
        e->prompt_len = q[i].prompt_len;
        e->system = q[i].system ? strdup(q[i].system) : NULL;
        if (!e->query_id || !e->prompt || (q[i].system && !e->system)) {
            free(e->query_id); free(e->prompt); free(e->system);
            return ALC_E_NOMEM;
        }
        size_t sl = q[i].system ? strlen(q[i].system) : 0;
        e->prompt_tokens = alc_tokens_estimate(q[i].prompt, q[i].prompt_len) +
                           (q[i].system ? alc_tokens_estimate(q[i].system, sl) : 0);
        e->started_at_ms = now;
        m->prompt_chars += (long long)(q[i].prompt_len + sl);
        m->n_entries++;
    }
    m->pauses++;
    m->llm_calls += (long long)n;
    return ALC_OK;
}

/* Records an answer on the latest entry with that id. */
void alc_metrics_on_response(alc_metrics *m, const char *query_id, const char *text, size_t len,
                             long long prompt_tokens, long long completion_tokens) {
    m->response_chars += (long long)len;
    for (size_t i = m->n_entries; i-- > 0;) {
        alc_transcript_entry *e = &m->entries[i];
        if (strcmp(e->query_id, query_id) != 0) continue;
        free(e->response);
        e->response = dup_n(text, len);
        e->response_len = e->response ? len : 0;
        e->completed_at_ms = alc_wall_ms();
        if (prompt_tokens >= 0) { e->prompt_tokens = prompt_tokens; e->prompt_provided = true; }
        if (completion_tokens >= 0) { e->response_tokens = completion_tokens; e->response_provided = true; }
        else e->response_tokens = alc_tokens_estimate(text, len);
        return;
    }
}

int64_t alc_metrics_elapsed_ms(const alc_metrics *m) {
    int64_t end = m->ended_mono_ms ? m->ended_mono_ms : alc_now_ms();
    return end - m->started_mono_ms;
}

long long alc_metrics_total_tokens(const alc_metrics *m) {
    long long t = 0;
    for (size_t i = 0; i < m->n_entries; i++) t += m->entries[i].prompt_tokens + m->entries[i].response_tokens;
    return t;
}

/* Budget check in the reference order. */
bool alc_metrics_budget_ok(const alc_metrics *m, char *msg, size_t msglen) {
    if (!m->has_budget) return true;
    if (m->max_llm_calls >= 0 && m->llm_calls >= m->max_llm_calls) {
        snprintf(msg, msglen, "budget_exceeded: max_llm_calls (%lld) reached (%lld used)", m->max_llm_calls, m->llm_calls);
        return false;
    }
    int64_t el = alc_metrics_elapsed_ms(m);
    if (m->max_elapsed_ms >= 0 && el >= m->max_elapsed_ms) {
        snprintf(msg, msglen, "budget_exceeded: max_elapsed_ms (%lldms) reached (%lldms elapsed)", m->max_elapsed_ms, (long long)el);
        return false;
    }
    long long t = alc_metrics_total_tokens(m);
    if (m->max_tokens >= 0 && t >= m->max_tokens) {
        snprintf(msg, msglen, "budget_exceeded: max_tokens (%lld) reached (%lld used)", m->max_tokens, t);
        return false;
    }
    return true;
}

bool alc_metrics_budget_remaining(const alc_metrics *m, long long *calls, long long *ms, long long *tokens) {
    if (!m->has_budget) return false;
    long long el = (long long)alc_metrics_elapsed_ms(m), t = alc_metrics_total_tokens(m);
    *calls = m->max_llm_calls < 0 ? -1 : (m->max_llm_calls > m->llm_calls ? m->max_llm_calls - m->llm_calls : 0);
    *ms = m->max_elapsed_ms < 0 ? -1 : (m->max_elapsed_ms > el ? m->max_elapsed_ms - el : 0);
    *tokens = m->max_tokens < 0 ? -1 : (m->max_tokens > t ? m->max_tokens - t : 0);
    return true;
}

cJSON *alc_metrics_token_obj(long long tokens, const char *source) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tokens", (double)tokens);
    cJSON_AddStringToObject(o, "source", source);
    return o;
}

/* weakest source of a set: estimated < provided < definite */
static const char *weakest(int rank) { return rank == 0 ? "estimated" : rank == 1 ? "provided" : "definite"; }

/* The stats object. Returns new. */
cJSON *alc_metrics_stats(const alc_metrics *m) {
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(root, "auto");
    cJSON_AddNumberToObject(a, "elapsed_ms", (double)alc_metrics_elapsed_ms(m));
    cJSON_AddNumberToObject(a, "llm_calls", (double)m->llm_calls);
    cJSON_AddNumberToObject(a, "pauses", (double)m->pauses);
    cJSON_AddNumberToObject(a, "rounds", (double)m->rounds);
    cJSON_AddNumberToObject(a, "total_prompt_chars", (double)m->prompt_chars);
    cJSON_AddNumberToObject(a, "total_response_chars", (double)m->response_chars);
    long long pt = 0, rt = 0;
    int prank = m->n_entries ? 1 : 2, rrank = m->n_entries ? 1 : 2;
    for (size_t i = 0; i < m->n_entries; i++) {
        pt += m->entries[i].prompt_tokens;
        rt += m->entries[i].response_tokens;
        if (!m->entries[i].prompt_provided) prank = 0;
        if (!m->entries[i].response_provided) rrank = 0;
    }
    cJSON_AddItemToObject(a, "prompt_tokens", alc_metrics_token_obj(pt, weakest(prank)));
    cJSON_AddItemToObject(a, "response_tokens", alc_metrics_token_obj(rt, weakest(rrank)));
    cJSON_AddItemToObject(a, "total_tokens", alc_metrics_token_obj(pt + rt, weakest(prank < rrank ? prank : rrank)));
    if (m->has_budget) {
        cJSON *b = cJSON_AddObjectToObject(a, "budget");
        if (m->max_llm_calls >= 0) cJSON_AddNumberToObject(b, "max_llm_calls", (double)m->max_llm_calls);
        if (m->max_elapsed_ms >= 0) cJSON_AddNumberToObject(b, "max_elapsed_ms", (double)m->max_elapsed_ms);
        if (m->max_tokens >= 0) cJSON_AddNumberToObject(b, "max_tokens", (double)m->max_tokens);
    }
    cJSON_AddItemToObject(root, "custom", m->custom ? cJSON_Duplicate(m->custom, 1) : cJSON_CreateObject());
    return root;
}
