/*
 * test_e2e_cli.c — end-to-end tests of `alc run` and `alc advice` against the built binary
 * (ALC_BIN): every responder kind (stdin, --interactive, --answers, --responder with tiny
 * shell scripts as the model), --parallel, retry-then-fail, the exit statuses 0/1/2/3/130/143
 * (SIGINT while a responder runs, while the script busy-loops, while reading stdin), the
 * cancel of a run whose parent process dies (and not under an ignored SIGHUP), bad
 * --ctx, a missing file, --json, the progress line on a terminal (through script(1) when it
 * is installed), and every file under examples/ the way the README runs them.
 *
 * Each test gets its own temporary directory, used as ALC_HOME (inherited ALC_* variables are
 * dropped) and for its scripts; the examples directory is found next to tests/lua
 * (ALC_LUA_TESTS_DIR). Every child is waited for with a deadline, so a hang fails the test.
 *
 * Threads: Criterion runs each test in its own process; no test starts threads.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define EXIT_MS 20000   // deadline for a CLI run to end

static char *g_dir;     // per-test scratch directory; g_dir/home is ALC_HOME

static void setup(void) {
    g_dir = alc_test_tmpdir();
    char home[600];
    snprintf(home, sizeof home, "%s/home", g_dir);
    cr_assert_eq(mkdir(home, 0700), 0, "mkdir %s: %s", home, strerror(errno));
}

static void teardown(void) {
    if (g_dir) alc_test_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

TestSuite(e2e_cli, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------------ helpers */

static const char *alc_bin(void) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    cr_assert_eq(access(bin, X_OK), 0, "ALC_BIN=%s is not executable", bin);
    return bin;
}

// <source>/examples, derived from ALC_LUA_TESTS_DIR = <source>/tests/lua.
static const char *examples_dir(void) {
    static char path[1024];
    const char *lua = getenv("ALC_LUA_TESTS_DIR");
    cr_assert(lua && *lua, "ALC_LUA_TESTS_DIR must be set (by meson test)");
    snprintf(path, sizeof path, "%s/../../examples", lua);
    cr_assert_eq(access(path, R_OK), 0, "no examples directory at %s", path);
    return path;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// Path of name inside the scratch directory (static buffer rotation of 4).
static const char *in_dir(const char *name) {
    static char bufs[4][700];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

// Writes text to g_dir/name (mode 0755 when exec); returns the path (in_dir buffer).
static const char *write_file(const char *name, const char *text, bool exec) {
    const char *path = in_dir(name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    if (exec) cr_assert_eq(chmod(path, 0755), 0);
    return path;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool wait_for_file(const char *path, int timeout_ms) {
    long long end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        if (access(path, F_OK) == 0) return true;
        sleep_ms(20);
    }
    return false;
}

typedef struct cli_result {
    int status;       // exit status (128 + signal when killed)
    char *out;        // all of stdout
    char *err;        // all of stderr
    long long ms;     // from spawn to exit
} cli_result;

static void result_free(cli_result *r) {
    free(r->out);
    free(r->err);
}

// Spawns ALC_BIN args... with ALC_HOME=g_dir/home plus extra_env (NULL-terminated or NULL).
static alc_proc *spawn_cli(const char *const *args, const char *const *extra_env) {
    const char *argv[40];
    int n = 0;
    argv[n++] = alc_bin();
    for (int i = 0; args[i]; i++) {
        cr_assert_lt(n, 38);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char home[700];
    snprintf(home, sizeof home, "ALC_HOME=%s/home", g_dir);
    const char *env[16];
    int k = 0;
    env[k++] = home;
    for (int i = 0; extra_env && extra_env[i]; i++) env[k++] = extra_env[i];
    env[k] = NULL;
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p, "cannot spawn %s: %s", argv[0], strerror(errno));
    return p;
}

// Reads stdout to EOF, waits for the exit and collects stderr; frees p.
static cli_result finish_cli(alc_proc *p, long long t0) {
    cli_result r = {0};
    size_t cap = 4096, len = 0;
    r.out = calloc(1, cap);
    long long end = now_ms() + EXIT_MS;
    for (;;) {
        int st;
        size_t n;
        char *line = alc_proc_recv_n(p, (int)(end - now_ms() > 0 ? end - now_ms() : 0), &st, &n);
        if (!line) {
            cr_assert(st == ALC_PROC_EOF, "alc did not finish its output in time (status %d); stdout so far:\n%s", st, r.out);
            break;
        }
        while (len + n + 2 > cap) r.out = realloc(r.out, cap *= 2);
        memcpy(r.out + len, line, n);
        len += n;
        if (st == ALC_PROC_LINE) r.out[len++] = '\n';
        r.out[len] = '\0';
        free(line);
        if (st == ALC_PROC_PARTIAL) break;
    }
    int status = -1;
    int w = alc_proc_wait(p, EXIT_MS, &status);
    r.ms = now_ms() - t0;
    r.err = alc_proc_stderr_text(p, NULL);
    if (!r.err) r.err = strdup("");
    alc_proc_free(p);
    cr_assert_eq(w, 0, "alc had to be killed; stderr:\n%s", r.err);
    r.status = status;
    return r;
}

// Runs alc with args, stdin_text (or nothing) on stdin then EOF, extra_env.
static cli_result run_env(const char *const *args, const char *stdin_text, const char *const *extra_env) {
    long long t0 = now_ms();
    alc_proc *p = spawn_cli(args, extra_env);
    if (stdin_text) cr_assert_eq(alc_proc_send_raw(p, stdin_text, strlen(stdin_text)), 0);
    alc_proc_close_stdin(p);
    return finish_cli(p, t0);
}

static cli_result run(const char *const *args, const char *stdin_text) {
    return run_env(args, stdin_text, NULL);
}

static void expect_status(const cli_result *r, int status) {
    cr_assert_eq(r->status, status, "exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s", r->status, status,
                 r->out, r->err);
}

// Parses stdout as one JSON value; returns new.
static cJSON *out_json(const cli_result *r) {
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "stdout is not JSON:\n%s\nstderr:\n%s", r->out, r->err);
    return j;
}

static const char *str_at(const cJSON *arr, int i) {
    const cJSON *e = cJSON_GetArrayItem(arr, i);
    cr_assert(cJSON_IsString(e), "item %d is not a string", i);
    return e->valuestring;
}

static const char *member_str(const cJSON *o, const char *key) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsString(e), "member %s is not a string", key);
    return e->valuestring;
}

