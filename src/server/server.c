/*
 * server.c — the MCP stdio front end: the reader loop, the method table, the initialize
 * handshake, tools/list and tools/call dispatch, logging/setLevel, notifications, and the
 * reply helpers that every tool handler uses.
 *
 * Threads: alc_server_run runs on the main (reader) thread and never waits for Lua; tool
 * calls that wait for a session are answered later by the session thread through the
 * in-flight table (inflight.c). Replies are written through alc_out (leaf lock).
 */
#include "server_internal.h"

#include "alc/error.h"
#include "alc/json_arena.h"
#include "inflight.h"
#include "sampling.h"
#include "record.h"
#include "alc/session.h"
#include "alc/thread.h"
#include "alc/version.h"

#include <pthread.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static pthread_t reader_thread;

/* The client closed our output: stop reading too. Wakes the reader blocked in read(2) with
 * SIGTERM (whose handler only sets the stop flag; other threads block that signal). */
static void on_output_closed(void *ud) {
    (void)ud;
    stop_requested = 1;
    pthread_kill(reader_thread, SIGTERM);
}

/* Async-signal-safe stop request (SIGTERM/SIGINT handler). */
void alc_server_request_stop(void) { stop_requested = 1; }

static const char *const supported_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

static const char *const log_levels[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

static const char instructions[] =
    "alc runs LLM reasoning strategies written in Lua 5.4. Start one with alc_run (Lua code) "
    "or alc_advice (an installed strategy such as \"cot\"). When the script calls alc.llm(prompt), "
    "the tool result is {\"status\":\"needs_response\", \"session_id\", \"query_id\", \"prompt\", "
    "\"system\", \"max_tokens\"}: answer the prompt yourself and call alc_continue with "
    "{session_id, response} (or, for a batch with \"queries\", responses:[{query_id, response}]). "
    "Repeat until the status is \"completed\" (with result and stats) or \"error\". "
    "alc_status lists sessions and their progress; alc_cancel stops one.";

/* Writes a line and frees it. */
void alc__server_write(alc_server *s, char *line, size_t len) {
    if (line) alc_out_write(s->out, line, len);
    free(line);
}

static void reply_result(alc_server *s, const cJSON *id, const char *result_json) {
    size_t len;
    char *line = alc_rpc_result_line(id, result_json, &len);
    alc__server_write(s, line, len);
}

static void reply_error(alc_server *s, const cJSON *id, int code, const char *msg) {
    size_t len;
    char *line = alc_rpc_error_line(id, code, msg, NULL, &len);
    alc__server_write(s, line, len);
}

/* ---- tool call replies -------------------------------------------------------------- */

/* Answers c with a text block; exactly once per call. */
void alc_call_reply_text(alc_call *c, const char *text, size_t len, bool is_error) {
    if (c->answered) alc_panic("tool call answered twice");
    c->answered = true;
    size_t n;
    char *line = alc_rpc_tool_result_line(c->id, text, len, is_error, &n);
    alc__server_write(c->srv, line, n);
}

/* Answers c with payload printed compactly with sorted keys (takes ownership). */
void alc_call_reply_json(alc_call *c, cJSON *payload) {
    char *text = payload ? alc_json_print_sorted(payload) : NULL;
    cJSON_Delete(payload);
    if (!text) {
        alc_call_reply_text(c, "out of memory building the result", 33, true);
        return;
    }
    alc_call_reply_text(c, text, strlen(text), false);
    free(text);
}

/* Answers c with an isError result whose text is the formatted message. */
void alc_call_fail(alc_call *c, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    alc_call_reply_text(c, buf, (size_t)n, true);
}

/* ---- argument helpers -------------------------------------------------------------- */

static const char *json_type_name(const cJSON *v) {
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsArray(v)) return "array";
    return "object";
}

static const cJSON *arg_get(alc_call *c, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->args, name);
    return (v && cJSON_IsNull(v)) ? NULL : v; /* null means absent, as in the original */
}

