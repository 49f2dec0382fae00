/*
 * test_e2e_logs.c — session logs and MCP logging seen from outside, through the real binary
 * ($ALC_BIN) over JSON-RPC on pipes (tests/harness/proc.h): the files written when a session
 * ends, alc_log_view / alc_note / alc_stats, ALC_LOG_DIR / ALC_LOG_LEVEL, path traversal,
 * transcript_warning, and notifications/message after logging/setLevel with its rate limit.
 *
 * Every server line goes into an arrival log (pump); responses are looked up by id and
 * notifications are counted from the log, so their order relative to responses is free.
 *
 * Threads: Criterion runs each test in its own process; only the test thread talks to a server.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define RECV_MS 5000

static cJSON **g_log;
static size_t g_nlog, g_caplog;
static alc_proc *g_proc;
static char *g_home;
static int g_next_id = 100;

static void teardown(void) {
    if (g_proc) {
        size_t n = 0;
        char *err = alc_proc_stderr_text(g_proc, &n);
        if (err && n > 0) fprintf(stderr, "---- alc stderr (tail) ----\n%s\n----\n", n > 4096 ? err + n - 4096 : err);
        free(err);
        alc_proc_free(g_proc);
        g_proc = NULL;
    }
    if (g_home) {
        alc_test_rmtree(g_home);
        free(g_home);
        g_home = NULL;
    }
    for (size_t i = 0; i < g_nlog; i++) cJSON_Delete(g_log[i]);
    free(g_log);
    g_log = NULL;
    g_nlog = g_caplog = 0;
}

TestSuite(e2e_logs, .fini = teardown, .timeout = 90);

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static bool contains_ci(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return true;
    }
    return false;
}

/* Reads one line within timeout_ms into the arrival log. False on timeout. */
static bool pump(int timeout_ms) {
    int st;
    size_t n;
    char *raw = alc_proc_recv_n(g_proc, timeout_ms, &st, &n);
    if (st == ALC_PROC_TIMEOUT) return false;
    cr_assert_eq(st, ALC_PROC_LINE, "server stdout closed or broken (status %d)", st);
    cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
    cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
    free(raw);
    if (g_nlog == g_caplog) {
        g_caplog = g_caplog ? g_caplog * 2 : 256;
        g_log = realloc(g_log, g_caplog * sizeof *g_log);
        cr_assert_not_null(g_log);
    }
    g_log[g_nlog++] = m;
    return true;
}

static void pump_for(int ms) {
    long long deadline = now_ms() + ms;
    for (long long left; (left = deadline - now_ms()) > 0;) pump((int)left);
}

static const cJSON *wait_response(int id) {
    long long deadline = now_ms() + RECV_MS;
    for (;;) {
        for (size_t i = 0; i < g_nlog; i++) {
            const cJSON *v = get(g_log[i], "id");
            if (!get(g_log[i], "method") && cJSON_IsNumber(v) && v->valuedouble == id) return g_log[i];
        }
        long long left = deadline - now_ms();
        cr_assert_gt(left, 0, "no response to request %d", id);
        pump((int)left);
    }
}

static void send_line(const char *line) { cr_assert_eq(alc_proc_send(g_proc, line), 0, "send failed: %s", strerror(errno)); }

/* Sends tools/call with arguments (borrowed); returns the request id. */
static int call(const char *tool, const cJSON *args) {
    cJSON *req = cJSON_CreateObject();
    int id = g_next_id++;
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", cJSON_Duplicate(args, 1));
    char *line = cJSON_PrintUnformatted(req);
    send_line(line);
    free(line);
    cJSON_Delete(req);
    return id;
}

static int call_json(const char *tool, const char *args_json) {
    cJSON *a = cJSON_Parse(args_json);
    cr_assert_not_null(a, "bad JSON in test: %s", args_json);
    int id = call(tool, a);
    cJSON_Delete(a);
    return id;
}

/* The tool text of response m; *is_error receives isError. Borrowed from m. */
static const char *tool_text(const cJSON *m, bool *is_error) {
    const cJSON *res = get(m, "result");
    cr_assert_not_null(res, "expected a tool result");
    const cJSON *t = get(cJSON_GetArrayItem(get(res, "content"), 0), "text");
    cr_assert(cJSON_IsString(t), "no content[0].text");
    *is_error = cJSON_IsTrue(get(res, "isError"));
    return t->valuestring;
}

