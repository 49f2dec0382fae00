/*
 * test_e2e_faults.c — faults around the real binary ($ALC_BIN): kill -9 during heavy alc.state
 * writes, two servers incrementing one key, a file-size limit and a read-only state directory
 * during writes, the host closing the protocol fd mid-stream, end of input with 100 live
 * sessions, and SIGTERM / SIGINT. After each, nothing that was written is lost or torn, and a
 * server that was not killed answers clearly, keeps serving and exits 0 when told to stop.
 *
 * The increment count of the two-server test comes from ALC_REL_INCREMENTS (per server,
 * default 500 so that scripts/test stays fast; `scripts/fuzz --long` runs it with 10000).
 *
 * Threads: Criterion runs each test in its own process; only the test thread talks to servers.
 * The read-only test drops the test process to uid nobody when it runs as root (root ignores
 * permission bits), which is safe because every Criterion test is its own process.
 */
#include "rel_util.h"

#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>

TestSuite(e2e_faults, .fini = rel_teardown, .timeout = 280);

/* Parses a whole file as JSON (new) or NULL. */
static cJSON *load_json(const char *path) {
    size_t n;
    char *text = rel_slurp(path, &n);
    if (!text) return NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, n + 1, NULL, 1);
    free(text);
    return j;
}

/* A value written by the writer script below: {n, i, pad} with pad = char(65 + n % 26)
 * repeated 1000 + n % 500 times. */
static void check_written_value(const cJSON *v, const char *where) {
    char *raw = cJSON_PrintUnformatted(v);
    const cJSON *n = rel_get(v, "n"), *i = rel_get(v, "i"), *pad = rel_get(v, "pad");
    cr_assert(cJSON_IsNumber(n) && cJSON_IsNumber(i) && cJSON_IsString(pad), "%s: not a written value: %.200s", where, raw);
    long long nn = (long long)n->valuedouble;
    size_t want = 1000 + (size_t)(nn % 500);
    cr_assert_eq(strlen(pad->valuestring), want, "%s: pad of n=%lld has the wrong length", where, nn);
    for (size_t k = 0; k < want; k++)
        cr_assert_eq(pad->valuestring[k], (char)(65 + nn % 26), "%s: pad of n=%lld is not what was written", where, nn);
    free(raw);
}

static const char writer[] =
    "local n = 0\n"
    "while true do\n"
    "  n = n + 1\n"
    "  alc.state.set('v' .. (n % 3), {n = n, i = ctx.i, pad = string.rep(string.char(65 + n % 26), 1000 + n % 500)})\n"
    "  if n % 5 == 0 then alc.state.incr('count') end\n"
    "end\n";

