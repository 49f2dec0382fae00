/*
 * test_e2e_strategies.c — end-to-end tests of the bundled strategy packages (packages/<name>/).
 *
 * Each test spawns the real server ($ALC_BIN) with ALC_PACKAGES_PATH = $ALC_PACKAGES_DIR (the
 * repository's packages/ directory, set by tests/meson.build), calls alc_advice and then acts as
 * a scripted host: every prompt is answered with canned text chosen by keywords in the prompt
 * (each test has its own responder), a batch pause is answered with one alc_continue carrying
 * all responses in order. The run records the shape of every pause (1 for a single pause, N for
 * a batch of N queries), every prompt and its grounded flag, and the final outcome; the tests
 * then assert the exact call count (stats.auto.llm_calls), the pause shapes and the fields of
 * ctx.result. A last group runs every strategy with junk answers and without a task.
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
#include <time.h>

TestSuite(e2e_strategies, .timeout = 180);

#define REPLY_MS 30000    // max wait for one tool reply (sanitizer builds are slow)
#define MAX_PAUSES 256    // pauses recorded per run (more fails the test: runaway strategy)
#define MAX_QUERIES 1024  // queries recorded per run

typedef const char *(*responder)(const char *prompt, void *ud);

typedef struct run {
    int npauses;
    int pause_size[MAX_PAUSES];  // queries per pause, in order
    int nqueries;
    char *prompt[MAX_QUERIES];   // every prompt, in the order asked (owned)
    bool grounded[MAX_QUERIES];
    cJSON *outcome;              // the final tool outcome (owned)
    const cJSON *result;         // outcome.result.result (ctx.result), borrowed from outcome
    long long llm_calls;         // stats.auto.llm_calls
    long long pauses;            // stats.auto.pauses
} run;

static alc_proc *g_proc;
static char *g_home;
static run g_run;
static int g_id;

static void free_run(run *r) {
    for (int i = 0; i < r->nqueries; i++) free(r->prompt[i]);
    cJSON_Delete(r->outcome);
    memset(r, 0, sizeof *r);
}

static void teardown(void) {
    free_run(&g_run);
    alc_proc_free(g_proc);
    g_proc = NULL;
    if (g_home) alc_test_rmtree(g_home);
    free(g_home);
    g_home = NULL;
}

/* ------------------------------------------------------------------ failure reporting */

// Fails the test with the message plus the tail of the server's stderr.
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
    abort(); // not reached
}

/* ------------------------------------------------------------------ protocol */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Sends req (borrowed) and returns the reply with the given id (new tree), skipping notifications.
static cJSON *rpc(cJSON *req, int id) {
    char *line = cJSON_PrintUnformatted(req);
    if (!line) fail("out of memory building a request");
    int rc = alc_proc_send(g_proc, line);
    int saved = errno;
    cJSON_free(line);
    if (rc != 0) fail("sending a request failed: %s", strerror(saved));
    long long deadline = now_ms() + REPLY_MS;
    for (;;) {
        long long left = deadline - now_ms();
        int st;
        char *raw = alc_proc_recv(g_proc, left > 0 ? (int)left : 0, &st);
        if (st == ALC_PROC_TIMEOUT) fail("no reply within %d ms", REPLY_MS);
        if (st != ALC_PROC_LINE) {
            free(raw);
            fail("server stdout ended or failed (status %d)", st);
        }
        cJSON *m = cJSON_Parse(raw);
        free(raw);
        if (!m) fail("a stdout line is not JSON");
        if (cJSON_GetObjectItemCaseSensitive(m, "method")) { // a notification
            cJSON_Delete(m);
            continue;
        }
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsNumber(rid) || (int)rid->valuedouble != id) {
            cJSON_Delete(m);
            fail("reply with an unexpected id (wanted %d)", id);
        }
        return m;
    }
}

// Calls a tool and returns the parsed JSON of its text content (new tree).
static cJSON *tool_call(const char *tool, cJSON *args /* owns */) {
    int id = ++g_id;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args);
    cJSON *m = rpc(req, id);
    cJSON_Delete(req);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(m, "result");
    const cJSON *content = res ? cJSON_GetObjectItemCaseSensitive(res, "content") : NULL;
    const cJSON *first = cJSON_IsArray(content) ? content->child : NULL;
    const cJSON *text = first ? cJSON_GetObjectItemCaseSensitive(first, "text") : NULL;
    if (!cJSON_IsString(text)) {
        char *t = cJSON_PrintUnformatted(m);
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", t ? t : "?");
        cJSON_free(t);
        cJSON_Delete(m);
        fail("%s: no text result: %s", tool, copy);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"))) {
        char copy[2048];
        snprintf(copy, sizeof copy, "%s", text->valuestring);
        cJSON_Delete(m);
        fail("%s failed (isError): %s", tool, copy);
    }
    cJSON *out = cJSON_Parse(text->valuestring);
    cJSON_Delete(m);
    if (!out) fail("%s: text result is not JSON", tool);
    return out;
}

static const char *str_field(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// Records one query and returns the response text chosen by fn.
static const char *answer_query(run *r, const cJSON *q, responder fn, void *ud) {
    const char *prompt = str_field(q, "prompt");
    if (!prompt) fail("a query without a prompt");
    if (r->nqueries >= MAX_QUERIES) fail("more than %d queries", MAX_QUERIES);
    r->prompt[r->nqueries] = strdup(prompt);
    r->grounded[r->nqueries] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "grounded"));
    r->nqueries++;
    const char *a = fn(prompt, ud);
    return a ? a : "";
}

/*
 * Runs strategy through alc_advice with task (may be NULL) and opts (JSON object text or NULL),
 * answering every query with fn(prompt, ud). Fills g_run. The run must end "completed" unless
 * want_error, in which case it must end with status "error" (the outcome is kept in g_run).
 */
