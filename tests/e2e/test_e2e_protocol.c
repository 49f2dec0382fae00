/*
 * test_e2e_protocol.c — end-to-end MCP stdio protocol tests against the built `alc` binary.
 *
 * Every test spawns its own server (path from the environment variable ALC_BIN) with its own
 * temporary ALC_HOME through tests/harness/proc.h, writes raw bytes to its stdin and reads its
 * stdout line by line with timeouts, so a hang fails the test instead of blocking the run.
 *
 * Invariant checked on every line read from a server (next_msg): it is one complete line of JSON,
 * an object with "jsonrpc":"2.0" and only the members a JSON-RPC response or notification may
 * have. Log notifications (notifications/message) are validated and skipped; everything else is
 * returned to the test. Most tests end with finish(), which closes stdin, drains and validates the
 * remaining output and requires exit status 0 (so sanitizer reports in the child fail the test).
 *
 * Threads: Criterion runs each test in its own process; the pipelining test adds one writer
 * thread that only calls alc_proc_send_raw.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#define RECV_MS 5000      // max wait for one reply
#define QUIET_MS 150      // how long "nothing arrives" is watched for
#define EXIT_MS 3000      // generous exit deadline for finish()
#define LATEST "2025-11-25"

#define MAX_PROCS 8
static alc_proc *g_procs[MAX_PROCS];
static char *g_homes[MAX_PROCS];
static int g_nprocs;
static char *g_last_raw;   // raw text of the message last returned by next_msg
static int g_log_notes;    // notifications/message seen and skipped

/* ------------------------------------------------------------------ fixtures */

static void teardown(void) {
    for (int i = 0; i < g_nprocs; i++) {
        size_t n = 0;
        char *err = alc_proc_stderr_text(g_procs[i], &n);
        if (err && n > 0) {
            const char *tail = n > 8192 ? err + n - 8192 : err;
            fprintf(stderr, "---- alc stderr (server %d)%s ----\n%s\n---- end ----\n", i,
                    n > 8192 ? ", last 8 KiB" : "", tail);
        }
        free(err);
        alc_proc_free(g_procs[i]);
        alc_test_rmtree(g_homes[i]);
        free(g_homes[i]);
    }
    g_nprocs = 0;
    free(g_last_raw);
    g_last_raw = NULL;
}

TestSuite(e2e_protocol, .fini = teardown, .timeout = 60);

static const char *alc_bin(void) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    cr_assert_eq(access(bin, X_OK), 0, "ALC_BIN=%s is not executable", bin);
    return bin;
}

// New temp home registered for cleanup; returns its slot index.
static int new_slot(void) {
    cr_assert_lt(g_nprocs, MAX_PROCS, "too many servers in one test");
    g_homes[g_nprocs] = alc_test_tmpdir();
    return g_nprocs;
}

// Spawns the server with ALC_HOME=<fresh tmp> plus extra_env (NULL-terminated or NULL).
static alc_proc *start_server_env(const char *const *extra_env) {
    alc_bin();
    int slot = new_slot();
    alc_proc *p = alc_proc_spawn_alc(g_homes[slot], extra_env, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(p, "could not spawn %s: %s", getenv("ALC_BIN"), strerror(errno));
    g_procs[g_nprocs++] = p;
    return p;
}

static alc_proc *start_server(void) { return start_server_env(NULL); }

// ALC_HOME given to the most recently started server.
static const char *last_home(void) { return g_homes[g_nprocs - 1]; }

// Spawns `alc <arg>` with stdin closed at once; stdout is not a protocol stream here.
static alc_proc *start_cli(const char *arg) {
    const char *bin = alc_bin();
    int slot = new_slot();
    char home_env[600];
    snprintf(home_env, sizeof home_env, "ALC_HOME=%s", g_homes[slot]);
    const char *env[] = {home_env, NULL};
    const char *argv[] = {bin, arg, NULL};
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p, "could not spawn %s %s: %s", bin, arg, strerror(errno));
    g_procs[g_nprocs++] = p;
    alc_proc_close_stdin(p);
    return p;
}

/* ------------------------------------------------------------------ I/O helpers */

static void send_line(alc_proc *p, const char *line) {
    cr_assert_eq(alc_proc_send(p, line), 0, "send failed (%s): %s", strerror(errno), line);
}

static void send_raw(alc_proc *p, const void *b, size_t n) {
    cr_assert_eq(alc_proc_send_raw(p, b, n), 0, "send of %zu bytes failed: %s", n, strerror(errno));
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int has_only_keys(const cJSON *o, const char *const *allowed) {
    for (const cJSON *c = o->child; c; c = c->next) {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++) ok = strcmp(c->string, allowed[i]) == 0;
        if (!ok) return 0;
    }
    return 1;
}

