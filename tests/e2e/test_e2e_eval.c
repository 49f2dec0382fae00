/*
 * test_e2e_eval.c — end-to-end tests of the evaluation tools (alc_eval, alc_eval_history,
 * alc_eval_detail, alc_eval_compare, alc_scenario_*) and of the bundled evalframe package.
 *
 * Each test spawns the real server ($ALC_BIN) with a fresh ALC_HOME and ALC_PACKAGES_PATH =
 * $ALC_PACKAGES_DIR (the repository's packages/, for evalframe) plus a temporary directory of
 * fixture strategies written by the test:
 *   echo_strat   answers alc.llm((ctx.prefix or "Q:") .. " " .. ctx.task); raises when ctx.fail
 *   const_strat  no LLM call: its answer is ctx.task itself (scores without a host)
 * The test then acts as a scripted host: every pause of the eval session is answered by a
 * responder chosen per test, and every prompt is recorded.
 *
 * Threads: Criterion runs each test in its own process; everything here is single-threaded.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#define REPLY_MS 30000
#define MAX_PROMPTS 256

typedef const char *(*responder)(const char *prompt);

static alc_proc *g_proc;
static char *g_home, *g_fix;
static int g_id;
static char *g_prompts[MAX_PROMPTS];
static int g_nprompts;
static cJSON *g_keep[64]; // trees freed at teardown
static int g_nkeep;

static void teardown(void) {
    for (int i = 0; i < g_nprompts; i++) free(g_prompts[i]);
    g_nprompts = 0;
    for (int i = 0; i < g_nkeep; i++) cJSON_Delete(g_keep[i]);
    g_nkeep = 0;
    alc_proc_free(g_proc);
    g_proc = NULL;
    if (g_home) alc_test_rmtree(g_home);
    if (g_fix) alc_test_rmtree(g_fix);
    free(g_home);
    free(g_fix);
    g_home = g_fix = NULL;
}

TestSuite(e2e_eval, .fini = teardown, .timeout = 180);

static cJSON *keep(cJSON *t) {
    cr_assert_lt(g_nkeep, 64, "test keeps too many trees");
    g_keep[g_nkeep++] = t;
    return t;
}

_Noreturn static void fail(const char *fmt, ...) {
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = 0;
    char *err = g_proc ? alc_proc_stderr_text(g_proc, &n) : NULL;
    char tail[2049] = "";
    if (err) snprintf(tail, sizeof tail, "%s", n > 2048 ? err + n - 2048 : err);
    free(err);
    cr_assert_fail("%s%s%s", msg, tail[0] ? "\n---- server stderr (tail) ----\n" : "", tail);
    abort();
}

static const char *fmt(const char *f, ...) {
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 4096, f, ap);
    va_end(ap);
    return b;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void mkdir_p(const char *path) {
    cr_assert_eq(system(fmt("mkdir -p '%s'", path)), 0, "mkdir -p %s", path);
}

/* ------------------------------------------------------------------ server */

static const char ECHO_STRAT[] =
    "local M = {}\n"
    "function M.run(ctx)\n"
    "  if ctx.fail then error('deliberate failure on ' .. ctx.task, 0) end\n"
    "  ctx.result = { answer = alc.llm((ctx.prefix or 'Q:') .. ' ' .. ctx.task) }\n"
    "  return ctx\n"
    "end\n"
    "return M\n";

static const char CONST_STRAT[] =
    "local M = {}\n"
    "function M.run(ctx)\n"
    "  ctx.result = { answer = ctx.task }\n"
    "  return ctx\n"
    "end\n"
    "return M\n";

/* Writes the fixture strategies and starts the server. extra: one more "K=V" or NULL.
 * with_repo_packages: put $ALC_PACKAGES_DIR (evalframe) on ALC_PACKAGES_PATH. */
static void start_server_with(const char *extra, bool with_repo_packages) {
    const char *dir = getenv("ALC_PACKAGES_DIR");
    cr_assert(dir && *dir, "ALC_PACKAGES_DIR must name the repository's packages/ directory");
    g_home = alc_test_tmpdir();
    g_fix = alc_test_tmpdir();
    mkdir_p(fmt("%s/echo_strat", g_fix));
    mkdir_p(fmt("%s/const_strat", g_fix));
    write_file(fmt("%s/echo_strat/init.lua", g_fix), ECHO_STRAT);
    write_file(fmt("%s/const_strat/init.lua", g_fix), CONST_STRAT);
    char pp[8400];
    if (with_repo_packages) snprintf(pp, sizeof pp, "ALC_PACKAGES_PATH=%s:%s", dir, g_fix);
    else snprintf(pp, sizeof pp, "ALC_PACKAGES_PATH=%s", g_fix);
    const char *env[] = {pp, "ALC_LOG_LEVEL=off", extra, NULL};
    g_proc = alc_proc_spawn_alc(g_home, env, ALC_PROC_STDERR_CAPTURE);
    if (!g_proc) fail("cannot spawn $ALC_BIN: %s", strerror(errno));
    if (alc_proc_initialize(g_proc) != 0) fail("MCP initialize failed");
}

static void start_server(void) { start_server_with(NULL, true); }

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct reply {
    char *text;      // owned
    bool is_error;
} reply;

static reply call_raw(const char *tool, cJSON *args /* owns */) {
    int id = ++g_id;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args);
    char *line = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (alc_proc_send(g_proc, line) != 0) fail("send failed: %s", strerror(errno));
    cJSON_free(line);
    long long deadline = now_ms() + REPLY_MS;
    for (;;) {
        long long left = deadline - now_ms();
        int st;
        char *raw = alc_proc_recv(g_proc, left > 0 ? (int)left : 0, &st);
        if (st != ALC_PROC_LINE) {
            free(raw);
            fail("%s: no reply (status %d)", tool, st);
        }
        cJSON *m = cJSON_Parse(raw);
        free(raw);
        if (!m) fail("a stdout line is not JSON");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_GetObjectItemCaseSensitive(m, "method") || !cJSON_IsNumber(rid) || (int)rid->valuedouble != id) {
            cJSON_Delete(m);
            continue;
        }
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(m, "result");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(res, "content");
        const cJSON *text = cJSON_IsArray(content) ? cJSON_GetObjectItemCaseSensitive(content->child, "text") : NULL;
        if (!cJSON_IsString(text)) {
            cJSON_Delete(m);
            fail("%s: reply without a text result", tool);
        }
        reply r = {strdup(text->valuestring), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"))};
        cJSON_Delete(m);
        return r;
    }
}