static run *advise(const char *strategy, const char *task, const char *opts, responder fn, void *ud,
                   bool want_error) {
    const char *dir = getenv("ALC_PACKAGES_DIR");
    cr_assert(dir && *dir, "ALC_PACKAGES_DIR must name the repository's packages/ directory");
    char pp[4200];
    snprintf(pp, sizeof pp, "ALC_PACKAGES_PATH=%s", dir);
    const char *env[] = {pp, "ALC_LOG_LEVEL=off", NULL};
    g_home = alc_test_tmpdir();
    g_proc = alc_proc_spawn_alc(g_home, env, ALC_PROC_STDERR_CAPTURE);
    if (!g_proc) fail("cannot spawn $ALC_BIN: %s", strerror(errno));
    if (alc_proc_initialize(g_proc) != 0) fail("MCP initialize failed");

    run *r = &g_run;
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "strategy", strategy);
    if (task) cJSON_AddStringToObject(args, "task", task);
    if (opts) {
        cJSON *o = cJSON_Parse(opts);
        if (!cJSON_IsObject(o)) fail("test bug: opts is not a JSON object: %s", opts);
        cJSON_AddItemToObject(args, "opts", o);
    }
    cJSON *out = tool_call("alc_advice", args);
    for (;;) {
        const char *status = str_field(out, "status");
        if (status && strcmp(status, "needs_response") == 0) {
            if (r->npauses >= MAX_PAUSES) fail("%s: more than %d pauses", strategy, MAX_PAUSES);
            const char *sid = str_field(out, "session_id");
            if (!sid) fail("needs_response without session_id");
            cJSON *cargs = cJSON_CreateObject();
            cJSON_AddStringToObject(cargs, "session_id", sid);
            const cJSON *queries = cJSON_GetObjectItemCaseSensitive(out, "queries");
            if (cJSON_IsArray(queries)) {
                int n = cJSON_GetArraySize(queries);
                r->pause_size[r->npauses++] = n;
                cJSON *responses = cJSON_AddArrayToObject(cargs, "responses");
                const cJSON *q;
                cJSON_ArrayForEach(q, queries) {
                    const char *qid = str_field(q, "id");
                    if (!qid) fail("batch query without id");
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "query_id", qid);
                    cJSON_AddStringToObject(e, "response", answer_query(r, q, fn, ud));
                    cJSON_AddItemToArray(responses, e);
                }
            } else {
                const char *qid = str_field(out, "query_id");
                if (!qid) fail("single pause without query_id");
                r->pause_size[r->npauses++] = 1;
                cJSON_AddStringToObject(cargs, "query_id", qid);
                cJSON_AddStringToObject(cargs, "response", answer_query(r, out, fn, ud));
            }
            cJSON_Delete(out);
            out = tool_call("alc_continue", cargs);
            continue;
        }
        r->outcome = out;
        if (want_error) {
            if (!status || strcmp(status, "error") != 0) fail("%s: expected status error, got %s", strategy, status ? status : "(none)");
            return r;
        }
        if (!status || strcmp(status, "completed") != 0) {
            const char *err = str_field(out, "error");
            fail("%s: run ended with status %s: %s", strategy, status ? status : "(none)", err ? err : "");
        }
        break;
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(r->outcome, "result");
    r->result = cJSON_IsObject(ctx) ? cJSON_GetObjectItemCaseSensitive(ctx, "result") : NULL;
    if (!cJSON_IsObject(r->result)) fail("%s: the returned ctx has no result table", strategy);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(r->outcome, "stats");
    const cJSON *autos = stats ? cJSON_GetObjectItemCaseSensitive(stats, "auto") : NULL;
    const cJSON *calls = autos ? cJSON_GetObjectItemCaseSensitive(autos, "llm_calls") : NULL;
    const cJSON *pauses = autos ? cJSON_GetObjectItemCaseSensitive(autos, "pauses") : NULL;
    if (!cJSON_IsNumber(calls) || !cJSON_IsNumber(pauses)) fail("%s: no stats.auto.llm_calls/pauses", strategy);
    r->llm_calls = (long long)calls->valuedouble;
    r->pauses = (long long)pauses->valuedouble;
    cr_assert_eq(r->llm_calls, r->nqueries, "%s: stats.auto.llm_calls %lld but the host answered %d queries",
                 strategy, r->llm_calls, r->nqueries);
    cr_assert_eq(r->pauses, r->npauses, "%s: stats.auto.pauses %lld but the host saw %d pauses", strategy,
                 r->pauses, r->npauses);
    return r;
}

/* ------------------------------------------------------------------ assertions */

// Asserts the exact pause shapes: n pauses with the given numbers of queries.
static void expect_shape(const run *r, int n, const int *sizes) {
    char got[512] = "", want[512] = "";
    for (int i = 0; i < r->npauses && strlen(got) < 480; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? "," : "", r->pause_size[i]);
    for (int i = 0; i < n && strlen(want) < 480; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", i ? "," : "", sizes[i]);
    cr_assert_str_eq(got, want, "pause shapes: got [%s], want [%s]", got, want);
}
#define EXPECT_SHAPE(r, ...)                                                  \
    do {                                                                      \
        static const int want_[] = {__VA_ARGS__};                             \
        expect_shape((r), (int)(sizeof want_ / sizeof want_[0]), want_);      \
    } while (0)

static const cJSON *field(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    cr_assert_not_null(v, "result field '%s' is missing", key);
    return v;
}

static const char *fstr(const cJSON *o, const char *key) {
    const cJSON *v = field(o, key);
    cr_assert(cJSON_IsString(v), "field '%s' is not a string", key);
    return v->valuestring;
}

static double fnum(const cJSON *o, const char *key) {
    const cJSON *v = field(o, key);
    cr_assert(cJSON_IsNumber(v), "field '%s' is not a number", key);
    return v->valuedouble;
}

static bool fbool(const cJSON *o, const char *key) {
    const cJSON *v = field(o, key);
    cr_assert(cJSON_IsBool(v), "field '%s' is not a boolean", key);
    return cJSON_IsTrue(v);
}

static const cJSON *farr(const cJSON *o, const char *key, int want_len) {
    const cJSON *v = field(o, key);
    cr_assert(cJSON_IsArray(v), "field '%s' is not an array", key);
    cr_assert_eq(cJSON_GetArraySize(v), want_len, "field '%s' has %d elements, want %d", key,
                 cJSON_GetArraySize(v), want_len);
    return v;
}

static const cJSON *at(const cJSON *arr, int i) {
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    cr_assert_not_null(v, "array element %d is missing", i);
    return v;
}

static void expect_num(double got, double want, const char *what) {
    cr_assert(fabs(got - want) < 1e-9, "%s: got %.12g, want %.12g", what, got, want);
}

static bool has(const char *s, const char *needle) { return strstr(s, needle) != NULL; }

/* ------------------------------------------------------------------ cot */

static const char *cot_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Therefore, the answer is")) return "36";
    if (has(p, "reasoning step 1 of 3")) return "Each spider has 8 legs, so three spiders have 24 legs.";
    if (has(p, "reasoning step 2 of 3")) return "Each ant has 6 legs, so two ants have 12 legs.";
    if (has(p, "reasoning step 3 of 3")) return "24 + 12 = 36 legs in total.";
    return "unexpected prompt";
}

