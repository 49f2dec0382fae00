/*
 * test_e2e_sandbox.c — escape attempts against the real binary ($ALC_BIN). Each attempt tries to
 * cause an effect (create a marker file, reach a hidden function, read a planted secret) and the
 * test checks that the effect did not happen, not only that a name is nil:
 *   - a table of Lua escape attempts in the default profile (process, native code, bytecode,
 *     debug, string-metatable tricks, require outside the roots, interpreter edge cases);
 *   - isolation: what one session does to its globals or the string metatable is not seen by
 *     another;
 *   - state namespaces and session / scenario / eval ids with "..", "/", "\" and U+0000;
 *   - symlink escapes: ALC_SANDBOX=strict file access and ALC_PKG_STRICT package loading;
 *   - everything alc creates under ALC_HOME is 0600 (files) / 0700 (directories) even with
 *     umask 0;
 *   - session ids are 128 random bits (format, uniqueness, bit balance).
 * tests/lua/sandbox_default.lua and sandbox_strict.lua check the same profiles from inside Lua;
 * test_e2e_pkg.c and test_e2e_logs.c cover the pkg and log tools' own traversal cases.
 *
 * Threads: Criterion runs each test in its own process; only the test thread talks to a server.
 */
#include "rel_util.h"

TestSuite(e2e_sandbox, .fini = rel_teardown, .timeout = 240);

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Attempts that must not create ctx.marker. Each may fail or return; either is fine. */
static const char *const escapes[] = {
    // processes
    "os.execute('touch ' .. ctx.marker)",
    "io.popen('touch ' .. ctx.marker)",
    "local p = io.popen and io.popen('touch ' .. ctx.marker) if p then p:close() end",
    "require('os').execute('touch ' .. ctx.marker)",
    "package.loaded.os.execute('touch ' .. ctx.marker)",
    "_G['o' .. 's']['exe' .. 'cute']('touch ' .. ctx.marker)",
    "os.exit(3)",
    // native code
    "local f = package.loadlib('libc.so.6', 'system') f('touch ' .. ctx.marker)",
    "package.cpath = '/lib/x86_64-linux-gnu/?.so.6;/usr/lib/x86_64-linux-gnu/?.so' local ok, e = pcall(require, 'libc')\n"
    "assert(not tostring(e):find('undefined symbol'), 'a C library was opened: ' .. tostring(e)) error(e)",
    "for _, s in ipairs(package.searchers) do local l = s('libc') if type(l) == 'function' then l('libc', '/lib/x86_64-linux-gnu/libc.so.6') end end\n"
    "error('no searcher loads C')",
    // bytecode
    "local f = load(string.dump(function() end))",
    "local f = load(('').dump(function() end))",
    "local f = assert(load('\\27LuaT\\0\\25\\147\\13\\10\\26\\10\\4\\8\\8', 'b', 'b'))",
    "local parts = {'\\27Lua', 'T\\0\\25\\147\\13\\10\\26\\10'} local i = 0\n"
    "local f, e = load(function() i = i + 1 return parts[i] end) assert(f, e)",
    "local f, e = load('\\27Lua' .. string.rep('\\0', 40), 'x', 'bt') assert(f, e)",
    // debug and the registry
    "require('debug').sethook(function() end, 'l')",
    "local d = package.loaded.debug or package.preload.debug assert(d, 'no debug') d.getregistry()",
    "getmetatable('').__index.dump(function() end)",
    "local mt = getmetatable('') mt.__index = function(s, k) return os[k] or io[k] or package[k] end\n"
    "local f = ('x')['execute'] or ('x')['popen'] or ('x')['loadlib'] f('touch ' .. ctx.marker)",
    "setmetatable(_G, {__index = function(_, k) return rawget(package.loaded, k) end}) debug.getregistry()",
    "collectgarbage('stop') local t = setmetatable({}, {__gc = function() os.execute('touch ' .. ctx.marker) end}) t = nil collectgarbage()",
    // require outside the package roots
    "require('../../etc/passwd')",
    "require('/etc/passwd')",
    "require('..')",
    "require('a/../../../../etc/passwd')",
    "require('.etc.passwd')",
    // interpreter edge cases that must fail cleanly
    "string.format('%n', 1)",
    "string.format('%99999999999d', 1)",
    "string.pack('i17', 1)",
    "table.unpack({}, 1, 1e8)",
    "os.time({year = 1e18, month = 1, day = 1})",
    "os.date('%Ez')",
    "string.rep('x', -1, string.rep('y', 1e9))",
    "utf8.char(0x80000000)",
    "('x'):rep(1e10)",
    "coroutine.close(coroutine.running())",
};