/* Calls a tool that must succeed; returns its JSON result (kept until teardown). */
static cJSON *call(const char *tool, cJSON *args) {
    reply r = call_raw(tool, args);
    if (r.is_error) {
        char copy[2048];
        snprintf(copy, sizeof copy, "%s", r.text);
        free(r.text);
        fail("%s failed: %s", tool, copy);
    }
    cJSON *out = cJSON_Parse(r.text);
    free(r.text);
    if (!out) fail("%s: result is not JSON", tool);
    return keep(out);
}

/* Calls a tool that must fail; returns its message (static copy). */
static const char *call_error(const char *tool, cJSON *args) {
    static char msg[4096];
    reply r = call_raw(tool, args);
    snprintf(msg, sizeof msg, "%s", r.text);
    bool e = r.is_error;
    free(r.text);
    cr_assert(e, "%s should have failed, got: %s", tool, msg);
    return msg;
}

static cJSON *args_of(const char *json) {
    cJSON *a = cJSON_Parse(json);
    cr_assert(cJSON_IsObject(a), "test bug: not a JSON object: %s", json);
    return a;
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *get(const cJSON *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) {
        if (cJSON_IsArray(cur)) cur = cJSON_GetArrayItem(cur, atoi(tok));
        else cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        cr_assert_not_null(cur, "missing '%s' (at '%s')", path, tok);
    }
    return cur;
}

static double num(const cJSON *o, const char *path) {
    const cJSON *v = get(o, path);
    cr_assert(cJSON_IsNumber(v), "'%s' is not a number", path);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *path) {
    const cJSON *v = get(o, path);
    cr_assert(cJSON_IsString(v), "'%s' is not a string", path);
    return v->valuestring;
}

static void expect_num(const cJSON *o, const char *path, double want) {
    double got = num(o, path);
    cr_assert(fabs(got - want) <= 1e-12 * (1 + fabs(want)), "%s: got %.17g, want %.17g", path, got, want);
}

/* Runs alc_eval with args (owns), answering every pause with fn; returns the final result. */
static cJSON *run_eval(cJSON *args, responder fn) {
    cJSON *out = call("alc_eval", args);
    for (int round = 0; round < MAX_PROMPTS; round++) {
        const char *status = str_of(out, "status");
        if (!status || strcmp(status, "needs_response") != 0) return out;
        cr_assert_not_null(fn, "the eval paused but the test has no responder: %s", str_of(out, "prompt"));
        const char *sid = str_of(out, "session_id");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "session_id", sid);
        const cJSON *queries = cJSON_GetObjectItemCaseSensitive(out, "queries");
        if (cJSON_IsArray(queries)) {
            cJSON *rs = cJSON_AddArrayToObject(c, "responses");
            const cJSON *q;
            cJSON_ArrayForEach(q, queries) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "query_id", str_of(q, "id"));
                g_prompts[g_nprompts++] = strdup(str_of(q, "prompt"));
                cJSON_AddStringToObject(e, "response", fn(str_of(q, "prompt")));
                cJSON_AddItemToArray(rs, e);
            }
        } else {
            cJSON_AddStringToObject(c, "query_id", str_of(out, "query_id"));
            g_prompts[g_nprompts++] = strdup(str_of(out, "prompt"));
            cJSON_AddStringToObject(c, "response", fn(str_of(out, "prompt")));
        }
        out = call("alc_continue", c);
    }
    fail("more than %d pauses", MAX_PROMPTS);
}

static cJSON *eval_inline(const char *strategy, const char *scenario, const char *opts_json, responder fn) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "strategy", strategy);
    cJSON_AddStringToObject(a, "scenario", scenario);
    if (opts_json) cJSON_AddItemToObject(a, "strategy_opts", args_of(opts_json));
    return run_eval(a, fn);
}

static void expect_completed(const cJSON *out) {
    const char *st = str_of(out, "status");
    if (!st || strcmp(st, "completed") != 0) {
        char *t = cJSON_PrintUnformatted(out);
        char copy[3000];
        snprintf(copy, sizeof copy, "%s", t);
        cJSON_free(t);
        fail("eval did not complete: %s", copy);
    }
}

static const char *expect_eval_error(const cJSON *out) {
    cr_assert_str_eq(str_of(out, "status") ? str_of(out, "status") : "(none)", "error");
    return str(out, "error");
}

/* True if id looks like "<strategy>_<13 digits>_<4 hex>". */
static bool id_shape(const char *id, const char *strategy) {
    size_t n = strlen(strategy);
    if (strncmp(id, strategy, n) != 0 || id[n] != '_') return false;
    const char *p = id + n + 1;
    size_t digits = strspn(p, "0123456789");
    if (digits < 13 || p[digits] != '_') return false;
    p += digits + 1;
    return strlen(p) == 4 && strspn(p, "0123456789abcdef") == 4;
}

/* ------------------------------------------------------------------ the 10-case run */

static const char TEN_CASES[] =
    "return {\n"
    "  name = 'ten',\n"
    "  graders = { 'exact_match', 'contains' },\n"
    "  cases = {\n"
    "    { input = 'q1', expected = 'a1', tags = { 'easy' } },\n"
    "    { input = 'q2', expected = 'a2', tags = { 'easy' } },\n"
    "    { input = 'q3', expected = 'a3', tags = { 'easy' }, ctx = { prefix = 'X:' } },\n"
    "    { input = 'q4', expected = 'a4', tags = { 'easy' } },\n"
    "    { input = 'q5', expected = 'a5', tags = { 'hard' } },\n"
    "    { input = 'q6', expected = 'a6', tags = { 'hard', 'partial' } },\n"
    "    { input = 'q7', expected = 'a7', tags = { 'hard' } },\n"
    "    { input = 'q8', expected = 'a8', tags = { 'hard' } },\n"
    "    { input = 'q9', expected = 'a9', tags = { 'hard' } },\n"
    "    { input = 'q10', expected = 'a10', tags = { 'hard' }, ctx = { fail = true } },\n"
    "  },\n"
    "}\n";