// Asserts the structural rules every server line must satisfy (takes the raw line for messages).
static void validate_msg(const cJSON *m, const char *raw) {
    cr_assert(cJSON_IsObject(m), "stdout line is not a JSON object: %s", raw);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
    cr_assert(cJSON_IsString(v) && strcmp(v->valuestring, "2.0") == 0,
              "stdout line lacks \"jsonrpc\":\"2.0\": %s", raw);
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(m, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(m, "error");
    if (method) {  // server-to-client notification (no server requests are expected here)
        static const char *const keys[] = {"jsonrpc", "method", "params", NULL};
        cr_assert(cJSON_IsString(method), "method is not a string: %s", raw);
        cr_assert_null(id, "unexpected server-to-client request: %s", raw);
        cr_assert(has_only_keys(m, keys), "extra top-level member in notification: %s", raw);
        return;
    }
    static const char *const keys[] = {"jsonrpc", "id", "result", "error", NULL};
    cr_assert(has_only_keys(m, keys), "extra top-level member in response: %s", raw);
    cr_assert((result != NULL) != (error != NULL), "response needs exactly one of result/error: %s",
              raw);
    if (id)
        cr_assert(cJSON_IsString(id) || (cJSON_IsNumber(id) && id->valuedouble == (double)(long long)id->valuedouble),
                  "id must be a string or an integer: %s", raw);
    if (result) {
        cr_assert(cJSON_IsObject(result), "result must be an object: %s", raw);
        cr_assert_not_null(id, "a result must carry an id: %s", raw);
    } else {
        cr_assert(cJSON_IsObject(error), "error must be an object: %s", raw);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
        cr_assert(cJSON_IsNumber(code) && code->valuedouble == (double)(int)code->valuedouble,
                  "error.code must be an integer: %s", raw);
        cr_assert(cJSON_IsString(msg) && msg->valuestring[0] != '\0',
                  "error.message must be a non-empty string: %s", raw);
    }
}

// Reads, validates and returns the next server message that is not a log notification (new tree).
static cJSON *next_msg_within(alc_proc *p, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        int st;
        size_t n;
        char *raw = alc_proc_recv_n(p, left > 0 ? (int)left : 0, &st, &n);
        cr_assert_neq(st, ALC_PROC_TIMEOUT, "no reply from the server within %d ms", timeout_ms);
        cr_assert_neq(st, ALC_PROC_EOF, "server closed stdout unexpectedly");
        cr_assert_neq(st, ALC_PROC_ERROR, "reading server stdout failed: %s", strerror(errno));
        cr_assert_eq(st, ALC_PROC_LINE, "unterminated line on stdout at EOF: %s", raw);
        cr_assert_null(memchr(raw, '\0', n), "NUL byte on stdout");
        cr_assert(n == 0 || raw[n - 1] != '\r', "stdout line ends with CR: %s", raw);
        cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
        cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
        validate_msg(m, raw);
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
        if (cJSON_IsString(method) && strcmp(method->valuestring, "notifications/message") == 0) {
            g_log_notes++;
            cJSON_Delete(m);
            free(raw);
            continue;
        }
        free(g_last_raw);
        g_last_raw = raw;
        return m;
    }
}

static cJSON *next_msg(alc_proc *p) { return next_msg_within(p, RECV_MS); }

static cJSON *rpc(alc_proc *p, const char *line) {
    send_line(p, line);
    return next_msg(p);
}

// Asserts that no non-log message arrives within QUIET_MS.
static void expect_silence(alc_proc *p) {
    long long deadline = now_ms() + QUIET_MS;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return;
        int st;
        size_t n;
        char *raw = alc_proc_recv_n(p, (int)left, &st, &n);
        if (st == ALC_PROC_TIMEOUT) return;
        cr_assert_eq(st, ALC_PROC_LINE, "server stdout ended or failed while expecting silence");
        cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
        cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
        validate_msg(m, raw);
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
        cr_assert(cJSON_IsString(method) && strcmp(method->valuestring, "notifications/message") == 0,
                  "expected no reply, got: %s", raw);
        cJSON_Delete(m);
        free(raw);
    }
}

// Asserts m's id equals id_json (same JSON type and value); id_json NULL → m has no "id" member.
static void expect_id(const cJSON *m, const char *id_json) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    if (!id_json) {
        cr_assert_null(id, "reply must not carry an id: %s", g_last_raw);
        return;
    }
    cr_assert_not_null(id, "reply lacks id %s: %s", id_json, g_last_raw);
    cJSON *want = cJSON_Parse(id_json);
    cr_assert_not_null(want);
    cr_assert(cJSON_Compare(id, want, 1), "id %s not echoed with its type: %s", id_json, g_last_raw);
    cJSON_Delete(want);
}

// Asserts m is a result reply for id_json; returns the borrowed result object.
static const cJSON *expect_result(const cJSON *m, const char *id_json) {
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(m, "result");
    cr_assert_not_null(res, "expected a result for id %s, got: %s", id_json, g_last_raw);
    expect_id(m, id_json);
    return res;
}

// Asserts m is an error with code (0 = any code) for id_json (NULL = no id); returns error.message.
static const char *expect_error(const cJSON *m, int code, const char *id_json) {
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(m, "error");
    cr_assert_not_null(err, "expected error %d, got: %s", code, g_last_raw);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
    if (code != 0) cr_assert_eq((int)c->valuedouble, code, "wrong error code: %s", g_last_raw);
    expect_id(m, id_json);
    return cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring;
}

static void expect_empty_result(const cJSON *m, const char *id_json) {
    const cJSON *res = expect_result(m, id_json);
    cr_assert_null(res->child, "result must be exactly {}: %s", g_last_raw);
}

// Sends a ping with id id_json and requires its reply ({}) to be the very next message.
static void expect_alive(alc_proc *p, const char *id_json) {
    char line[256];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", id_json);
    cJSON *m = rpc(p, line);
    expect_empty_result(m, id_json);
    cJSON_Delete(m);
}

