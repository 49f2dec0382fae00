/*
 * test_e2e_engine.c — the session engine seen from outside: alc_run / alc_continue / alc_status /
 * alc_cancel, notifications/cancelled, progress notifications and shutdown, through the real
 * binary ($ALC_BIN) over JSON-RPC on pipes (tests/harness/proc.h).
 *
 * Every line the server writes is read by pump(), which checks that it is one JSON-RPC 2.0 object
 * (a notification, or a response with an id and exactly one of result/error), that no request id
 * is ever answered twice, and appends it to an arrival log with a sequence number and a time
 * stamp. Tests then look responses up by id (wait_response) so that replies may arrive in any
 * order, and count progress notifications relative to the response they precede.
 *
 * Threads: Criterion runs each test in its own process; only the test thread talks to a server.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#define RECV_MS 5000
#define EXIT_MS 3000

/* ------------------------------------------------------------------ arrival log */

typedef struct logged {
    cJSON *m;          /* owned */
    char *raw;         /* owned: the line as received */
    long long seq;     /* arrival order, from 1 */
    long long at_ms;   /* monotonic arrival time */
    bool consumed;     /* returned by wait_response */
} logged;

static logged *g_log;
static size_t g_nlog, g_caplog;

#define MAX_PROCS 4
static alc_proc *g_procs[MAX_PROCS];
static char *g_homes[MAX_PROCS];
static int g_nprocs;
static int g_next_id = 100;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void teardown(void) {
    for (int i = 0; i < g_nprocs; i++) {
        size_t n = 0;
        char *err = alc_proc_stderr_text(g_procs[i], &n);
        if (err && n > 0) {
            const char *tail = n > 4096 ? err + n - 4096 : err;
            fprintf(stderr, "---- alc stderr (server %d, tail) ----\n%s\n---- end ----\n", i, tail);
        }
        free(err);
        alc_proc_free(g_procs[i]);
        alc_test_rmtree(g_homes[i]);
        free(g_homes[i]);
    }
    g_nprocs = 0;
    for (size_t i = 0; i < g_nlog; i++) {
        cJSON_Delete(g_log[i].m);
        free(g_log[i].raw);
    }
    free(g_log);
    g_log = NULL;
    g_nlog = g_caplog = 0;
}

TestSuite(e2e_engine, .fini = teardown, .timeout = 90);

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int contains_ci(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return 1;
    }
    return 0;
}

static bool is_response(const cJSON *m) { return get(m, "method") == NULL; }

static bool id_is(const cJSON *m, int id) {
    const cJSON *v = get(m, "id");
    return cJSON_IsNumber(v) && v->valuedouble == (double)id;
}

/* Structural rules for every server line; aborts the test on violation. */
static void validate(const cJSON *m, const char *raw) {
    cr_assert(cJSON_IsObject(m), "stdout line is not a JSON object: %s", raw);
    const cJSON *v = get(m, "jsonrpc");
    cr_assert(cJSON_IsString(v) && strcmp(v->valuestring, "2.0") == 0, "no \"jsonrpc\":\"2.0\": %s", raw);
    const cJSON *method = get(m, "method");
    if (method) {
        cr_assert(cJSON_IsString(method), "method not a string: %s", raw);
        cr_assert_null(get(m, "id"), "unexpected server-to-client request: %s", raw);
        return;
    }
    const cJSON *res = get(m, "result"), *err = get(m, "error");
    cr_assert((res != NULL) != (err != NULL), "response needs exactly one of result/error: %s", raw);
    for (const cJSON *c = m->child; c; c = c->next)
        cr_assert(strcmp(c->string, "jsonrpc") == 0 || strcmp(c->string, "id") == 0 ||
                      strcmp(c->string, "result") == 0 || strcmp(c->string, "error") == 0,
                  "extra member '%s' in response: %s", c->string, raw);
    cr_assert_not_null(get(m, "id"), "response without id: %s", raw);
}

/* Reads one line within timeout_ms. Returns false on timeout; asserts on EOF or garbage. */
static bool pump(alc_proc *p, int timeout_ms) {
    int st;
    size_t n;
    char *raw = alc_proc_recv_n(p, timeout_ms, &st, &n);
    if (st == ALC_PROC_TIMEOUT) return false;
    cr_assert_neq(st, ALC_PROC_EOF, "server closed stdout unexpectedly");
    cr_assert_eq(st, ALC_PROC_LINE, "stdout read failed or unterminated line (status %d)", st);
    cr_assert_null(memchr(raw, '\0', n), "NUL byte on stdout");
    cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
    cr_assert_not_null(m, "stdout line is not JSON (stdout must carry only JSON-RPC): %s", raw);
    validate(m, raw);
    if (is_response(m)) {
        const cJSON *id = get(m, "id");
        for (size_t i = 0; i < g_nlog; i++)
            if (is_response(g_log[i].m) && cJSON_Compare(get(g_log[i].m, "id"), id, 1))
                cr_assert_fail("request id answered twice: %s", raw);
    }
    if (g_nlog == g_caplog) {
        g_caplog = g_caplog ? g_caplog * 2 : 64;
        g_log = realloc(g_log, g_caplog * sizeof *g_log);
        cr_assert_not_null(g_log);
    }
    g_log[g_nlog] = (logged){.m = m, .raw = raw, .seq = (long long)g_nlog + 1, .at_ms = now_ms()};
    g_nlog++;
    return true;
}

/* Reads everything that arrives within ms. */
static void pump_for(alc_proc *p, int ms) {
    long long deadline = now_ms() + ms;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return;
        pump(p, (int)left);
    }
}

static logged *find_response(int id) {
    for (size_t i = 0; i < g_nlog; i++)
        if (is_response(g_log[i].m) && id_is(g_log[i].m, id)) return &g_log[i];
    return NULL;
}

/* Waits for the response to request id; returns its log entry (borrowed). */
static logged *wait_response_within(alc_proc *p, int id, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        logged *l = find_response(id);
        if (l) {
            l->consumed = true;
            return l;
        }
        long long left = deadline - now_ms();
        cr_assert_gt(left, 0, "no response to request %d within %d ms", id, timeout_ms);
        pump(p, (int)left);
    }
}

static const cJSON *wait_response(alc_proc *p, int id) { return wait_response_within(p, id, RECV_MS)->m; }

static void send_line(alc_proc *p, const char *line) {
    cr_assert_eq(alc_proc_send(p, line), 0, "send failed (%s)", strerror(errno));
}