// q1..q5 exactly right (score 1), q6/q7 right inside a sentence (contains only: 0.5),
// q8/q9 wrong (0); q10 never asks (the strategy raises: 0, error).
static const char *ten_host(const char *p) {
    static char buf[64];
    int n = 0;
    if (sscanf(strchr(p, 'q') ? strchr(p, 'q') + 1 : "", "%d", &n) != 1) return "?";
    if (n <= 5) snprintf(buf, sizeof buf, "a%d", n);
    else if (n <= 7) snprintf(buf, sizeof buf, "I think the answer is a%d.", n);
    else snprintf(buf, sizeof buf, "wrong");
    return buf;
}

Test(e2e_eval, ten_case_scenario_gives_exact_aggregates_and_is_saved) {
    start_server();
    cJSON *out = eval_inline("echo_strat", TEN_CASES, "{\"prefix\":\"P:\"}", ten_host);
    expect_completed(out);

    // every strategy prompt reached the host as a pause; strategy_opts and per-case ctx applied
    cr_assert_eq(g_nprompts, 9, "9 prompts (case 10 raises before asking), got %d", g_nprompts);
    cr_assert_str_eq(g_prompts[0], "P: q1");
    cr_assert_str_eq(g_prompts[2], "X: q3", "case ctx overrides strategy_opts");
    cr_assert_str_eq(g_prompts[3], "P: q4", "a case's ctx does not leak into the next case");
    expect_num(out, "stats.auto.llm_calls", 9);
    expect_num(out, "stats.auto.pauses", 9);

    const cJSON *r = get(out, "result");
    cr_assert_str_eq(str(r, "name"), "echo_strat:ten");
    cr_assert_str_eq(str(r, "strategy"), "echo_strat");
    cr_assert_str_eq(str(r, "scenario"), "ten");
    // scores [1,1,1,1,1,.5,.5,0,0,0]
    expect_num(r, "aggregated.total", 10);
    expect_num(r, "aggregated.passed", 5);
    expect_num(r, "aggregated.failed", 5);
    expect_num(r, "aggregated.errors", 1);
    expect_num(r, "aggregated.pass_rate", 0.5);
    expect_num(r, "aggregated.pass_at_1", 0.5);
    expect_num(r, "aggregated.scores.n", 10);
    expect_num(r, "aggregated.scores.mean", 0.6);
    expect_num(r, "aggregated.scores.min", 0);
    expect_num(r, "aggregated.scores.max", 1);
    expect_num(r, "aggregated.scores.median", 0.75);
    // sum of squared deviations 5(.4)² + 2(.1)² + 3(.6)² = 1.9; sqrt(1.9 / 9)
    expect_num(r, "aggregated.scores.std_dev", 0.4594682917363407256);
    // Wilson interval of 5/10, z = 1.959963984540054: center (0.5 + z²/20) / (1 + z²/10) = 0.5,
    // margin z sqrt((0.25 + z²/40) / 10) / (1 + z²/10) = 0.26340690948743599944 (the tests link no libm)
    expect_num(r, "aggregated.ci_95.lower", 0.23659309051256400056);
    expect_num(r, "aggregated.ci_95.upper", 0.76340690948743599944);
    // by tag
    expect_num(r, "aggregated.by_tag.easy.total", 4);
    expect_num(r, "aggregated.by_tag.easy.passed", 4);
    expect_num(r, "aggregated.by_tag.easy.pass_rate", 1);
    expect_num(r, "aggregated.by_tag.easy.mean_score", 1);
    expect_num(r, "aggregated.by_tag.hard.total", 6);
    expect_num(r, "aggregated.by_tag.hard.passed", 1);
    expect_num(r, "aggregated.by_tag.hard.pass_rate", 1.0 / 6.0);
    expect_num(r, "aggregated.by_tag.hard.mean_score", 2.0 / 6.0);
    expect_num(r, "aggregated.by_tag.partial.mean_score", 0.5);
    // per-case results
    cr_assert_eq(cJSON_GetArraySize(get(r, "results")), 10);
    expect_num(r, "results.5.score", 0.5);
    cr_assert(cJSON_IsFalse(get(r, "results.5.passed")));
    cr_assert_str_eq(str(r, "results.5.grades.0.grader"), "exact_match");
    cr_assert(cJSON_IsFalse(get(r, "results.5.grades.0.passed")));
    cr_assert(cJSON_IsTrue(get(r, "results.5.grades.1.passed")), "contains passes");
    cr_assert_str_eq(str(r, "results.5.output"), "I think the answer is a6.");
    expect_num(r, "results.0.llm_calls", 1);
    cr_assert(strstr(str(r, "results.9.error"), "deliberate failure on q10"), "%s", str(r, "results.9.error"));
    expect_num(r, "results.9.llm_calls", 0);
    // failures: cases 6..10 in order
    cr_assert_eq(cJSON_GetArraySize(get(r, "failures")), 5);
    expect_num(r, "failures.0.index", 6);
    expect_num(r, "failures.4.index", 10);
    cr_assert(strstr(str(r, "failures.2.reasons.0"), "exact_match: expected 'a8', got 'wrong'"), "%s",
              str(r, "failures.2.reasons.0"));
    cr_assert_str_eq(str(r, "summary"), "echo_strat:ten: 5/10 passed (50.0%), mean score 0.600");

    // saved: eval_id, files with private modes, detail and history
    const char *id = str(out, "eval_id");
    cr_assert(id_shape(id, "echo_strat"), "eval id shape: %s", id);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(out, "save_warning"));
    struct stat st;
    cr_assert_eq(stat(fmt("%s/evals/%s.json", g_home, id), &st), 0, "result file");
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(fmt("%s/evals/%s.meta.json", g_home, id), &st), 0, "meta file");
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(fmt("%s/evals", g_home), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);

    cJSON *detail = call("alc_eval_detail", args_of(fmt("{\"eval_id\":\"%s\"}", id)));
    cr_assert_str_eq(str(detail, "eval_id"), id);
    expect_num(detail, "result.aggregated.pass_rate", 0.5);
    expect_num(detail, "result.results.9.index", 10);

    cJSON *hist = call("alc_eval_history", cJSON_CreateObject());
    cr_assert_eq(cJSON_GetArraySize(get(hist, "evals")), 1);
    const cJSON *meta = get(hist, "evals.0");
    cr_assert_str_eq(str(meta, "eval_id"), id);
    cr_assert_str_eq(str(meta, "strategy"), "echo_strat");
    cr_assert_str_eq(str(meta, "scenario"), "ten");
    expect_num(meta, "pass_rate", 0.5);
    expect_num(meta, "mean_score", 0.6);
    expect_num(meta, "total_cases", 10);
    expect_num(meta, "passed", 5);
    expect_num(meta, "llm_calls", 9);
    cr_assert_str_eq(str(meta, "summary"), "echo_strat:ten: 5/10 passed (50.0%), mean score 0.600");
    cr_assert_str_eq(str(meta, "session_id"), str(out, "session_id"));
    cr_assert_gt(num(meta, "timestamp"), 1.6e12, "timestamp is Unix ms");
}

