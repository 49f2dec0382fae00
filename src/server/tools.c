/*
 * tools.c — the table of MCP tools (name, description, input schema, annotations, handler)
 * and the diagnostic tool alc_info.
 *
 * The table is immutable; alc_tools_find and alc_tools_list_json may be called from any
 * thread. Handlers run on the reader thread.
 */
#include "server_internal.h"

#include "alc/version.h"

#include <stdlib.h>
#include <string.h>

#define RO "{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"
#define RUN_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":false,\"openWorldHint\":false}"

/* The execution and diagnostic tools; other groups live in tools_<group>.c. */
const alc_tool_def alc_tools_core[] = {
    {"alc_run",
     "Run a Lua strategy (the body of a function; its first return value is the result). "
     "Returns {status:\"needs_response\", session_id, query_id, prompt, system, max_tokens} when the "
     "script calls alc.llm (answer with alc_continue), a batch form with queries[] for alc.llm_batch, "
     "or {status:\"completed\", result, stats} / {status:\"error\", error}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"code\":{\"type\":\"string\",\"description\":\"Lua source: the body of a function. Use `return` to give the result.\"},"
     "\"llm\":{\"type\":\"string\",\"enum\":[\"pause\",\"sampling\",\"auto\"],\"description\":\"How alc.llm is answered: pause (return needs_response, answer with alc_continue), sampling (ask the client through MCP sampling/createMessage; the call returns only the final result), auto (sampling when the client supports it). Default: ALC_LLM_MODE or pause.\"},"
     "\"code_file\":{\"type\":\"string\",\"description\":\"Path of a Lua file to run instead of code.\"},"
     "\"ctx\":{\"type\":\"object\",\"description\":\"JSON object available to the script as the global ctx (default {}). ctx.budget may set max_llm_calls, max_elapsed_ms, max_tokens.\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Project directory (default: $ALC_PROJECT_ROOT, else the nearest directory above the server's cwd that holds alc.toml); its alc.local.toml variants, alc.lock path entries and packages/ folder are searched first by require.\"}"
     "},\"additionalProperties\":false}",
     RUN_ANN, alc_tool_run},
    {"alc_advice",
     "Run an installed strategy package: require(strategy).run(ctx) with ctx = opts plus ctx.task = task. "
     "Same results as alc_run (needs_response / completed / error); e.g. {strategy:\"cot\", task:\"...\"}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"strategy\":{\"type\":\"string\",\"description\":\"Package name, e.g. cot, sc, reflect, panel.\"},"
     "\"llm\":{\"type\":\"string\",\"enum\":[\"pause\",\"sampling\",\"auto\"],\"description\":\"How alc.llm is answered: pause (return needs_response, answer with alc_continue), sampling (ask the client through MCP sampling/createMessage; the call returns only the final result), auto (sampling when the client supports it). Default: ALC_LLM_MODE or pause.\"},"
     "\"task\":{\"type\":\"string\",\"description\":\"The task or question; becomes ctx.task.\"},"
     "\"opts\":{\"type\":\"object\",\"description\":\"Extra ctx fields for the strategy (e.g. {n: 5}).\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Project directory (default: $ALC_PROJECT_ROOT, else the nearest directory above the server's cwd that holds alc.toml) whose alc.local.toml variants, alc.lock path entries and packages/ folder are searched first.\"}"
     "},\"required\":[\"strategy\"],\"additionalProperties\":false}",
     RUN_ANN, alc_tool_advice},
    {"alc_continue",
     "Answer the pending LLM query (or queries) of a paused session and resume it. Give response "
     "(optionally with query_id) for a single query, or responses:[{query_id, response, usage?}] for a batch. "
     "Returns the next pause, the final result, or {status:\"accepted\", remaining} while batch answers are still missing.",
     "{\"type\":\"object\",\"properties\":{"
     "\"session_id\":{\"type\":\"string\",\"description\":\"The session_id returned by alc_run or alc_advice.\"},"
     "\"response\":{\"type\":\"string\",\"description\":\"The answer to the pending query.\"},"
     "\"query_id\":{\"type\":\"string\",\"description\":\"Which query the response answers (needed when several are pending).\"},"
     "\"responses\":{\"type\":\"array\",\"description\":\"Answers for several queries of a batch.\",\"items\":{\"type\":\"object\",\"properties\":{"
     "\"query_id\":{\"type\":\"string\",\"description\":\"Query id from queries[].id.\"},"
     "\"response\":{\"type\":\"string\",\"description\":\"The answer.\"},"
     "\"usage\":{\"type\":\"object\",\"description\":\"Token usage reported by the model: {prompt_tokens, completion_tokens}.\"}},"
     "\"required\":[\"query_id\",\"response\"]}},"
     "\"usage\":{\"type\":\"object\",\"description\":\"Token usage for the single response: {prompt_tokens, completion_tokens}.\",\"properties\":{"
     "\"prompt_tokens\":{\"type\":\"integer\",\"description\":\"Prompt tokens.\"},"
     "\"completion_tokens\":{\"type\":\"integer\",\"description\":\"Completion tokens.\"}}}"
     "},\"required\":[\"session_id\"],\"additionalProperties\":false}",
     RUN_ANN, alc_tool_continue},
    {"alc_status",
     "List live and recently finished sessions, or show one session: state, pending queries, metrics, "
     "progress, recent log lines and recent events.",
     "{\"type\":\"object\",\"properties\":{"
     "\"session_id\":{\"type\":\"string\",\"description\":\"Show only this session.\"},"
     "\"pending_filter\":{\"type\":[\"string\",\"object\"],\"description\":\"Include pending queries: \\\"meta\\\", \\\"preview\\\" or \\\"full\\\".\"},"
     "\"include_history\":{\"type\":\"boolean\",\"description\":\"Include the last 10 prompt/response pairs.\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_status},
    {"alc_cancel",
     "Cancel a session: a paused session stops at once, a running script stops at its next instruction. "
     "Cancelling a finished session changes nothing.",
     "{\"type\":\"object\",\"properties\":{"
     "\"session_id\":{\"type\":\"string\",\"description\":\"The session to cancel.\"},"
     "\"reason\":{\"type\":\"string\",\"description\":\"Why; kept in the session's cancel reason.\"}"
     "},\"required\":[\"session_id\"],\"additionalProperties\":false}",
     "{\"readOnlyHint\":false,\"destructiveHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}",
     alc_tool_cancel},
    {"alc_info",
     "Show the server's version, ALC_HOME, log directory, package search paths and the limits in force.",
     "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
     RO, alc_tool_info},
    {NULL, NULL, NULL, NULL, NULL},
};

/* Every group of tools, in the order tools/list shows them. */
static const alc_tool_def *const groups[] = {
    alc_tools_core,
    alc_tools_logs,
    alc_tools_pkg,
    alc_tools_eval,
    NULL,
};

/* Finds a tool by name; NULL if unknown. */
const alc_tool_def *alc_tools_find(const char *name) {
    for (size_t g = 0; groups[g]; g++)
        for (const alc_tool_def *t = groups[g]; t->name; t++)
            if (strcmp(t->name, name) == 0) return t;
    return NULL;
}

/* Builds the tools/list result. Returns new. */
char *alc_tools_list_json(void) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"tools\":[");
    size_t i = 0;
    for (size_t g = 0; groups[g]; g++)
    for (const alc_tool_def *t = groups[g]; t->name; t++, i++) {
        if (i) alc_jbuf_puts(&b, ",");
        alc_jbuf_puts(&b, "{\"name\":");
        alc_jbuf_json_str(&b, t->name, strlen(t->name));
        alc_jbuf_puts(&b, ",\"description\":");
        alc_jbuf_json_str(&b, t->description, strlen(t->description));
        alc_jbuf_puts(&b, ",\"inputSchema\":");
        alc_jbuf_puts(&b, t->input_schema);
        alc_jbuf_puts(&b, ",\"annotations\":");
        alc_jbuf_puts(&b, t->annotations);
        alc_jbuf_puts(&b, "}");
    }
    alc_jbuf_puts(&b, "]}");
    return alc_jbuf_take(&b, NULL);
}