static void send_raw(alc_proc *p, const char *bytes) {
    cr_assert_eq(alc_proc_send_raw(p, bytes, strlen(bytes)), 0, "send failed (%s)", strerror(errno));
}

/* Builds a tools/call line; args and meta are borrowed (meta may be NULL). Returns new. */
static char *call_line(int id, const char *tool, const cJSON *args, const cJSON *meta) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
    if (meta) cJSON_AddItemToObject(params, "_meta", cJSON_Duplicate(meta, 1));
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cr_assert_not_null(s);
    return s;
}

/* Sends tools/call with arguments given as JSON text; returns the request id. */
static int call_json(alc_proc *p, const char *tool, const char *args_json) {
    cJSON *args = cJSON_Parse(args_json);
    cr_assert_not_null(args, "bad args JSON in test: %s", args_json);
    int id = g_next_id++;
    char *line = call_line(id, tool, args, NULL);
    send_line(p, line);
    free(line);
    cJSON_Delete(args);
    return id;
}

static cJSON *code_args(const char *code, const char *ctx_json) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "code", code);
    if (ctx_json) {
        cJSON *ctx = cJSON_Parse(ctx_json);
        cr_assert_not_null(ctx);
        cJSON_AddItemToObject(a, "ctx", ctx);
    }
    return a;
}

/* Sends alc_run with code (and an optional progress token given as JSON); returns the id. */
static int run_meta(alc_proc *p, const char *code, const char *token_json) {
    cJSON *a = code_args(code, NULL);
    cJSON *meta = NULL;
    if (token_json) {
        meta = cJSON_CreateObject();
        cJSON_AddItemToObject(meta, "progressToken", cJSON_Parse(token_json));
    }
    int id = g_next_id++;
    char *line = call_line(id, "alc_run", a, meta);
    send_line(p, line);
    free(line);
    cJSON_Delete(a);
    cJSON_Delete(meta);
    return id;
}

static int run(alc_proc *p, const char *code) { return run_meta(p, code, NULL); }

/* Tool result text and isError of a response. */
static const char *tool_text(const cJSON *m, bool *is_error) {
    const cJSON *res = get(m, "result");
    char *raw = cJSON_PrintUnformatted(m);
    cr_assert_not_null(res, "expected a tool result, got: %s", raw);
    const cJSON *content = get(res, "content");
    cr_assert(cJSON_IsArray(content) && cJSON_GetArraySize(content) >= 1, "no content: %s", raw);
    const cJSON *t = get(cJSON_GetArrayItem(content, 0), "text");
    cr_assert(cJSON_IsString(t), "content[0].text missing: %s", raw);
    const cJSON *ie = get(res, "isError");
    *is_error = cJSON_IsTrue(ie);
    free(raw);
    return t->valuestring;
}

/* Asserts a successful tool result whose text is JSON; returns it parsed (new). */
static cJSON *ok_json(const cJSON *m) {
    bool is_err;
    const char *t = tool_text(m, &is_err);
    cr_assert(!is_err, "unexpected isError result: %s", t);
    cJSON *j = cJSON_Parse(t);
    cr_assert_not_null(j, "tool text is not JSON: %s", t);
    return j;
}

/* Asserts an isError tool result whose text contains each of the needles (case-insensitive). */
static void expect_tool_error(const cJSON *m, const char *needle1, const char *needle2) {
    bool is_err;
    const char *t = tool_text(m, &is_err);
    cr_assert(is_err, "expected isError, got: %s", t);
    if (needle1) cr_assert(contains_ci(t, needle1), "error text should mention '%s': %s", needle1, t);
    if (needle2) cr_assert(contains_ci(t, needle2), "error text should mention '%s': %s", needle2, t);
}

static const char *status_of(const cJSON *j) {
    const cJSON *s = get(j, "status");
    cr_assert(cJSON_IsString(s), "no status in tool result");
    return s->valuestring;
}

static const char *sstr(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    cr_assert(cJSON_IsString(v), "'%s' is not a string", k);
    return v->valuestring;
}

/* Calls a tool and waits for its response; returns the parsed successful JSON (new). */
static cJSON *tool_ok(alc_proc *p, const char *tool, const char *args_json) {
    int id = call_json(p, tool, args_json);
    return ok_json(wait_response(p, id));
}

/* Calls a tool expecting an isError result mentioning needle1/needle2. */
static void tool_err(alc_proc *p, const char *tool, const char *args_json, const char *n1, const char *n2) {
    int id = call_json(p, tool, args_json);
    expect_tool_error(wait_response(p, id), n1, n2);
}

static int ping(alc_proc *p) {
    int id = g_next_id++;
    char line[96];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}", id);
    send_line(p, line);
    return id;
}

/* Sends a ping and waits for its (empty) result. Returns the round trip in ms. */
static long long ping_rtt(alc_proc *p) {
    long long t0 = now_ms();
    int id = ping(p);
    logged *l = wait_response_within(p, id, RECV_MS);
    const cJSON *res = get(l->m, "result");
    cr_assert(cJSON_IsObject(res) && res->child == NULL, "ping result must be {}: %s", l->raw);
    return l->at_ms - t0;
}

/* ------------------------------------------------------------------ servers */

static alc_proc *start_env(const char *const *extra_env) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    cr_assert_lt(g_nprocs, MAX_PROCS);
    g_homes[g_nprocs] = alc_test_tmpdir();
    alc_proc *p = alc_proc_spawn_alc(g_homes[g_nprocs], extra_env, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(p, "could not spawn %s: %s", bin, strerror(errno));
    g_procs[g_nprocs++] = p;
    send_line(p, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                 "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e-engine\",\"version\":\"0\"}}}");
    const cJSON *m = wait_response(p, 0);
    cr_assert(cJSON_IsObject(get(m, "result")), "initialize failed");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    return p;
}

static alc_proc *start(void) { return start_env(NULL); }

static const char *home(void) { return g_homes[g_nprocs - 1]; }