/* ------------------------------------------------------------------ graders */

static const char *judge_host(const char *p) {
    if (strstr(p, "Grade the answer below.")) {
        if (strstr(p, "Answer to grade:\nParis")) return "{\"score\": 9, \"reason\": \"correct\"}";
        return "I would give it 4 out of 10";
    }
    if (strstr(p, "capital of France")) return "Paris";
    return "Lyon";
}

Test(e2e_eval, llm_judge_prompts_pause_like_strategy_prompts) {
    start_server();
    cJSON *out = eval_inline("echo_strat",
                             "return { graders = { { 'llm_judge', rubric = 'Name the capital city.' } }, cases = {\n"
                             "  { input = 'capital of France?', expected = 'Paris' },\n"
                             "  { input = 'capital of Germany?' } } }",
                             NULL, judge_host);
    expect_completed(out);
    cr_assert_eq(g_nprompts, 4, "strategy, judge, strategy, judge");
    cr_assert(strstr(g_prompts[1], "Grade the answer below.") && strstr(g_prompts[1], "Reference answer:\nParis") &&
              strstr(g_prompts[1], "Name the capital city."), "judge prompt: %s", g_prompts[1]);
    cr_assert_null(strstr(g_prompts[3], "Reference answer"), "no reference without expected: %s", g_prompts[3]);
    const cJSON *r = get(out, "result");
    expect_num(r, "results.0.score", 0.9);
    cr_assert(cJSON_IsTrue(get(r, "results.0.passed")));
    cr_assert_str_eq(str(r, "results.0.grades.0.reason"), "correct");
    expect_num(r, "results.1.score", 0.4);
    cr_assert(cJSON_IsFalse(get(r, "results.1.passed")), "0.4 is below the default threshold 0.7");
    expect_num(r, "aggregated.scores.mean", 0.65);
    cr_assert_str_eq(str(r, "name"), "echo_strat:inline");
}

Test(e2e_eval, builtin_and_custom_graders_score_as_documented) {
    start_server();
    // const_strat answers with the input itself
    cJSON *out = eval_inline("const_strat",
                             "local function long(out) return #out > 10 end\n"
                             "return { graders = {\n"
                             "  { 'regex', pattern = '%d+' },\n"
                             "  { 'numeric_close', tolerance = 0.01 },\n"
                             "  { 'json_field', field = 'v.1' },\n"
                             "  long,\n"
                             "  { fn = function() return { score = 0.5, reason = 'half' } end, name = 'half', threshold = 0.5 },\n"
                             "}, cases = {\n"
                             "  { input = '{\"v\": [3.14]} value 3.141', expected = 3.14 },\n"
                             "  { input = '{\"v\": [2]} 7', expected = 3 },\n"
                             "} }",
                             NULL, NULL);
    expect_completed(out);
    const cJSON *r = get(out, "result");
    cr_assert_eq(g_nprompts, 0, "const_strat and these graders never ask the host");
    const char *labels[] = {"regex", "numeric_close", "json_field", "custom_4", "half"};
    for (int i = 0; i < 5; i++) cr_assert_str_eq(str(r, fmt("results.0.grades.%d.grader", i)), labels[i]);
    for (int i = 0; i < 5; i++) cr_assert(cJSON_IsTrue(get(r, fmt("results.0.grades.%d.passed", i))), "case 1 grader %d", i);
    expect_num(r, "results.0.score", 0.9);
    cr_assert(cJSON_IsTrue(get(r, "results.0.passed")));
    cr_assert(cJSON_IsFalse(get(r, "results.1.grades.1.passed")), "7 is not within 0.01 of 3 (last number)");
    cr_assert(cJSON_IsFalse(get(r, "results.1.grades.2.passed")), "v.1 is 2, not 3");
    cr_assert(cJSON_IsTrue(get(r, "results.1.grades.3.passed")));
    expect_num(r, "results.1.score", (1 + 0 + 0 + 1 + 0.5) / 5.0);
    expect_num(r, "aggregated.passed", 1);
}

/* alc.eval("name") from a script finds $ALC_HOME/scenarios/name.lua through alc._dirs, as the
 * alc_eval tool's scenario_name does. */