// Sends raw bytes (a newline is appended) and expects one error reply, then a working ping.
static void expect_line_error(alc_proc *p, const void *bytes, size_t n, int code,
                              const char *id_json) {
    send_raw(p, bytes, n);
    send_raw(p, "\n", 1);
    cJSON *m = next_msg(p);
    expect_error(m, code, id_json);
    cJSON_Delete(m);
    expect_alive(p, "\"after-error\"");
}

static void expect_text_error(alc_proc *p, const char *line, int code, const char *id_json) {
    expect_line_error(p, line, strlen(line), code, id_json);
}

static void initialize_version(alc_proc *p, const char *version) {
    char line[512];
    snprintf(line, sizeof line,
             "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
             "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"0\"}}}",
             version);
    cJSON *m = rpc(p, line);
    const cJSON *res = expect_result(m, "0");
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(res, "protocolVersion");
    cr_assert(cJSON_IsString(pv), "protocolVersion missing: %s", g_last_raw);
    cJSON_Delete(m);
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

static void initialize(alc_proc *p) { initialize_version(p, LATEST); }

static alc_proc *start_initialized(void) {
    alc_proc *p = start_server();
    initialize(p);
    return p;
}

// Closes stdin, validates whatever is still written, and requires a prompt exit with status 0.
static void finish(alc_proc *p) {
    alc_proc_close_stdin(p);
    for (;;) {
        int st;
        size_t n;
        char *raw = alc_proc_recv_n(p, EXIT_MS, &st, &n);
        if (st == ALC_PROC_EOF) break;
        cr_assert_eq(st, ALC_PROC_LINE, "stdout not closed cleanly after EOF on stdin (status %d)", st);
        cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
        cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
        validate_msg(m, raw);
        cJSON_Delete(m);
        free(raw);
    }
    int es = -1;
    int r = alc_proc_wait(p, EXIT_MS, &es);
    cr_assert_eq(r, 0, "server did not exit within %d ms of stdin EOF", EXIT_MS);
    cr_assert_eq(es, 0, "server exit status %d after stdin EOF", es);
}

// Case-insensitive substring test.
static int contains_ci(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl) return 1;
    }
    return 0;
}

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* ------------------------------------------------------------------ initialize */

Test(e2e_protocol, initialize_echoes_each_supported_protocol_version) {
    static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        alc_proc *p = start_server();
        char line[512];
        snprintf(line, sizeof line,
                 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                 "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"0\"}}}",
                 versions[i]);
        cJSON *m = rpc(p, line);
        const cJSON *pv = get(expect_result(m, "0"), "protocolVersion");
        cr_assert(cJSON_IsString(pv) && strcmp(pv->valuestring, versions[i]) == 0,
                  "requested %s, got: %s", versions[i], g_last_raw);
        cJSON_Delete(m);
        finish(p);
    }
}

Test(e2e_protocol, initialize_answers_latest_version_for_unsupported_requests) {
    static const char *const versions[] = {"1999-01-01", "2099-01-01", "2024-10-07", "garbage"};
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        alc_proc *p = start_server();
        char line[512];
        snprintf(line, sizeof line,
                 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                 "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e\",\"version\":\"0\"}}}",
                 versions[i]);
        cJSON *m = rpc(p, line);
        const cJSON *pv = get(expect_result(m, "0"), "protocolVersion");
        cr_assert(cJSON_IsString(pv) && strcmp(pv->valuestring, LATEST) == 0,
                  "requested %s, expected %s, got: %s", versions[i], LATEST, g_last_raw);
        cJSON_Delete(m);
        finish(p);
    }
}

Test(e2e_protocol, initialize_result_declares_tools_logging_server_info_and_instructions) {
    alc_proc *p = start_server();
    // member order as the TypeScript SDK sends it
    cJSON *m = rpc(p, "{\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
                      "\"capabilities\":{},\"clientInfo\":{\"name\":\"mcp-harness\",\"version\":\"0.1.0\"}},"
                      "\"jsonrpc\":\"2.0\",\"id\":0}");
    static const char *const top[] = {"jsonrpc", "id", "result", NULL};
    cr_assert(has_only_keys(m, top) && cJSON_GetArraySize(m) == 3,
              "initialize reply must have exactly jsonrpc, id, result: %s", g_last_raw);
    const cJSON *res = expect_result(m, "0");
    const cJSON *caps = get(res, "capabilities");
    cr_assert(cJSON_IsObject(caps), "capabilities must be an object: %s", g_last_raw);
    cr_assert(cJSON_IsObject(get(caps, "tools")), "capabilities.tools must be an object");
    cr_assert(cJSON_IsObject(get(caps, "logging")), "capabilities.logging must be an object");
    const cJSON *info = get(res, "serverInfo");
    cr_assert(cJSON_IsObject(info), "serverInfo missing: %s", g_last_raw);
    const cJSON *name = get(info, "name"), *ver = get(info, "version");
    cr_assert(cJSON_IsString(name) && strcmp(name->valuestring, "alc") == 0, "serverInfo.name");
    cr_assert(cJSON_IsString(ver) && ver->valuestring[0], "serverInfo.version must be non-empty");
    const cJSON *ins = get(res, "instructions");
    cr_assert(cJSON_IsString(ins) && ins->valuestring[0], "instructions must be a non-empty string");
    cr_assert(strstr(ins->valuestring, "alc_continue"), "instructions should mention alc_continue");
    cJSON_Delete(m);
    send_line(p, "{\"method\":\"notifications/initialized\",\"jsonrpc\":\"2.0\"}");
    expect_alive(p, "1");
    finish(p);
}