/* Closes stdin, reads the rest of stdout (validated), requires exit 0 within ms. */
static void finish_within(alc_proc *p, int ms) {
    long long t0 = now_ms();
    alc_proc_close_stdin(p);
    for (;;) {
        long long left = t0 + ms + 1000 - now_ms();
        int st;
        size_t n;
        char *raw = alc_proc_recv_n(p, left > 0 ? (int)left : 0, &st, &n);
        if (st == ALC_PROC_EOF) break;
        cr_assert_neq(st, ALC_PROC_TIMEOUT, "server still running %d ms after stdin EOF (a session ignored its cancel?)",
                      ms + 1000);
        cr_assert_eq(st, ALC_PROC_LINE, "stdout not closed cleanly after stdin EOF (status %d)", st);
        cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
        cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
        validate(m, raw);
        if (is_response(m))
            for (size_t i = 0; i < g_nlog; i++)
                if (is_response(g_log[i].m) && cJSON_Compare(get(g_log[i].m, "id"), get(m, "id"), 1))
                    cr_assert_fail("request id answered twice (at shutdown): %s", raw);
        if (g_nlog == g_caplog) {
            g_caplog = g_caplog ? g_caplog * 2 : 64;
            g_log = realloc(g_log, g_caplog * sizeof *g_log);
        }
        g_log[g_nlog] = (logged){.m = m, .raw = raw, .seq = (long long)g_nlog + 1, .at_ms = now_ms()};
        g_nlog++;
    }
    int es = -1;
    long long left = t0 + ms - now_ms();
    int r = alc_proc_wait(p, left > 0 ? (int)left : 0, &es);
    long long took = now_ms() - t0;
    cr_assert_eq(r, 0, "server did not exit within %d ms of stdin EOF", ms);
    cr_assert_eq(es, 0, "server exit status %d after stdin EOF", es);
    cr_assert_leq(took, ms + 100, "exit took %lld ms", took);
}

static void finish(alc_proc *p) { finish_within(p, EXIT_MS); }

/* Waits for a needs_response result of request id; returns the parsed tool JSON (new) and the
 * session id (copied into sid, 64 bytes). */
static cJSON *wait_paused(alc_proc *p, int id, char *sid) {
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "needs_response");
    snprintf(sid, 64, "%s", sstr(j, "session_id"));
    return j;
}

/* Sends alc_continue for sid with one response (query_id may be NULL); returns the id. */
static int cont(alc_proc *p, const char *sid, const char *qid, const char *response) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "session_id", sid);
    cJSON_AddStringToObject(a, "response", response);
    if (qid) cJSON_AddStringToObject(a, "query_id", qid);
    int id = g_next_id++;
    char *line = call_line(id, "alc_continue", a, NULL);
    send_line(p, line);
    free(line);
    cJSON_Delete(a);
    return id;
}

/* alc_continue with responses[] given as JSON text. */
static int cont_batch(alc_proc *p, const char *sid, const char *responses_json) {
    char args[2048];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"responses\":%s}", sid, responses_json);
    return call_json(p, "alc_continue", args);
}

static cJSON *status_one(alc_proc *p, const char *sid, const char *extra) {
    char args[512];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\"%s%s}", sid, extra ? "," : "", extra ? extra : "");
    return tool_ok(p, "alc_status", args);
}

static cJSON *cancel(alc_proc *p, const char *sid, const char *reason) {
    char args[512];
    if (reason) snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"reason\":\"%s\"}", sid, reason);
    else snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", sid);
    return tool_ok(p, "alc_cancel", args);
}

/* Polls alc_status until a session in state `state` exists that is not in `skip` (may be NULL);
 * copies its id. */
static void find_session_in_state(alc_proc *p, const char *state, const char *skip, char *sid) {
    long long deadline = now_ms() + 3000;
    for (;;) {
        cJSON *j = tool_ok(p, "alc_status", "{}");
        const cJSON *ss = get(j, "sessions");
        cr_assert(cJSON_IsArray(ss), "alc_status without sessions[]");
        for (const cJSON *e = ss->child; e; e = e->next) {
            const cJSON *st = get(e, "state"), *id = get(e, "session_id");
            if (cJSON_IsString(st) && strcmp(st->valuestring, state) == 0 && cJSON_IsString(id) &&
                (!skip || strcmp(id->valuestring, skip) != 0)) {
                snprintf(sid, 64, "%s", id->valuestring);
                cJSON_Delete(j);
                return;
            }
        }
        cJSON_Delete(j);
        cr_assert_lt(now_ms(), deadline, "no session in state %s appeared in alc_status", state);
        sleep_ms(10);
    }
}

/* Asserts that request id gets no response within ms (reading everything meanwhile). */
static void expect_no_response(alc_proc *p, int id, int ms) {
    pump_for(p, ms);
    logged *l = find_response(id);
    cr_assert_null(l, "request %d must not be answered, got: %s", id, l ? l->raw : "");
}

/* Progress notifications for a numeric or string token, in arrival order, up to seq `before`
 * (0 = all). */
static size_t progress_for(const char *token_json, long long before, const logged **out, size_t max) {
    cJSON *tok = cJSON_Parse(token_json);
    size_t n = 0;
    for (size_t i = 0; i < g_nlog; i++) {
        const cJSON *m = g_log[i].m;
        const cJSON *meth = get(m, "method");
        if (!cJSON_IsString(meth) || strcmp(meth->valuestring, "notifications/progress") != 0) continue;
        if (!cJSON_Compare(get(get(m, "params"), "progressToken"), tok, 1)) continue;
        if (before && g_log[i].seq > before) continue;
        if (n < max) out[n] = &g_log[i];
        n++;
    }
    cJSON_Delete(tok);
    return n;
}

static const char *BUSY = "while true do end";
static const char *ASK = "local a = alc.llm('What is 2+2?', {system = 'math', max_tokens = 50, grounded = true}) "
                         "return {answer = a}";

/* ------------------------------------------------------------------ run / continue */