Test(e2e_eval, alc_eval_from_a_script_finds_a_scenario_by_name_in_alc_home) {
    start_server();
    mkdir_p(fmt("%s/scenarios", g_home));
    write_file(fmt("%s/scenarios/tiny.lua", g_home),
               "return { name = 'tiny', graders = { 'exact_match' },\n"
               "  cases = { { input = 'a', expected = 'a' }, { input = 'b', expected = 'c' } } }\n");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "code",
                            "assert(alc._dirs.scenarios == os.getenv('ALC_HOME') .. '/scenarios', alc._dirs.scenarios)\n"
                            "local r = alc.eval('tiny', 'const_strat')\n"
                            "return { scenario = r.scenario, total = r.aggregated.total, passed = r.aggregated.passed }");
    cJSON *out = call("alc_run", a);
    expect_completed(out);
    const cJSON *r = get(out, "result");
    cr_assert_str_eq(str(r, "scenario"), "tiny");
    expect_num(r, "total", 2);
    expect_num(r, "passed", 1);
}

/* ------------------------------------------------------------------ bad scenarios */

Test(e2e_eval, bad_scenarios_fail_with_clear_errors) {
    start_server();
    struct {
        const char *scenario, *want;
    } cases[] = {
        {"return { cases = { { input = 'a', expected = 'a' }, { expected = 'b' } } }", "evalframe: cases[2] has no 'input'"},
        {"return { graders = { 'exact_match', 'fuzzy' }, cases = { { input = 'a', expected = 'a' } } }",
         "evalframe: unknown grader 'fuzzy' in graders[2] (known: contains, exact_match, json_field, llm_judge, numeric_close, regex)"},
        {"return { graders = { function(out) error('grader bug') end }, cases = { { input = 'a', name = 'first' } } }",
         "evalframe: grader 'custom_1' (graders[1]) raised on cases[1] (first):"},
        {"return { cases = { { input = 'a' } } }", "evalframe: cases[1] has no 'expected', which grader 'exact_match' needs"},
        {"return { cases = {} }", "evalframe: the scenario needs 'cases'"},
        {"return { graders = { 'json_field' }, cases = { { input = 'a', expected = 1 } } }",
         "evalframe: grader 'json_field' in graders[1] needs a 'field' option"},
        {"return { cases = { { input = {}, expected = 'x' } } }", "evalframe: cases[1]: 'input' must be a string or a number"},
        {"return {", "alc_eval: the scenario does not compile: scenario:1:"},
        {"error('scenario bug')", "alc_eval: the scenario raised an error: scenario:1: scenario bug"},
        {"return 42", "alc_eval: the scenario must return a table, got number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *out = eval_inline("const_strat", cases[i].scenario, NULL, NULL);
        const char *err = expect_eval_error(out);
        cr_assert(strstr(err, cases[i].want), "scenario %zu: error '%s' should contain '%s'", i, err, cases[i].want);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(out, "eval_id"), "a failed eval is not saved");
    }
    cJSON *hist = call("alc_eval_history", cJSON_CreateObject());
    cr_assert_eq(cJSON_GetArraySize(get(hist, "evals")), 0, "nothing was saved");
    // the grader error names the grader's own message too
    cJSON *out = eval_inline("const_strat", cases[2].scenario, NULL, NULL);
    cr_assert(strstr(expect_eval_error(out), "grader bug"));
}

Test(e2e_eval, argument_errors_are_reported_before_any_session) {
    start_server();
    cr_assert_str_eq(call_error("alc_eval", args_of("{\"strategy\":\"const_strat\"}")),
                     "Provide one of: scenario, scenario_file, or scenario_name.");
    cr_assert_str_eq(call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario\":\"x\",\"scenario_file\":\"/y\"}")),
                     "Provide only one of: scenario, scenario_file, or scenario_name.");
    const char *m = call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario_name\":\"nope\"}"));
    cr_assert_str_eq(m, fmt("Scenario 'nope' not found at %s/scenarios/nope.lua", g_home));
    m = call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario_name\":\"../etc/passwd\"}"));
    cr_assert(strstr(m, "Invalid scenario name"), "%s", m);
    m = call_error("alc_eval", args_of("{\"strategy\":\"no_such_strategy\",\"scenario\":\"return {}\"}"));
    cr_assert(strstr(m, "Package 'no_such_strategy' not found"), "%s", m);
    m = call_error("alc_eval", args_of("{\"strategy\":\"../x\",\"scenario\":\"return {}\"}"));
    cr_assert(strstr(m, "'strategy' must be a package name"), "%s", m);
    m = call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario\":\"return {}\",\"strategy_opts\":[1]}"));
    cr_assert(strstr(m, "'strategy_opts' must be an object"), "%s", m);
    m = call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario_file\":\"/nonexistent/s.lua\"}"));
    cr_assert(strstr(m, "Failed to read scenario_file /nonexistent/s.lua"), "%s", m);
    m = call_error("alc_eval_detail", args_of("{\"eval_id\":\"../../etc/passwd\"}"));
    cr_assert(strstr(m, "Invalid eval_id"), "%s", m);
    m = call_error("alc_eval_detail", args_of("{\"eval_id\":\"cot_1_abcd\"}"));
    cr_assert_str_eq(m, "Eval result not found: cot_1_abcd");
}

Test(e2e_eval, strategy_opts_reach_the_strategy_as_data_never_as_code) {
    start_server();
    static const char nasty[] = "\"]] ) error('injected') --[[ ' \\n";
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "strategy", "echo_strat");
    cJSON_AddStringToObject(a, "scenario", "return { graders = { function() return true end }, cases = { { input = 'x' } } }");
    cJSON *o = cJSON_AddObjectToObject(a, "strategy_opts");
    cJSON_AddStringToObject(o, "prefix", nasty);
    cJSON *out = run_eval(a, ten_host);
    expect_completed(out);
    cr_assert_eq(g_nprompts, 1);
    cr_assert_str_eq(g_prompts[0], fmt("%s x", nasty), "the option arrives verbatim");
}

/* ------------------------------------------------------------------ files, names, history */