Test(e2e_strategies, cot_reasons_in_three_chained_steps_then_extracts_the_answer, .fini = teardown) {
    run *r = advise("cot", "How many legs do three spiders and two ants have together?", NULL, cot_host, NULL, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "36");
    const cJSON *steps = farr(r->result, "steps", 3);
    cr_assert_str_eq(at(steps, 1)->valuestring, "Each ant has 6 legs, so two ants have 12 legs.");
    cr_assert(has(fstr(r->result, "reasoning"), "Step 3: 24 + 12 = 36"));
    // each step sees the chain so far; the extraction sees all of it
    cr_assert(has(r->prompt[1], "Step 1: Each spider has 8 legs"));
    cr_assert(!has(r->prompt[0], "Step 1:"));
    cr_assert(has(r->prompt[3], "Step 2: Each ant"));
}

/* ------------------------------------------------------------------ sc */

static const char *sc_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "What final answer does it arrive at")) {
        if (has(p, "ANSWER: 41")) return "41";
        if (has(p, "ANSWER: 42 apples")) return "**42.**";
        return "42";
    }
    if (has(p, "independent attempt 3 of 5")) return "Miscounted the baskets.\nANSWER: 41";
    if (has(p, "independent attempt 5 of 5")) return "Six baskets of seven.\nANSWER: 42 apples";
    if (has(p, "independent attempt")) return "6 * 7 = 42.\nANSWER: 42";
    if (has(p, "reached the same conclusion")) return "42 apples: six baskets with seven apples each.";
    return "unexpected prompt";
}

Test(e2e_strategies, sc_takes_the_majority_of_five_sampled_paths, .fini = teardown) {
    run *r = advise("sc", "Six baskets hold seven apples each. How many apples are there?", NULL, sc_host, NULL, false);
    cr_assert_eq(r->llm_calls, 11);
    EXPECT_SHAPE(r, 5, 5, 1);
    cr_assert_str_eq(fstr(r->result, "majority"), "42");
    expect_num(fnum(r->result, "confidence"), 0.8, "confidence");
    const cJSON *votes = farr(r->result, "votes", 2);
    cr_assert_str_eq(fstr(at(votes, 0), "answer"), "42");
    expect_num(fnum(at(votes, 0), "count"), 4, "votes[0].count");
    cr_assert_str_eq(fstr(at(votes, 1), "answer"), "41");
    expect_num(fnum(at(votes, 1), "count"), 1, "votes[1].count");
    const cJSON *answers = farr(r->result, "answers", 5);
    cr_assert_str_eq(at(answers, 2)->valuestring, "41");
    cr_assert_str_eq(at(answers, 4)->valuestring, "42", "emphasis and the final period are stripped");
    farr(r->result, "paths", 5);
    cr_assert_str_eq(fstr(r->result, "answer"), "42 apples: six baskets with seven apples each.");
    // the final call is told the majority and shown a majority path
    cr_assert(has(r->prompt[10], "4 of 5"));
    cr_assert(has(r->prompt[10], "ANSWER: 42"));
}

/* ------------------------------------------------------------------ reflect */

typedef struct reflect_ud {
    int critiques;
    int converge_at; // critique number that says NO_MAJOR_ISSUES (0: never)
    int drafts;
    char buf[64];
} reflect_ud;

static const char *reflect_host(const char *p, void *ud) {
    reflect_ud *u = ud;
    if (has(p, "Review the draft critically")) {
        u->critiques++;
        if (u->critiques == u->converge_at) return "NO_MAJOR_ISSUES";
        return "The draft forgets the empty-list case; handle it explicitly.";
    }
    if (has(p, "Rewrite the draft")) {
        u->drafts++;
        snprintf(u->buf, sizeof u->buf, "draft v%d", u->drafts + 1);
        return u->buf;
    }
    if (has(p, "Write your best response")) return "draft v1";
    return "unexpected prompt";
}

Test(e2e_strategies, reflect_stops_when_the_second_critique_finds_no_major_issues, .fini = teardown) {
    reflect_ud u = {.converge_at = 2};
    run *r = advise("reflect", "Write a function that returns the largest element of a list.", NULL, reflect_host, &u, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "draft v2");
    cr_assert_str_eq(fstr(r->result, "initial"), "draft v1");
    expect_num(fnum(r->result, "rounds"), 2, "rounds");
    cr_assert(fbool(r->result, "converged"));
    const cJSON *h = farr(r->result, "history", 2);
    cr_assert_str_eq(fstr(at(h, 0), "revision"), "draft v2");
    cr_assert_str_eq(fstr(at(h, 1), "critique"), "NO_MAJOR_ISSUES");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(at(h, 1), "revision"), "no revision after convergence");
    // the refinement sees the feedback, the second critique sees the refined draft
    cr_assert(has(r->prompt[2], "empty-list case"));
    cr_assert(has(r->prompt[3], "draft v2"));
}

Test(e2e_strategies, reflect_without_convergence_makes_seven_calls, .fini = teardown) {
    reflect_ud u = {.converge_at = 0};
    run *r = advise("reflect", "Write a haiku about compilers.", NULL, reflect_host, &u, false);
    cr_assert_eq(r->llm_calls, 7);
    EXPECT_SHAPE(r, 1, 1, 1, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "draft v4");
    expect_num(fnum(r->result, "rounds"), 3, "rounds");
    cr_assert(!fbool(r->result, "converged"));
    farr(r->result, "history", 3);
}

Test(e2e_strategies, reflect_stops_after_two_calls_when_the_first_critique_is_clean, .fini = teardown) {
    reflect_ud u = {.converge_at = 1};
    run *r = advise("reflect", "Say hello politely.", NULL, reflect_host, &u, false);
    cr_assert_eq(r->llm_calls, 2);
    EXPECT_SHAPE(r, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "draft v1");
    cr_assert(fbool(r->result, "converged"));
}

/* ------------------------------------------------------------------ cove */

#define COVE_BASELINE "Marie Curie won Nobel Prizes in Physics (1903) and Chemistry (1911); she was born in Warsaw."