static bool arg_missing(alc_call *c, const char *name, bool required) {
    if (required) alc_call_fail(c, "Invalid arguments: '%s' is required", name);
    return !required;
}

bool alc_arg_string(alc_call *c, const char *name, bool required, const char **out) {
    const cJSON *v = arg_get(c, name);
    *out = NULL;
    if (!v) return arg_missing(c, name, required);
    if (!cJSON_IsString(v)) {
        alc_call_fail(c, "Invalid arguments: '%s' must be a string, got %s", name, json_type_name(v));
        return false;
    }
    *out = v->valuestring;
    return true;
}

/* Objects may also arrive as a string holding a JSON object (clients that stringify ctx). */
bool alc_arg_object(alc_call *c, const char *name, bool required, const cJSON **out) {
    cJSON *v = (cJSON *)arg_get(c, name);
    *out = NULL;
    if (!v) return arg_missing(c, name, required);
    if (cJSON_IsString(v)) {
        cJSON *parsed = cJSON_Parse(v->valuestring);
        if (parsed && cJSON_IsObject(parsed)) {
            cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)c->args, name, parsed);
            *out = parsed;
            return true;
        }
        cJSON_Delete(parsed);
        alc_call_fail(c, "Invalid arguments: '%s' must be an object (a string was given that is not a JSON object)", name);
        return false;
    }
    if (!cJSON_IsObject(v)) {
        alc_call_fail(c, "Invalid arguments: '%s' must be an object, got %s", name, json_type_name(v));
        return false;
    }
    *out = v;
    return true;
}

bool alc_arg_array(alc_call *c, const char *name, bool required, const cJSON **out) {
    const cJSON *v = arg_get(c, name);
    *out = NULL;
    if (!v) return arg_missing(c, name, required);
    if (!cJSON_IsArray(v)) {
        alc_call_fail(c, "Invalid arguments: '%s' must be an array, got %s", name, json_type_name(v));
        return false;
    }
    *out = v;
    return true;
}

bool alc_arg_int(alc_call *c, const char *name, bool required, long long min, long long max,
                 long long *out, bool *present) {
    const cJSON *v = arg_get(c, name);
    if (present) *present = v != NULL;
    if (!v) return arg_missing(c, name, required);
    long long iv = 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
        alc_call_fail(c, "Invalid arguments: '%s' must be an integer, got %s", name, json_type_name(v));
        return false;
    }
    /* out-of-range values (1e19, 1e400) are refused before any conversion: casting them is
     * undefined behaviour */
    if (!alc_double_to_ll(v->valuedouble, &iv) || iv < min || iv > max) {
        alc_call_fail(c, "Invalid arguments: '%s' must be between %lld and %lld", name, min, max);
        return false;
    }
    *out = iv;
    return true;
}

bool alc_arg_llm_mode(alc_call *c) {
    const char *mode;
    if (!alc_arg_string(c, "llm", false, &mode)) return false;
    int m = c->srv->cfg->llm_mode;
    if (mode) {
        if (strcmp(mode, "pause") == 0) m = 0;
        else if (strcmp(mode, "sampling") == 0) m = 1;
        else if (strcmp(mode, "auto") == 0) m = 2;
        else {
            alc_call_fail(c, "Invalid arguments: 'llm' must be \"pause\", \"sampling\" or \"auto\", got '%.40s'", mode);
            return false;
        }
    }
    if (m == 1 && !c->srv->client_sampling) {
        alc_call_fail(c, "llm: \"sampling\" needs a client that supports MCP sampling, and this client did not declare "
                         "capabilities.sampling at initialize. Use llm: \"pause\" (answer with alc_continue) or \"auto\".");
        return false;
    }
    c->sampling = m == 1 || (m == 2 && c->srv->client_sampling);
    return true;
}