Test(e2e_eval, scenario_files_names_and_install_work) {
    start_server();
    char *src = alc_test_tmpdir();
    mkdir_p(fmt("%s/scenarios", src));
    write_file(fmt("%s/scenarios/basic.lua", src), "return { name = 'basic', cases = { { input = 'x', expected = 'x' } } }\n");
    write_file(fmt("%s/scenarios/two.lua", src),
               "return { cases = { { input = 'x', expected = 'x' }, { input = 'y', expected = 'z' } } }\n");
    write_file(fmt("%s/scenarios/notes.txt", src), "not a scenario\n");
    write_file(fmt("%s/root.lua", src), "return {}\n"); // ignored: scenarios/ wins

    cJSON *rep = call("alc_scenario_install", args_of(fmt("{\"url\":\"%s\"}", src)));
    cr_assert_eq(cJSON_GetArraySize(get(rep, "installed")), 2);
    cr_assert_str_eq(str(rep, "installed.0"), "basic");
    cr_assert_str_eq(str(rep, "installed.1"), "two");
    cr_assert_eq(cJSON_GetArraySize(get(rep, "skipped")), 0);
    rep = call("alc_scenario_install", args_of(fmt("{\"url\":\"%s\"}", src)));
    cr_assert_eq(cJSON_GetArraySize(get(rep, "installed")), 0, "existing scenarios are not overwritten");
    cr_assert_eq(cJSON_GetArraySize(get(rep, "skipped")), 2);

    cJSON *list = call("alc_scenario_list", cJSON_CreateObject());
    cr_assert_eq(cJSON_GetArraySize(get(list, "scenarios")), 2);
    cr_assert_str_eq(str(list, "scenarios.0.name"), "basic");
    cr_assert_str_eq(str(list, "scenarios.0.path"), fmt("%s/scenarios/basic.lua", g_home));
    expect_num(list, "scenarios.0.size_bytes", 71);
    reply shown = call_raw("alc_scenario_show", args_of("{\"name\":\"two\"}"));
    cr_assert(!shown.is_error);
    cr_assert_str_eq(shown.text, "return { cases = { { input = 'x', expected = 'x' }, { input = 'y', expected = 'z' } } }\n");
    free(shown.text);
    cr_assert(strstr(call_error("alc_scenario_show", args_of("{\"name\":\"zzz\"}")), "Scenario 'zzz' not found"));

    // by name and by file
    cJSON *out = run_eval(args_of("{\"strategy\":\"const_strat\",\"scenario_name\":\"two\"}"), NULL);
    expect_completed(out);
    expect_num(out, "result.aggregated.pass_rate", 0.5);
    out = run_eval(args_of(fmt("{\"strategy\":\"const_strat\",\"scenario_file\":\"%s/scenarios/basic.lua\"}", src)), NULL);
    expect_completed(out);
    cr_assert_str_eq(str(out, "result.scenario"), "basic");
    expect_num(out, "result.aggregated.pass_rate", 1);
    // a syntax error in a file names the file
    write_file(fmt("%s/broken.lua", src), "return {\n");
    out = run_eval(args_of(fmt("{\"strategy\":\"const_strat\",\"scenario_file\":\"%s/broken.lua\"}", src)), NULL);
    cr_assert(strstr(expect_eval_error(out), fmt("%s/broken.lua:", src)), "%s", str(out, "error"));

    // history: newest first, strategy filter, limit
    cJSON *h = call("alc_eval_history", args_of("{\"limit\":1}"));
    cr_assert_eq(cJSON_GetArraySize(get(h, "evals")), 1);
    cr_assert_str_eq(str(h, "evals.0.scenario"), "basic", "newest first");
    h = call("alc_eval_history", args_of("{\"strategy\":\"echo_strat\"}"));
    cr_assert_eq(cJSON_GetArraySize(get(h, "evals")), 0);
    h = call("alc_eval_history", args_of("{\"strategy\":\"const_strat\"}"));
    cr_assert_eq(cJSON_GetArraySize(get(h, "evals")), 2);

    // nothing to install
    char *empty = alc_test_tmpdir();
    cr_assert_str_eq(call_error("alc_scenario_install", args_of(fmt("{\"url\":\"%s\"}", empty))),
                     "No .lua scenario files found in source.");
    cr_assert(strstr(call_error("alc_scenario_install", args_of("{\"url\":\"relative/dir\"}")), "invalid url"));
    alc_test_rmtree(empty);
    free(empty);

    // a git repository (file:// URL: no network)
    char *repo = alc_test_tmpdir();
    write_file(fmt("%s/from_git.lua", repo), "return { cases = { { input = 'g', expected = 'g' } } }\n");
    int rc = system(fmt("cd '%s' && git init -q . && git add from_git.lua && "
                        "git -c user.name=t -c user.email=t@t commit -q -m init", repo));
    if (rc == 0) {
        rep = call("alc_scenario_install", args_of(fmt("{\"url\":\"file://%s\"}", repo)));
        cr_assert_eq(cJSON_GetArraySize(get(rep, "installed")), 1);
        cr_assert_str_eq(str(rep, "installed.0"), "from_git");
        cr_assert(exists(fmt("%s/scenarios/from_git.lua", g_home)));
    } else {
        cr_log_warn("git is not usable here; the git install path was not tested");
    }
    alc_test_rmtree(repo);
    free(repo);
    alc_test_rmtree(src);
    free(src);
}

/* ------------------------------------------------------------------ compare */

// const_strat answers with the input; graders exact_match + contains give 1 for input == expected,
// 0.5 when the input only contains expected, 0 otherwise.
static const char *eval_scores(const char *name, const char *cases) {
    char sc[4096];
    snprintf(sc, sizeof sc, "return { name = '%s', graders = { 'exact_match', 'contains' }, cases = { %s } }", name, cases);
    cJSON *out = eval_inline("const_strat", sc, NULL, NULL);
    expect_completed(out);
    return str(out, "eval_id");
}
#define S1 "{ input = 'x', expected = 'x' },"
#define SH "{ input = 'xy', expected = 'x' },"
#define S0 "{ input = 'y', expected = 'x' },"