/* Calls a tool and returns its successful result text parsed (new). */
static cJSON *tool_ok(const char *tool, const char *args_json) {
    bool err;
    const char *t = tool_text(wait_response(call_json(tool, args_json)), &err);
    cr_assert_not(err, "%s failed: %s", tool, t);
    cJSON *j = cJSON_Parse(t);
    cr_assert_not_null(j, "not JSON: %s", t);
    return j;
}

/* Calls a tool expecting isError with text containing needle (case-insensitive). */
static void tool_err(const char *tool, const char *args_json, const char *needle) {
    bool err;
    const char *t = tool_text(wait_response(call_json(tool, args_json)), &err);
    cr_assert(err, "%s %s should fail, got: %s", tool, args_json, t);
    cr_assert(contains_ci(t, needle), "error should mention '%s': %s", needle, t);
}

static void start(const char *const *extra_env) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    g_home = alc_test_tmpdir();
    g_proc = alc_proc_spawn_alc(g_home, extra_env, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(g_proc, "could not spawn %s: %s", bin, strerror(errno));
    send_line("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
              "\"capabilities\":{},\"clientInfo\":{\"name\":\"e2e-logs\",\"version\":\"0\"}}}");
    cr_assert(cJSON_IsObject(get(wait_response(0), "result")), "initialize failed");
    send_line("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

static void set_level(const char *level) {
    int id = g_next_id++;
    char line[160];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"%s\"}}", id, level);
    send_line(line);
    cr_assert(cJSON_IsObject(get(wait_response(id), "result")), "setLevel failed");
}

/* Runs code to its end, answering every query with answers[i] (the last one repeats).
 * Returns the final tool result parsed (new); sid (64 bytes) receives the session id. */
static cJSON *run_to_end(const char *code, const char *const *answers, char *sid) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "code", code);
    int id = call("alc_run", a);
    cJSON_Delete(a);
    for (size_t k = 0;; k++) {
        bool err;
        const char *t = tool_text(wait_response(id), &err);
        cr_assert_not(err, "run failed: %s", t);
        cJSON *j = cJSON_Parse(t);
        cr_assert_not_null(j);
        snprintf(sid, 64, "%s", get(j, "session_id")->valuestring);
        if (strcmp(get(j, "status")->valuestring, "needs_response") != 0) return j;
        cJSON_Delete(j);
        cr_assert(answers && answers[0], "the script asked but the test has no answers");
        size_t n = 0;
        while (answers[n]) n++;
        const char *ans = answers[k < n ? k : n - 1];
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "session_id", sid);
        cJSON_AddStringToObject(c, "response", ans);
        id = call("alc_continue", c);
        cJSON_Delete(c);
    }
}

static char *log_dir(void) {
    size_t n = strlen(g_home) + 8;
    char *p = malloc(n);
    snprintf(p, n, "%s/logs", g_home);
    return p;
}