Test(e2e_faults, kill_9_during_state_writes_from_20_sessions_leaves_every_file_whole) {
    rel_srv *s = rel_start(NULL);
    for (int i = 0; i < 20; i++) {
        // ten sessions share one namespace (contention on one file), ten have their own
        char *ctx = i < 10 ? rel_fmt("{\"i\":%d,\"_ns\":\"shared\"}", i) : rel_fmt("{\"i\":%d,\"_ns\":\"own%d\"}", i, i);
        rel_send_run(s, writer, ctx);
        free(ctx);
    }
    char *shared = rel_fmt("%s/state/shared.json", s->home);
    char *last_own = rel_fmt("%s/state/own19.json", s->home);
    long long deadline = rel_now_ms() + 30000;
    struct stat st;
    while (stat(shared, &st) != 0 || stat(last_own, &st) != 0) {
        cr_assert_lt(rel_now_ms(), deadline, "the writers never wrote");
        rel_sleep_ms(50);
    }
    rel_sleep_ms(1000);  // heavy writing for a while, then the plug is pulled
    cr_assert_eq(alc_proc_kill(s->p, SIGKILL), 0);
    int es = 0;
    alc_proc_wait(s->p, 5000, &es);
    cr_assert_eq(es, 128 + SIGKILL, "the server died from SIGKILL (status %d)", es);

    char *dir = rel_fmt("%s/state", s->home);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int files = 0, values = 0, strays = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) {
            char *path = rel_fmt("%s/%s", dir, de->d_name);
            cJSON *j = load_json(path);
            cr_assert(cJSON_IsObject(j), "%s does not parse as a JSON object after kill -9", path);
            for (const cJSON *v = j->child; v; v = v->next) {
                if (strcmp(v->string, "count") == 0) {
                    cr_assert(cJSON_IsNumber(v) && v->valuedouble >= 1, "%s: count", path);
                    continue;
                }
                check_written_value(v, path);
                values++;
            }
            cJSON_Delete(j);
            free(path);
            files++;
        } else if (strstr(de->d_name, ".tmp.")) {
            strays++;  // a save interrupted between create and rename; never read back
        }
    }
    closedir(d);
    cr_assert_eq(files, 11, "one file per namespace (got %d)", files);
    cr_assert_geq(values, 11, "every file holds written values");
    fprintf(stderr, "kill -9: %d state files, %d values, all whole; %d interrupted temp files left\n", files, values, strays);

    // a new server on the same home reads the same values and can write again (no stale lock)
    rel_srv *t = rel_start_home(s->home, NULL, true);
    cJSON *r = rel_run(t, "local v = alc.state.get('v1') alc.state.set('after', 1) alc.state.incr('count')\n"
                          "return {v = v, after = alc.state.get('after')}", "{\"_ns\":\"shared\"}");
    cr_assert_str_eq(rel_status(r), "completed");
    const cJSON *res = rel_get(r, "result");
    cJSON *file = load_json(shared);
    cr_assert(cJSON_Compare(rel_get(res, "v"), rel_get(file, "v1"), 1), "the server reads what the file holds");
    cr_assert_eq(rel_get(res, "after")->valuedouble, 1);
    cJSON_Delete(file);
    cJSON_Delete(r);
    rel_finish(t);
    free(dir);
    free(shared);
    free(last_own);
}