Test(e2e_eval, compare_matches_hand_computed_welch_and_is_cached) {
    start_server();
    const char *a = strdup(eval_scores("A", S1 S1 SH S1 S0));        // [1,1,.5,1,0]
    const char *b = strdup(eval_scores("B", S0 SH S0 S0 S1 S0 SH));  // [0,.5,0,0,1,0,.5]
    cJSON *cmp = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", a, b)));
    // mean a .7, var a .2; mean b 2/7, var b 13/84; se² = 1/25 + 13/588 = 913/14700
    expect_num(cmp, "a.mean", 0.7);
    expect_num(cmp, "a.std_dev", 0.44721359549995793928); // sqrt(0.2)
    expect_num(cmp, "a.n", 5);
    expect_num(cmp, "b.mean", 2.0 / 7.0);
    expect_num(cmp, "b.std_dev", 0.39339789623472157290); // sqrt(13/84)
    expect_num(cmp, "b.n", 7);
    cr_assert_str_eq(str(cmp, "a.eval_id"), a);
    cr_assert_str_eq(str(cmp, "b.scenario"), "B");
    expect_num(cmp, "comparison.delta_mean", 0.7 - 2.0 / 7.0);
    // t = (29/70) / sqrt(913/14700) = 1.66235294254438647620 (the tests link no libm)
    double se2 = 913.0 / 14700.0;
    double df = se2 * se2 / ((1.0 / 25) * (1.0 / 25) / 4 + (13.0 / 588) * (13.0 / 588) / 6);
    expect_num(cmp, "comparison.welch_t.t_stat", 1.6623529425443864762);
    expect_num(cmp, "comparison.welch_t.df", df);
    double p = num(cmp, "comparison.welch_t.p_value");
    cr_assert(fabs(p - 0.13495922956180275903) < 1e-11, "p = %.17g", p);
    cr_assert(cJSON_IsFalse(get(cmp, "comparison.welch_t.significant")));
    cr_assert_str_eq(str(cmp, "comparison.welch_t.direction"), "a>b");
    cr_assert_str_eq(str(cmp, "comparison.winner"), "none", "no winner without significance");

    // cached: the file exists and a second call gives the same text
    cr_assert(exists(fmt("%s/evals/compare_%s_vs_%s.json", g_home, a, b)));
    char *first = cJSON_PrintUnformatted(cmp);
    cJSON *again = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", a, b)));
    char *second = cJSON_PrintUnformatted(again);
    cr_assert_str_eq(first, second);
    cJSON_free(first);
    cJSON_free(second);

    // a significant difference names a winner: 8 × 1 (+ one 0.5) against 8 × 0 (+ one 0.5)
    const char *hi = strdup(eval_scores("HI", S1 S1 S1 S1 S1 S1 S1 S1 SH));
    const char *lo = strdup(eval_scores("LO", S0 S0 S0 S0 S0 S0 S0 S0 SH));
    cmp = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", lo, hi)));
    cr_assert(cJSON_IsTrue(get(cmp, "comparison.welch_t.significant")));
    cr_assert_str_eq(str(cmp, "comparison.winner"), "b");
    cr_assert_str_eq(str(cmp, "comparison.welch_t.direction"), "a<b");
    cr_assert_lt(num(cmp, "comparison.welch_t.p_value"), 0.05);

    // the same eval against itself: t 0, p 1
    cmp = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", a, a)));
    expect_num(cmp, "comparison.welch_t.t_stat", 0);
    expect_num(cmp, "comparison.welch_t.p_value", 1);
    cr_assert_str_eq(str(cmp, "comparison.winner"), "none");
    cr_assert_str_eq(str(cmp, "comparison.welch_t.direction"), "equal");

    cr_assert(strstr(call_error("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"x_1_0000\"}", a))),
                     "Eval result not found: x_1_0000"));
    cr_assert(strstr(call_error("alc_eval_compare", args_of("{\"eval_id_a\":\"a/b\",\"eval_id_b\":\"x\"}")), "Invalid eval_id_a"));
    free((void *)a);
    free((void *)b);
    free((void *)hi);
    free((void *)lo);
}

Test(e2e_eval, compare_of_constant_scores_has_no_nan) {
    start_server();
    const char *ones = strdup(eval_scores("ONES", S1 S1 S1));
    const char *zeros = strdup(eval_scores("ZEROS", S0 S0 S0 S0));
    const char *one = strdup(eval_scores("ONE", S1));
    reply r = call_raw("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", ones, zeros)));
    cr_assert(!r.is_error);
    cr_assert_null(strstr(r.text, "nan"), "%s", r.text);
    cr_assert_null(strstr(r.text, "NaN"), "%s", r.text);
    cJSON *cmp = keep(cJSON_Parse(r.text));
    free(r.text);
    cr_assert(cJSON_IsNull(get(cmp, "comparison.welch_t.t_stat")), "infinite t is null");
    expect_num(cmp, "comparison.welch_t.p_value", 0);
    expect_num(cmp, "comparison.welch_t.df", 5);
    cr_assert(cJSON_IsTrue(get(cmp, "comparison.welch_t.significant")));
    cr_assert_str_eq(str(cmp, "comparison.winner"), "a");
    cr_assert(strstr(str(cmp, "comparison.welch_t.note"), "constant scores"));

    cmp = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", ones, ones)));
    expect_num(cmp, "comparison.welch_t.t_stat", 0);
    expect_num(cmp, "comparison.welch_t.p_value", 1);
    cr_assert_str_eq(str(cmp, "comparison.winner"), "none");

    cmp = call("alc_eval_compare", args_of(fmt("{\"eval_id_a\":\"%s\",\"eval_id_b\":\"%s\"}", one, zeros)));
    cr_assert(cJSON_IsNull(get(cmp, "comparison.welch_t.p_value")), "one case: no test");
    cr_assert(cJSON_IsNull(get(cmp, "comparison.welch_t.df")));
    cr_assert(cJSON_IsFalse(get(cmp, "comparison.welch_t.significant")));
    cr_assert_str_eq(str(cmp, "comparison.winner"), "none");
    free((void *)ones);
    free((void *)zeros);
    free((void *)one);
}

/* ------------------------------------------------------------------ ids, saving, packages */