static char *file_in(const char *dir, const char *sid, const char *suffix) {
    size_t n = strlen(dir) + strlen(sid) + strlen(suffix) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s%s", dir, sid, suffix);
    return p;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static cJSON *load(const char *path) {
    char *t = slurp(path);
    cr_assert_not_null(t, "missing file %s", path);
    cJSON *j = cJSON_Parse(t);
    cr_assert_not_null(j, "%s is not JSON", path);
    free(t);
    return j;
}

/* Number of directory entries (other than . and ..); 0 if dir does not exist. */
static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void expect_keys(const cJSON *o, const char *const *keys) {
    const cJSON *c = o->child;
    for (size_t i = 0; keys[i]; i++, c = c->next) {
        cr_assert_not_null(c, "missing key %s", keys[i]);
        cr_assert_str_eq(c->string, keys[i]);
    }
    cr_assert_null(c, "unexpected key %s", c ? c->string : "");
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    cr_assert(cJSON_IsNumber(v), "'%s' is not a number", k);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    cr_assert(cJSON_IsString(v), "'%s' is not a string", k);
    return v->valuestring;
}

static const char *const AB[] = {"A1", "A2", NULL};
static const char *const X[] = {"x", NULL};

/* ---- files written at the end of a session ---------------------------------------------- */

Test(e2e_logs, run_with_two_llm_calls_writes_log_and_meta_with_exact_fields) {
    start(NULL);
    char sid[64];
    long long before = wall_ms();
    cJSON *res = run_to_end("local a = alc.llm('First prompt', {system = 'S'})\n"
                            "local b = alc.llm('Second')\nreturn a .. b", AB, sid);
    long long after = wall_ms();
    cr_assert_str_eq(str(res, "status"), "completed");
    cr_assert_null(get(res, "transcript_warning"));
    char *dir = log_dir();
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    char *lp = file_in(dir, sid, ".json"), *mp = file_in(dir, sid, ".meta.json");
    cr_assert_eq(stat(lp, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(count_files(dir), 2);

    cJSON *log = load(lp);
    expect_keys(log, (const char *const[]){"session_id", "stats", "strategy", "task_hint", "transcript", NULL});
    cr_assert_str_eq(str(log, "session_id"), sid);
    cr_assert(cJSON_IsNull(get(log, "strategy")), "alc_run records no strategy");
    cr_assert_str_eq(str(log, "task_hint"), "First prompt");
    cr_assert(cJSON_Compare(get(log, "stats"), get(get(res, "stats"), "auto"), 1),
              "the logged stats are the auto stats of the result");
    const cJSON *tr = get(log, "transcript");
    cr_assert_eq(cJSON_GetArraySize(tr), 2);
    const cJSON *e0 = cJSON_GetArrayItem(tr, 0), *e1 = cJSON_GetArrayItem(tr, 1);
    expect_keys(e0, (const char *const[]){"prompt", "query_id", "response", "system", NULL});
    cr_assert_str_eq(str(e0, "prompt"), "First prompt");
    cr_assert_str_eq(str(e0, "system"), "S");
    cr_assert_str_eq(str(e0, "response"), "A1");
    cr_assert_str_eq(str(e1, "prompt"), "Second");
    cr_assert(cJSON_IsNull(get(e1, "system")));
    cr_assert_str_eq(str(e1, "response"), "A2");

    cJSON *meta = load(mp);
    expect_keys(meta, (const char *const[]){"elapsed_ms", "ended_at", "llm_calls", "notes_count", "prompt_tokens",
                                            "response_tokens", "rounds", "session_id", "state", "strategy", "task_hint",
                                            "total_prompt_chars", "total_response_chars", "total_tokens", NULL});
    cr_assert_eq(num(meta, "llm_calls"), 2);
    cr_assert_eq(num(meta, "rounds"), 2);
    cr_assert_eq(num(meta, "notes_count"), 0);
    cr_assert_eq(num(meta, "total_prompt_chars"), strlen("First prompt") + 1 + strlen("Second"));
    cr_assert_eq(num(meta, "total_response_chars"), 4);
    cr_assert_str_eq(str(meta, "state"), "done");
    cr_assert_str_eq(str(meta, "session_id"), sid);
    cr_assert_geq(num(meta, "ended_at"), (double)before);
    cr_assert_leq(num(meta, "ended_at"), (double)after);
    cr_assert(cJSON_Compare(get(meta, "total_tokens"), get(get(log, "stats"), "total_tokens"), 1));
    cJSON_Delete(meta);
    cJSON_Delete(log);
    cJSON_Delete(res);
    free(lp);
    free(mp);
    free(dir);
}

Test(e2e_logs, runs_without_llm_calls_write_nothing) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("return 42", NULL, sid);
    cr_assert_str_eq(str(r, "status"), "completed");
    cJSON_Delete(r);
    r = run_to_end("error('boom')", NULL, sid);
    cr_assert_str_eq(str(r, "status"), "error");
    cJSON_Delete(r);
    char *dir = log_dir();
    cr_assert_eq(count_files(dir), 0, "no log for sessions that never asked the LLM");
    free(dir);
    tool_err("alc_log_view", "{\"session_id\":\"s-00000000000000000000000000000000\"}", "Log file not found for session");
    cJSON *list = tool_ok("alc_log_view", "{}");
    cr_assert_eq(cJSON_GetArraySize(get(list, "sessions")), 0);
    cJSON_Delete(list);
}

Test(e2e_logs, failed_session_after_a_call_is_logged_as_failed) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("alc.llm('q')\nerror('late failure')", X, sid);
    cr_assert_str_eq(str(r, "status"), "error");
    cJSON_Delete(r);
    char *dir = log_dir();
    char *mp = file_in(dir, sid, ".meta.json");
    cJSON *meta = load(mp);
    cr_assert_str_eq(str(meta, "state"), "failed");
    cJSON_Delete(meta);
    free(mp);
    free(dir);
}

/* ---- alc_log_view --------------------------------------------------------------------------- */

Test(e2e_logs, log_view_lists_newest_first_and_shows_raw_or_truncated_detail) {
    start(NULL);
    char s1[64], s2[64];
    cJSON *r = run_to_end("return alc.llm('older')", X, s1);
    cJSON_Delete(r);
    sleep_ms(20);
    r = run_to_end("local out = {}\n"
                   "for i = 1, 10 do out[i] = alc.llm(string.format('P%02d ', i) .. string.rep('z', 300)) end\n"
                   "return #out", X, s2);
    cJSON_Delete(r);

    cJSON *list = tool_ok("alc_log_view", "{}");
    const cJSON *ss = get(list, "sessions");
    cr_assert_eq(cJSON_GetArraySize(ss), 2);
    cr_assert_str_eq(str(cJSON_GetArrayItem(ss, 0), "session_id"), s2, "newest first");
    cr_assert_str_eq(str(cJSON_GetArrayItem(ss, 1), "session_id"), s1);
    cr_assert_str_eq(str(cJSON_GetArrayItem(ss, 1), "task_hint"), "older");
    cr_assert_eq(num(cJSON_GetArrayItem(ss, 0), "llm_calls"), 10);
    cJSON_Delete(list);
    list = tool_ok("alc_log_view", "{\"limit\":1}");
    cr_assert_eq(cJSON_GetArraySize(get(list, "sessions")), 1);
    cJSON_Delete(list);

    /* detail: the raw file when it fits */
    char *dir = log_dir();
    char *lp = file_in(dir, s1, ".json");
    char *raw = slurp(lp);
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", s1);
    bool err;
    const char *t = tool_text(wait_response(call_json("alc_log_view", args)), &err);
    cr_assert_not(err);
    cr_assert_str_eq(t, raw);

    /* detail too large: the newest rounds are kept */
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"max_chars\":1500}", s2);
    cJSON *d = tool_ok("alc_log_view", args);
    cr_assert(cJSON_IsTrue(get(d, "truncated")));
    cr_assert_eq(num(d, "original_rounds"), 10);
    int k = (int)num(d, "returned_rounds");
    cr_assert(k >= 0 && k < 10, "returned_rounds %d", k);
    const cJSON *tr = get(d, "transcript");
    cr_assert_eq(cJSON_GetArraySize(tr), k);
    if (k > 0) cr_assert_eq(strncmp(str(cJSON_GetArrayItem(tr, k - 1), "prompt"), "P10 ", 4), 0, "the newest round is kept");
    cJSON_Delete(d);
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"max_chars\":0}", s2);
    d = tool_ok("alc_log_view", args);
    cr_assert_null(get(d, "truncated"), "max_chars 0 is unlimited");
    cr_assert_eq(cJSON_GetArraySize(get(d, "transcript")), 10);
    cJSON_Delete(d);
    tool_err("alc_log_view", "{\"limit\":-1}", "limit");
    free(raw);
    free(lp);
    free(dir);
}