Test(e2e_faults, two_servers_incrementing_one_key_lose_no_increment, .timeout = 7200) {
    const char *knob = getenv("ALC_REL_INCREMENTS");
    long per_server = knob && *knob ? strtol(knob, NULL, 10) : 500;
    cr_assert_gt(per_server, 0);
    const int sessions = 5;  // per server, all incrementing at once
    long per_session = per_server / sessions;
    per_server = per_session * sessions;
    char *home = alc_test_tmpdir();
    rel_srv *a = rel_start_home(home, NULL, true);
    rel_srv *b = rel_start_home(home, NULL, true);
    char *code = rel_fmt("for i = 1, %ld do alc.state.incr('hits') end return true", per_session);
    int ids_a[5], ids_b[5];
    long long t0 = rel_now_ms();
    for (int i = 0; i < sessions; i++) {
        ids_a[i] = rel_send_run(a, code, NULL);
        ids_b[i] = rel_send_run(b, code, NULL);
    }
    int budget_ms = (int)(per_server * 2 * 200 + 60000);  // 200 ms per fsynced increment is very slow
    for (int i = 0; i < sessions; i++) {
        cJSON *r = rel_ok_json(rel_wait_within(a, ids_a[i], budget_ms));
        cr_assert_str_eq(rel_status(r), "completed");
        cJSON_Delete(r);
        r = rel_ok_json(rel_wait_within(b, ids_b[i], budget_ms));
        cr_assert_str_eq(rel_status(r), "completed");
        cJSON_Delete(r);
    }
    long long ms = rel_now_ms() - t0;
    cJSON *r = rel_run(a, "return alc.state.get('hits')", NULL);
    cr_assert_eq(rel_get(r, "result")->valuedouble, (double)(2 * per_server), "increments lost: %.0f of %ld",
                 rel_get(r, "result")->valuedouble, 2 * per_server);
    cJSON_Delete(r);
    fprintf(stderr, "two servers x %d sessions: %ld increments in %lld ms (%.2f ms each)\n", sessions, 2 * per_server,
            ms, (double)ms / (double)(2 * per_server));
    rel_finish(a);
    rel_finish(b);
    free(code);
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_faults, file_size_limit_during_a_state_write_is_a_clear_error_and_keeps_the_old_value) {
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;  // inherited by the server spawned next
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    const char *env[] = {"ALC_LOG_LEVEL=off", NULL};
    rel_srv *s = rel_start(env);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cJSON *r = rel_run(s, "alc.state.set('k', 'small') return alc.state.get('k')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "small");
    cJSON_Delete(r);
    r = rel_run(s, "local ok, e = pcall(alc.state.set, 'k', string.rep('x', 200000)) return {ok = ok, e = tostring(e)}", NULL);
    cr_assert_str_eq(rel_status(r), "completed", "the failing write is a catchable error");
    const cJSON *res = rel_get(r, "result");
    cr_assert(cJSON_IsFalse(rel_get(res, "ok")), "a write over the file-size limit must fail");
    cr_assert(rel_contains_ci(rel_str(res, "e"), "large") || rel_contains_ci(rel_str(res, "e"), "write") ||
                  rel_contains_ci(rel_str(res, "e"), "space"),
              "the error says why: %s", rel_str(res, "e"));
    cJSON_Delete(r);
    r = rel_run(s, "return alc.state.get('k')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "small", "the previous value is intact");
    cJSON_Delete(r);
    r = rel_run(s, "alc.state.set('k2', 'also fine') return alc.state.get('k2')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "also fine", "small writes still work");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* Drops this test process to uid/gid nobody after giving it path (root ignores modes). Returns
 * false when that is impossible (then the caller skips). */
static bool become_unprivileged(const char *path) {
    if (geteuid() != 0) return true;
    struct passwd *pw = getpwnam("nobody");
    if (!pw) return false;
    if (chown(path, pw->pw_uid, pw->pw_gid) != 0) return false;
    if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) return false;
    return access(getenv("ALC_BIN"), X_OK) == 0;
}

Test(e2e_faults, read_only_state_directory_is_a_clear_error_and_keeps_the_old_value) {
    char *home = alc_test_tmpdir();
    if (!become_unprivileged(home)) {
        alc_test_rmtree(home);
        free(home);
        cr_skip_test("cannot drop root privileges to test permission errors");
    }
    const char *env[] = {"ALC_LOG_LEVEL=off", NULL};
    rel_srv *s = rel_start_home(home, env, true);
    cJSON *r = rel_run(s, "alc.state.set('k', 'v1') return alc.state.get('k')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "v1");
    cJSON_Delete(r);
    char *state = rel_fmt("%s/state", home);
    cr_assert_eq(chmod(state, 0500), 0);
    r = rel_run(s, "local ok, e = pcall(alc.state.set, 'k', 'v2') return {ok = ok, e = tostring(e)}", NULL);
    const cJSON *res = rel_get(r, "result");
    cr_assert(cJSON_IsFalse(rel_get(res, "ok")), "a write into a read-only directory must fail");
    cr_assert(rel_contains_ci(rel_str(res, "e"), "permission") || rel_contains_ci(rel_str(res, "e"), "read-only"),
              "the error says why: %s", rel_str(res, "e"));
    cJSON_Delete(r);
    r = rel_run(s, "alc.state.incr('n')", NULL);
    rel_expect_failed(r, "lua_error", "alc.state", "an uncaught failed write fails that session only");
    cJSON_Delete(r);
    r = rel_run(s, "return alc.state.get('k')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "v1", "the previous value is intact and readable");
    cJSON_Delete(r);
    rel_alive(s);
    cr_assert_eq(chmod(state, 0700), 0);
    r = rel_run(s, "alc.state.set('k', 'v3') return alc.state.get('k')", NULL);
    cr_assert_str_eq(rel_str(r, "result"), "v3", "writes work again once the directory is writable");
    cJSON_Delete(r);
    // a home that is read-only before anything exists
    char *fresh = rel_fmt("%s/fresh", home);
    cr_assert_eq(mkdir(fresh, 0500), 0);
    rel_srv *t = rel_start_home(fresh, env, true);
    r = rel_run(t, "alc.state.set('x', 1)", NULL);
    rel_expect_failed(r, "lua_error", NULL, "state dir cannot be created");
    cJSON_Delete(r);
    rel_alive(t);
    rel_finish(t);
    rel_finish(s);
    chmod(fresh, 0700);
    free(fresh);
    free(state);
    alc_test_rmtree(home);
    free(home);
}

/* ------------------------------------------------------------------ the protocol fd */

typedef struct raw_child {
    pid_t pid;
    int to, from;
} raw_child;

/* Spawns $ALC_BIN with ALC_HOME=home on two plain pipes (the harness cannot close stdout). */
static raw_child spawn_raw(const char *home) {
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        for (int fd = 3; fd < 256; fd++) close(fd);
        signal(SIGPIPE, SIG_DFL);
        setenv("ALC_HOME", home, 1);
        execl(getenv("ALC_BIN"), "alc", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    return (raw_child){pid, in[1], out[0]};
}

static void write_all(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        cr_assert_gt(k, 0, "write to the server failed: %s", strerror(errno));
        s += k;
        n -= (size_t)k;
    }
}

/* Waits up to ms for pid; returns the wait status or -1 on timeout (then kills it). */
static int wait_pid_ms(pid_t pid, int ms) {
    long long deadline = rel_now_ms() + ms;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (rel_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        rel_sleep_ms(10);
    }
}

Test(e2e_faults, host_closing_the_protocol_fd_mid_stream_stops_the_server_cleanly) {
    char *home = alc_test_tmpdir();
    raw_child c = spawn_raw(home);
    write_all(c.to, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
                    "\"capabilities\":{},\"clientInfo\":{\"name\":\"faults\",\"version\":\"1\"}}}\n"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
                    "{\"code\":\"alc.state.set('before', 'kept') return alc.llm('paused')\"}}}\n"
                    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
                    "{\"code\":\"while true do end\"}}}\n");
    // big replies that the session threads write after the reader has gone idle: the scripts
    // wait 0.5 s first, and the ping below is answered by the reader thread once it has read
    // every line, so when the host hangs up the reader is blocked in read(2) on a quiet stdin
    for (int i = 3; i < 8; i++) {
        char line[320];
        snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
                                    "\"arguments\":{\"code\":\"local t = alc.time() while alc.time() - t < 0.5 do end "
                                    "return string.rep('y', 1000000)\"}}}\n", i);
        write_all(c.to, line);
    }
    write_all(c.to, "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\"}\n");
    char buf[65536];
    size_t have = 0;
    char *acc = malloc(1 << 20);
    long long deadline = rel_now_ms() + 10000;
    for (;;) {  // until the ping's reply: then every input line has been handled
        ssize_t k = read(c.from, buf, sizeof buf);
        cr_assert_gt(k, 0, "the server stopped writing early");
        if (have + (size_t)k < (1 << 20)) {
            memcpy(acc + have, buf, (size_t)k);
            have += (size_t)k;
            acc[have] = '\0';
        }
        if (strstr(acc, "\"id\":99,")) break;
        cr_assert_lt(rel_now_ms(), deadline, "no reply to the ping");
    }
    free(acc);
    close(c.from);
    int st = wait_pid_ms(c.pid, 5000);
    cr_assert_neq(st, -1, "the server did not stop within 5 s after its output was closed");
    cr_assert(WIFEXITED(st), "the server must exit, not die from a signal (status %#x)", st);
    close(c.to);
    // what it had stored is intact
    char *path = rel_fmt("%s/state/default.json", home);
    cJSON *j = load_json(path);
    cr_assert_not_null(j, "the state file parses");
    cr_assert_str_eq(rel_str(j, "before"), "kept");
    cJSON_Delete(j);
    free(path);
    alc_test_rmtree(home);
    free(home);
}

/* ------------------------------------------------------------------ shutdown */

/* Every <log_dir>/<sid>.meta.json for sids[0..n) exists, parses and says state. */
static void expect_logs(const char *home, char (*sids)[64], int n, const char *state) {
    for (int i = 0; i < n; i++) {
        char *path = rel_fmt("%s/logs/%s.meta.json", home, sids[i]);
        cJSON *m = load_json(path);
        cr_assert_not_null(m, "session log %s is missing or torn", path);
        cr_assert_str_eq(rel_str(m, "state"), state, "%s", path);
        cJSON_Delete(m);
        free(path);
        path = rel_fmt("%s/logs/%s.json", home, sids[i]);
        m = load_json(path);
        cr_assert_not_null(m, "transcript %s is missing or torn", path);
        cr_assert_geq(cJSON_GetArraySize(rel_get(m, "transcript")), 1, "%s holds the answered call", path);
        cJSON_Delete(m);
        free(path);
    }
}

Test(e2e_faults, stdin_eof_with_100_live_sessions_writes_every_log_and_exits_zero) {
    rel_srv *s = rel_start(NULL);
    static char sids[100][64];
    int ids[100];
    for (int i = 0; i < 100; i++) ids[i] = rel_send_run(s, "local a = alc.llm('one') return alc.llm('two: ' .. a)", NULL);
    for (int i = 0; i < 100; i++) {
        cJSON *p = rel_ok_json(rel_wait(s, ids[i]));
        rel_sid(p, sids[i]);
        cJSON_Delete(p);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "session_id", sids[i]);
        cJSON_AddStringToObject(a, "response", "A");
        ids[i] = rel_send_call(s, "alc_continue", a);
    }
    for (int i = 0; i < 100; i++) {
        cJSON *p = rel_ok_json(rel_wait(s, ids[i]));
        cr_assert_str_eq(rel_status(p), "needs_response");
        cJSON_Delete(p);
    }
    long long t0 = rel_now_ms();
    rel_finish_within(s, 5000);
    fprintf(stderr, "EOF with 100 paused sessions: exit after %lld ms\n", rel_now_ms() - t0);
    expect_logs(s->home, sids, 100, "cancelled");
}

static void signal_shutdown(int sig) {
    rel_srv *s = rel_start(NULL);
    static char paused[10][64];
    int busy[5], writers[5];
    for (int i = 0; i < 10; i++) {
        cJSON *p = rel_run(s, "local a = alc.llm('one') return alc.llm('two')", NULL);
        rel_sid(p, paused[i]);
        cJSON_Delete(p);
        char *args = rel_fmt("{\"session_id\":\"%s\",\"response\":\"A\"}", paused[i]);
        cJSON_Delete(rel_ok_json(rel_call_json(s, "alc_continue", args)));
        free(args);
    }
    for (int i = 0; i < 5; i++) busy[i] = rel_send_run(s, "local x = 0 while true do x = x + 1 end", NULL);
    for (int i = 0; i < 5; i++) {
        char *ctx = rel_fmt("{\"i\":%d,\"_ns\":\"w%d\"}", i, i);
        writers[i] = rel_send_run(s, writer, ctx);
        free(ctx);
    }
    rel_sleep_ms(500);
    long long t0 = rel_now_ms();
    cr_assert_eq(alc_proc_kill(s->p, sig), 0);
    // the waiting calls are answered before the exit: cancelled for system_shutdown
    for (int i = 0; i < 5; i++) {
        bool e;
        const char *t = rel_tool_text(rel_wait_within(s, busy[i], 5000), &e);
        cr_assert(!e && strstr(t, "\"cancelled\"") && strstr(t, "system_shutdown"), "busy run at shutdown: %.300s", t);
        t = rel_tool_text(rel_wait_within(s, writers[i], 5000), &e);
        cr_assert(!e && strstr(t, "\"cancelled\""), "writer at shutdown: %.300s", t);
    }
    rel_finish_within(s, 5000);
    fprintf(stderr, "signal %d: exit after %lld ms\n", sig, rel_now_ms() - t0);
    expect_logs(s->home, paused, 10, "cancelled");
    for (int i = 0; i < 5; i++) {
        char *path = rel_fmt("%s/state/w%d.json", s->home, i);
        cJSON *j = load_json(path);
        cr_assert(cJSON_IsObject(j), "%s is whole after the signal", path);
        for (const cJSON *v = j->child; v; v = v->next)
            if (strcmp(v->string, "count") != 0) check_written_value(v, path);
        cJSON_Delete(j);
        free(path);
    }
}

Test(e2e_faults, sigterm_cancels_every_session_writes_the_logs_and_exits_zero) { signal_shutdown(SIGTERM); }

Test(e2e_faults, sigint_does_the_same_as_sigterm) { signal_shutdown(SIGINT); }