bool alc_arg_bool(alc_call *c, const char *name, bool required, bool *out, bool *present) {
    const cJSON *v = arg_get(c, name);
    if (present) *present = v != NULL;
    if (!v) return arg_missing(c, name, required);
    if (!cJSON_IsBool(v)) {
        alc_call_fail(c, "Invalid arguments: '%s' must be a boolean, got %s", name, json_type_name(v));
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

/* ---- methods ------------------------------------------------------------------------ */

static void handle_initialize(alc_server *s, const alc_rpc_msg *m) {
    if (s->initialized) {
        reply_error(s, m->id, ALC_RPC_INVALID_REQUEST, "Invalid Request: the server is already initialized");
        return;
    }
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(m->params, "protocolVersion");
    if (!m->params || !cJSON_IsString(pv)) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'protocolVersion' must be a string");
        return;
    }
    const char *chosen = supported_versions[0];
    for (size_t i = 0; i < sizeof supported_versions / sizeof *supported_versions; i++)
        if (strcmp(pv->valuestring, supported_versions[i]) == 0) chosen = supported_versions[i];
    snprintf(s->protocol, sizeof s->protocol, "%s", chosen);
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(m->params, "capabilities");
    s->client_sampling = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(caps, "sampling"));
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_printf(&b, "{\"protocolVersion\":\"%s\",\"capabilities\":{\"tools\":{\"listChanged\":false},"
                        "\"logging\":{},\"resources\":{\"subscribe\":false,\"listChanged\":false}},\"serverInfo\":{\"name\":\"alc\",\"title\":\"algocline (C)\",\"version\":\"%s\"},"
                        "\"instructions\":", chosen, ALC_VERSION);
    alc_jbuf_json_str(&b, instructions, sizeof instructions - 1);
    alc_jbuf_puts(&b, "}");
    char *res = alc_jbuf_take(&b, NULL);
    if (!res) { reply_error(s, m->id, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory"); return; }
    reply_result(s, m->id, res);
    free(res);
    s->initialized = true;
}

static void handle_set_level(alc_server *s, const alc_rpc_msg *m) {
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(m->params, "level");
    if (!cJSON_IsString(lv)) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'level' must be one of debug, info, notice, warning, error, critical, alert, emergency");
        return;
    }
    for (int i = 0; i < (int)(sizeof log_levels / sizeof *log_levels); i++) {
        if (strcmp(lv->valuestring, log_levels[i]) == 0) {
            atomic_store(&s->log_level, i);
            reply_result(s, m->id, "{}");
            return;
        }
    }
    char msg[256];
    snprintf(msg, sizeof msg, "Invalid params: unknown log level '%.64s' (use debug, info, notice, warning, error, critical, alert or emergency)", lv->valuestring);
    reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, msg);
}

/* Returns the first argument name that the tool's schema does not declare, or NULL.
 * Each schema's properties are parsed once and cached (reader thread only; the cache holds
 * far more entries than there are tools). */
static const char *unknown_argument(const alc_tool_def *def, const cJSON *args) {
    static const alc_tool_def *cached_def[128];
    static cJSON *cached_props[128];
    static size_t n_cached;
    const cJSON *props = NULL;
    for (size_t i = 0; i < n_cached && !props; i++) if (cached_def[i] == def) props = cached_props[i];
    if (!props) {
        if (n_cached == 128) return NULL;
        cJSON *schema = cJSON_Parse(def->input_schema);
        cJSON *p = schema ? cJSON_DetachItemFromObjectCaseSensitive(schema, "properties") : NULL;
        cJSON_Delete(schema);
        if (!p) return NULL; /* no declared properties: nothing to check */
        cached_def[n_cached] = def;
        cached_props[n_cached++] = p;
        props = p;
    }
    for (const cJSON *a = args->child; a; a = a->next)
        if (!cJSON_GetObjectItemCaseSensitive(props, a->string)) return a->string;
    return NULL;
}