Test(e2e_sandbox, escape_attempts_fail_in_the_default_profile_and_the_server_survives) {
    rel_srv *s = rel_start(NULL);
    size_t n = sizeof escapes / sizeof *escapes;
    for (size_t i = 0; i < n; i++) {
        char *marker = rel_fmt("%s/marker-%zu", s->home, i);
        char *ctx = rel_fmt("{\"marker\":\"%s\"}", marker);
        cJSON *r = rel_run(s, escapes[i], ctx);
        const char *st = rel_status(r);
        cr_assert(strcmp(st, "error") == 0 || strcmp(st, "completed") == 0, "attempt %zu: %s", i, st);
        cr_assert(!exists(marker), "attempt %zu had an effect: %s", i, escapes[i]);
        cJSON_Delete(r);
        free(marker);
        free(ctx);
    }
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_sandbox, what_one_session_changes_in_its_lua_world_no_other_session_sees) {
    rel_srv *s = rel_start(NULL);
    cJSON *r = rel_run(s, "getmetatable('').__index = function(_, k) return 'hijacked' end\n"
                          "string.upper = function() return 'hijacked' end x_global = 'leaked' alc.hijack = true\n"
                          "package.loaded.shared = {leak = true} os.getenv = nil return alc.llm('hold')", NULL);
    cr_assert_str_eq(rel_status(r), "needs_response");
    cJSON_Delete(r);
    r = rel_run(s, "return {('abc'):upper(), ('abc').foo == nil, x_global == nil, alc.hijack == nil,\n"
                   "package.loaded.shared == nil, type(os.getenv)}", NULL);
    char *txt = cJSON_PrintUnformatted(rel_get(r, "result"));
    cr_assert_str_eq(txt, "[\"ABC\",true,true,true,true,\"function\"]", "a session saw another one's changes: %s", txt);
    free(txt);
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* A parent directory holding home and a planted secret next to it; returns home (new). */
static char *home_with_secret(char **parent_out) {
    char *parent = alc_test_tmpdir();
    char *home = rel_fmt("%s/home", parent);
    cr_assert_eq(mkdir(home, 0700), 0);
    char *secret = rel_fmt("%s/secret.json", parent);
    rel_write_file(secret, "{\"session_id\":\"x\",\"SECRET\":\"SECRET-CONTENT-42\",\"transcript\":[]}");
    free(secret);
    secret = rel_fmt("%s/secret.lua", parent);
    rel_write_file(secret, "return {'SECRET-CONTENT-42'}");
    free(secret);
    *parent_out = parent;
    return home;
}

/* Names of the entries of dir, sorted, joined (new). */
static char *listing(const char *dir) {
    char *cmd = rel_fmt("cd '%s' && find . | sort", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 >= cap) b = realloc(b, cap *= 2);
    }
    b[n] = '\0';
    pclose(p);
    free(cmd);
    return b;
}

Test(e2e_sandbox, state_namespaces_with_dots_slashes_and_nul_never_leave_the_state_directory) {
    char *parent;
    char *home = home_with_secret(&parent);
    rel_srv *s = rel_start_home(home, NULL, true);
    static const char *const bad[] = {"..", "../escape", "a/b", "/abs", "..\\x", "a\\b", "", "a..b", "../../../tmp/x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *ctx = cJSON_CreateObject();
        cJSON_AddStringToObject(ctx, "_ns", bad[i]);
        char *ctxs = cJSON_PrintUnformatted(ctx);
        cJSON_Delete(ctx);
        cJSON *r = rel_run(s, "alc.state.set('x', 1) return 1", ctxs);
        rel_expect_failed(r, "lua_error", "Invalid namespace", bad[i]);
        cJSON_Delete(r);
        free(ctxs);
    }
    char *long_ns = malloc(202);
    memset(long_ns, 'n', 201);
    long_ns[201] = '\0';
    char *ctx = rel_fmt("{\"_ns\":\"%s\"}", long_ns);
    cJSON *r = rel_run(s, "alc.state.set('x', 1) return 1", ctx);
    rel_expect_failed(r, "lua_error", "Invalid namespace", "201-byte namespace");
    cJSON_Delete(r);
    free(ctx);
    free(long_ns);
    // U+0000 inside the name (sent raw): refused, or cut to a name inside state/
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
                       "{\"code\":\"alc.state.set('x', 1) return 1\",\"ctx\":{\"_ns\":\"ok\\u0000/../../escape\"}}}}";
    rel_send(s, line);
    rel_wait(s, 9);
    char *before = listing(parent);
    cr_assert_null(strstr(before, "escape"), "a namespace wrote outside state/: %s", before);
    cr_assert_null(strstr(before, "./home/x"), "%s", before);
    char *state = rel_fmt("%s/state", home);
    DIR *d = opendir(state);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) cr_assert_null(strchr(de->d_name, '/'));
        closedir(d);
    }
    free(state);
    free(before);
    rel_alive(s);
    rel_finish(s);
    alc_test_rmtree(parent);
    free(parent);
    free(home);
}