// True if the logs directory of ALC_HOME holds a .meta.json whose text contains needle.
static bool log_meta_contains(const char *needle) {
    char dir[700];
    snprintf(dir, sizeof dir, "%s/home/logs", g_dir);
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 10 || strcmp(e->d_name + n - 10, ".meta.json") != 0) continue;
        char path[1000];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *t = read_text(path);
        found = t && strstr(t, needle);
        free(t);
    }
    closedir(d);
    return found;
}

/* ------------------------------------------------------------------ output and exit codes */

Test(e2e_cli, completed_run_prints_indented_json_and_exits_0) {
    const char *args[] = {"run", "-e", "return {b = {1, 2.5, {}}, a = 'x', c = {}}", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2.5,\n    {}\n  ],\n  \"c\": {}\n}\n");
    cr_assert_str_eq(r.err, "", "stderr is not a terminal, so nothing extra goes there: %s", r.err);
    result_free(&r);
}

Test(e2e_cli, json_flag_prints_compact_json) {
    const char *args[] = {"run", "-e", "return {b = {1, 2}, a = 'x:y, z'}", "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "{\"a\":\"x:y, z\",\"b\":[1,2]}\n");
    result_free(&r);
}

Test(e2e_cli, script_file_runs_and_its_output_cannot_reach_stdout) {
    const char *f = write_file("s.lua",
                               "#!/usr/bin/env alc run\n"
                               "if io and io.write then io.write('noise') end\n"
                               "print('printed')\n"
                               "return ctx.n * 2\n", false);
    const char *args[] = {"run", f, "--ctx", "{\"n\": 21}", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "42\n");
    result_free(&r);
}

Test(e2e_cli, script_error_exits_1_with_message_and_traceback) {
    const char *args[] = {"run", "-e", "local function f() error('boom here') end f()", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert(strstr(r.err, "boom here") && strstr(r.err, "stack traceback"), "stderr: %s", r.err);
    result_free(&r);
}

Test(e2e_cli, budget_exceeded_exits_3) {
    const char *ans = write_file("a.jsonl", "{\"match\": \"\", \"response\": \"ok\"}\n", false);
    const char *args[] = {"run", "-e", "alc.llm('one'); alc.llm('two'); return 'unreachable'",
                          "--ctx", "{\"budget\": {\"max_llm_calls\": 1}}", "--answers", ans, NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 3);
    cr_assert(strstr(r.err, "budget_exceeded: max_llm_calls (1)"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

Test(e2e_cli, verbose_copies_log_lines_to_stderr) {
    const char *args[] = {"run", "-e", "alc.log('info', 'hello from the log'); return 1", "-v", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert(strstr(r.err, "hello from the log"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "1\n");
    result_free(&r);
}

/* ------------------------------------------------------------------ usage errors: exit 2 */

Test(e2e_cli, bad_ctx_is_a_usage_error) {
    const char *bad[][4] = {
        {"--ctx", "{\"a\": ", NULL},
        {"--ctx", "[1, 2]", NULL},
        {"--ctx", "{} trailing", NULL},
        {"--ctx-file", "/nonexistent/ctx.json", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {"run", "-e", "return 1", bad[i][0], bad[i][1], NULL};
        cli_result r = run(args, NULL);
        expect_status(&r, 2);
        cr_assert(strstr(r.err, "--ctx"), "case %zu: stderr should name the option: %s", i, r.err);
        cr_assert_str_eq(r.out, "", "case %zu", i);
        result_free(&r);
    }
}

Test(e2e_cli, missing_script_file_is_a_usage_error) {
    const char *args[] = {"run", "/nonexistent/strategy.lua", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "/nonexistent/strategy.lua") && strstr(r.err, "No such file"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

Test(e2e_cli, bad_options_are_usage_errors) {
    const char *cases[][6] = {
        {"run", NULL},
        {"run", "-e", "return 1", "--bogus", NULL},
        {"run", "-e", "return 1", "--parallel", "0", NULL},
        {"run", "-e", "return 1", "--answers", "x", NULL},  // completed below with --responder
        {"run", "x.lua", "-e", "return 1", NULL},
        {"advice", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[10];
        int n = 0;
        for (int k = 0; cases[i][k]; k++) args[n++] = cases[i][k];
        if (i == 3) { args[n++] = "--responder"; args[n++] = "cat"; }
        args[n] = NULL;
        cli_result r = run(args, NULL);
        expect_status(&r, 2);
        cr_assert(strstr(r.err, "--help"), "case %zu: stderr should point at --help: %s", i, r.err);
        result_free(&r);
    }
}

Test(e2e_cli, help_prints_usage_and_exits_0) {
    const char *args[] = {"run", "--help", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert(strstr(r.out, "usage: alc run") && strstr(r.out, "--responder") && strstr(r.out, "130"), "stdout: %s", r.out);
    result_free(&r);
}

/* ------------------------------------------------------------------ stdin and interactive */

Test(e2e_cli, piped_stdin_answers_prompts_without_showing_them) {
    const char *args[] = {"run", "-e", "return {alc.llm('first?'), alc.llm('second?')}", "--json", NULL};
    cli_result r = run(args, "line one\nline two\n.\nlast answer without a dot\n");
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"line one\\nline two\",\"last answer without a dot\"]\n");
    cr_assert_null(strstr(r.err, "first?"), "prompts are not shown unless --interactive: %s", r.err);
    result_free(&r);
}

Test(e2e_cli, interactive_shows_prompt_and_system_and_answers_a_batch_item_by_item) {
    const char *args[] = {"run", "-e",
                          "return alc.llm_batch({{prompt = 'PROMPT-A', system = 'SYSTEM-A'}, {prompt = 'PROMPT-B'}})",
                          "--interactive", "--json", NULL};
    cli_result r = run(args, "alpha\n.\nbeta\r\n.\n");
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"alpha\",\"beta\"]\n");
    const char *a = strstr(r.err, "PROMPT-A"), *s = strstr(r.err, "SYSTEM-A"), *b = strstr(r.err, "PROMPT-B");
    cr_assert(a && s && b && s < a && a < b, "stderr should show system, then prompt A, then prompt B:\n%s", r.err);
    cr_assert(strstr(r.err, "1 of 2") && strstr(r.err, "2 of 2"), "stderr: %s", r.err);
    result_free(&r);
}

Test(e2e_cli, stdin_ending_before_an_answer_is_an_error_showing_the_prompt) {
    const char *args[] = {"run", "-e", "alc.llm('the first'); return alc.llm('WHAT IS THE SECOND?')", NULL};
    cli_result r = run(args, "only one\n.\n");
    expect_status(&r, 1);
    cr_assert(strstr(r.err, "WHAT IS THE SECOND?"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

/* ------------------------------------------------------------------ --answers */

Test(e2e_cli, answers_file_rules_match_substrings_and_lua_patterns_then_plain_answers_in_order) {
    const char *ans = write_file("a.jsonl",
                                 "# rules first\n"
                                 "{\"match\": \"f(x) = ?\", \"response\": \"substring hit\"}\n"
                                 "\n"
                                 "{\"match\": \"^%d+ apples$\", \"response\": \"pattern hit\"}\n"
                                 "{\"match\": \"json please\", \"response\": {\"k\": [1, true]}}\n"
                                 "\"plain one\"\n"
                                 "{\"response\": \"plain two\"}\n", false);
    const char *args[] = {"run", "-e",
                          "return {alc.llm('what is f(x) = ?'), alc.llm('12 apples'), alc.llm('other'),"
                          " alc.llm('json please'), alc.llm('more'), alc.llm('again f(x) = ? here')}",
                          "--answers", ans, "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"substring hit\",\"pattern hit\",\"plain one\",\"{\\\"k\\\":[1,true]}\",\"plain two\",\"substring hit\"]\n");
    result_free(&r);
}

Test(e2e_cli, answers_file_may_be_a_json_array) {
    const char *ans = write_file("a.json", "[\"one\", {\"match\": \"b\", \"response\": \"bee\"}, \"two\"]", false);
    const char *args[] = {"run", "-e", "return alc.llm_batch({{prompt = 'a'}, {prompt = 'b'}, {prompt = 'c'}})",
                          "--answers", ans, "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"one\",\"bee\",\"two\"]\n");
    result_free(&r);
}

Test(e2e_cli, unanswerable_prompt_is_an_error_showing_the_prompt) {
    const char *ans = write_file("a.jsonl", "{\"match\": \"known\", \"response\": \"yes\"}\n", false);
    const char *args[] = {"run", "-e", "alc.llm('known'); return alc.llm('A QUESTION NOBODY EXPECTED')",
                          "--answers", ans, NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 1);
    cr_assert(strstr(r.err, "A QUESTION NOBODY EXPECTED") && strstr(r.err, "a.jsonl"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    result_free(&r);
}

Test(e2e_cli, invalid_answers_file_is_a_usage_error_naming_the_line) {
    const char *ans = write_file("bad.jsonl", "\"fine\"\n{\"match\": \"x\"\n", false);
    const char *args[] = {"run", "-e", "return 1", "--answers", ans, NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "bad.jsonl:2"), "stderr: %s", r.err);
    result_free(&r);
    const char *args2[] = {"run", "-e", "return 1", "--answers", in_dir("missing.jsonl"), NULL};
    r = run(args2, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "missing.jsonl"), "stderr: %s", r.err);
    result_free(&r);
}

/* ------------------------------------------------------------------ --responder */

Test(e2e_cli, responder_gets_the_prompt_on_stdin_and_the_query_in_its_environment) {
    const char *sh = write_file("model.sh",
                                "#!/bin/sh\n"
                                "p=$(cat)\n"
                                "printf '%s|%s|%s|%s\\n\\n' \"$ALC_QUERY_ID\" \"$ALC_MAX_TOKENS\" \"$ALC_SYSTEM\" \"$p\"\n",
                                true);
    const char *args[] = {"run", "-e",
                          "return {alc.llm('hello\\nworld', {system = 'be brief', max_tokens = 77}),"
                          " alc.llm_batch({{prompt = 'x'}, {prompt = 'y'}})}",
                          "--responder", sh, "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"q-0|77|be brief|hello\\nworld\",[\"q-0|1024||x\",\"q-1|1024||y\"]]\n");
    result_free(&r);
}

Test(e2e_cli, parallel_answers_a_batch_concurrently) {
    const char *sh = write_file("slow.sh", "#!/bin/sh\np=$(cat)\nsleep 0.3\necho \"done $p\"\n", true);
    const char *code = "return alc.llm_batch({{prompt = '1'}, {prompt = '2'}, {prompt = '3'}, {prompt = '4'}})";
    const char *args[] = {"run", "-e", code, "--responder", sh, "--parallel", "4", "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "[\"done 1\",\"done 2\",\"done 3\",\"done 4\"]\n");
    cr_assert_lt(r.ms, 1000, "4 prompts of 0.3 s with --parallel 4 took %lld ms", r.ms);
    result_free(&r);
    const char *seq[] = {"run", "-e", code, "--responder", sh, "--json", NULL};
    r = run(seq, NULL);
    expect_status(&r, 0);
    cr_assert_geq(r.ms, 1200, "without --parallel the same batch took only %lld ms", r.ms);
    result_free(&r);
}

Test(e2e_cli, failing_responder_is_retried_once) {
    char body[1200];
    snprintf(body, sizeof body,
             "#!/bin/sh\n"
             "n=$(cat '%s/count' 2>/dev/null || echo 0)\n"
             "n=$((n + 1))\n"
             "echo $n > '%s/count'\n"
             "if [ $n -lt 2 ]; then echo 'flaky' >&2; exit 1; fi\n"
             "echo \"ok on try $n\"\n", g_dir, g_dir);
    const char *sh = write_file("flaky.sh", body, true);
    const char *args[] = {"run", "-e", "return alc.llm('q')", "--responder", sh, NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "\"ok on try 2\"\n");
    result_free(&r);
}

Test(e2e_cli, responder_failing_twice_fails_the_run_with_its_stderr) {
    char body[1200];
    snprintf(body, sizeof body,
             "#!/bin/sh\n"
             "echo x >> '%s/tries'\n"
             "echo 'model exploded: quota' >&2\n"
             "exit 7\n", g_dir);
    const char *sh = write_file("broken.sh", body, true);
    const char *args[] = {"run", "-e", "return alc.llm('q')", "--responder", sh, NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 1);
    cr_assert(strstr(r.err, "model exploded: quota") && strstr(r.err, "exit status 7"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    char *tries = read_text(in_dir("tries"));
    cr_assert_not_null(tries);
    cr_assert_str_eq(tries, "x\nx\n", "the command runs exactly twice");
    free(tries);
    result_free(&r);
}

/* ------------------------------------------------------------------ interruption: 130 / 143 */

Test(e2e_cli, sigint_while_a_responder_runs_cancels_and_exits_130) {
    char body[1200];
    snprintf(body, sizeof body,
             "#!/bin/sh\n"
             "sleep 30 &\n"
             "echo $! > '%s/sleep.pid'\n"
             "touch '%s/started'\n"
             "wait\n"
             "echo late\n", g_dir, g_dir);
    const char *sh = write_file("slow.sh", body, true);
    const char *args[] = {"run", "-e", "return alc.llm('take your time')", "--responder", sh, NULL};
    long long t0 = now_ms();
    alc_proc *p = spawn_cli(args, NULL);
    alc_proc_close_stdin(p);
    cr_assert(wait_for_file(in_dir("started"), 10000), "the responder never started");
    long long sent = now_ms();
    cr_assert_eq(alc_proc_kill(p, SIGINT), 0);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 130);
    cr_assert_lt(now_ms() - sent, 3000, "exit took too long after SIGINT");
    cr_assert(strstr(r.err, "interrupted"), "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "");
    // the responder's whole process group was stopped
    char *pid_text = read_text(in_dir("sleep.pid"));
    cr_assert_not_null(pid_text);
    pid_t pid = (pid_t)atol(pid_text);
    free(pid_text);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
        char stat_path[64];
        snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
        char *st = read_text(stat_path);
        const char *close_paren = st ? strrchr(st, ')') : NULL;
        gone = kill(pid, 0) != 0 || (close_paren && close_paren[2] == 'Z');
        free(st);
        if (!gone) sleep_ms(20);
    }
    cr_assert(gone, "the responder's child (pid %d) still runs", (int)pid);
    cr_assert(log_meta_contains("\"state\":\"cancelled\""), "the session log of the cancelled run was not written");
    result_free(&r);
}

Test(e2e_cli, sigint_while_the_script_busy_loops_cancels_and_exits_130) {
    char body[600];
    snprintf(body, sizeof body, "#!/bin/sh\ncat > /dev/null\ntouch '%s/answered'\necho go\n", g_dir);
    const char *sh = write_file("mark.sh", body, true);
    const char *args[] = {"run", "-e", "alc.llm('ready?'); local i = 0; while true do i = i + 1 end",
                          "--responder", sh, NULL};
    long long t0 = now_ms();
    alc_proc *p = spawn_cli(args, NULL);
    alc_proc_close_stdin(p);
    cr_assert(wait_for_file(in_dir("answered"), 10000), "the responder never ran");
    sleep_ms(300);   // the answer is delivered and the loop spins
    long long sent = now_ms();
    cr_assert_eq(alc_proc_kill(p, SIGINT), 0);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 130);
    cr_assert_lt(now_ms() - sent, 3000, "exit took too long after SIGINT");
    cr_assert(log_meta_contains("\"state\":\"cancelled\""), "the session log of the cancelled run was not written");
    result_free(&r);
}

Test(e2e_cli, sigint_while_reading_answers_from_stdin_exits_130) {
    const char *args[] = {"run", "-e", "return alc.llm('WAITING-FOR-YOU')", "--interactive", NULL};
    long long t0 = now_ms();
    alc_proc *p = spawn_cli(args, NULL);   // stdin stays open: alc waits for an answer
    bool shown = false;
    for (int i = 0; i < 500 && !shown; i++) {
        char *e = alc_proc_stderr_text(p, NULL);
        shown = e && strstr(e, "WAITING-FOR-YOU");
        free(e);
        if (!shown) sleep_ms(20);
    }
    cr_assert(shown, "the prompt never appeared on stderr");
    cr_assert_eq(alc_proc_kill(p, SIGINT), 0);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 130);
    result_free(&r);
}

Test(e2e_cli, sigterm_cancels_and_exits_143) {
    const char *args[] = {"run", "-e", "while true do end", NULL};
    long long t0 = now_ms();
    alc_proc *p = spawn_cli(args, NULL);
    alc_proc_close_stdin(p);
    sleep_ms(300);
    cr_assert_eq(alc_proc_kill(p, SIGTERM), 0);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 143);
    result_free(&r);
}

/* True once pid has exited: no such process, or a zombie nobody reaped yet. */
static bool pid_gone(pid_t pid) {
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
    char *st = read_text(stat_path);
    const char *close_paren = st ? strrchr(st, ')') : NULL;
    bool gone = kill(pid, 0) != 0 || (close_paren && close_paren[2] == 'Z');
    free(st);
    return gone;
}

// Starts `alc run -e 'while true do end'` in the background of `sh -c` (after sh_prefix),
// which prints its pid and exits 0.3 s later, orphaning alc. Returns alc's pid once sh has
// exited; *proc gets sh's handle (free it), whose captured stderr alc shares.
static pid_t orphan_busy_loop(const char *sh_prefix, alc_proc **proc) {
    char script[400];
    snprintf(script, sizeof script, "%s \"$0\" run -e 'while true do end' & echo $!; sleep 0.3", sh_prefix);
    const char *argv[] = {"/bin/sh", "-c", script, alc_bin(), NULL};
    char home[700];
    snprintf(home, sizeof home, "ALC_HOME=%s/home", g_dir);
    const char *env[] = {home, NULL};
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p, "cannot spawn sh: %s", strerror(errno));
    alc_proc_close_stdin(p);
    int st;
    char *line = alc_proc_recv(p, 10000, &st);
    cr_assert_not_null(line, "sh did not print the pid of alc (status %d)", st);
    pid_t pid = (pid_t)atol(line);
    free(line);
    cr_assert_gt(pid, 1);
    int status = -1;
    cr_assert_eq(alc_proc_wait(p, 10000, &status), 0, "sh did not exit");
    cr_assert_eq(status, 0);
    *proc = p;
    return pid;
}

Test(e2e_cli, run_whose_parent_dies_cancels_its_busy_loop_and_exits) {
    alc_proc *p = NULL;
    pid_t pid = orphan_busy_loop("", &p);
    long long died = now_ms();
    bool gone = false;
    while (!gone && now_ms() - died < 3000) {
        gone = pid_gone(pid);
        if (!gone) sleep_ms(20);
    }
    if (!gone) kill(pid, SIGKILL);  // do not leave a spinning orphan behind a failed test
    char *err = alc_proc_stderr_text(p, NULL);
    alc_proc_free(p);
    cr_assert(gone, "alc (pid %d) still runs 3 s after its parent exited; stderr:\n%s", (int)pid, err ? err : "");
    cr_assert(err && strstr(err, "hung up") && strstr(err, "session cancelled"),
              "the session was not cancelled cleanly; stderr:\n%s", err ? err : "");
    free(err);
}

Test(e2e_cli, run_with_sighup_ignored_outlives_its_parent_like_nohup) {
    alc_proc *p = NULL;
    pid_t pid = orphan_busy_loop("trap '' HUP;", &p);
    sleep_ms(700);
    bool gone = pid_gone(pid);
    if (!gone) kill(pid, SIGKILL);
    alc_proc_free(p);
    cr_assert(!gone, "an ignored SIGHUP (nohup) must keep the orphaned run going");
}

/* ------------------------------------------------------------------ alc advice */

Test(e2e_cli, advice_runs_an_installed_strategy_with_the_task) {
    char pkg[800];
    snprintf(pkg, sizeof pkg, "%s/home/packages/greeter", g_dir);
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", pkg);
    cr_assert_eq(system(cmd), 0);
    snprintf(pkg + strlen(pkg), sizeof pkg - strlen(pkg), "/init.lua");
    FILE *f = fopen(pkg, "w");
    cr_assert_not_null(f);
    fputs("local M = {}\n"
          "function M.run(ctx)\n"
          "  return {task = ctx.task, style = ctx.style, answer = alc.llm('Task: ' .. ctx.task)}\n"
          "end\n"
          "return M\n", f);
    fclose(f);
    const char *ans = write_file("a.jsonl", "{\"match\": \"^Task: \", \"response\": \"done it\"}\n", false);
    const char *args[] = {"advice", "greeter", "--task", "say hi", "--opts", "{\"style\": \"dry\"}",
                          "--answers", ans, "--json", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "{\"answer\":\"done it\",\"style\":\"dry\",\"task\":\"say hi\"}\n");
    result_free(&r);
}

Test(e2e_cli, advice_with_an_unknown_or_invalid_strategy_is_a_usage_error) {
    const char *args[] = {"advice", "no_such_strategy", "--task", "x", NULL};
    cli_result r = run(args, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "no_such_strategy") && strstr(r.err, "not found"), "stderr: %s", r.err);
    result_free(&r);
    const char *bad[] = {"advice", "../etc", NULL};
    r = run(bad, NULL);
    expect_status(&r, 2);
    result_free(&r);
}

Test(e2e_cli, advice_finds_the_project_above_the_cwd_and_a_bad_project_root_is_a_usage_error) {
    // a project with alc.toml whose packages/ holds "local_strat"; the command runs two levels
    // below it, without --project-root: the walk up to alc.toml finds the package
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/proj/packages/local_strat' '%s/proj/src/deep'", g_dir, g_dir);
    cr_assert_eq(system(cmd), 0);
    write_file("proj/alc.toml", "[packages]\n", false);
    write_file("proj/packages/local_strat/init.lua",
               "local M = {}\nfunction M.run(ctx) return {from = 'project', task = ctx.task} end\nreturn M\n", false);
    char old[700];
    cr_assert_not_null(getcwd(old, sizeof old));
    cr_assert_eq(chdir(in_dir("proj/src/deep")), 0);
    const char *args[] = {"advice", "local_strat", "--task", "t", "--json", NULL};
    cli_result r = run(args, NULL);
    cr_assert_eq(chdir(old), 0);
    expect_status(&r, 0);
    cr_assert_str_eq(r.out, "{\"from\":\"project\",\"task\":\"t\"}\n");
    result_free(&r);
    // from outside the project the package is not found
    r = run(args, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "not found"), "stderr: %s", r.err);
    result_free(&r);
    // --project-root naming something that is not a directory
    const char *bad[] = {"run", "-e", "return 1", "--project-root", in_dir("proj/alc.toml"), NULL};
    r = run(bad, NULL);
    expect_status(&r, 2);
    cr_assert(strstr(r.err, "not a directory"), "stderr: %s", r.err);
    result_free(&r);
}

/* ------------------------------------------------------------------ terminal (script(1)) */

static const char *script_bin(void) {
    static const char *const cands[] = {"/usr/bin/script", "/bin/script"};
    for (size_t i = 0; i < 2; i++) if (access(cands[i], X_OK) == 0) return cands[i];
    return NULL;
}

Test(e2e_cli, progress_line_is_drawn_on_a_terminal) {
    const char *script = script_bin();
    if (!script) cr_skip_test("script(1) is not installed: the terminal-only progress line is not checked");
    const char *sh = write_file("slow.sh", "#!/bin/sh\ncat >/dev/null\nsleep 0.4\necho fine\n", true);
    char cmdline[2000];
    snprintf(cmdline, sizeof cmdline,
             "'%s' run -e \"alc.progress(1, 2, 'warming up'); return alc.llm('x')\" --responder '%s'",
             alc_bin(), sh);
    const char *args[] = {"-qfec", cmdline, "/dev/null", NULL};
    const char *argv[8] = {script};
    for (int i = 0; args[i]; i++) argv[i + 1] = args[i];
    char home[700];
    snprintf(home, sizeof home, "ALC_HOME=%s/home", g_dir);
    const char *env[] = {home, NULL};
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    long long t0 = now_ms();
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 0);
    cr_assert(strstr(r.out, "step 1/2 warming up") && strstr(r.out, "1 LLM call"), "terminal output: %s", r.out);
    cr_assert(strstr(r.out, "\"fine\""), "terminal output: %s", r.out);
    result_free(&r);
}

Test(e2e_cli, interactive_is_the_default_on_a_terminal) {
    const char *script = script_bin();
    if (!script) cr_skip_test("script(1) is not installed: the terminal default is not checked");
    char cmdline[2000];
    snprintf(cmdline, sizeof cmdline, "'%s' run -q -e \"return alc.llm('ASKED-ON-TTY', {system = 'SYS-ON-TTY'})\"",
             alc_bin());
    const char *argv[] = {script, "-qfec", cmdline, "/dev/null", NULL};
    char home[700];
    snprintf(home, sizeof home, "ALC_HOME=%s/home", g_dir);
    const char *env[] = {home, NULL};
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    long long t0 = now_ms();
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p);
    // wait for the prompt, answer it, and keep stdin open until the end
    bool asked = false;
    size_t cap = 8192, len = 0;
    char *seen = calloc(1, cap);
    for (int i = 0; i < 100 && !asked; i++) {
        int st;
        size_t n;
        char *line = alc_proc_recv_n(p, 100, &st, &n);
        if (!line) continue;
        while (len + n + 2 > cap) seen = realloc(seen, cap *= 2);
        memcpy(seen + len, line, n);
        len += n;
        seen[len++] = '\n';
        seen[len] = '\0';
        free(line);
        asked = strstr(seen, "your answer") != NULL;
    }
    cr_assert(asked, "no prompt on the terminal: %s", seen);
    cr_assert(strstr(seen, "ASKED-ON-TTY") && strstr(seen, "SYS-ON-TTY"), "terminal output: %s", seen);
    free(seen);
    cr_assert_eq(alc_proc_send_raw(p, "typed answer\n.\n", 16), 0);
    cli_result r = finish_cli(p, t0);
    expect_status(&r, 0);
    cr_assert(strstr(r.out, "\"typed answer\""), "terminal output: %s", r.out);
    result_free(&r);
}

/* ------------------------------------------------------------------ examples/ (README) */

Test(e2e_cli, every_example_runs_as_the_readme_shows) {
    const char *ex = examples_dir();
    char hello[1100], sum[1100], sum_ctx[1100], a_hello[1100], a_sum[1100], a_seq[1100], resp[1100];
    snprintf(hello, sizeof hello, "%s/hello.lua", ex);
    snprintf(sum, sizeof sum, "%s/summarize.lua", ex);
    snprintf(sum_ctx, sizeof sum_ctx, "%s/summarize.ctx.json", ex);
    snprintf(a_hello, sizeof a_hello, "%s/answers/hello.jsonl", ex);
    snprintf(a_sum, sizeof a_sum, "%s/answers/summarize.jsonl", ex);
    snprintf(a_seq, sizeof a_seq, "%s/answers/summarize-in-order.jsonl", ex);
    snprintf(resp, sizeof resp, "%s/responder.sh", ex);

    // hello.lua with canned answers
    const char *h1[] = {"run", hello, "--ctx", "{\"name\":\"Ada\"}", "--answers", a_hello, NULL};
    cli_result r = run(h1, NULL);
    expect_status(&r, 0);
    cJSON *j = out_json(&r);
    cr_assert_str_eq(member_str(j, "greeting"), "Hello, Ada! The Analytical Engine sends its regards.");
    cJSON_Delete(j);
    result_free(&r);

    // hello.lua with the fake model
    const char *h2[] = {"run", hello, "--responder", resp, NULL};
    r = run(h2, NULL);
    expect_status(&r, 0);
    j = out_json(&r);
    cr_assert_str_eq(member_str(j, "greeting"), "Hello, world! (a fake model says hi)");
    cJSON_Delete(j);
    result_free(&r);

    // hello.lua over budget
    const char *h3[] = {"run", hello, "--ctx", "{\"budget\":{\"max_llm_calls\":0}}", "--responder", resp, NULL};
    r = run(h3, NULL);
    expect_status(&r, 3);
    result_free(&r);

    // summarize.lua with rules, with the plain list, and with the fake model in parallel
    const char *s1[] = {"run", sum, "--ctx-file", sum_ctx, "--answers", a_sum, NULL};
    r = run(s1, NULL);
    expect_status(&r, 0);
    j = out_json(&r);
    const cJSON *sent = cJSON_GetObjectItemCaseSensitive(j, "sentences");
    cr_assert_eq(cJSON_GetArraySize(sent), 3);
    cr_assert_str_eq(str_at(sent, 1), "Tea began as a Chinese medicine and reached Europe by the 1600s.");
    cr_assert(strstr(member_str(j, "summary"), "Cats nap"), "summary: %s", member_str(j, "summary"));
    cJSON_Delete(j);
    result_free(&r);

    const char *s2[] = {"run", sum, "--ctx-file", sum_ctx, "--answers", a_seq, NULL};
    r = run(s2, NULL);
    expect_status(&r, 0);
    j = out_json(&r);
    cr_assert_str_eq(member_str(j, "summary"), "Cats nap, tea travels and rivers carve valleys: three slow stories.");
    cJSON_Delete(j);
    result_free(&r);

    const char *env[] = {"FAKE_MODEL_DELAY=0.3", NULL};
    const char *s3[] = {"run", sum, "--ctx-file", sum_ctx, "--responder", resp, "--parallel", "4", NULL};
    r = run_env(s3, NULL, env);
    expect_status(&r, 0);
    cr_assert_lt(r.ms, 1500, "3 parallel prompts + 1 took %lld ms", r.ms);
    j = out_json(&r);
    sent = cJSON_GetObjectItemCaseSensitive(j, "sentences");
    cr_assert_str_eq(str_at(sent, 0), "Cats sleep for twelve to sixteen hours a day.");
    cr_assert(strstr(member_str(j, "summary"), "Rivers shape the land they cross."), "summary: %s", member_str(j, "summary"));
    cJSON_Delete(j);
    result_free(&r);
}