static void handle_tools_call(alc_server *s, const alc_rpc_msg *m) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m->params, "name");
    if (!cJSON_IsString(name)) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'name' (string) is required");
        return;
    }
    const alc_tool_def *def = alc_tools_find(name->valuestring);
    if (!def) {
        char msg[256];
        snprintf(msg, sizeof msg, "Unknown tool: %.128s", name->valuestring);
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, msg);
        return;
    }
    cJSON *args = cJSON_GetObjectItemCaseSensitive(m->params, "arguments");
    cJSON *empty = NULL;
    if (!args || cJSON_IsNull(args)) args = empty = cJSON_CreateObject();
    if (!args) { reply_error(s, m->id, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory"); return; }
    if (!cJSON_IsObject(args)) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'arguments' must be an object");
        return;
    }
    alc_call call = {.srv = s, .id = cJSON_Duplicate(m->id, 1), .args = args};
    const char *unknown = unknown_argument(def, args);
    const char *dup = NULL;
    for (const cJSON *a = args->child; a && !dup; a = a->next)
        for (const cJSON *b = a->next; b && !dup; b = b->next)
            if (strcmp(a->string, b->string) == 0) dup = a->string;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(m->params, "_meta");
    const cJSON *tok = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "progressToken") : NULL;
    if (tok && alc_rpc_valid_id(tok)) call.progress_token = cJSON_Duplicate(tok, 1);
    if (!call.id) {
        reply_error(s, m->id, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory");
    } else if (dup) {
        alc_call_fail(&call, "Invalid arguments: '%.100s' is given more than once", dup);
    } else if (unknown) {
        alc_call_fail(&call, "Invalid arguments: unknown argument '%.100s' for %s", unknown, def->name);
    } else {
        def->fn(&call);
        if (!call.answered) alc_panic("tool %s returned without answering", def->name);
    }
    cJSON_Delete(call.id);
    cJSON_Delete(call.progress_token);
    cJSON_Delete(empty);
}

static void handle_cancelled(alc_server *s, const alc_rpc_msg *m) {
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m->params, "requestId");
    if (!alc_rpc_valid_id(rid)) return; /* invalid cancellations are ignored */
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(m->params, "reason");
    alc_inflight_cancel_request(s->inflight, s->reg, rid,
                                cJSON_IsString(reason) ? reason->valuestring : "cancelled by the client");
}