static const char *cove_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Independent verification results")) return "Marie Curie won the Physics prize in 1903 and the Chemistry prize in 1911.";
    if (has(p, "Write at most 3 verification questions"))
        return "Here they are:\n```json\n[\"In which year did Marie Curie win the Nobel Prize in Physics?\", "
               "\"In which year did Marie Curie win the Nobel Prize in Chemistry?\", \"Where was Marie Curie born?\", "
               "\"Did she have children?\"]\n```";
    if (has(p, "accurately and concisely")) {
        if (has(p, "Physics")) return "1903";
        if (has(p, "Chemistry")) return "1911";
        if (has(p, "born")) return "Warsaw";
        return "unknown";
    }
    if (has(p, "Answer the following query")) return COVE_BASELINE;
    return "unexpected prompt";
}

Test(e2e_strategies, cove_verifies_in_one_grounded_batch_of_three, .fini = teardown) {
    run *r = advise("cove", "Which Nobel Prizes did Marie Curie win, and where was she born?", NULL, cove_host, NULL, false);
    cr_assert_eq(r->llm_calls, 6);
    EXPECT_SHAPE(r, 1, 1, 3, 1);
    for (int i = 0; i < 6; i++) {
        bool want = i >= 2 && i <= 4;
        cr_assert_eq(r->grounded[i], want, "query %d grounded = %d, want %d", i, r->grounded[i], want);
        if (want) cr_assert(!has(r->prompt[i], COVE_BASELINE), "verification %d must not see the baseline", i);
    }
    cr_assert_str_eq(fstr(r->result, "baseline"), COVE_BASELINE);
    cr_assert(fbool(r->result, "revised"));
    const cJSON *v = farr(r->result, "verifications", 3);
    cr_assert_str_eq(fstr(at(v, 0), "question"), "In which year did Marie Curie win the Nobel Prize in Physics?");
    cr_assert_str_eq(fstr(at(v, 0), "answer"), "1903");
    cr_assert_str_eq(fstr(at(v, 2), "answer"), "Warsaw");
    cr_assert_str_eq(fstr(r->result, "answer"), "Marie Curie won the Physics prize in 1903 and the Chemistry prize in 1911.");
    cr_assert(has(r->prompt[5], "A2: 1911"));
}

/* ------------------------------------------------------------------ panel */

static const char *panel_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "moderator of an expert panel")) return "Use PostgreSQL with nightly backups.";
    if (has(p, "You are the domain expert")) return "PostgreSQL fits relational data best.";
    if (has(p, "You are the skeptical reviewer")) return "Beware of operational cost.";
    if (has(p, "You are the practical implementer")) return "Start with a managed instance.";
    if (has(p, "You are the economist")) return "Costs dominate.";
    if (has(p, "You are the ecologist")) return "Consider the energy use.";
    return "unexpected prompt";
}

Test(e2e_strategies, panel_batches_three_roles_then_one_moderator, .fini = teardown) {
    run *r = advise("panel", "Which database should a small web shop use?", NULL, panel_host, NULL, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 3, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "Use PostgreSQL with nightly backups.");
    const cJSON *o = farr(r->result, "opinions", 3);
    cr_assert_str_eq(fstr(at(o, 0), "role"), "domain expert");
    cr_assert_str_eq(fstr(at(o, 1), "text"), "Beware of operational cost.");
    cr_assert_str_eq(fstr(at(o, 2), "role"), "practical implementer");
    cr_assert(has(r->prompt[3], "Start with a managed instance."), "the moderator sees every contribution");
}

Test(e2e_strategies, panel_uses_the_roles_from_ctx, .fini = teardown) {
    run *r = advise("panel", "Should the city build a new airport?", "{\"roles\": [\"economist\", 7, \"ecologist\"]}",
                    panel_host, NULL, false);
    cr_assert_eq(r->llm_calls, 3);
    EXPECT_SHAPE(r, 2, 1);
    const cJSON *o = farr(r->result, "opinions", 2);
    cr_assert_str_eq(fstr(at(o, 0), "role"), "economist");
    cr_assert_str_eq(fstr(at(o, 1), "text"), "Consider the energy use.");
}

/* ------------------------------------------------------------------ rank */

static char rank_buf[128];

static const char *rank_host(const char *p, void *ud) {
    (void)ud;
    const char *c = strstr(p, "This is candidate ");
    if (c) {
        int i = atoi(c + strlen("This is candidate "));
        snprintf(rank_buf, sizeof rank_buf, "Candidate answer number %d", i);
        return rank_buf;
    }
    if (has(p, "Which of the two responses")) {
        const char *a = strstr(p, "Response A:");
        const char *b = strstr(p, "Response B:");
        if (!a || !b) return "unexpected judge prompt";
        const char *three = strstr(p, "number 3");
        if (three && three > a && three < b) return "A is clearly better.\nWINNER: A";
        if (three && three > b) return "B is clearly better.\nWINNER: Response B";
        return "Response B is more thorough.\nWINNER: B";
    }
    return "unexpected prompt";
}

Test(e2e_strategies, rank_generates_four_then_judges_three_pairs, .fini = teardown) {
    run *r = advise("rank", "Suggest a name for a coffee shop.", NULL, rank_host, NULL, false);
    cr_assert_eq(r->llm_calls, 7);
    EXPECT_SHAPE(r, 4, 1, 1, 1);
    expect_num(fnum(r->result, "best"), 3, "best");
    cr_assert_str_eq(fstr(r->result, "answer"), "Candidate answer number 3");
    farr(r->result, "candidates", 4);
    const cJSON *m = farr(r->result, "matches", 3);
    cr_assert_str_eq(fstr(at(m, 0), "verdict"), "B");
    expect_num(fnum(at(m, 0), "winner"), 2, "match 1 winner");
    cr_assert_str_eq(fstr(at(m, 1), "verdict"), "B");
    expect_num(fnum(at(m, 1), "challenger"), 3, "match 2 challenger");
    cr_assert_str_eq(fstr(at(m, 2), "verdict"), "A");
    expect_num(fnum(at(m, 2), "leader"), 3, "match 3 leader");
    const cJSON *w = farr(r->result, "wins", 4);
    expect_num(at(w, 1)->valuedouble, 1, "wins[2]");
    expect_num(at(w, 2)->valuedouble, 2, "wins[3]");
}

static const char *rank_biased_host(const char *p, void *ud) {
    (void)ud;
    // always prefers gamma; otherwise always says "A" (pure position bias)
    const char *a = strstr(p, "Response A:");
    const char *b = strstr(p, "Response B:");
    const char *g = strstr(p, "gamma");
    if (!a || !b) return "unexpected prompt";
    if (g && g > b) return "WINNER: B";
    return "WINNER: A";
}