/* alc_info: configuration snapshot. */
void alc_tool_info(alc_call *c) {
    const alc_config *cfg = c->srv->cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", ALC_VERSION);
    cJSON_AddStringToObject(o, "alc_home", cfg->home);
    cJSON_AddStringToObject(o, "log_dir", cfg->log_dir);
    cJSON_AddStringToObject(o, "log_dir_source", cfg->log_dir_source);
    cJSON_AddBoolToObject(o, "log_enabled", cfg->log_enabled);
    cJSON *sp = cJSON_AddArrayToObject(o, "search_paths");
    for (size_t i = 0; i < cfg->n_package_paths; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "path", cfg->package_paths[i]);
        cJSON_AddStringToObject(e, "source", cfg->package_path_sources[i]);
        cJSON_AddItemToArray(sp, e);
    }
    cJSON_AddStringToObject(o, "packages_dir", cfg->package_paths[cfg->n_package_paths - 1]);
    const char *sb = cfg->sandbox == ALC_SANDBOX_OFF ? "off" : cfg->sandbox == ALC_SANDBOX_STRICT ? "strict" : "default";
    cJSON_AddStringToObject(o, "sandbox", sb);
    cJSON *lim = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddNumberToObject(lim, "max_line_bytes", (double)cfg->max_line);
    cJSON_AddNumberToObject(lim, "max_memory_bytes", (double)cfg->max_memory);
    cJSON_AddNumberToObject(lim, "max_sessions", (double)cfg->max_sessions);
    cJSON_AddNumberToObject(lim, "session_ttl_s", (double)(cfg->session_ttl_ms / 1000));
    cJSON_AddNumberToObject(lim, "session_retention_s", (double)(cfg->retention_ms / 1000));
    cJSON_AddNumberToObject(lim, "heartbeat_ms", (double)cfg->heartbeat_ms);
    if (!cJSON_GetObjectItemCaseSensitive(o, "limits")) {
        cJSON_Delete(o);
        alc_call_fail(c, "out of memory");
        return;
    }
    alc_call_reply_json(c, o);
}