/* ---- alc_note --------------------------------------------------------------------------------- */

Test(e2e_logs, note_twice_counts_two_in_result_log_and_meta) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('q')", X, sid);
    cJSON_Delete(r);
    char args[512];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"content\":\"worked well\"}", sid);
    cJSON *n = tool_ok("alc_note", args);
    expect_keys(n, (const char *const[]){"notes_count", "session_id", NULL});
    cr_assert_eq(num(n, "notes_count"), 1);
    cr_assert_str_eq(str(n, "session_id"), sid);
    cJSON_Delete(n);
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"content\":\"second\",\"title\":\"Retro\"}", sid);
    n = tool_ok("alc_note", args);
    cr_assert_eq(num(n, "notes_count"), 2);
    cJSON_Delete(n);

    char *dir = log_dir();
    char *lp = file_in(dir, sid, ".json"), *mp = file_in(dir, sid, ".meta.json");
    cJSON *log = load(lp);
    const cJSON *notes = get(log, "notes");
    cr_assert_eq(cJSON_GetArraySize(notes), 2);
    cr_assert(cJSON_IsNull(get(cJSON_GetArrayItem(notes, 0), "title")));
    cr_assert_str_eq(str(cJSON_GetArrayItem(notes, 1), "title"), "Retro");
    cr_assert_str_eq(str(cJSON_GetArrayItem(notes, 1), "content"), "second");
    double ts = num(cJSON_GetArrayItem(notes, 1), "timestamp");
    cr_assert(ts > wall_ms() / 1000.0 - 60 && ts <= wall_ms() / 1000.0 + 1, "timestamp is Unix seconds: %f", ts);
    cJSON *meta = load(mp);
    cr_assert_eq(num(meta, "notes_count"), 2);
    cJSON_Delete(meta);
    cJSON_Delete(log);
    tool_err("alc_note", "{\"session_id\":\"s-99999999999999999999999999999999\",\"content\":\"x\"}",
             "Log file not found for session 's-99999999999999999999999999999999'");
    tool_err("alc_note", "{\"session_id\":\"s-99999999999999999999999999999999\"}", "content");
    free(lp);
    free(mp);
    free(dir);
}