Test(e2e_strategies, rank_with_both_orders_treats_position_bias_as_a_tie, .fini = teardown) {
    run *r = advise("rank", "Pick the best word.", "{\"candidates\": [\"alpha\", \"beta\", \"gamma\"], \"both_orders\": true}",
                    rank_biased_host, NULL, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 2, 2);
    const cJSON *m = farr(r->result, "matches", 2);
    cr_assert_str_eq(fstr(at(m, 0), "verdict"), "tie");
    expect_num(fnum(at(m, 0), "winner"), 1, "the leader stays on a tie");
    cr_assert_str_eq(fstr(at(m, 1), "verdict"), "B");
    cr_assert_str_eq(fstr(r->result, "answer"), "gamma");
    expect_num(fnum(r->result, "best"), 3, "best");
}

/* ------------------------------------------------------------------ triad */

typedef struct triad_ud {
    bool decide_early;
} triad_ud;

static const char *triad_host(const char *p, void *ud) {
    triad_ud *u = ud;
    if (has(p, "The debate is over"))
        return "DECISION: OPPONENT\nANSWER: It depends on the kind of work.\nThe opponent's evidence was stronger.";
    if (has(p, "If one side has already clearly established"))
        return u->decide_early ? "DECISION: PROPONENT\nANSWER: Yes, it raises productivity."
                               : "CONTINUE. Both sides should address the survey evidence.";
    if (has(p, "Opening statement: state the answer you defend")) return "Yes: remote work raises productivity.";
    if (has(p, "Opening statement: identify the most likely answer")) return "No: it depends on the job.";
    if (has(p, "Round 2, opponent's rebuttal")) return "opp-r2";
    if (has(p, "Round 3, opponent's rebuttal")) return "opp-r3";
    if (has(p, "Round 2, proponent's rebuttal")) return "pro-r2";
    if (has(p, "Round 3, proponent's rebuttal")) return "pro-r3";
    return "unexpected prompt";
}

Test(e2e_strategies, triad_debates_three_rounds_with_batched_openings, .fini = teardown) {
    triad_ud u = {.decide_early = false};
    run *r = advise("triad", "Does remote work raise productivity?", NULL, triad_host, &u, false);
    cr_assert_eq(r->llm_calls, 9);
    EXPECT_SHAPE(r, 2, 1, 1, 1, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "verdict"), "opponent");
    cr_assert_str_eq(fstr(r->result, "answer"), "It depends on the kind of work.");
    expect_num(fnum(r->result, "rounds"), 3, "rounds");
    cr_assert(!fbool(r->result, "concluded_early"));
    const cJSON *t = farr(r->result, "transcript", 3);
    cr_assert_str_eq(fstr(at(t, 0), "opponent"), "No: it depends on the job.");
    cr_assert_str_eq(fstr(at(t, 2), "proponent"), "pro-r3");
    cr_assert(has(fstr(at(t, 0), "judge"), "CONTINUE"));
    // the opponent answers the proponent's rebuttal of the same round; debaters see the judge's note
    cr_assert(has(r->prompt[4], "pro-r2"));
    cr_assert(has(r->prompt[3], "survey evidence"));
}

Test(e2e_strategies, triad_ends_early_when_the_judge_decides, .fini = teardown) {
    triad_ud u = {.decide_early = true};
    run *r = advise("triad", "Does remote work raise productivity?", NULL, triad_host, &u, false);
    cr_assert_eq(r->llm_calls, 3);
    EXPECT_SHAPE(r, 2, 1);
    cr_assert_str_eq(fstr(r->result, "verdict"), "proponent");
    cr_assert_str_eq(fstr(r->result, "answer"), "Yes, it raises productivity.");
    cr_assert(fbool(r->result, "concluded_early"));
    expect_num(fnum(r->result, "rounds"), 1, "rounds");
}

/* ------------------------------------------------------------------ ucb */

static const char *ucb_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Propose 3 distinct hypotheses"))
        return "[\"H-alpha: cache the query results\", \"H-beta: add an index on the column\", \"H-gamma: rewrite it in C\"]";
    if (has(p, "Develop this hypothesis")) return "Add a B-tree index on the filtered column.";
    if (has(p, "Candidate hypothesis")) {
        if (has(p, "H-alpha")) return "Helps for repeated queries.\nSCORE: 6";
        if (has(p, "H-beta")) return "Directly fixes the full scan.\nSCORE: 9/10";
        if (has(p, "H-gamma")) return "Expensive and beside the point.\nScore: 2";
    }
    return "unexpected prompt";
}

Test(e2e_strategies, ucb_explores_with_ucb1_and_refines_the_best_arm, .fini = teardown) {
    run *r = advise("ucb", "A SQL query on a large table is slow. What should we do?", NULL, ucb_host, NULL, false);
    cr_assert_eq(r->llm_calls, 11);
    EXPECT_SHAPE(r, 1, 3, 1, 1, 1, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "Add a B-tree index on the filtered column.");
    // UCB1 with rewards (score-1)/9 = 5/9, 8/9, 1/9 and c = 2 pulls: beta, alpha, beta, gamma, beta, alpha
    const cJSON *pulls = farr(r->result, "pulls", 6);
    static const int want[] = {2, 1, 2, 3, 2, 1};
    for (int i = 0; i < 6; i++) expect_num(at(pulls, i)->valuedouble, want[i], "UCB1 pull");
    const cJSON *best = field(r->result, "best");
    expect_num(fnum(best, "index"), 2, "best.index");
    expect_num(fnum(best, "pulls"), 4, "best.pulls");
    expect_num(fnum(best, "mean"), 8.0 / 9.0, "best.mean");
    cr_assert_str_eq(fstr(best, "hypothesis"), "H-beta: add an index on the column");
    const cJSON *arms = farr(r->result, "arms", 3);
    expect_num(fnum(at(arms, 0), "pulls"), 3, "alpha pulls");
    expect_num(fnum(at(arms, 2), "pulls"), 2, "gamma pulls");
    const cJSON *scores = farr(at(arms, 2), "scores", 2);
    expect_num(at(scores, 0)->valuedouble, 2, "gamma score");
}

/* ------------------------------------------------------------------ sot */

static char sot_buf[128];

static const char *sot_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Write only the skeleton"))
        return "1. Preheat the oven\n2. Mix the batter\n3. **Bake for 30 minutes**\n4) Let it cool";
    const char *e = strstr(p, "Expand only point ");
    if (e) {
        snprintf(sot_buf, sizeof sot_buf, "Expansion of point %d.", atoi(e + strlen("Expand only point ")));
        return sot_buf;
    }
    return "unexpected prompt";
}