Test(e2e_engine, run_that_returns_at_once_is_completed_with_result_and_stats) {
    alc_proc *p = start();
    int id = run(p, "return {x = 1, s = 'two', l = {true, false}}");
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "completed");
    cJSON *want = cJSON_Parse("{\"x\":1,\"s\":\"two\",\"l\":[true,false]}");
    cr_assert(cJSON_Compare(get(j, "result"), want, 1), "wrong result");
    cJSON_Delete(want);
    const cJSON *st = get(j, "stats");
    cr_assert(cJSON_IsObject(get(st, "auto")) && cJSON_IsObject(get(st, "custom")), "stats needs auto and custom");
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, pause_reports_the_query_and_continue_completes_with_stats) {
    alc_proc *p = start();
    int id = run(p, ASK);
    char sid[64];
    cJSON *j = wait_paused(p, id, sid);
    cr_assert_str_eq(sstr(j, "query_id"), "q-0");
    cr_assert_str_eq(sstr(j, "prompt"), "What is 2+2?");
    cr_assert_str_eq(sstr(j, "system"), "math");
    cr_assert_eq(get(j, "max_tokens")->valuedouble, 50);
    cr_assert(cJSON_IsTrue(get(j, "grounded")), "grounded flag lost");
    cr_assert_eq(strncmp(sid, "s-", 2), 0, "session id %s", sid);
    cJSON_Delete(j);
    int c = cont(p, sid, NULL, "4");
    j = ok_json(wait_response(p, c));
    cr_assert_str_eq(status_of(j), "completed");
    cr_assert_str_eq(sstr(get(j, "result"), "answer"), "4");
    const cJSON *au = get(get(j, "stats"), "auto");
    cr_assert_eq(get(au, "llm_calls")->valuedouble, 1);
    cr_assert_eq(get(au, "rounds")->valuedouble, 1);
    cr_assert_eq(get(au, "total_response_chars")->valuedouble, 1);
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, lua_error_is_an_error_status_with_traceback_not_an_is_error) {
    alc_proc *p = start();
    int id = run(p, "local function f() error('kaput') end f()");
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "error");
    cr_assert(strstr(sstr(j, "error"), "kaput"), "error text: %s", sstr(j, "error"));
    cr_assert(strstr(sstr(j, "error"), "traceback"), "traceback missing: %s", sstr(j, "error"));
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, unknown_query_id_is_an_error_and_the_right_one_still_works) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid));
    int c = cont(p, sid, "q-7", "nope");
    expect_tool_error(wait_response(p, c), "q-7", NULL);
    c = cont(p, sid, "q-0", "4");
    cJSON *j = ok_json(wait_response(p, c));
    cr_assert_str_eq(status_of(j), "completed");
    cr_assert_str_eq(sstr(get(j, "result"), "answer"), "4", "the rejected answer must not be used");
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, continue_of_an_unknown_session_is_an_error) {
    alc_proc *p = start();
    int c = cont(p, "s-00000000000000000000000000000000", NULL, "x");
    expect_tool_error(wait_response(p, c), "not found", "s-00000000000000000000000000000000");
    finish(p);
}

Test(e2e_engine, partial_batch_is_accepted_with_remaining_then_the_rest_completes) {
    alc_proc *p = start();
    int id = run(p, "local r = alc.llm_batch({{prompt = 'A'}, {prompt = 'B'}, {prompt = 'C'}}) return r");
    char sid[64];
    cJSON *j = wait_paused(p, id, sid);
    const cJSON *qs = get(j, "queries");
    cr_assert(cJSON_IsArray(qs) && cJSON_GetArraySize(qs) == 3, "batch form needs queries[3]");
    cr_assert_str_eq(sstr(cJSON_GetArrayItem(qs, 2), "id"), "q-2");
    cr_assert_str_eq(sstr(cJSON_GetArrayItem(qs, 1), "prompt"), "B");
    cJSON_Delete(j);
    int c = cont_batch(p, sid, "[{\"query_id\":\"q-1\",\"response\":\"b\"}]");
    j = ok_json(wait_response(p, c));
    cr_assert_str_eq(status_of(j), "accepted");
    cr_assert_eq(get(j, "remaining")->valuedouble, 2);
    cr_assert_str_eq(sstr(j, "session_id"), sid);
    cJSON_Delete(j);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(s, "state"), "paused", "a partial answer keeps the session paused");
    cr_assert_eq(get(s, "pending_queries")->valuedouble, 2);
    cJSON_Delete(s);
    c = cont_batch(p, sid, "[{\"query_id\":\"q-0\",\"response\":\"a\"},{\"query_id\":\"q-2\",\"response\":\"c\"}]");
    j = ok_json(wait_response(p, c));
    cr_assert_str_eq(status_of(j), "completed");
    cJSON *want = cJSON_Parse("[\"a\",\"b\",\"c\"]");
    cr_assert(cJSON_Compare(get(j, "result"), want, 1), "batch answers lost or misplaced");
    cJSON_Delete(want);
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, two_concurrent_continues_on_one_query_exactly_one_wins) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, "return alc.llm('Q')"), sid));
    int a = g_next_id++, b = g_next_id++;
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
             "\"arguments\":{\"session_id\":\"%s\",\"response\":\"first\"}}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
             "\"arguments\":{\"session_id\":\"%s\",\"response\":\"second\"}}}\n",
             a, sid, b, sid);
    send_raw(p, buf);
    const cJSON *ma = wait_response(p, a), *mb = wait_response(p, b);
    bool ea, eb;
    const char *ta = tool_text(ma, &ea), *tb = tool_text(mb, &eb);
    cr_assert(ea != eb, "exactly one continue must succeed: [%s] [%s]", ta, tb);
    const char *win_text = ea ? tb : ta, *lose_text = ea ? ta : tb;
    const char *want = ea ? "second" : "first";
    cJSON *j = cJSON_Parse(win_text);
    cr_assert_not_null(j);
    cr_assert_str_eq(status_of(j), "completed");
    cr_assert(cJSON_IsString(get(j, "result")) && strcmp(get(j, "result")->valuestring, want) == 0,
              "the winner's answer must be the result: %s", win_text);
    cJSON_Delete(j);
    cr_assert(lose_text[0], "the losing call needs an explanation");
    finish(p);
}

Test(e2e_engine, two_concurrent_continues_answering_different_batch_ids_both_land) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, "return alc.llm_batch({{prompt = 'A'}, {prompt = 'B'}})"), sid));
    int a = g_next_id++, b = g_next_id++;
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
             "\"arguments\":{\"session_id\":\"%s\",\"query_id\":\"q-1\",\"response\":\"bee\"}}}\n"
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
             "\"arguments\":{\"session_id\":\"%s\",\"query_id\":\"q-0\",\"response\":\"ay\"}}}\n",
             a, sid, b, sid);
    send_raw(p, buf);
    cJSON *ja = ok_json(wait_response(p, a)), *jb = ok_json(wait_response(p, b));
    cr_assert_str_eq(status_of(ja), "accepted");
    cr_assert_eq(get(ja, "remaining")->valuedouble, 1);
    cr_assert_str_eq(status_of(jb), "completed");
    cJSON *want = cJSON_Parse("[\"ay\",\"bee\"]");
    cr_assert(cJSON_Compare(get(jb, "result"), want, 1), "an answer was lost");
    cJSON_Delete(want);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    finish(p);
}