Test(e2e_protocol, second_initialize_is_rejected_as_invalid_request) {
    alc_proc *p = start_initialized();
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                      "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
                      "\"clientInfo\":{\"name\":\"e2e\",\"version\":\"0\"}}}");
    expect_error(m, -32600, "1");
    cJSON_Delete(m);
    expect_alive(p, "2");
    finish(p);
}

/* ------------------------------------------------------------------ ids */

Test(e2e_protocol, ids_are_echoed_with_their_json_type) {
    alc_proc *p = start_initialized();
    static const char *const ids[] = {"0", "7", "\"7\"", "\"s-6\"", "-5", "\"\"",
                                      "\"a\\\"b\\\\c\\u00e9\\n\""};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) expect_alive(p, ids[i]);
    // the largest exact integer must come back as that integer token, not as a float
    expect_alive(p, "9007199254740991");
    cr_assert(strstr(g_last_raw, "9007199254740991"), "large id reformatted: %s", g_last_raw);
    cr_assert_null(strstr(g_last_raw, "e+"), "large id printed as a float: %s", g_last_raw);
    finish(p);
}

/* ------------------------------------------------------------------ before initialize */

Test(e2e_protocol, ping_before_initialize_answers_empty_object) {
    alc_proc *p = start_server();
    expect_alive(p, "\"early\"");
    initialize(p);
    expect_alive(p, "1");
    finish(p);
}

Test(e2e_protocol, tools_list_before_initialize_is_rejected_and_server_keeps_running) {
    alc_proc *p = start_server();
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}");
    expect_error(m, -32600, "5");
    cJSON_Delete(m);
    expect_alive(p, "6");
    initialize(p);
    m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}");
    cr_assert(cJSON_IsArray(get(expect_result(m, "7"), "tools")), "tools/list after initialize");
    cJSON_Delete(m);
    finish(p);
}

Test(e2e_protocol, server_discover_probe_gets_an_error_and_initialize_still_works) {
    alc_proc *p = start_server();
    send_line(p, "{\"jsonrpc\":\"2.0\",\"id\":\"server-discover-probe-1\",\"method\":\"server/discover\","
                 "\"params\":{}}");
    cJSON *m = next_msg_within(p, 2000);
    expect_error(m, 0, "\"server-discover-probe-1\"");
    cJSON_Delete(m);
    initialize(p);
    expect_alive(p, "1");
    finish(p);
}

/* ------------------------------------------------------------------ ping and notifications */

Test(e2e_protocol, ping_result_is_exactly_an_empty_object) {
    alc_proc *p = start_initialized();
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":\"123\",\"method\":\"ping\"}");
    expect_empty_result(m, "\"123\"");
    static const char *const top[] = {"jsonrpc", "id", "result", NULL};
    cr_assert(has_only_keys(m, top) && cJSON_GetArraySize(m) == 3, "ping reply: %s", g_last_raw);
    cJSON_Delete(m);
    // ping with params carrying only _meta is still a ping
    m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":124,\"method\":\"ping\",\"params\":{\"_meta\":{}}}");
    expect_empty_result(m, "124");
    cJSON_Delete(m);
    finish(p);
}

Test(e2e_protocol, notifications_get_no_reply) {
    alc_proc *p = start_server();
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}");  // before initialize too
    expect_alive(p, "1");
    initialize(p);  // sends notifications/initialized
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":{\"x\":1}}");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":99}}");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
    expect_alive(p, "\"n1\"");
    finish(p);
}

Test(e2e_protocol, responses_from_the_client_with_unknown_ids_are_ignored) {
    alc_proc *p = start_initialized();
    send_line(p, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}");
    send_line(p, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,\"message\":\"no\"}}");
    expect_alive(p, "\"r1\"");
    finish(p);
}

/* ------------------------------------------------------------------ parse errors */

Test(e2e_protocol, non_json_line_is_a_parse_error_without_id) {
    alc_proc *p = start_initialized();
    expect_text_error(p, "not json", -32700, NULL);
    expect_text_error(p, "{", -32700, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":1", -32700, NULL);  // truncated
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing", -32700, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{}", -32700, NULL);
    finish(p);
}

Test(e2e_protocol, parse_error_also_before_initialize_and_stream_continues) {
    alc_proc *p = start_server();
    expect_text_error(p, "not json", -32700, NULL);
    initialize(p);
    expect_alive(p, "1");
    finish(p);
}