Test(e2e_sandbox, ids_with_dots_slashes_and_nul_reach_no_file_through_any_tool) {
    char *parent;
    char *home = home_with_secret(&parent);
    rel_srv *s = rel_start_home(home, NULL, true);
    char *before = listing(parent);
    static const char *const ids[] = {"../secret", "../../secret", "..", ".", "/etc/passwd", "a/b", "..\\\\secret",
                                      "s-1/../../secret", "secret", "%2e%2e%2fsecret"};
    static const struct { const char *tool, *arg, *extra; } uses[] = {
        {"alc_continue", "session_id", ",\"response\":\"x\""},
        {"alc_status", "session_id", ""},
        {"alc_cancel", "session_id", ""},
        {"alc_log_view", "session_id", ""},
        {"alc_note", "session_id", ",\"content\":\"x\""},
        {"alc_scenario_show", "name", ""},
        {"alc_eval_detail", "eval_id", ""},
        {"alc_eval", "scenario_name", ",\"strategy\":\"cot\""},
        {"alc_advice", "strategy", ""},
    };
    // tools that are not in this build's tools/list are skipped
    int lid = s->next_id++;
    char line[128];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\"}", lid);
    rel_send(s, line);
    char *tools = cJSON_PrintUnformatted(rel_wait(s, lid));
    int tried = 0;
    for (size_t u = 0; u < sizeof uses / sizeof *uses; u++) {
        char *quoted = rel_fmt("\"%s\"", uses[u].tool);
        bool listed = strstr(tools, quoted) != NULL;
        free(quoted);
        if (!listed) continue;
        for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
            const cJSON *m = rel_call_fmt(s, uses[u].tool, "{\"%s\":\"%s\"%s}", uses[u].arg, ids[i], uses[u].extra);
            char *raw = cJSON_PrintUnformatted(m);
            cr_assert_null(strstr(raw, "SECRET-CONTENT-42"), "%s %s=%s read the planted secret: %.300s", uses[u].tool,
                           uses[u].arg, ids[i], raw);
            free(raw);
            tried++;
        }
        // U+0000 in the id, sent raw
        int id = s->next_id++;
        char *l = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":"
                          "{\"%s\":\"x\\u0000/../../secret\"%s}}}", id, uses[u].tool, uses[u].arg, uses[u].extra);
        rel_send(s, l);
        free(l);
        char *raw = cJSON_PrintUnformatted(rel_wait(s, id));
        cr_assert_null(strstr(raw, "SECRET-CONTENT-42"), "%s with U+0000: %.300s", uses[u].tool, raw);
        free(raw);
    }
    free(tools);
    cr_assert_geq(tried, 50, "only %d id cases were tried", tried);
    char *after = listing(parent);
    // alc may create its own directories under home, nothing else
    for (char *line2 = strtok(after, "\n"); line2; line2 = strtok(NULL, "\n"))
        cr_assert(strstr(before, line2) || strncmp(line2, "./home/", 7) == 0, "created outside ALC_HOME: %s", line2);
    char *secret = rel_fmt("%s/secret.json", parent);
    char *text = rel_slurp(secret, NULL);
    cr_assert_str_eq(text, "{\"session_id\":\"x\",\"SECRET\":\"SECRET-CONTENT-42\",\"transcript\":[]}", "the secret was modified");
    free(text);
    free(secret);
    free(before);
    free(after);
    rel_alive(s);
    rel_finish(s);
    alc_test_rmtree(parent);
    free(parent);
    free(home);
}