Test(e2e_engine, continue_while_the_script_runs_is_an_error) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, "alc.llm('one') while true do end"), sid));
    int c = cont(p, sid, NULL, "go");
    expect_no_response(p, c, 150);  // the session now busy-loops: the call waits
    int c2 = cont(p, sid, NULL, "again");
    expect_tool_error(wait_response(p, c2), "not paused", NULL);
    cJSON_Delete(cancel(p, sid, NULL));
    cJSON *j = ok_json(wait_response(p, c));
    cr_assert_str_eq(status_of(j), "cancelled", "the waiting continue learns of the cancel");
    cJSON_Delete(j);
    finish(p);
}

/* ------------------------------------------------------------------ checkpoints */

Test(e2e_engine, checkpoint_a_cancel_that_arrives_with_the_run_leaves_no_response) {
    alc_proc *p = start();
    int id = g_next_id++;
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
             "\"arguments\":{\"code\":\"alc.log('info', 'lua ran') while true do end\"}}}\n"
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":%d,"
             "\"reason\":\"changed my mind\"}}\n",
             id, id);
    send_raw(p, buf);
    ping_rtt(p);
    expect_no_response(p, id, 300);
    char sid[64];
    find_session_in_state(p, "cancelled", NULL, sid);
    cJSON *s = status_one(p, sid, NULL);
    const cJSON *why = get(s, "cancel_reason");
    cr_assert(cJSON_IsObject(why), "cancelled session needs cancel_reason");
    cr_assert_str_eq(sstr(why, "code"), "user");
    cr_assert_str_eq(sstr(why, "detail"), "changed my mind");
    cJSON_Delete(s);
    expect_no_response(p, id, 100);
    finish(p);
    cr_assert_null(find_response(id), "no response for a cancelled request, even at shutdown");
}

Test(e2e_engine, checkpoint_b_cancel_before_the_pause_means_the_pause_never_shows) {
    alc_proc *p = start();
    int id = run(p, "local t = alc.time() while alc.time() - t < 0.4 do end return alc.llm('never shown')");
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    cJSON *c = cancel(p, sid, "stop before asking");
    cr_assert_str_eq(sstr(c, "state"), "cancelled");
    cJSON_Delete(c);
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "cancelled", "the pause must never be published");
    cr_assert_str_eq(sstr(get(j, "reason"), "code"), "user");
    cr_assert_str_eq(sstr(get(j, "reason"), "detail"), "stop before asking");
    cJSON_Delete(j);
    cJSON *s = status_one(p, sid, "\"pending_filter\":\"full\"");
    cr_assert_eq(get(s, "pending_queries")->valuedouble, 0);
    cr_assert_eq(get(get(s, "metrics"), "llm_calls")->valuedouble, 0, "no LLM call may be counted");
    cJSON_Delete(s);
    finish(p);
}

Test(e2e_engine, checkpoint_c_continue_after_cancel_is_an_error_mentioning_cancelled) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid));
    cJSON_Delete(cancel(p, sid, NULL));
    int c = cont(p, sid, NULL, "4");
    expect_tool_error(wait_response(p, c), "cancelled", NULL);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(s, "state"), "cancelled");
    cJSON_Delete(s);
    finish(p);
}

Test(e2e_engine, checkpoint_d_cancel_while_paused_ends_the_session_and_frees_its_slot) {
    const char *env[] = {"ALC_MAX_SESSIONS=1", NULL};
    alc_proc *p = start_env(env);
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid));
    // the one slot is taken
    int busy = run(p, "return 1");
    expect_tool_error(wait_response(p, busy), "ALC_MAX_SESSIONS", NULL);
    cJSON *c = cancel(p, sid, "bye");
    cJSON *want = cJSON_CreateObject();
    cJSON_AddStringToObject(want, "session_id", sid);
    cJSON_AddStringToObject(want, "state", "cancelled");
    cr_assert(cJSON_Compare(c, want, 1), "alc_cancel must answer exactly {session_id, state}");
    cJSON_Delete(want);
    cJSON_Delete(c);
    // the parked thread wakes and ends: a new run gets the slot
    long long deadline = now_ms() + 2000;
    for (;;) {
        int r = run(p, "return 'next'");
        bool is_err;
        const char *t = tool_text(wait_response(p, r), &is_err);
        if (!is_err) {
            cr_assert(strstr(t, "\"completed\""), "%s", t);
            break;
        }
        cr_assert_lt(now_ms(), deadline, "the cancelled session never released its slot: %s", t);
        sleep_ms(20);
    }
    finish(p);
}

Test(e2e_engine, cancel_of_a_busy_loop_answers_the_waiting_run_within_one_second) {
    alc_proc *p = start();
    int id = run(p, BUSY);
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    sleep_ms(100);
    long long t0 = now_ms();
    cJSON_Delete(cancel(p, sid, NULL));
    logged *l = wait_response_within(p, id, 3000);
    long long took = l->at_ms - t0;
    cJSON *j = ok_json(l->m);
    cr_assert_str_eq(status_of(j), "cancelled");
    cr_assert_lt(took, 1000, "busy loop stopped after %lld ms", took);
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, cancel_of_a_pcall_wrapped_busy_loop_also_stops_it) {
    alc_proc *p = start();
    int id = run(p, "while true do pcall(function() while true do end end) end");
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    cJSON_Delete(cancel(p, sid, NULL));
    cJSON *j = ok_json(wait_response_within(p, id, 1500)->m);
    cr_assert_str_eq(status_of(j), "cancelled");
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, cancel_right_after_start_is_cancelled_and_never_completes) {
    alc_proc *p = start();
    int id = run(p, "local t = alc.time() while alc.time() - t < 0.3 do end return 'finished'");
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    cJSON_Delete(cancel(p, sid, NULL));
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "cancelled");
    cJSON_Delete(j);
    sleep_ms(400);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(s, "state"), "cancelled", "a cancelled session must not become done later");
    cJSON_Delete(s);
    finish(p);
}