Test(e2e_strategies, sot_expands_all_skeleton_points_in_one_batch, .fini = teardown) {
    run *r = advise("sot", "How do I bake a simple cake?", NULL, sot_host, NULL, false);
    cr_assert_eq(r->llm_calls, 5);
    EXPECT_SHAPE(r, 1, 4);
    const cJSON *sk = farr(r->result, "skeleton", 4);
    cr_assert_str_eq(at(sk, 2)->valuestring, "Bake for 30 minutes");
    cr_assert_str_eq(at(sk, 3)->valuestring, "Let it cool");
    const cJSON *ex = farr(r->result, "expansions", 4);
    cr_assert_str_eq(at(ex, 3)->valuestring, "Expansion of point 4.");
    cr_assert(has(fstr(r->result, "answer"), "2. Mix the batter: Expansion of point 2.\n3. Bake"));
    cr_assert(has(r->prompt[1], "4. Let it cool"), "every expansion sees the whole skeleton");
}

/* ------------------------------------------------------------------ decompose */

static const char *decompose_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "what simpler sub-questions"))
        return "Sure: {\"subquestions\": [\"How many apples does Anna have?\", \"How many apples do they have together?\"]}";
    if (has(p, "next sub-question: How many apples does Anna")) return "Anna has 7 apples.";
    if (has(p, "next sub-question: How many apples do they")) return "5 + 7 = 12 apples.";
    if (has(p, "answer the original problem")) return "12";
    return "unexpected prompt";
}

Test(e2e_strategies, decompose_solves_subquestions_in_order_with_earlier_answers, .fini = teardown) {
    run *r = advise("decompose", "Elsa has 5 apples. Anna has 2 more apples than Elsa. How many apples do they have in all?",
                    NULL, decompose_host, NULL, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 1, 1, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "12");
    const cJSON *s = farr(r->result, "subquestions", 2);
    cr_assert_str_eq(fstr(at(s, 0), "answer"), "Anna has 7 apples.");
    cr_assert_str_eq(fstr(at(s, 1), "question"), "How many apples do they have together?");
    cr_assert(!has(r->prompt[1], "already solved"));
    cr_assert(has(r->prompt[2], "A1: Anna has 7 apples."));
    cr_assert(has(r->prompt[3], "A2: 5 + 7 = 12 apples."));
}

/* ------------------------------------------------------------------ cod */

typedef struct cod_ud {
    int step;
} cod_ud;

static const char *cod_host(const char *p, void *ud) {
    cod_ud *u = ud;
    if (has(p, "Write an initial summary")) return "This article discusses a storm.";
    if (has(p, "Make the summary denser")) {
        switch (++u->step) {
        case 1: return "```json\n{\"missing_entities\": [\"Hurricane Ida\"], \"denser_summary\": \"Summary v2\"}\n```";
        case 2: return "Summary v3 plain";
        case 3: return "{\"missing_entities\": \"Louisiana; 2021\", \"denser_summary\": \"Summary v4\"}";
        default: return "";
        }
    }
    return "unexpected prompt";
}

Test(e2e_strategies, cod_densifies_four_times_and_survives_non_json_steps, .fini = teardown) {
    cod_ud u = {0};
    run *r = advise("cod", NULL, "{\"text\": \"Hurricane Ida hit Louisiana in August 2021, cutting power to a million homes.\"}",
                    cod_host, &u, false);
    cr_assert_eq(r->llm_calls, 5);
    EXPECT_SHAPE(r, 1, 1, 1, 1, 1);
    const cJSON *s = farr(r->result, "summaries", 5);
    cr_assert_str_eq(at(s, 0)->valuestring, "This article discusses a storm.");
    cr_assert_str_eq(at(s, 1)->valuestring, "Summary v2");
    cr_assert_str_eq(at(s, 2)->valuestring, "Summary v3 plain");
    cr_assert_str_eq(at(s, 4)->valuestring, "Summary v4", "an empty step keeps the previous summary");
    cr_assert_str_eq(fstr(r->result, "answer"), "Summary v4");
    const cJSON *e = farr(r->result, "entities", 4);
    cr_assert_eq(cJSON_GetArraySize(at(e, 0)), 1);
    cr_assert_str_eq(at(at(e, 0), 0)->valuestring, "Hurricane Ida");
    cr_assert(cJSON_IsArray(at(e, 1)) && cJSON_GetArraySize(at(e, 1)) == 0);
    cr_assert_eq(cJSON_GetArraySize(at(e, 2)), 2);
    cr_assert(has(r->prompt[2], "Current summary:\nSummary v2"));
    cr_assert(has(r->prompt[0], "Hurricane Ida hit Louisiana"));
}

/* ------------------------------------------------------------------ factscore */

static const char *factscore_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Break the text below into atomic facts")) {
        if (has(p, "GENERATED BIO"))
            return "1. Ada Lovelace was a mathematician.\n2. Ada Lovelace was born in 1915.";
        return "[\"Paris is the capital of France.\", \"Paris has 50 million inhabitants.\", "
               "\"The Eiffel Tower is in Paris.\", \"The Seine flows through Paris.\"]";
    }
    if (has(p, "Is the following claim true?")) {
        if (has(p, "50 million") || has(p, "1915")) return "False. That is wrong.";
        if (has(p, "Seine")) return "I cannot tell from what I know.";
        return "True. This is well documented.";
    }
    if (has(p, "Write a short biography")) return "GENERATED BIO: Ada Lovelace was a mathematician born in 1915.";
    return "unexpected prompt";
}

Test(e2e_strategies, factscore_verifies_atomic_facts_in_one_grounded_batch, .fini = teardown) {
    run *r = advise("factscore", NULL,
                    "{\"text\": \"Paris, the capital of France, has 50 million inhabitants; the Eiffel Tower and the Seine are there.\"}",
                    factscore_host, NULL, false);
    cr_assert_eq(r->llm_calls, 5);
    EXPECT_SHAPE(r, 1, 4);
    cr_assert(!r->grounded[0], "the split is not grounded");
    for (int i = 1; i < 5; i++) cr_assert(r->grounded[i], "verification %d must be grounded", i);
    expect_num(fnum(r->result, "score"), 0.5, "score");
    expect_num(fnum(r->result, "supported"), 2, "supported");
    expect_num(fnum(r->result, "total"), 4, "total");
    const cJSON *c = farr(r->result, "claims", 4);
    cr_assert_str_eq(fstr(at(c, 1), "verdict"), "false");
    cr_assert(!fbool(at(c, 1), "supported"));
    cr_assert_str_eq(fstr(at(c, 2), "verdict"), "true");
    cr_assert_str_eq(fstr(at(c, 3), "verdict"), "unclear");
    cr_assert(!fbool(at(c, 3), "supported"), "an unreadable verdict is not support");
}