Test(e2e_protocol, invalid_utf8_in_a_string_is_a_parse_error) {
    alc_proc *p = start_initialized();
    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"_meta\":{\"s\":\"a\xff\xfe\x62\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{\"_meta\":{\"s\":\"\x80\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":{\"_meta\":{\"s\":\"\xe2\x82\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":\"\xc0\xaf\",\"method\":\"ping\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) expect_text_error(p, bad[i], -32700, NULL);
    // valid multi-byte UTF-8 is fine and echoed unchanged
    expect_alive(p, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    finish(p);
}

Test(e2e_protocol, nul_byte_in_a_line_is_a_parse_error) {
    alc_proc *p = start_initialized();
    static const char mid[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"me\0thod\":\"ping\"}";
    static const char end[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\0";
    static const char str[] = "{\"jsonrpc\":\"2.0\",\"id\":\"a\0b\",\"method\":\"ping\"}";
    expect_line_error(p, mid, sizeof mid - 1, -32700, NULL);
    expect_line_error(p, end, sizeof end - 1, -32700, NULL);  // a strlen-based reader would answer id 2
    expect_line_error(p, str, sizeof str - 1, -32700, NULL);
    finish(p);
}

/* ------------------------------------------------------------------ invalid requests */

Test(e2e_protocol, invalid_requests_with_a_readable_id_get_32600_with_that_id) {
    alc_proc *p = start_initialized();
    expect_text_error(p, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", -32600, "1");
    expect_text_error(p, "{\"id\":2,\"method\":\"ping\"}", -32600, "2");
    expect_text_error(p, "{\"jsonrpc\":2.0,\"id\":\"j\",\"method\":\"ping\"}", -32600, "\"j\"");
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"extra\":1}", -32600, "3");
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":5}", -32600, "4");
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":\"s-5\",\"method\":null}", -32600, "\"s-5\"");
    finish(p);
}

Test(e2e_protocol, invalid_requests_with_an_unusable_id_get_32600_without_id) {
    alc_proc *p = start_initialized();
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":7.5,\"method\":\"ping\"}", -32600, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", -32600, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", -32600, NULL);
    expect_text_error(p, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", -32600, NULL);
    expect_text_error(p, "{}", -32600, NULL);
    expect_text_error(p, "42", -32600, NULL);
    expect_text_error(p, "\"ping\"", -32600, NULL);
    expect_text_error(p, "null", -32600, NULL);
    finish(p);
}

static void check_batch_rejected(const char *version) {
    alc_proc *p = start_server();
    initialize_version(p, version);
    expect_text_error(p, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                         "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]",
                      -32600, NULL);  // one error, then the ping: nothing per element
    finish(p);
}

Test(e2e_protocol, batch_array_is_one_invalid_request_error_in_2025_06_18) {
    check_batch_rejected("2025-06-18");
}

Test(e2e_protocol, batch_array_is_one_invalid_request_error_in_2025_11_25) {
    check_batch_rejected("2025-11-25");
}

Test(e2e_protocol, unknown_method_is_32601_with_id) {
    alc_proc *p = start_initialized();
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no/such\"}");
    expect_error(m, -32601, "2");
    cJSON_Delete(m);
    m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"prompts/list\"}");
    expect_error(m, -32601, "\"p\"");
    cJSON_Delete(m);
    m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"completion/complete\",\"params\":{}}");
    expect_error(m, -32601, "3");
    cJSON_Delete(m);
    expect_alive(p, "4");
    finish(p);
}

/* ------------------------------------------------------------------ tools */

static int valid_tool_name(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > 128) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

Test(e2e_protocol, tools_list_describes_every_tool_with_an_object_schema) {
    alc_proc *p = start_initialized();
    cJSON *m = rpc(p, "{\"method\":\"tools/list\",\"jsonrpc\":\"2.0\",\"id\":1}");
    const cJSON *res = expect_result(m, "1");
    const cJSON *tools = get(res, "tools");
    cr_assert(cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0, "tools array: %s", g_last_raw);
    const cJSON *cursor = get(res, "nextCursor");
    cr_assert(!cursor || cJSON_IsString(cursor), "nextCursor must be a string when present");
    int has_info = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        cr_assert(cJSON_IsObject(t), "tool is not an object");
        const cJSON *name = get(t, "name");
        cr_assert(cJSON_IsString(name) && valid_tool_name(name->valuestring), "bad tool name");
        const char *tn = name->valuestring;
        for (const cJSON *o = tools->child; o != t; o = o->next)
            cr_assert_str_neq(get(o, "name")->valuestring, tn, "duplicate tool %s", tn);
        if (strcmp(tn, "alc_info") == 0) has_info = 1;
        const cJSON *desc = get(t, "description");
        cr_assert(cJSON_IsString(desc) && desc->valuestring[0], "%s: description", tn);
        const cJSON *schema = get(t, "inputSchema");
        cr_assert(cJSON_IsObject(schema), "%s: inputSchema must be an object", tn);
        const cJSON *type = get(schema, "type");
        cr_assert(cJSON_IsString(type) && strcmp(type->valuestring, "object") == 0,
                  "%s: inputSchema.type must be \"object\"", tn);
        const cJSON *props = get(schema, "properties");
        if (props) {
            cr_assert(cJSON_IsObject(props), "%s: properties must be an object", tn);
            const cJSON *pr;
            cJSON_ArrayForEach(pr, props) {
                cr_assert(cJSON_IsObject(pr), "%s.%s: property must be an object", tn, pr->string);
                const cJSON *pd = get(pr, "description");
                cr_assert(cJSON_IsString(pd) && pd->valuestring[0], "%s.%s: description", tn,
                          pr->string);
            }
        }
        const cJSON *req = get(schema, "required");
        if (req) {
            cr_assert(cJSON_IsArray(req), "%s: required must be an array", tn);
            const cJSON *r;
            cJSON_ArrayForEach(r, req) {
                cr_assert(cJSON_IsString(r), "%s: required entries must be strings", tn);
                cr_assert(props && get(props, r->valuestring), "%s: required names unknown %s", tn,
                          r->valuestring);
            }
        }
        const cJSON *ann = get(t, "annotations");
        cr_assert(cJSON_IsObject(ann), "%s: annotations object", tn);
        static const char *const hints[] = {"readOnlyHint", "destructiveHint", "idempotentHint",
                                            "openWorldHint"};
        for (size_t i = 0; i < sizeof hints / sizeof *hints; i++) {
            const cJSON *h = get(ann, hints[i]);
            cr_assert(!h || cJSON_IsBool(h), "%s: annotations.%s must be a boolean", tn, hints[i]);
        }
    }
    cr_assert(has_info, "tools/list lacks alc_info");
    cJSON_Delete(m);
    finish(p);
}