static void handle_request(alc_server *s, const alc_rpc_msg *m) {
    const char *meth = m->method;
    if (strcmp(meth, "ping") == 0) { reply_result(s, m->id, "{}"); return; }
    if (strcmp(meth, "initialize") == 0) { handle_initialize(s, m); return; }
    if (!s->initialized) {
        if (strcmp(meth, "server/discover") == 0)
            reply_error(s, m->id, ALC_RPC_METHOD_NOT_FOUND, "Method not found: server/discover (this server speaks the initialize handshake)");
        else
            reply_error(s, m->id, ALC_RPC_INVALID_REQUEST, "Invalid Request: server not initialized (send initialize first)");
        return;
    }
    if (strcmp(meth, "tools/list") == 0) { reply_result(s, m->id, s->tools_list_json); return; }
    if (strcmp(meth, "resources/list") == 0) { alc_resources_list(s, m); return; }
    if (strcmp(meth, "resources/templates/list") == 0) { alc_resources_templates(s, m); return; }
    if (strcmp(meth, "resources/read") == 0) { alc_resources_read(s, m); return; }
    if (strcmp(meth, "tools/call") == 0) {
        if (!m->params) { reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'name' (string) is required"); return; }
        handle_tools_call(s, m);
        return;
    }
    if (strcmp(meth, "logging/setLevel") == 0) { handle_set_level(s, m); return; }
    char msg[256];
    snprintf(msg, sizeof msg, "Method not found: %.128s", meth);
    reply_error(s, m->id, ALC_RPC_METHOD_NOT_FOUND, msg);
}

static void handle_notification(alc_server *s, const alc_rpc_msg *m) {
    if (strcmp(m->method, "notifications/cancelled") == 0) handle_cancelled(s, m);
    /* notifications/initialized and unknown notifications: nothing to do, never answered */
}

static void handle_line(alc_server *s, const char *line, size_t len) {
    alc_rpc_msg m;
    char *err = NULL;
    size_t elen = 0;
    /* the request's cJSON tree comes from the arena: it is gone when the line is handled */
    alc_json_arena_begin();
    int prc = alc_rpc_parse(line, len, &m, &err, &elen);
    alc_json_arena_end();
    if (prc != ALC_OK) {
        alc_json_arena_reset();
        alc__server_write(s, err, elen);
        return;
    }
    switch (m.kind) {
    case ALC_MSG_REQUEST: handle_request(s, &m); break;
    case ALC_MSG_NOTIFICATION: handle_notification(s, &m); break;
    case ALC_MSG_RESPONSE: alc_sampling_on_response(s->sampling, &m); break;
    }
    alc_rpc_msg_deinit(&m);
    alc_json_arena_reset();
}

/* Serves until EOF; see server.h. */
int alc_server_run(const alc_config *cfg, int in_fd, int out_fd) {
    alc_server srv;
    memset(&srv, 0, sizeof srv);
    alc_record *rec = NULL;
    int rc = ALC_E_NOMEM;
    srv.cfg = cfg;
    alc_json_arena_install(); /* before any other thread of the server uses cJSON */
    atomic_init(&srv.log_level, -1);
    atomic_init(&srv.stopping, false);
    srv.out = alc_out_new(out_fd);
    srv.in = alc_reader_new(in_fd, cfg->max_line);
    srv.tools_list_json = alc_tools_list_json();
    if (!srv.out || !srv.in || !srv.tools_list_json) goto done;
    reader_thread = pthread_self();
    alc_out_set_on_closed(srv.out, on_output_closed, NULL);
    alc_record_start(srv.out, cfg->home, &rec); /* ALC_RECORD / --record; never fails serving */
    if ((rc = alc_registry_new(cfg, &srv.reg)) != ALC_OK) goto done;
    if ((rc = alc_sampling_new(&srv, &srv.sampling)) != ALC_OK) goto done;
    if ((rc = alc_inflight_new(&srv, &srv.inflight)) != ALC_OK) goto done;
    /* (after the helper threads are started, so they do not inherit it) a slice shorter than
     * the Lua threads' lets the reader cut in on a busy one when a request (a cancel) arrives;
     * measured: busy-loop cancel p99 on a shared CPU from up to a 4 ms tick to about 0.3 ms,
     * throughput unchanged (a 0.1 ms slice cost about 5 % throughput) */
    alc_thread_short_slice(500 * 1000);

    for (;;) {
        if (stop_requested) break;
        char *line;
        size_t len;
        int r = alc_reader_next(srv.in, &line, &len);
        if (r == ALC_E_CANCELLED) continue; /* interrupted by a signal: re-check the stop flag */
        if (r == ALC_E_EOF || r == ALC_E_IO || r == ALC_E_NOMEM) break;
        if (r == ALC_E_TOO_LARGE) {
            char msg[200];
            snprintf(msg, sizeof msg, "Invalid Request: message of %zu bytes exceeds the limit of %zu bytes (ALC_MAX_LINE)", len, cfg->max_line);
            reply_error(&srv, NULL, ALC_RPC_INVALID_REQUEST, msg);
            continue;
        }
        if (len == 0) continue;
        alc_out_tap_in(srv.out, line, len);
        handle_line(&srv, line, len);
        if (alc_out_closed(srv.out)) break;
    }
    rc = ALC_OK;
done:
    atomic_store(&srv.stopping, true);
    /* let running scripts reach their next pause or end (briefly), then cancel the rest;
     * their waiting calls are answered before the registry is gone */
    if (srv.reg && !alc_out_closed(srv.out)) alc_registry_drain(srv.reg, stop_requested ? 100 : 500);
    alc_registry_free(srv.reg);
    alc_inflight_free(srv.inflight);
    alc_sampling_free(srv.sampling);
    free(srv.tools_list_json);
    alc_reader_free(srv.in);
    alc_out_free(srv.out);
    alc_record_free(rec); /* after the writer: no tap call can follow */
    return rc;
}