Test(e2e_strategies, factscore_generates_the_text_when_none_is_given, .fini = teardown) {
    run *r = advise("factscore", "Write a short biography of Ada Lovelace.", NULL, factscore_host, NULL, false);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 1, 1, 2);
    cr_assert(has(fstr(r->result, "answer"), "GENERATED BIO"));
    expect_num(fnum(r->result, "score"), 0.5, "score");
    const cJSON *c = farr(r->result, "claims", 2);
    cr_assert_str_eq(fstr(at(c, 0), "claim"), "Ada Lovelace was a mathematician.");
}

/* ------------------------------------------------------------------ calibrate */

typedef struct calibrate_ud {
    const char *first, *second;
} calibrate_ud;

static const char *calibrate_host(const char *p, void *ud) {
    calibrate_ud *u = ud;
    if (has(p, "Reconsider the question from scratch")) return u->second;
    if (has(p, "Answer the question.")) return u->first;
    return "unexpected prompt";
}

Test(e2e_strategies, calibrate_accepts_a_confident_first_answer, .fini = teardown) {
    calibrate_ud u = {"Answer: Canberra\nCONFIDENCE: 95%", "unused"};
    run *r = advise("calibrate", "What is the capital of Australia?", NULL, calibrate_host, &u, false);
    cr_assert_eq(r->llm_calls, 1);
    EXPECT_SHAPE(r, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "Canberra");
    expect_num(fnum(r->result, "confidence"), 0.95, "confidence");
    cr_assert(!fbool(r->result, "abstained"));
    farr(r->result, "attempts", 1);
}

Test(e2e_strategies, calibrate_re_asks_when_confidence_is_low, .fini = teardown) {
    calibrate_ud u = {"Sydney\nCONFIDENCE: 40%", "ANSWER: Canberra\nConfidence: 0.9"};
    run *r = advise("calibrate", "What is the capital of Australia?", NULL, calibrate_host, &u, false);
    cr_assert_eq(r->llm_calls, 2);
    EXPECT_SHAPE(r, 1, 1);
    cr_assert_str_eq(fstr(r->result, "answer"), "Canberra");
    expect_num(fnum(r->result, "confidence"), 0.9, "confidence");
    cr_assert(!fbool(r->result, "abstained"));
    const cJSON *a = farr(r->result, "attempts", 2);
    expect_num(fnum(at(a, 0), "confidence"), 0.4, "first confidence");
    cr_assert(has(r->prompt[1], "Sydney (stated confidence 40%)"));
}

Test(e2e_strategies, calibrate_abstains_when_confidence_stays_low, .fini = teardown) {
    calibrate_ud u = {"Sydney\nCONFIDENCE: 40%", "Melbourne, maybe. CONFIDENCE: 55"};
    run *r = advise("calibrate", "What is the capital of Australia?", "{\"threshold\": 70}", calibrate_host, &u, false);
    cr_assert_eq(r->llm_calls, 2);
    cr_assert(fbool(r->result, "abstained"));
    expect_num(fnum(r->result, "threshold"), 0.7, "threshold (percent accepted)");
    expect_num(fnum(r->result, "confidence"), 0.55, "best confidence");
    cr_assert_str_eq(fstr(r->result, "best_guess"), "Melbourne, maybe.");
    cr_assert(!has(fstr(r->result, "answer"), "Melbourne"));
}

/* ------------------------------------------------------------------ maieutic */

#define MAI_ET "Spiders have six legs like all insects."
#define MAI_EF "Spiders have eight legs, and insects have six."

static const char *maieutic_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Suppose the answer is")) {
        bool t = has(p, "Suppose the answer is True");
        if (has(p, "Consider the following question"))
            return t ? "Is a spider an insect? True, because " MAI_ET : MAI_EF;
        if (has(p, "Consider the following statement"))
            return t ? "Arachnids have eight legs and spiders are arachnids." : "Because some spiders have six legs.";
        return "unexpected generation prompt";
    }
    if (has(p, "Is the following statement true or false?")) {
        bool neg = has(p, "The following claim is false");
        if (has(p, "six legs like all insects")) return neg ? "True" : "False.";
        if (has(p, "eight legs, and insects")) return "True"; // both ways: not integral
        if (has(p, "Arachnids have eight legs")) return neg ? "False" : "True";
        if (has(p, "some spiders have six legs")) return neg ? "True" : "False";
        if (has(p, "Is a spider an insect?")) return "False";
    }
    return "unexpected prompt";
}

Test(e2e_strategies, maieutic_expands_a_non_integral_explanation_and_solves_max_sat, .fini = teardown) {
    run *r = advise("maieutic", "Is a spider an insect?", NULL, maieutic_host, NULL, false);
    cr_assert_eq(r->llm_calls, 13);
    EXPECT_SHAPE(r, 2, 5, 2, 4);
    cr_assert_str_eq(fstr(r->result, "answer"), "False");
    cr_assert(!fbool(r->result, "verdict"));
    expect_num(fnum(r->result, "margin"), 1.5, "margin");
    expect_num(fnum(r->result, "consistency"), 0.75, "consistency");
    cr_assert(!fbool(r->result, "root_belief"));
    const cJSON *nodes = farr(r->result, "nodes", 4);
    cr_assert_str_eq(fstr(at(nodes, 0), "text"), MAI_ET, "echoed lead-in removed");
    cr_assert(fbool(at(nodes, 0), "integral"));
    cr_assert(!fbool(at(nodes, 1), "integral"));
    cr_assert(fbool(at(nodes, 1), "kept"), "kept through its integral children");
    expect_num(fnum(at(nodes, 2), "parent"), 2, "child of the False explanation");
    cr_assert_str_eq(fstr(at(nodes, 3), "text"), "some spiders have six legs.");
    cr_assert(!fbool(at(nodes, 3), "value"));
    const cJSON *support = farr(r->result, "support", 1);
    cr_assert_str_eq(at(support, 0)->valuestring, MAI_EF);
}

/* ------------------------------------------------------------------ distill */