Test(e2e_protocol, tools_call_with_bad_params_is_32602) {
    alc_proc *p = start_initialized();
    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":5}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\",\"arguments\":{}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_info\",\"arguments\":\"x\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_info\",\"arguments\":[1]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *m = rpc(p, bad[i]);
        expect_error(m, -32602, "3");
        cJSON_Delete(m);
    }
    expect_alive(p, "4");
    finish(p);
}

// Checks an alc_info tools/call reply; id_json as sent.
static void check_alc_info(const cJSON *m, const char *id_json, const char *home) {
    const cJSON *res = expect_result(m, id_json);
    const cJSON *is_err = get(res, "isError");
    cr_assert(cJSON_IsFalse(is_err), "isError must be false: %s", g_last_raw);
    const cJSON *content = get(res, "content");
    cr_assert(cJSON_IsArray(content) && cJSON_GetArraySize(content) == 1, "one content block");
    const cJSON *blk = content->child;
    const cJSON *type = get(blk, "type"), *text = get(blk, "text");
    cr_assert(cJSON_IsString(type) && strcmp(type->valuestring, "text") == 0, "text block");
    cr_assert(cJSON_IsString(text), "text must be a string");
    cJSON *info = cJSON_Parse(text->valuestring);
    cr_assert(cJSON_IsObject(info), "alc_info text is not a JSON object: %s", text->valuestring);
    const cJSON *v = get(info, "version"), *h = get(info, "alc_home");
    cr_assert(cJSON_IsString(v) && v->valuestring[0], "version: %s", text->valuestring);
    cr_assert(cJSON_IsString(h), "alc_home: %s", text->valuestring);
    cr_assert_str_eq(h->valuestring, home, "alc_home must be the ALC_HOME given");
    cr_assert(cJSON_IsString(get(info, "log_dir")), "log_dir: %s", text->valuestring);
    cr_assert(cJSON_IsArray(get(info, "search_paths")), "search_paths: %s", text->valuestring);
    cr_assert(cJSON_IsObject(get(info, "limits")), "limits: %s", text->valuestring);
    cJSON_Delete(info);
}

Test(e2e_protocol, alc_info_reports_version_home_and_limits) {
    alc_proc *p = start_initialized();
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_info\"}}");
    check_alc_info(m, "10", last_home());
    cJSON_Delete(m);
    m = rpc(p, "{\"method\":\"tools/call\",\"params\":{\"name\":\"alc_info\",\"arguments\":{}},"
               "\"jsonrpc\":\"2.0\",\"id\":\"11\"}");
    check_alc_info(m, "\"11\"", last_home());
    cJSON_Delete(m);
    finish(p);
}

/* ------------------------------------------------------------------ logging */

Test(e2e_protocol, logging_set_level_accepts_the_eight_syslog_levels) {
    alc_proc *p = start_initialized();
    static const char *const levels[] = {"debug", "info",     "notice", "warning",
                                         "error", "critical", "alert",  "emergency"};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"%s\"}}",
                 i, levels[i]);
        char id[32];
        snprintf(id, sizeof id, "%zu", i);
        cJSON *m = rpc(p, line);
        expect_empty_result(m, id);
        cJSON_Delete(m);
    }
    finish(p);
}

Test(e2e_protocol, logging_set_level_rejects_unknown_or_missing_levels) {
    alc_proc *p = start_initialized();
    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"warn\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"trace\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"DEBUG\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{\"level\":5}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *m = rpc(p, bad[i]);
        expect_error(m, -32602, "1");
        cJSON_Delete(m);
    }
    cJSON *m = rpc(p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"debug\"}}");
    expect_empty_result(m, "2");
    cJSON_Delete(m);
    finish(p);
}

/* ------------------------------------------------------------------ line framing and limits */

static const char *const small_limit_env[] = {"ALC_MAX_LINE=4096", NULL};

// A ping line of exactly `size` bytes (no newline), padded inside params._meta. Returns new memory.
static char *padded_ping(size_t size, const char *id_json) {
    char head[128];
    int hn = snprintf(head, sizeof head,
                      "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\",\"params\":{\"_meta\":{\"pad\":\"",
                      id_json);
    static const char tail[] = "\"}}}";
    size_t fixed = (size_t)hn + sizeof tail - 1;
    cr_assert_gt(size, fixed);
    char *s = malloc(size + 1);
    cr_assert_not_null(s);
    memcpy(s, head, (size_t)hn);
    memset(s + hn, 'x', size - fixed);
    memcpy(s + size - (sizeof tail - 1), tail, sizeof tail);
    cr_assert_eq(strlen(s), size);
    return s;
}