Test(e2e_engine, alc_cancel_is_idempotent_and_a_finished_session_stays_finished) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid));
    cJSON *c1 = cancel(p, sid, "one"), *c2 = cancel(p, sid, "two");
    cr_assert_str_eq(sstr(c1, "state"), "cancelled");
    cr_assert_str_eq(sstr(c2, "state"), "cancelled");
    cJSON_Delete(c1);
    cJSON_Delete(c2);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(get(s, "cancel_reason"), "detail"), "one", "the first reason wins");
    cJSON_Delete(s);
    // finished session
    char sid2[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid2));
    cJSON_Delete(ok_json(wait_response(p, cont(p, sid2, NULL, "4"))));
    cJSON *c3 = cancel(p, sid2, NULL);
    cr_assert_str_eq(sstr(c3, "state"), "done");
    cJSON_Delete(c3);
    tool_err(p, "alc_cancel", "{\"session_id\":\"s-ffffffffffffffffffffffffffffffff\"}", "not found", NULL);
    finish(p);
}

/* ------------------------------------------------------------------ responsiveness */

Test(e2e_engine, ping_is_answered_within_50_ms_while_a_script_busy_loops) {
    alc_proc *p = start();
    run(p, BUSY);
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    long long worst = 0;
    for (int i = 0; i < 10; i++) {
        long long rtt = ping_rtt(p);
        if (rtt > worst) worst = rtt;
    }
    cr_assert_lt(worst, 50, "slowest ping took %lld ms while Lua busy-loops", worst);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(s, "state"), "running");
    cJSON_Delete(s);
    finish(p);
}

Test(e2e_engine, progress_notifications_carry_the_token_and_all_precede_the_response) {
    alc_proc *p = start();
    int id = run_meta(p, "alc.progress(1, 3, 'a') alc.progress(2, 3, 'b') alc.progress(3, 3, 'c') return 'ok'",
                      "\"tok-1\"");
    logged *resp = wait_response_within(p, id, RECV_MS);
    long long resp_seq = resp->seq;
    cJSON *j = ok_json(resp->m);
    cr_assert_str_eq(status_of(j), "completed");
    cJSON_Delete(j);
    ping_rtt(p);
    pump_for(p, 300);
    const logged *notes[16];
    size_t all = progress_for("\"tok-1\"", 0, notes, 16);
    size_t before = progress_for("\"tok-1\"", resp_seq, notes, 16);
    cr_assert_eq(all, before, "%zu progress notification(s) arrived after the response", all - before);
    cr_assert_eq(before, 3, "expected one notification per alc.progress, got %zu", before);
    double last = 0;
    const char *msgs[3] = {"a", "b", "c"};
    for (size_t i = 0; i < before; i++) {
        const cJSON *params = get(notes[i]->m, "params");
        const cJSON *prog = get(params, "progress");
        cr_assert(cJSON_IsNumber(prog), "progress must be a number: %s", notes[i]->raw);
        cr_assert_gt(prog->valuedouble, last, "progress must strictly increase: %s", notes[i]->raw);
        last = prog->valuedouble;
        const cJSON *msg = get(params, "message");
        cr_assert(cJSON_IsString(msg) && strstr(msg->valuestring, msgs[i]), "message of step %zu: %s", i + 1,
                  notes[i]->raw);
    }
    finish(p);
}

Test(e2e_engine, progress_with_a_numeric_token_echoes_the_number) {
    alc_proc *p = start();
    int id = run_meta(p, "alc.progress(1, 1, 'x') return 1", "42");
    wait_response(p, id);
    const logged *notes[4];
    cr_assert_eq(progress_for("42", 0, notes, 4), 1, "a numeric token must be echoed as a number");
    cr_assert_eq(progress_for("\"42\"", 0, notes, 4), 0, "token type changed to string");
    finish(p);
}

Test(e2e_engine, no_progress_notifications_without_a_token) {
    alc_proc *p = start();
    int id = run(p, "alc.progress(1, 2, 'x') alc.progress(2, 2, 'y') return 1");
    wait_response(p, id);
    pump_for(p, 200);
    for (size_t i = 0; i < g_nlog; i++) {
        const cJSON *meth = get(g_log[i].m, "method");
        cr_assert(!(cJSON_IsString(meth) && strcmp(meth->valuestring, "notifications/progress") == 0),
                  "progress sent for a call without progressToken: %s", g_log[i].raw);
    }
    finish(p);
}

Test(e2e_engine, heartbeat_sends_progress_while_a_script_runs_long) {
    const char *env[] = {"ALC_HEARTBEAT_MS=100", NULL};
    alc_proc *p = start_env(env);
    int id = run_meta(p, "local t = alc.time() while alc.time() - t < 0.5 do end return 'slow'", "\"hb\"");
    logged *resp = wait_response_within(p, id, RECV_MS);
    long long resp_seq = resp->seq;
    cJSON *j = ok_json(resp->m);
    cr_assert_str_eq(status_of(j), "completed");
    cJSON_Delete(j);
    pump_for(p, 300);
    const logged *notes[32];
    size_t n = progress_for("\"hb\"", resp_seq, notes, 32);
    cr_assert_geq(n, 2, "expected >= 2 heartbeat notifications in 0.5 s at 100 ms, got %zu", n);
    cr_assert_eq(progress_for("\"hb\"", 0, notes, 32), n, "heartbeat after the response");
    double last = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        double v = get(get(notes[i]->m, "params"), "progress")->valuedouble;
        cr_assert_gt(v, last, "progress must strictly increase");
        last = v;
    }
    finish(p);
}

Test(e2e_engine, notifications_cancelled_for_a_waiting_run_suppresses_its_response_and_cancels) {
    alc_proc *p = start();
    int id = run(p, BUSY);
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":%d,"
             "\"reason\":\"user pressed stop\"}}",
             id);
    send_line(p, buf);
    cr_assert_lt(ping_rtt(p), 1000);
    expect_no_response(p, id, 500);
    long long deadline = now_ms() + 2000;
    for (;;) {
        cJSON *s = status_one(p, sid, NULL);
        bool done = strcmp(sstr(s, "state"), "cancelled") == 0;
        if (done) cr_assert_str_eq(sstr(get(s, "cancel_reason"), "detail"), "user pressed stop");
        cJSON_Delete(s);
        if (done) break;
        cr_assert_lt(now_ms(), deadline, "session not cancelled after notifications/cancelled");
        sleep_ms(20);
    }
    // the server keeps working
    char sid2[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid2));
    finish(p);
    cr_assert_null(find_response(id), "the cancelled request was answered at shutdown");
}

