/*
 * tools_logs.c — the session-log tools: alc_log_view (list or show the logs of finished
 * sessions), alc_note (append a note to a log) and alc_stats (per-strategy aggregates).
 * The files themselves are read and written by the transcript store (alc/transcript.h).
 *
 * Handlers run on the reader thread and hold no lock; they block only on the store's file
 * I/O (which takes its own leaf lock for alc_note) and, first, on logs that finished sessions
 * are still writing after their reply (alc_registry_wait_logs, at most LOG_WAIT_MS).
 */
#include "server_internal.h"

#include "alc/error.h"
#include "alc/session.h"
#include "alc/thread.h"
#include "alc/transcript.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RO "{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"
#define WRITE_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":false,\"openWorldHint\":false}"

#define DEFAULT_LIMIT 50
#define LOG_WAIT_MS 5000
#define DEFAULT_MAX_CHARS 100000

/* Answers c with the store's message for a failed call (rc != ALC_OK). */
static void fail_store(alc_call *c, int rc, const char *err) {
    if (rc == ALC_E_INVAL || rc == ALC_E_NOT_FOUND) alc_call_fail(c, "%s", err);
    else alc_call_fail(c, "Failed to read the session logs: %s", err);
}

/* alc_log_view {session_id?, limit?, max_chars?} */
static void alc_tool_log_view(alc_call *c) {
    const char *sid;
    long long limit = DEFAULT_LIMIT, max_chars = DEFAULT_MAX_CHARS;
    if (!alc_arg_string(c, "session_id", false, &sid) ||
        !alc_arg_int(c, "limit", false, 0, 1000000000LL, &limit, NULL) ||
        !alc_arg_int(c, "max_chars", false, 0, 1LL << 40, &max_chars, NULL))
        return;
    const char *dir = c->srv->cfg->log_dir;
    char err[600];
    alc_registry_wait_logs(c->srv->reg, LOG_WAIT_MS);
    if (sid) {
        char *text = NULL;
        size_t len = 0;
        int rc = alc_transcript_detail(dir, sid, (size_t)max_chars, &text, &len, err, sizeof err);
        if (rc != ALC_OK) { fail_store(c, rc, err); return; }
        alc_call_reply_text(c, text, len, false);
        free(text);
        return;
    }
    cJSON *list = NULL;
    int rc = alc_transcript_list(dir, (size_t)limit, &list, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, err); return; }
    cJSON *root = cJSON_CreateObject();
    if (!root || !cJSON_AddItemToObject(root, "sessions", list)) {
        cJSON_Delete(list);
        cJSON_Delete(root);
        alc_call_fail(c, "out of memory");
        return;
    }
    alc_call_reply_json(c, root);
}

/* alc_note {session_id, content, title?} */
static void alc_tool_note(alc_call *c) {
    const char *sid, *content, *title;
    if (!alc_arg_string(c, "session_id", true, &sid) || !alc_arg_string(c, "content", true, &content) ||
        !alc_arg_string(c, "title", false, &title))
        return;
    if (!c->srv->cfg->log_enabled) {
        alc_call_fail(c, "File logging is disabled (ALC_LOG_LEVEL=off): notes cannot be written");
        return;
    }
    long long count = 0;
    char err[600];
    alc_registry_wait_logs(c->srv->reg, LOG_WAIT_MS);
    int rc = alc_transcript_add_note(c->srv->cfg->log_dir, sid, title, content, alc_wall_ms(), &count, err, sizeof err);
    if (rc == ALC_E_INVAL || rc == ALC_E_NOT_FOUND) { alc_call_fail(c, "%s", err); return; }
    if (rc != ALC_OK) { alc_call_fail(c, "Failed to write the note: %s", err); return; }
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "notes_count", (double)count) || !cJSON_AddStringToObject(o, "session_id", sid)) {
        cJSON_Delete(o);
        alc_call_fail(c, "out of memory");
        return;
    }
    alc_call_reply_json(c, o);
}

/* alc_stats {strategy?, days?} */
static void alc_tool_stats(alc_call *c) {
    const char *strategy;
    if (!alc_arg_string(c, "strategy", false, &strategy)) return;
    int64_t cutoff = 0;
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(c->args, "days");
    if (days && !cJSON_IsNull(days)) {
        if (!cJSON_IsNumber(days) || isnan(days->valuedouble) || days->valuedouble < 0) {
            alc_call_fail(c, "Invalid arguments: 'days' must be a number >= 0");
            return;
        }
        cutoff = alc_transcript_cutoff_ms(days->valuedouble, alc_wall_ms());
    }
    cJSON *out = NULL;
    char err[600];
    alc_registry_wait_logs(c->srv->reg, LOG_WAIT_MS);
    int rc = alc_transcript_stats(c->srv->cfg->log_dir, strategy, cutoff, &out, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, err); return; }
    alc_call_reply_json(c, out);
}

/* The session-log tools (registered in tools.c). */
const alc_tool_def alc_tools_logs[] = {
    {"alc_log_view",
     "Show the logs of finished sessions that made at least one LLM call. Without session_id: "
     "{sessions:[{session_id, strategy, task_hint, elapsed_ms, rounds, llm_calls, tokens, notes_count, ...}]}, "
     "newest first. With session_id: the full log {session_id, strategy, task_hint, stats, transcript, notes?}; "
     "when it exceeds max_chars only the newest transcript entries are kept (truncated, original_rounds, returned_rounds).",
     "{\"type\":\"object\",\"properties\":{"
     "\"session_id\":{\"type\":\"string\",\"description\":\"Show this session's full log instead of the list.\"},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"List mode: at most this many sessions (default 50).\"},"
     "\"max_chars\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Detail mode: largest answer in bytes before the transcript is truncated (default 100000; 0 = unlimited).\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_log_view},
    {"alc_note",
     "Attach a note to a finished session's log (for example what worked or why the answer was wrong). "
     "Returns {notes_count, session_id}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"session_id\":{\"type\":\"string\",\"description\":\"The session whose log gets the note.\"},"
     "\"content\":{\"type\":\"string\",\"description\":\"The note text.\"},"
     "\"title\":{\"type\":\"string\",\"description\":\"Optional short title.\"}"
     "},\"required\":[\"session_id\",\"content\"],\"additionalProperties\":false}",
     WRITE_ANN, alc_tool_note},
    {"alc_stats",
     "Aggregate the session logs per strategy (sessions started with alc_run count as \"unknown\"): "
     "count, avg_elapsed_ms, avg_llm_calls, avg_rounds and char/token totals, plus total_sessions.",
     "{\"type\":\"object\",\"properties\":{"
     "\"strategy\":{\"type\":\"string\",\"description\":\"Only this strategy (exact name; \\\"unknown\\\" for runs without one).\"},"
     "\"days\":{\"type\":\"number\",\"minimum\":0,\"description\":\"Only logs written in the last N days.\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_stats},
    {NULL, NULL, NULL, NULL, NULL},
};