/* ---- alc_stats -------------------------------------------------------------------------------- */

static void plant_meta(const char *dir, const char *id, const char *strategy, int elapsed, time_t mtime) {
    char *p = file_in(dir, id, ".meta.json");
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"session_id\":\"%s\",\"strategy\":\"%s\",\"elapsed_ms\":%d,\"llm_calls\":3,\"rounds\":3,"
               "\"total_prompt_chars\":90,\"total_response_chars\":9,\"prompt_tokens\":{\"tokens\":30,\"source\":\"estimated\"},"
               "\"response_tokens\":{\"tokens\":3,\"source\":\"estimated\"},\"total_tokens\":{\"tokens\":33,\"source\":\"estimated\"},"
               "\"notes_count\":0}", id, strategy, elapsed);
    fclose(f);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    free(p);
}

Test(e2e_logs, stats_group_by_strategy_and_filter_by_days) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('a')", X, sid);
    cJSON_Delete(r);
    r = run_to_end("alc.llm('b')\nreturn alc.llm('c')", X, sid);
    cJSON_Delete(r);
    char *dir = log_dir();
    time_t now = time(NULL);
    plant_meta(dir, "s-cot-recent", "cot", 1000, now - 3600);
    plant_meta(dir, "s-cot-old", "cot", 2001, now - 10 * 86400);

    cJSON *st = tool_ok("alc_stats", "{}");
    cr_assert_eq(num(st, "total_sessions"), 4);
    const cJSON *unk = get(get(st, "strategies"), "unknown");
    cr_assert_not_null(unk, "runs without a strategy count as unknown");
    cr_assert_eq(num(unk, "count"), 2);
    cr_assert_eq(num(unk, "avg_llm_calls"), 2, "(1 + 2 + 1) / 2 rounded");
    const cJSON *cot = get(get(st, "strategies"), "cot");
    cr_assert_eq(num(cot, "count"), 2);
    cr_assert_eq(num(cot, "avg_elapsed_ms"), 1501);
    cr_assert_eq(num(cot, "total_tokens"), 66);
    cJSON_Delete(st);

    st = tool_ok("alc_stats", "{\"strategy\":\"cot\",\"days\":1}");
    cr_assert_eq(num(st, "total_sessions"), 1, "the 10-day-old log is outside 1 day");
    cr_assert_eq(num(get(get(st, "strategies"), "cot"), "avg_elapsed_ms"), 1000);
    cr_assert_null(get(get(st, "strategies"), "unknown"));
    cJSON_Delete(st);
    st = tool_ok("alc_stats", "{\"days\":1e300}");
    cr_assert_eq(num(st, "total_sessions"), 4, "a huge days value keeps everything");
    cJSON_Delete(st);
    st = tool_ok("alc_stats", "{\"days\":0.5,\"strategy\":\"unknown\"}");
    cr_assert_eq(num(st, "total_sessions"), 2);
    cJSON_Delete(st);
    tool_err("alc_stats", "{\"days\":-1}", "days");
    tool_err("alc_stats", "{\"days\":\"7\"}", "days");
    free(dir);
}