static void expect_too_large(alc_proc *p) {
    cJSON *m = next_msg(p);
    const char *msg = expect_error(m, -32600, NULL);
    cr_assert(contains_ci(msg, "limit") || contains_ci(msg, "large") || contains_ci(msg, "size") ||
                  contains_ci(msg, "long") || contains_ci(msg, "4096") || contains_ci(msg, "exceed"),
              "message should mention the size limit: %s", g_last_raw);
    cJSON_Delete(m);
}

Test(e2e_protocol, oversized_line_is_rejected_and_stream_stays_in_sync) {
    alc_proc *p = start_server_env(small_limit_env);
    initialize(p);
    char *ok = padded_ping(3000, "1");  // below the limit: a normal ping
    cJSON *m = rpc(p, ok);
    expect_empty_result(m, "1");
    cJSON_Delete(m);
    free(ok);
    char *big = padded_ping(10000, "2");
    send_line(p, big);
    expect_too_large(p);
    expect_alive(p, "3");
    // two in a row: two errors, nothing from inside them
    send_line(p, big);
    send_line(p, big);
    expect_too_large(p);
    expect_too_large(p);
    expect_alive(p, "4");
    free(big);
    finish(p);
}

Test(e2e_protocol, oversized_line_arriving_in_several_writes_is_rejected_once) {
    alc_proc *p = start_server_env(small_limit_env);
    initialize(p);
    char *big = padded_ping(10000, "2");
    for (size_t off = 0; off < 10000; off += 1000) {
        send_raw(p, big + off, 1000);
        sleep_ms(10);
    }
    send_raw(p, "\n", 1);
    free(big);
    expect_too_large(p);
    expect_alive(p, "3");
    // a much larger line (1 MiB) streamed in 64 KiB writes
    size_t huge = (size_t)1 << 20;
    char *h = padded_ping(huge, "5");
    for (size_t off = 0; off < huge; off += 65536) send_raw(p, h + off, huge - off < 65536 ? huge - off : 65536);
    send_raw(p, "\n", 1);
    free(h);
    expect_too_large(p);
    expect_alive(p, "6");
    finish(p);
}

Test(e2e_protocol, crlf_line_endings_and_empty_lines_are_tolerated) {
    alc_proc *p = start_initialized();
    static const char crlf[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n";
    send_raw(p, crlf, sizeof crlf - 1);
    cJSON *m = next_msg(p);
    expect_empty_result(m, "1");
    cJSON_Delete(m);
    send_raw(p, "\n\n", 2);
    send_raw(p, "\r\n", 2);
    expect_alive(p, "2");
    finish(p);
}

Test(e2e_protocol, several_requests_in_one_write_are_all_answered_in_order) {
    alc_proc *p = start_initialized();
    static const char many[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}\n"
        "\n"
        "{\"jsonrpc\":\"2.0\",\"id\":\"three\",\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}\n";
    send_raw(p, many, sizeof many - 1);
    static const char *const ids[] = {"1", "2", "\"three\""};
    for (int i = 0; i < 3; i++) {
        cJSON *m = next_msg(p);
        expect_empty_result(m, ids[i]);
        cJSON_Delete(m);
    }
    cJSON *m = next_msg(p);
    cr_assert(cJSON_IsArray(get(expect_result(m, "4"), "tools")));
    cJSON_Delete(m);
    finish(p);
}

Test(e2e_protocol, request_split_over_several_writes_is_answered_once_complete) {
    alc_proc *p = start_initialized();
    static const char *const parts[] = {"{\"jsonrpc\":\"2.0\",", "\"id\":5,\"met", "hod\":\"pi", "ng\"}"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        send_raw(p, parts[i], strlen(parts[i]));
        sleep_ms(20);
    }
    expect_silence(p);  // no reply before the newline
    send_raw(p, "\n", 1);
    cJSON *m = next_msg(p);
    expect_empty_result(m, "5");
    cJSON_Delete(m);
    // split inside a multi-byte UTF-8 character, and a line end glued to the next line's start
    static const char a[] = "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3";
    static const char b[] = "\xa9\",\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",";
    static const char c[] = "\"id\":6,\"method\":\"ping\"}\n";
    send_raw(p, a, sizeof a - 1);
    sleep_ms(20);
    send_raw(p, b, sizeof b - 1);
    sleep_ms(20);
    send_raw(p, c, sizeof c - 1);
    m = next_msg(p);
    expect_empty_result(m, "\"\xc3\xa9\"");
    cJSON_Delete(m);
    m = next_msg(p);
    expect_empty_result(m, "6");
    cJSON_Delete(m);
    finish(p);
}

#define PIPELINE_N 10000

struct writer_arg {
    alc_proc *p;
    int rc;
    int err;
};

static void *pipeline_writer(void *arg) {
    struct writer_arg *w = arg;
    char chunk[100 * 64];
    for (int i = 0; i < PIPELINE_N && w->rc == 0;) {
        size_t n = 0;
        for (int k = 0; k < 100 && i < PIPELINE_N; k++, i++)
            n += (size_t)snprintf(chunk + n, sizeof chunk - n,
                                  "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}\n", i);
        if (alc_proc_send_raw(w->p, chunk, n) != 0) {
            w->rc = -1;
            w->err = errno;
        }
    }
    return NULL;
}

Test(e2e_protocol, ten_thousand_pipelined_pings_are_answered_in_order) {
    alc_proc *p = start_initialized();
    struct writer_arg w = {.p = p};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, pipeline_writer, &w), 0);
    long long deadline = now_ms() + 20000;
    for (int i = 0; i < PIPELINE_N; i++) {
        long long left = deadline - now_ms();
        cr_assert_gt(left, 0, "only %d of %d replies within 20 s", i, PIPELINE_N);
        cJSON *m = next_msg_within(p, (int)left);
        const cJSON *id = get(m, "id");
        cr_assert(cJSON_IsNumber(id) && id->valuedouble == i, "reply %d out of order: %s", i, g_last_raw);
        cr_assert(cJSON_IsObject(get(m, "result")) && !get(m, "result")->child, "reply %d: %s", i,
                  g_last_raw);
        cJSON_Delete(m);
    }
    pthread_join(th, NULL);
    cr_assert_eq(w.rc, 0, "writer failed: %s", strerror(w.err));
    finish(p);
}