static const char *distill_host(const char *p, void *ud) {
    (void)ud;
    if (has(p, "Extract the key points")) {
        if (has(p, "(part ")) {
            static char buf[128];
            const char *q = strstr(p, "(part ");
            snprintf(buf, sizeof buf, "- Remote work saves commuting time.\n- Point from part %d", atoi(q + 6));
            return buf;
        }
        return "Points:\n- Remote work saves commuting time.\n- Remote work can isolate employees.\n"
               "- Remote work saves commuting time.";
    }
    if (has(p, "Consolidate them")) {
        if (has(p, "Point from part")) return "Sorry, I cannot do that.";
        return "[{\"point\": \"Remote work saves commuting time\", \"support\": 2}, "
               "{\"point\": \"Remote work can isolate employees\", \"support\": 1}]";
    }
    return "unexpected prompt";
}

Test(e2e_strategies, distill_extracts_then_consolidates_key_points, .fini = teardown) {
    run *r = advise("distill", "Remote work saves people the commute, but some employees feel isolated at home.",
                    NULL, distill_host, NULL, false);
    cr_assert_eq(r->llm_calls, 2);
    EXPECT_SHAPE(r, 1, 1);
    expect_num(fnum(r->result, "chunks"), 1, "chunks");
    farr(r->result, "extracted", 3);
    const cJSON *kp = farr(r->result, "key_points", 2);
    cr_assert_str_eq(fstr(at(kp, 0), "point"), "Remote work saves commuting time");
    expect_num(fnum(at(kp, 0), "support"), 2, "support");
    cr_assert_str_eq(fstr(r->result, "answer"),
                     "- Remote work saves commuting time\n- Remote work can isolate employees");
    cr_assert(has(r->prompt[1], "3. Remote work saves commuting time."));
}

Test(e2e_strategies, distill_batches_chunks_and_falls_back_to_local_dedup, .fini = teardown) {
    // about 1100 characters at 500 per chunk: 3 chunks
    char text[1200];
    size_t n = 0;
    while (n + 44 < 1100) n += (size_t)snprintf(text + n, sizeof text - n, "Remote work changes how teams coordinate. ");
    char opts[1400];
    snprintf(opts, sizeof opts, "{\"text\": \"%s\", \"chunk_chars\": 500}", text);
    run *r = advise("distill", NULL, opts, distill_host, NULL, false);
    int chunks = (int)((n + 499) / 500);
    cr_assert_eq(chunks, 3, "test setup: %zu chars", n);
    cr_assert_eq(r->llm_calls, 4);
    EXPECT_SHAPE(r, 3, 1);
    expect_num(fnum(r->result, "chunks"), 3, "chunks");
    farr(r->result, "extracted", 6);
    const cJSON *kp = farr(r->result, "key_points", 4);
    cr_assert_str_eq(fstr(at(kp, 0), "point"), "Remote work saves commuting time.");
    expect_num(fnum(at(kp, 0), "support"), 3, "identical extractions are counted");
    cr_assert_str_eq(fstr(at(kp, 3), "point"), "Point from part 3");
}

/* ------------------------------------------------------------------ every strategy: junk, no task */

static const char *const all_strategies[] = {
    "cot", "sc", "reflect", "cove", "panel", "rank", "triad", "ucb",
    "sot", "decompose", "cod", "factscore", "calibrate", "maieutic", "distill",
};
#define N_STRATEGIES (sizeof all_strategies / sizeof all_strategies[0])

static const char *junk_host(const char *p, void *ud) {
    (void)p;
    return ud;
}

// Runs every strategy with the given junk answer; each must complete with a string answer.
static void run_all_with_junk(const char *junk) {
    for (size_t i = 0; i < N_STRATEGIES; i++) {
        run *r = advise(all_strategies[i], "Explain why the sky is blue.", NULL, junk_host, (void *)junk, false);
        cr_assert_gt(r->llm_calls, 0, "%s made no call", all_strategies[i]);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->result, "answer");
        cr_assert(cJSON_IsString(a), "%s: result.answer is not a string with junk answers", all_strategies[i]);
        teardown();
    }
}

Test(e2e_strategies, every_strategy_completes_on_junk_answers, .fini = teardown) {
    run_all_with_junk("??? zzz {not json] 11 12 13");
}

Test(e2e_strategies, every_strategy_completes_on_empty_answers, .fini = teardown) {
    run_all_with_junk("");
}

Test(e2e_strategies, junk_answers_degrade_to_documented_fallbacks, .fini = teardown) {
    // cove: no parsable verification question -> baseline kept, 2 calls, empty verifications array
    run *r = advise("cove", "Who wrote Hamlet?", NULL, junk_host, (void *)"no questions here", false);
    cr_assert_eq(r->llm_calls, 2);
    cr_assert(!fbool(r->result, "revised"));
    farr(r->result, "verifications", 0);
    cr_assert_str_eq(fstr(r->result, "answer"), "no questions here");
    teardown();
    // maieutic: no readable belief anywhere -> nothing integral, "Unknown"
    r = advise("maieutic", "Is water wet?", NULL, junk_host, (void *)"hmm", false);
    cr_assert_eq(r->llm_calls, 2 + 5 + 4 + 8);
    EXPECT_SHAPE(r, 2, 5, 4, 8);
    cr_assert_str_eq(fstr(r->result, "answer"), "Unknown");
    expect_num(fnum(r->result, "consistency"), 0, "consistency");
    teardown();
    // calibrate: no readable confidence -> counted as 0, re-asked once, abstains
    r = advise("calibrate", "What is 2+2?", NULL, junk_host, (void *)"4", false);
    cr_assert_eq(r->llm_calls, 2);
    cr_assert(fbool(r->result, "abstained"));
    cr_assert_str_eq(fstr(r->result, "best_guess"), "4");
    teardown();
    // rank: unreadable judgements are ties, the first candidate stays
    r = advise("rank", "Name a colour.", NULL, junk_host, (void *)"It is hard to say.", false);
    cr_assert_eq(r->llm_calls, 7);
    expect_num(fnum(r->result, "best"), 1, "best");
    cr_assert_str_eq(fstr(at(farr(r->result, "matches", 3), 2), "verdict"), "tie");
}

Test(e2e_strategies, every_strategy_rejects_a_missing_task, .fini = teardown) {
    for (size_t i = 0; i < N_STRATEGIES; i++) {
        run *r = advise(all_strategies[i], NULL, NULL, junk_host, (void *)"x", true);
        cr_assert_eq(r->nqueries, 0, "%s asked the host before failing", all_strategies[i]);
        const char *err = str_field(r->outcome, "error");
        cr_assert(err && strstr(err, "must be a non-empty string") && strstr(err, all_strategies[i]),
                  "%s: unexpected error: %s", all_strategies[i], err ? err : "(none)");
        teardown();
    }
}