/* ---- safety and configuration ------------------------------------------------------------------ */

Test(e2e_logs, path_traversal_ids_are_refused) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('q')", X, sid);
    cJSON_Delete(r);
    /* a JSON file outside the log dir that a traversal would reach */
    char *outside = file_in(g_home, "secret", ".json");
    FILE *f = fopen(outside, "w");
    fputs("{\"session_id\":\"secret\",\"transcript\":[]}", f);
    fclose(f);
    const char *bad[] = {"../secret", "..", "a/b", "/etc/passwd", "s-1/../../secret", ".hidden", "x.meta"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[256];
        snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", bad[i]);
        tool_err("alc_log_view", args, "invalid session id");
        snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"content\":\"x\"}", bad[i]);
        tool_err("alc_note", args, "invalid session id");
    }
    char *text = slurp(outside);
    cr_assert_null(strstr(text, "notes"), "the file outside the log dir was not touched");
    free(text);
    free(outside);
}

Test(e2e_logs, log_level_off_writes_no_files) {
    const char *env[] = {"ALC_LOG_LEVEL=OFF", NULL};
    start(env);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('q')", X, sid);
    cr_assert_str_eq(str(r, "status"), "completed");
    cr_assert_null(get(r, "transcript_warning"));
    cJSON_Delete(r);
    char *dir = log_dir();
    cr_assert_eq(count_files(dir), 0);
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"content\":\"x\"}", sid);
    tool_err("alc_note", args, "disabled");
    cr_assert_eq(count_files(dir), 0);
    free(dir);
}

Test(e2e_logs, custom_log_dir_is_used_and_created) {
    char *tmp = alc_test_tmpdir();
    char *dir = file_in(tmp, "deep/er", "");
    char envv[600];
    snprintf(envv, sizeof envv, "ALC_LOG_DIR=%s", dir);
    const char *env[] = {envv, NULL};
    start(env);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('q')", X, sid);
    cJSON_Delete(r);
    cr_assert_eq(count_files(dir), 2);
    char *home_logs = log_dir();
    cr_assert_eq(count_files(home_logs), 0);
    cJSON *list = tool_ok("alc_log_view", "{}");
    cr_assert_eq(cJSON_GetArraySize(get(list, "sessions")), 1);
    cJSON_Delete(list);
    alc_test_rmtree(tmp);
    free(home_logs);
    free(dir);
    free(tmp);
}

Test(e2e_logs, unwritable_log_dir_adds_transcript_warning_to_the_result) {
    char *tmp = alc_test_tmpdir();
    char *file = file_in(tmp, "plainfile", "");
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    char envv[600];
    snprintf(envv, sizeof envv, "ALC_LOG_DIR=%s", file);
    const char *env[] = {envv, NULL};
    start(env);
    cJSON *a = cJSON_Parse("{\"code\":\"return {answer = alc.llm('q')}\"}");
    int id = call("alc_run", a);
    cJSON_Delete(a);
    bool err;
    cJSON *p = cJSON_Parse(tool_text(wait_response(id), &err));
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"response\":\"42\"}", str(p, "session_id"));
    cJSON_Delete(p);
    const char *t = tool_text(wait_response(call_json("alc_continue", args)), &err);
    cr_assert_not(err, "the run itself succeeds: %s", t);
    cr_assert_not_null(strstr(t, "\"status\":\"completed\",\"transcript_warning\":"), "sorted key position: %s", t);
    cJSON *res = cJSON_Parse(t);
    cr_assert_str_eq(str(get(res, "result"), "answer"), "42", "nothing else is lost");
    cr_assert_eq(num(get(get(res, "stats"), "auto"), "llm_calls"), 1);
    cr_assert(contains_ci(str(res, "transcript_warning"), file), "names the path: %s", str(res, "transcript_warning"));
    cJSON_Delete(res);
    alc_test_rmtree(tmp);
    free(file);
    free(tmp);
}