Test(e2e_sandbox, strict_profile_and_pkg_strict_refuse_symlink_escapes) {
    char *parent;
    char *home = home_with_secret(&parent);
    char *outside = rel_fmt("%s/outside", parent);
    rel_mkdirs(outside);
    char *f = rel_fmt("%s/mod.lua", outside);
    rel_write_file(f, "return 'SECRET-CONTENT-42'");
    free(f);
    // links inside ALC_HOME and inside a package root that lead out
    char *l1 = rel_fmt("%s/dirlink", home), *l2 = rel_fmt("%s/filelink.json", home), *t2 = rel_fmt("%s/secret.json", parent);
    cr_assert_eq(symlink(parent, l1), 0);
    cr_assert_eq(symlink(t2, l2), 0);
    char *pkg = rel_fmt("%s/packages/pk", home);
    rel_mkdirs(pkg);
    char *init = rel_fmt("%s/init.lua", pkg);
    rel_write_file(init, "return { run = function() return 'inside' end }");
    char *sub = rel_fmt("%s/sub", pkg);
    cr_assert_eq(symlink(outside, sub), 0);
    const char *env[] = {"ALC_SANDBOX=strict", "ALC_PKG_STRICT=1", NULL};
    rel_srv *s = rel_start_home(home, env, true);
    static const char *const reads[] = {
        "return io.open(ctx.home .. '/dirlink/secret.json'):read('a')",
        "return io.open(ctx.home .. '/filelink.json'):read('a')",
        "return io.open(ctx.home .. '/dirlink/home/../secret.json'):read('a')",
        "for l in io.lines(ctx.home .. '/filelink.json') do return l end",
        "return dofile(ctx.home .. '/dirlink/secret.lua')",
        "return loadfile(ctx.home .. '/dirlink/outside/mod.lua')()",
        "return require('pk.sub.mod')",
        "io.output(ctx.home .. '/dirlink/written.txt') io.write('x') io.close() return 1",
        "local f = io.open(ctx.home .. '/dirlink/written2.txt', 'w') f:write('x') f:close() return 1",
    };
    char *ctx = rel_fmt("{\"home\":\"%s\"}", home);
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        cJSON *r = rel_run(s, reads[i], ctx);
        char *raw = cJSON_PrintUnformatted(r);
        cr_assert_null(strstr(raw, "SECRET-CONTENT-42"), "escape %zu read the secret: %s", i, reads[i]);
        cr_assert_str_eq(rel_status(r), "error", "escape %zu must fail: %.300s", i, raw);
        free(raw);
        cJSON_Delete(r);
    }
    char *w1 = rel_fmt("%s/written.txt", parent), *w2 = rel_fmt("%s/written2.txt", parent);
    cr_assert(!exists(w1) && !exists(w2), "a file was written outside through a link");
    // the package itself still loads, and files really inside ALC_HOME still work
    cJSON *r = rel_run(s, "local f = assert(io.open(ctx.home .. '/inside.txt', 'w')) f:write('ok') f:close()\n"
                          "return require('pk').run() .. io.open(ctx.home .. '/inside.txt'):read('a')", ctx);
    cr_assert_str_eq(rel_status(r), "completed");
    cr_assert_str_eq(rel_str(r, "result"), "insideok");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
    free(w1);
    free(w2);
    free(ctx);
    free(l1);
    free(l2);
    free(t2);
    free(pkg);
    free(init);
    free(sub);
    free(outside);
    alc_test_rmtree(parent);
    free(parent);
    free(home);
}

/* Walks dir: every directory must be 0700 and every regular file 0600 or stricter. */
static void check_modes(const char *dir, int *files, int *dirs) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char *p = rel_fmt("%s/%s", dir, de->d_name);
        struct stat st;
        cr_assert_eq(lstat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            cr_assert_eq(st.st_mode & 0777, 0700, "directory %s has mode %o", p, st.st_mode & 0777);
            (*dirs)++;
            check_modes(p, files, dirs);
        } else if (S_ISREG(st.st_mode)) {
            cr_assert_eq(st.st_mode & 0077, 0, "file %s has mode %o", p, st.st_mode & 0777);
            (*files)++;
        }
        free(p);
    }
    closedir(d);
}