Test(e2e_eval, evals_in_quick_succession_get_distinct_ids) {
    start_server();
    char *ids[6];
    for (int i = 0; i < 6; i++) ids[i] = strdup(eval_scores("Q", S1));
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++) cr_assert_str_neq(ids[i], ids[j]);
    cJSON *h = call("alc_eval_history", args_of("{\"limit\":0}"));
    cr_assert_eq(cJSON_GetArraySize(get(h, "evals")), 6, "none overwrote another");
    for (int i = 0; i < 6; i++) free(ids[i]);
}

Test(e2e_eval, a_failed_save_is_reported_as_save_warning) {
    start_server();
    // a regular file where the evals directory should be
    write_file(fmt("%s/evals", g_home), "in the way\n");
    cJSON *out = eval_inline("const_strat", "return { cases = { { input = 'x', expected = 'x' } } }", NULL, NULL);
    expect_completed(out);
    cr_assert(strstr(str(out, "save_warning"), "the evaluation result was not saved"), "%s", str(out, "save_warning"));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(out, "eval_id"));
    expect_num(out, "result.aggregated.pass_rate", 1);
}

Test(e2e_eval, missing_evalframe_is_installed_from_the_bundled_collection) {
    const char *dir = getenv("ALC_PACKAGES_DIR");
    cr_assert(dir && *dir);
    static char bundled[4200];
    snprintf(bundled, sizeof bundled, "ALC_BUNDLED_DIR=%s", dir);
    start_server_with(bundled, false);
    // a non-empty packages directory: the whole collection is not installed, only evalframe
    mkdir_p(fmt("%s/packages/other", g_home));
    write_file(fmt("%s/packages/other/init.lua", g_home), "return {}\n");
    cJSON *out = eval_inline("const_strat", "return { cases = { { input = 'x', expected = 'x' } } }", NULL, NULL);
    expect_completed(out);
    cr_assert(exists(fmt("%s/packages/evalframe/init.lua", g_home)), "evalframe was installed");
    cr_assert(exists(fmt("%s/packages/evalframe/graders.lua", g_home)), "with its modules");
    cr_assert(!exists(fmt("%s/packages/cot", g_home)), "nothing else was installed");
}

Test(e2e_eval, no_evalframe_anywhere_is_a_clear_error) {
    start_server_with("ALC_BUNDLED_DIR=/nonexistent/alc-bundle", false);
    const char *m = call_error("alc_eval", args_of("{\"strategy\":\"const_strat\",\"scenario\":\"return {}\"}"));
    cr_assert(strstr(m, "evalframe (the evaluation framework) is not installed"), "%s", m);
    // alc.eval from a script says the same in Lua terms
    cJSON *out = call("alc_run", args_of("{\"code\":\"return alc.eval({cases={{input='x'}}}, 'const_strat')\"}"));
    cr_assert_str_eq(str(out, "status"), "error");
    cr_assert(strstr(str(out, "error"), "alc.eval: evalframe not installed"), "%s", str(out, "error"));
}

Test(e2e_eval, alc_eval_in_a_script_resolves_scenarios_by_module_name) {
    start_server();
    mkdir_p(fmt("%s/my_scenario", g_fix));
    write_file(fmt("%s/my_scenario/init.lua", g_fix),
               "return { name = 'mod', cases = { { input = 'x', expected = 'x' }, { input = 'y', expected = 'x' } } }\n");
    cJSON *out = call("alc_run", args_of("{\"code\":\"local r = alc.eval('my_scenario', 'const_strat') "
                                         "return {rate = r.aggregated.pass_rate, name = r.name}\"}"));
    cr_assert_str_eq(str(out, "status"), "completed");
    expect_num(out, "result.rate", 0.5);
    cr_assert_str_eq(str(out, "result.name"), "const_strat:mod");
    out = call("alc_run", args_of("{\"code\":\"return alc.eval('no_such_scenario', 'const_strat')\"}"));
    cr_assert(strstr(str(out, "error"), "alc.eval: could not resolve scenario 'no_such_scenario'"), "%s", str(out, "error"));
}

Test(e2e_eval, a_cancelled_eval_is_not_saved_and_the_server_exits_cleanly) {
    start_server();
    cJSON *a = args_of("{\"strategy\":\"echo_strat\"}");
    cJSON_AddStringToObject(a, "scenario", "return { cases = { { input = 'q1', expected = 'a1' }, { input = 'q2', expected = 'a2' } } }");
    cJSON *out = call("alc_eval", a);
    cr_assert_str_eq(str(out, "status"), "needs_response");
    const char *sid = str(out, "session_id");
    // answer the first case, then cancel while the second one waits
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "session_id", sid);
    cJSON_AddStringToObject(c, "response", "a1");
    out = call("alc_continue", c);
    cr_assert_str_eq(str(out, "status"), "needs_response");
    cJSON *cancel = cJSON_CreateObject();
    cJSON_AddStringToObject(cancel, "session_id", sid);
    cJSON *st = call("alc_cancel", cancel);
    cr_assert_str_eq(str(st, "state"), "cancelled");
    cJSON *h = call("alc_eval_history", cJSON_CreateObject());
    cr_assert_eq(cJSON_GetArraySize(get(h, "evals")), 0, "a cancelled eval is not saved");
    // a second eval in the same server still saves (the parked hook of the first is not reused)
    cJSON *ok = eval_inline("const_strat", "return { cases = { { input = 'x', expected = 'x' } } }", NULL, NULL);
    expect_completed(ok);
    cr_assert(id_shape(str(ok, "eval_id"), "const_strat"));
    alc_proc_close_stdin(g_proc);
    for (;;) {
        int s;
        char *raw = alc_proc_recv(g_proc, 5000, &s);
        free(raw);
        if (s != ALC_PROC_LINE) break;
    }
    int es = -1;
    cr_assert_eq(alc_proc_wait(g_proc, 5000, &es), 0, "server exits after stdin EOF");
    cr_assert_eq(es, 0, "exit status 0 (sanitizer reports would change it)");
}