/* Once the log directory has taken a write, later logs are written after the reply: a client
 * that asks for a log right after reading its result must still find it (the log tools wait). */
Test(e2e_logs, logs_written_after_the_reply_are_found_by_an_immediate_log_view) {
    start(NULL);
    for (int i = 0; i < 25; i++) {
        char sid[64];
        cJSON *r = run_to_end("return alc.llm('q')", X, sid);
        cr_assert_null(get(r, "transcript_warning"));
        cJSON_Delete(r);
        char args[128];
        snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", sid);
        cJSON *log = tool_ok("alc_log_view", args);
        cr_assert_str_eq(str(log, "session_id"), sid, "session %d", i);
        cJSON_Delete(log);
        cJSON *list = tool_ok("alc_log_view", "{}");
        cr_assert_eq(cJSON_GetArraySize(get(list, "sessions")), i + 1, "session %d listed at once", i);
        cJSON_Delete(list);
    }
}

/* A log written after its reply that fails is not lost silently: the session's recent logs
 * (alc_status) carry the warning, and the next session writes before its reply again, so its
 * result carries transcript_warning. */
Test(e2e_logs, a_log_write_failing_after_the_reply_is_reported_and_the_next_reply_warns) {
    start(NULL);
    char sid[64];
    cJSON *r = run_to_end("return alc.llm('q')", X, sid);
    cr_assert_null(get(r, "transcript_warning"), "the first log is written before the reply and succeeds");
    cJSON_Delete(r);
    char *dir = log_dir();
    cr_assert_eq(count_files(dir), 2);
    alc_test_rmtree(dir);
    FILE *f = fopen(dir, "w"); /* the log directory's path is now a plain file */
    cr_assert_not_null(f);
    fputs("x", f);
    fclose(f);
    r = run_to_end("return alc.llm('q')", X, sid);
    cr_assert_null(get(r, "transcript_warning"), "this log is written after the reply");
    cr_assert_str_eq(str(r, "status"), "completed");
    cJSON_Delete(r);
    char args[128];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", sid);
    bool found = false;
    for (int k = 0; k < 100 && !found; k++) {
        cJSON *st = tool_ok("alc_status", args);
        const cJSON *logs = get(get(st, "metrics"), "recent_logs");
        for (const cJSON *l = logs ? logs->child : NULL; l; l = l->next)
            if (contains_ci(str(l, "message"), "session log not written") && strcmp(str(l, "level"), "warning") == 0) found = true;
        cJSON_Delete(st);
        if (!found) sleep_ms(20);
    }
    cr_assert(found, "alc_status shows the late failure in recent_logs");
    r = run_to_end("return alc.llm('q')", X, sid);
    cr_assert(contains_ci(str(r, "transcript_warning"), "session log not written"), "the next reply warns");
    cJSON_Delete(r);
    free(dir);
}

/* ---- MCP logging ------------------------------------------------------------------------------- */

/* notifications/message entries of the arrival log whose data.source equals source (any if NULL). */
static size_t count_messages(const char *source, const char *level, const char *message) {
    size_t n = 0;
    for (size_t i = 0; i < g_nlog; i++) {
        const cJSON *m = get(g_log[i], "method");
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "notifications/message") != 0) continue;
        const cJSON *p = get(g_log[i], "params"), *d = get(p, "data");
        if (source && !(cJSON_IsString(get(d, "source")) && strcmp(get(d, "source")->valuestring, source) == 0)) continue;
        if (level && strcmp(str(p, "level"), level) != 0) continue;
        if (message && !(cJSON_IsString(get(d, "message")) && strcmp(get(d, "message")->valuestring, message) == 0)) continue;
        n++;
    }
    return n;
}