Test(e2e_engine, notifications_cancelled_for_an_unknown_or_answered_request_is_ignored) {
    alc_proc *p = start();
    int id = run(p, "return 5");
    wait_response(p, id);
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":%d}}\n"
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":\"nope\"}}\n"
             "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}\n",
             id);
    send_raw(p, buf);
    ping_rtt(p);
    finish(p);
}

/* ------------------------------------------------------------------ alc_status */

Test(e2e_engine, status_lists_sessions_and_shows_one_with_pending_filters) {
    const char *env[] = {"ALC_PROMPT_PREVIEW_CHARS=5", NULL};
    alc_proc *p = start_env(env);
    cJSON *empty = tool_ok(p, "alc_status", "{}");
    cr_assert_eq(get(empty, "active_sessions")->valuedouble, 0);
    cr_assert_eq(cJSON_GetArraySize(get(empty, "sessions")), 0);
    cJSON_Delete(empty);
    char s1[64], s2[64];
    cJSON_Delete(wait_paused(p, run(p, "return alc.llm('first prompt here', {system = 'sys1'})"), s1));
    cJSON_Delete(wait_paused(p, run(p, "return alc.llm('second prompt')"), s2));
    cJSON *list = tool_ok(p, "alc_status", "{}");
    cr_assert_eq(get(list, "active_sessions")->valuedouble, 2);
    const cJSON *ss = get(list, "sessions");
    cr_assert_eq(cJSON_GetArraySize(ss), 2);
    bool seen1 = false, seen2 = false;
    for (const cJSON *e = ss->child; e; e = e->next) {
        seen1 |= strcmp(sstr(e, "session_id"), s1) == 0;
        seen2 |= strcmp(sstr(e, "session_id"), s2) == 0;
        cr_assert_str_eq(sstr(e, "state"), "paused");
    }
    cr_assert(seen1 && seen2, "both sessions must be listed");
    cJSON_Delete(list);

    cJSON *full = status_one(p, s1, "\"pending_filter\":\"full\"");
    cr_assert_str_eq(sstr(full, "session_id"), s1);
    cr_assert_str_eq(sstr(full, "state"), "paused");
    const cJSON *pend = get(full, "pending");
    cr_assert(cJSON_IsArray(pend) && cJSON_GetArraySize(pend) == 1, "pending[] with one query");
    const cJSON *q = cJSON_GetArrayItem(pend, 0);
    cr_assert_str_eq(sstr(q, "query_id"), "q-0");
    cr_assert_str_eq(sstr(q, "prompt"), "first prompt here");
    cr_assert_str_eq(sstr(q, "system"), "sys1");
    cJSON_Delete(full);

    cJSON *prev = status_one(p, s1, "\"pending_filter\":\"preview\"");
    q = cJSON_GetArrayItem(get(prev, "pending"), 0);
    cr_assert_str_eq(sstr(q, "prompt_preview"), "first", "preview cuts at ALC_PROMPT_PREVIEW_CHARS");
    cr_assert_null(get(q, "prompt"), "preview must not include the full prompt");
    cJSON_Delete(prev);

    cJSON *meta = status_one(p, s1, "\"pending_filter\":\"meta\"");
    q = cJSON_GetArrayItem(get(meta, "pending"), 0);
    cr_assert_str_eq(sstr(q, "query_id"), "q-0");
    cr_assert(cJSON_IsNumber(get(q, "max_tokens")));
    cr_assert_null(get(q, "prompt"));
    cr_assert_null(get(q, "prompt_preview"));
    cJSON_Delete(meta);

    cJSON *plain = status_one(p, s1, NULL);
    cr_assert_null(get(plain, "pending"), "no pending[] without a filter");
    cr_assert_eq(get(plain, "pending_queries")->valuedouble, 1);
    cJSON_Delete(plain);

    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"pending_filter\":\"everything\"}", s1);
    tool_err(p, "alc_status", args, "everything", "preset");
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"pending_filter\":true}", s1);
    tool_err(p, "alc_status", args, "pending_filter", NULL);
    tool_err(p, "alc_status", "{\"session_id\":\"s-0123\"}", "not found", NULL);
    finish(p);
}

Test(e2e_engine, print_goes_to_the_session_log_never_to_stdout) {
    alc_proc *p = start();
    int id = run(p, "print('PRINTED-LINE') io.write('IOWRITE-LINE\\n') io.stdout:write('STDOUT-LINE\\n') "
                    "io.stdout:flush() return alc.llm('wait')");
    char sid[64];
    cJSON_Delete(wait_paused(p, id, sid));
    ping_rtt(p);
    for (size_t i = 0; i < g_nlog; i++) {
        cr_assert_null(strstr(g_log[i].raw, "IOWRITE-LINE"), "io.write reached stdout: %s", g_log[i].raw);
        cr_assert_null(strstr(g_log[i].raw, "STDOUT-LINE"), "io.stdout reached stdout: %s", g_log[i].raw);
        cr_assert_null(strstr(g_log[i].raw, "PRINTED-LINE"), "print reached stdout: %s", g_log[i].raw);
    }
    cJSON *s = status_one(p, sid, NULL);
    char *text = cJSON_PrintUnformatted(get(get(s, "metrics"), "recent_logs"));
    cr_assert(text && strstr(text, "PRINTED-LINE"), "print should land in the session log: %s", text ? text : "");
    free(text);
    cJSON_Delete(s);
    finish(p);
}

/* ------------------------------------------------------------------ arguments */

Test(e2e_engine, argument_errors_are_is_error_results_naming_the_argument) {
    alc_proc *p = start();
    tool_err(p, "alc_continue", "{\"response\":\"x\"}", "session_id", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":5,\"response\":\"x\"}", "session_id", "string");
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\"}", "response", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\",\"response\":7}", "response", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\",\"responses\":\"x\"}", "responses", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\",\"responses\":[]}", "empty", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\",\"responses\":[{\"query_id\":1,\"response\":\"a\"}]}",
             "responses", NULL);
    tool_err(p, "alc_continue", "{\"session_id\":\"s-1\",\"query_id\":[],\"response\":\"a\"}", "query_id", NULL);
    tool_err(p, "alc_run", "{}", "code", NULL);
    tool_err(p, "alc_run", "{\"code\":\"return 1\",\"code_file\":\"/x.lua\"}", "code_file", "not both");
    tool_err(p, "alc_run", "{\"code\":42}", "code", "string");
    tool_err(p, "alc_run", "{\"code_file\":{}}", "code_file", NULL);
    tool_err(p, "alc_run", "{\"code\":\"return 1\",\"ctx\":[1,2]}", "ctx", NULL);
    tool_err(p, "alc_status", "{\"session_id\":3}", "session_id", NULL);
    tool_err(p, "alc_status", "{\"include_history\":\"yes\"}", "include_history", NULL);
    tool_err(p, "alc_cancel", "{}", "session_id", NULL);
    tool_err(p, "alc_cancel", "{\"session_id\":false}", "session_id", NULL);
    // after all that the server still runs scripts
    int id = run(p, "return 'still here'");
    cJSON *j = ok_json(wait_response(p, id));
    cr_assert_str_eq(status_of(j), "completed");
    cJSON_Delete(j);
    finish(p);
}