/* ------------------------------------------------------------------ shutdown */

Test(e2e_protocol, eof_after_initialize_exits_zero_within_one_second) {
    alc_proc *p = start_initialized();
    expect_alive(p, "1");
    long long t0 = now_ms();
    alc_proc_close_stdin(p);
    int es = -1;
    int r = alc_proc_wait(p, 1000, &es);
    cr_assert_eq(r, 0, "server still running 1 s after stdin EOF");
    cr_assert_eq(es, 0, "exit status %d", es);
    cr_assert_leq(now_ms() - t0, 1000);
    int st;
    char *rest = alc_proc_recv(p, 1000, &st);
    cr_assert_eq(st, ALC_PROC_EOF, "unexpected output after EOF: %s", rest ? rest : "");
}

Test(e2e_protocol, eof_before_any_input_exits_zero) {
    alc_proc *p = start_server();
    alc_proc_close_stdin(p);
    int es = -1;
    cr_assert_eq(alc_proc_wait(p, 1000, &es), 0, "server still running 1 s after stdin EOF");
    cr_assert_eq(es, 0, "exit status %d", es);
    int st;
    char *out = alc_proc_recv(p, 1000, &st);
    cr_assert_eq(st, ALC_PROC_EOF, "server wrote without input: %s", out ? out : "");
}

Test(e2e_protocol, eof_in_the_middle_of_a_line_exits_zero) {
    alc_proc *p = start_initialized();
    static const char part[] = "{\"jsonrpc\":\"2.0\",\"id\":9,\"meth";
    send_raw(p, part, sizeof part - 1);
    finish(p);  // whatever it answers must be valid, and it must exit 0
}

/* ------------------------------------------------------------------ command line */

// Reads all stdout of a CLI process into a new string.
static char *read_all_stdout(alc_proc *p) {
    size_t cap = 4096, n = 0;
    char *out = calloc(1, cap);
    cr_assert_not_null(out);
    for (;;) {
        int st;
        size_t len;
        char *line = alc_proc_recv_n(p, RECV_MS, &st, &len);
        if (st == ALC_PROC_EOF) break;
        cr_assert(st == ALC_PROC_LINE || st == ALC_PROC_PARTIAL, "reading stdout: status %d", st);
        while (cap - n < len + 2) {
            cap *= 2;
            out = realloc(out, cap);
            cr_assert_not_null(out);
        }
        memcpy(out + n, line, len);
        n += len;
        if (st == ALC_PROC_LINE) out[n++] = '\n';
        out[n] = '\0';
        free(line);
    }
    return out;
}

static int wait_exit(alc_proc *p) {
    int es = -1;
    cr_assert_eq(alc_proc_wait(p, RECV_MS, &es), 0, "CLI did not exit");
    return es;
}

Test(e2e_protocol, version_flag_prints_a_version_and_exits_zero) {
    alc_proc *p = start_cli("--version");
    char *out = read_all_stdout(p);
    cr_assert_eq(wait_exit(p), 0, "alc --version must exit 0");
    cr_assert(out[0] != '\0' && out[0] != '\n', "alc --version printed nothing on stdout");
    cr_assert(strpbrk(out, "0123456789"), "no version number in: %s", out);
    free(out);
}

Test(e2e_protocol, help_flag_prints_usage_and_exits_zero) {
    alc_proc *p = start_cli("--help");
    char *out = read_all_stdout(p);
    cr_assert_eq(wait_exit(p), 0, "alc --help must exit 0");
    cr_assert(contains_ci(out, "usage"), "alc --help stdout lacks usage: %s", out);
    free(out);
}

Test(e2e_protocol, unknown_flag_exits_two_with_usage_on_stderr_only) {
    alc_proc *p = start_cli("--bogus");
    char *out = read_all_stdout(p);
    cr_assert_eq(wait_exit(p), 2, "alc --bogus must exit 2");
    cr_assert_str_empty(out, "alc --bogus wrote to stdout: %s", out);
    char *err = alc_proc_stderr_text(p, NULL);
    cr_assert(err && contains_ci(err, "usage"), "alc --bogus stderr lacks usage: %s", err ? err : "");
    free(err);
    free(out);
}