Test(e2e_logs, set_level_info_forwards_log_and_print_lines_but_not_debug) {
    start(NULL);
    char sid[64];
    const char *code = "alc.log('info', 'early')\nreturn 1";
    cJSON *r = run_to_end(code, NULL, sid);
    cJSON_Delete(r);
    pump_for(100);
    cr_assert_eq(count_messages(NULL, NULL, NULL), 0, "no notifications/message before logging/setLevel");

    set_level("info");
    r = run_to_end("alc.log('debug', 'd1')\nalc.log('info', 'i1')\nalc.log('warn', 'w1')\n"
                   "print('p1', 2)\nalc.log('shout', 'u1')\nalc.log('error', 'e1')\nreturn 1", NULL, sid);
    cJSON_Delete(r);
    pump_for(100);
    cr_assert_eq(count_messages(NULL, NULL, "d1"), 0, "debug is below info");
    cr_assert_eq(count_messages("alc.log", "info", "i1"), 1);
    cr_assert_eq(count_messages("alc.log", "warning", "w1"), 1, "warn maps to warning");
    cr_assert_eq(count_messages("alc.lua.print", "info", "p1\t2"), 1);
    cr_assert_eq(count_messages("alc.log", "info", "u1"), 1, "unknown levels map to info");
    cr_assert_eq(count_messages("alc.log", "error", "e1"), 1);
    for (size_t i = 0; i < g_nlog; i++) {
        const cJSON *m = get(g_log[i], "method");
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "notifications/message") != 0) continue;
        const cJSON *p = get(g_log[i], "params");
        cr_assert_str_eq(str(p, "logger"), "alc");
        expect_keys(get(p, "data"), (const char *const[]){"message", "session_id", "source", NULL});
        cr_assert_str_eq(str(get(p, "data"), "session_id"), sid);
    }

    set_level("error");
    r = run_to_end("alc.log('warn', 'w2')\nalc.log('error', 'e2')\nreturn 1", NULL, sid);
    cJSON_Delete(r);
    pump_for(100);
    cr_assert_eq(count_messages(NULL, NULL, "w2"), 0);
    cr_assert_eq(count_messages(NULL, "error", "e2"), 1);
}

Test(e2e_logs, a_burst_of_log_lines_is_rate_limited_with_one_drop_notice) {
    start(NULL);
    set_level("info");
    char sid[64];
    cJSON *r = run_to_end("for i = 1, 1000 do alc.log('info', 'line ' .. i) end\nreturn 1", NULL, sid);
    cr_assert_str_eq(str(r, "status"), "completed");
    /* the bucket holds 100 and refills at 100/s: a slow (e.g. valgrind) run may pass a few more */
    double elapsed = num(get(get(r, "stats"), "auto"), "elapsed_ms");
    size_t bound = 110 + (size_t)(elapsed / 10);
    cJSON_Delete(r);
    pump_for(3000); /* the notice comes a second after the first drop (on a heartbeat tick) */
    size_t sent = count_messages("alc.log", "info", NULL);
    cr_assert_geq(sent, 100, "the first 100 lines pass (got %zu)", sent);
    cr_assert_leq(sent, bound, "at most ~100 per second (got %zu in %.0f ms)", sent, elapsed);
    size_t notices = 0;
    unsigned long long dropped = 0;
    for (size_t i = 0; i < g_nlog; i++) {
        const cJSON *m = get(g_log[i], "method");
        if (!cJSON_IsString(m) || strcmp(m->valuestring, "notifications/message") != 0) continue;
        const cJSON *p = get(g_log[i], "params");
        if (strcmp(str(p, "level"), "warning") != 0) continue;
        const char *msg = str(get(p, "data"), "message");
        cr_assert(contains_ci(msg, "dropped"), "%s", msg);
        dropped += strtoull(msg, NULL, 10);
        notices++;
    }
    /* one notice per second of dropping: exactly one for a burst shorter than a second */
    cr_assert(notices >= 1 && notices <= 1 + (size_t)(elapsed / 1000), "%zu drop notices in %.0f ms", notices, elapsed);
    cr_assert_eq(sent + dropped, 1000, "every line is either sent or counted (%zu + %llu)", sent, dropped);
}