Test(e2e_engine, bad_usage_in_continue_is_an_error_and_changes_nothing) {
    alc_proc *p = start();
    char sid[64];
    cJSON_Delete(wait_paused(p, run(p, ASK), sid));
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"response\":\"4\",\"usage\":{\"prompt_tokens\":-3}}", sid);
    tool_err(p, "alc_continue", args, "usage", NULL);
    cJSON *s = status_one(p, sid, NULL);
    cr_assert_str_eq(sstr(s, "state"), "paused");
    cJSON_Delete(s);
    finish(p);
}

Test(e2e_engine, code_file_runs_and_a_missing_file_is_an_error) {
    alc_proc *p = start();
    char path[600];
    snprintf(path, sizeof path, "%s/strategy.lua", home());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("local n = 0\nfor _ in pairs(ctx.items) do n = n + 1 end\nreturn {from_file = true, n = n}\n", f);
    fclose(f);
    char args[1024];
    snprintf(args, sizeof args, "{\"code_file\":\"%s\",\"ctx\":{\"items\":[1,2,3]}}", path);
    cJSON *j = tool_ok(p, "alc_run", args);
    cr_assert_str_eq(status_of(j), "completed");
    cr_assert(cJSON_IsTrue(get(get(j, "result"), "from_file")));
    cr_assert_eq(get(get(j, "result"), "n")->valuedouble, 3);
    cJSON_Delete(j);
    // an error inside the file names the file in its message
    char bad[600];
    snprintf(bad, sizeof bad, "%s/broken.lua", home());
    f = fopen(bad, "w");
    cr_assert_not_null(f);
    fputs("\n\nerror('from the file')\n", f);
    fclose(f);
    snprintf(args, sizeof args, "{\"code_file\":\"%s\"}", bad);
    j = tool_ok(p, "alc_run", args);
    cr_assert_str_eq(status_of(j), "error");
    cr_assert(strstr(sstr(j, "error"), "broken.lua:3"), "error should name file and line: %s", sstr(j, "error"));
    cJSON_Delete(j);
    snprintf(args, sizeof args, "{\"code_file\":\"%s/does-not-exist.lua\"}", home());
    tool_err(p, "alc_run", args, "does-not-exist.lua", NULL);
    finish(p);
}

/* ------------------------------------------------------------------ shutdown */

Test(e2e_engine, eof_with_100_sessions_in_flight_exits_zero_within_two_seconds) {
    alc_proc *p = start();
    int paused_ids[50], busy_ids[50];
    // the paused ones first: on a small machine 50 spinning threads would starve the start-up
    // of later sessions, and that is not what this test is about
    for (int i = 0; i < 50; i++) paused_ids[i] = run(p, "return alc.llm('hold')");
    for (int i = 0; i < 50; i++) {
        char sid[64];
        cJSON_Delete(wait_paused(p, paused_ids[i], sid));
    }
    for (int i = 0; i < 50; i++) busy_ids[i] = run(p, BUSY);
    cJSON *list = tool_ok(p, "alc_status", "{}");
    cr_assert_eq(get(list, "active_sessions")->valuedouble, 100, "100 sessions should be live");
    cJSON_Delete(list);
    for (int i = 0; i < 50; i++) cr_assert_null(find_response(busy_ids[i]), "a busy loop answered");
    finish_within(p, 2000);
    // every waiting call gets its reply at shutdown: a cancellation, never a completion
    for (int i = 0; i < 50; i++) {
        logged *l = find_response(busy_ids[i]);
        cr_assert_not_null(l, "busy run %d got no reply at shutdown", busy_ids[i]);
        bool is_err;
        const char *t = tool_text(l->m, &is_err);
        cr_assert(!is_err && strstr(t, "\"cancelled\"") && strstr(t, "system_shutdown"),
                  "busy run answered at shutdown with: %s", t);
    }
}

Test(e2e_engine, eof_right_after_a_short_run_still_delivers_its_result) {
    alc_proc *p = start();
    int quick = run(p, "local t = alc.time() while alc.time() - t < 0.15 do end return 'made it'");
    int asks = run(p, "return alc.llm('nobody will answer')");
    finish_within(p, 2000);
    logged *l = find_response(quick);
    cr_assert_not_null(l, "a script that ends within the grace period must be answered before exit");
    cJSON *j = ok_json(l->m);
    cr_assert_str_eq(status_of(j), "completed");
    cr_assert_str_eq(get(j, "result")->valuestring, "made it");
    cJSON_Delete(j);
    l = find_response(asks);
    cr_assert_not_null(l, "the run that paused is answered with its pause");
    j = ok_json(l->m);
    cr_assert_str_eq(status_of(j), "needs_response");
    cJSON_Delete(j);
}

Test(e2e_engine, eof_while_a_script_busy_loops_in_a_coroutine_exits_promptly) {
    alc_proc *p = start();
    run(p, "coroutine.wrap(function() alc.log('info', 'IN-COROUTINE') while true do end end)()");
    char sid[64];
    find_session_in_state(p, "running", NULL, sid);
    // wait until the loop inside the coroutine has started (its log line is visible)
    long long deadline = now_ms() + 3000;
    for (;;) {
        cJSON *s = status_one(p, sid, NULL);
        char *logs = cJSON_PrintUnformatted(get(get(s, "metrics"), "recent_logs"));
        bool seen = logs && strstr(logs, "IN-COROUTINE");
        free(logs);
        cJSON_Delete(s);
        if (seen) break;
        cr_assert_lt(now_ms(), deadline, "the coroutine never started");
        sleep_ms(10);
    }
    sleep_ms(50);
    finish_within(p, 2000);
}
