/*
 * metrics.h — per-session counters, transcript, token estimates and budget (reference §2.5).
 * Internal to src/engine. Not thread-safe by itself: every function is called with the
 * owning session's mutex held.
 */
#ifndef ALC_METRICS_H
#define ALC_METRICS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alc/lua_host.h"

typedef struct alc_transcript_entry {
    char *query_id;
    char *prompt;
    size_t prompt_len;
    char *system;
    char *response;           /* NULL until answered */
    size_t response_len;
    long long prompt_tokens;
    bool prompt_provided;
    long long response_tokens;
    bool response_provided;
    int64_t started_at_ms;    /* wall clock */
    int64_t completed_at_ms;  /* 0 until answered */
} alc_transcript_entry;

typedef struct alc_metrics {
    int64_t started_mono_ms;
    int64_t ended_mono_ms;    /* 0 while running */
    long long llm_calls, pauses, rounds;
    long long prompt_chars, response_chars;
    alc_transcript_entry *entries;
    size_t n_entries, cap_entries;
    bool has_budget;
    long long max_llm_calls, max_elapsed_ms, max_tokens; /* -1 = not set */
    cJSON *custom;            /* alc.stats.record values */
} alc_metrics;

void alc_metrics_init(alc_metrics *m, const cJSON *ctx);
void alc_metrics_deinit(alc_metrics *m);
/* Token estimate: ceil(ascii/4) + ceil(2*non_ascii/3) over Unicode scalars. */
long long alc_tokens_estimate(const char *s, size_t len);
/* Counts a pause of n queries (copies prompts into the transcript). ALC_OK or ALC_E_NOMEM. */
int alc_metrics_on_paused(alc_metrics *m, const alc_query *q, size_t n);
/* Records the answer to the latest entry with query_id. */
void alc_metrics_on_response(alc_metrics *m, const char *query_id, const char *text, size_t len,
                             long long prompt_tokens, long long completion_tokens);
int64_t alc_metrics_elapsed_ms(const alc_metrics *m);
long long alc_metrics_total_tokens(const alc_metrics *m);
/* False (with "budget_exceeded: ..." in msg) when a budget limit is reached. */
bool alc_metrics_budget_ok(const alc_metrics *m, char *msg, size_t msglen);
bool alc_metrics_budget_remaining(const alc_metrics *m, long long *calls, long long *ms, long long *tokens);
/* The stats object {"auto":{...},"custom":{...}}. Returns new. */
cJSON *alc_metrics_stats(const alc_metrics *m);
/* {"tokens":N,"source":S} helper used by stats and status. */
cJSON *alc_metrics_token_obj(long long tokens, const char *source);

#endif