Test(e2e_sandbox, everything_alc_creates_under_alc_home_is_private_even_with_umask_0) {
    char *src = alc_test_tmpdir();
    char *pdir = rel_fmt("%s/pubpkg", src);
    rel_mkdirs(pdir);
    chmod(pdir, 0755);
    char *pf = rel_fmt("%s/init.lua", pdir);
    rel_write_file(pf, "return { run = function(ctx) return alc.llm('x') end }");
    chmod(pf, 0644);
    char *scen = rel_fmt("%s/scenarios", src);
    rel_mkdirs(scen);
    char *sf = rel_fmt("%s/demo.lua", scen);
    rel_write_file(sf, "return {cases = {{input = 'a', expected = 'a'}}}");
    chmod(sf, 0644);
    char *home = alc_test_tmpdir();
    char *rec = rel_fmt("ALC_RECORD=%s/record.jsonl", home);
    const char *env[] = {rec, NULL};
    mode_t old = umask(0);
    rel_srv *s = rel_start_home(home, env, true);
    umask(old);
    cJSON *r = rel_run(s, "alc.state.set('k', 1) alc.state.set('k2', 2) return alc.llm('q')", "{\"_ns\":\"priv\"}");
    char sid[64];
    rel_sid(r, sid);
    cJSON_Delete(r);
    cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_continue", "{\"session_id\":\"%s\",\"response\":\"a\"}", sid)));
    rel_call_fmt(s, "alc_note", "{\"session_id\":\"%s\",\"content\":\"a note\"}", sid);
    rel_call_fmt(s, "alc_pkg_install", "{\"url\":\"%s\"}", pdir);
    rel_call_json(s, "alc_pkg_scaffold", "{\"name\":\"scaf\"}");
    rel_call_fmt(s, "alc_scenario_install", "{\"url\":\"%s\"}", sf);
    rel_call_json(s, "alc_advice", "{\"strategy\":\"pubpkg\",\"task\":\"t\"}");
    rel_finish(s);
    int files = 0, dirs = 0;
    check_modes(home, &files, &dirs);
    cr_assert_geq(files, 6, "the operations created files (%d)", files);
    cr_assert_geq(dirs, 3, "and directories (%d)", dirs);
    struct stat st;
    cr_assert_eq(stat(home, &st), 0);
    free(rec);
    free(pdir);
    free(pf);
    free(scen);
    free(sf);
    alc_test_rmtree(src);
    free(src);
    alc_test_rmtree(home);
    free(home);
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

Test(e2e_sandbox, session_ids_are_128_random_bits) {
    const int per = 400;
    rel_srv *a = rel_start(NULL), *b = rel_start(NULL);
    static char ids[800][64];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        rel_srv *s = k ? b : a;
        int first = s->next_id;
        for (int i = 0; i < per; i++) rel_send_run(s, "return 1", NULL);
        for (int i = 0; i < per; i++) {
            cJSON *r = rel_ok_json(rel_wait(s, first + i));
            rel_sid(r, ids[n++]);
            cJSON_Delete(r);
        }
        rel_forget(s);
    }
    int ones[128] = {0};
    long hamming = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(strlen(ids[i]), 34, "id %s is not s- + 32 hex digits", ids[i]);
        cr_assert(ids[i][0] == 's' && ids[i][1] == '-');
        for (int k = 2; k < 34; k++) {
            char c = ids[i][k];
            cr_assert((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'), "id %s is not lowercase hex", ids[i]);
            for (int bit = 0; bit < 4; bit++) ones[(k - 2) * 4 + bit] += (hexval(c) >> bit) & 1;
        }
        for (int j = 0; j < i; j++) cr_assert_str_neq(ids[i], ids[j], "duplicate session id");
        if (i > 0)
            for (int k = 2; k < 34; k++) hamming += __builtin_popcount((unsigned)(hexval(ids[i][k]) ^ hexval(ids[i - 1][k])));
    }
    // each of the 128 bits is set in about half the ids (binomial(800, 1/2): sd 14)
    for (int bit = 0; bit < 128; bit++)
        cr_assert(ones[bit] > n * 40 / 100 && ones[bit] < n * 60 / 100, "bit %d is set in %d of %d ids", bit, ones[bit], n);
    double mean = (double)hamming / (n - 1);
    cr_assert(mean > 58 && mean < 70, "consecutive ids differ in %.1f bits on average (random: 64)", mean);
    rel_finish(a);
    rel_finish(b);
}
