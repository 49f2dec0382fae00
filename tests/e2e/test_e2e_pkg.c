/*
 * test_e2e_pkg.c — package installation and management through the real binary ($ALC_BIN):
 * `alc init`, the alc_pkg_* tools and alc_init over MCP stdio, the first-use install of the
 * bundled collection by alc_advice, project-level require (alc.local.toml, alc.lock),
 * ALC_PKG_STRICT, and packages written for the original algocline (the fixture collection
 * tests/fixtures/compat_collection, since the original collection is not available here).
 *
 * Every refused request is checked to change nothing: the test takes a recursive listing
 * (type, size, mtime, link target of every entry) of ALC_HOME and of any directory the request
 * names, before and after.
 *
 * Threads: Criterion runs each test in its own process; one thread talks to each server.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "helpers.h"
#include "harness/proc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#define RECV_MS 20000

/* ------------------------------------------------------------------ bookkeeping */

#define MAX_ITEMS 256
static alc_proc *g_procs[8];
static int g_nprocs;
static char *g_tmp[16];
static int g_ntmp;
static void *g_mem[MAX_ITEMS];     /* strings freed at teardown */
static int g_nmem;
static cJSON *g_json[MAX_ITEMS];   /* trees freed at teardown */
static int g_njson;

static void teardown(void) {
    for (int i = 0; i < g_nprocs; i++) {
        size_t n = 0;
        char *err = alc_proc_stderr_text(g_procs[i], &n);
        if (err && n > 0) {
            const char *tail = n > 4096 ? err + n - 4096 : err;
            fprintf(stderr, "---- alc stderr (process %d, tail) ----\n%s\n---- end ----\n", i, tail);
        }
        free(err);
        alc_proc_free(g_procs[i]);
    }
    g_nprocs = 0;
    for (int i = 0; i < g_ntmp; i++) {
        alc_test_rmtree(g_tmp[i]);
        free(g_tmp[i]);
    }
    g_ntmp = 0;
    for (int i = 0; i < g_nmem; i++) free(g_mem[i]);
    g_nmem = 0;
    for (int i = 0; i < g_njson; i++) cJSON_Delete(g_json[i]);
    g_njson = 0;
}

TestSuite(e2e_pkg, .fini = teardown, .timeout = 180);

static char *keep(char *s) {
    cr_assert_not_null(s);
    cr_assert_lt(g_nmem, MAX_ITEMS);
    g_mem[g_nmem++] = s;
    return s;
}

static cJSON *keep_json(cJSON *j) {
    cr_assert_lt(g_njson, MAX_ITEMS);
    g_json[g_njson++] = j;
    return j;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return keep(s);
}

static char *tmpdir(void) {
    cr_assert_lt(g_ntmp, 16);
    char *d = alc_test_tmpdir();
    char real[PATH_MAX];
    cr_assert_not_null(realpath(d, real));
    free(d);
    g_tmp[g_ntmp++] = strdup(real);
    return g_tmp[g_ntmp - 1];
}

/* ------------------------------------------------------------------ files */

static void mkdirs(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
    mkdir(buf, 0755);
}

static void write_file(const char *path, const char *text) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) { *slash = '\0'; mkdirs(dir); }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* Whole file as a kept string, or NULL when it cannot be read. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[n] = '\0';
    return keep(s);
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void snap_into(const char *root, const char *rel, char ***lines, size_t *n, size_t *cap) {
    char dirpath[PATH_MAX];
    snprintf(dirpath, sizeof dirpath, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dirpath);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char childrel[PATH_MAX], child[PATH_MAX * 2];
        snprintf(childrel, sizeof childrel, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(child, sizeof child, "%s/%s", root, childrel);
        struct stat st;
        if (lstat(child, &st) != 0) continue;
        char target[PATH_MAX] = "";
        if (S_ISLNK(st.st_mode)) {
            ssize_t t = readlink(child, target, sizeof target - 1);
            target[t > 0 ? t : 0] = '\0';
        }
        char line[PATH_MAX * 3];
        snprintf(line, sizeof line, "%s %c %lld %lld.%09ld %o %s", childrel,
                 S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f', (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned)(st.st_mode & 07777), target);
        if (*n == *cap) *lines = realloc(*lines, (*cap = *cap ? *cap * 2 : 64) * sizeof **lines);
        (*lines)[(*n)++] = strdup(line);
        if (S_ISDIR(st.st_mode)) snap_into(root, childrel, lines, n, cap);
    }
    closedir(d);
}

/* A recursive listing of root: one sorted line per entry with type, size, mtime, mode, target. */
static char *snapshot(const char *root) {
    char **lines = NULL;
    size_t n = 0, cap = 0;
    snap_into(root, "", &lines, &n, &cap);
    if (n) qsort(lines, n, sizeof *lines, cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += strlen(lines[i]) + 1;
    char *s = malloc(total);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) { strcat(s, lines[i]); strcat(s, "\n"); free(lines[i]); }
    free(lines);
    return keep(s);
}

/* ------------------------------------------------------------------ processes */

static const char *alc_bin(void) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    return bin;
}

/* The source tree (from ALC_LUA_TESTS_DIR = <src>/tests/lua). */
static const char *src_dir(void) {
    const char *lua = getenv("ALC_LUA_TESTS_DIR");
    cr_assert(lua && *lua, "ALC_LUA_TESTS_DIR must be set by the test runner");
    char *s = fmt("%s", lua);
    char *p = strstr(s, "/tests/lua");
    cr_assert_not_null(p, "unexpected ALC_LUA_TESTS_DIR %s", lua);
    *p = '\0';
    return s;
}

static const char *compat_fixture(void) { return fmt("%s/tests/fixtures/compat_collection", src_dir()); }

/* Starts a server on home with env (NULL-terminated or NULL) plus ALC_LOG_LEVEL=off, so that
 * no transcript appears in ALC_HOME behind a snapshot's back. */
static alc_proc *start(const char *home, const char *const *env) {
    alc_bin();
    cr_assert_lt(g_nprocs, 8);
    const char *all[16];
    int k = 0;
    for (int i = 0; env && env[i] && k < 14; i++) all[k++] = env[i];
    all[k++] = "ALC_LOG_LEVEL=off";
    all[k] = NULL;
    alc_proc *p = alc_proc_spawn_alc(home, all, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(p, "cannot spawn alc: %s", strerror(errno));
    g_procs[g_nprocs++] = p;
    cr_assert_eq(alc_proc_initialize(p), 0, "initialize failed");
    return p;
}

/* start() with the server's cwd set to cwd (the test process changes directory around the
 * spawn; Criterion runs each test in its own process). */
static alc_proc *start_in(const char *cwd, const char *home, const char *const *env) {
    char old[PATH_MAX];
    cr_assert_not_null(getcwd(old, sizeof old));
    cr_assert_eq(chdir(cwd), 0, "chdir %s: %s", cwd, strerror(errno));
    alc_proc *p = start(home, env);
    cr_assert_eq(chdir(old), 0);
    return p;
}

/* Runs `alc ARGS...` with ALC_HOME=home plus env; returns the exit status, stdout in *out. */
static int run_cli(const char *home, const char *const *env, const char *const *args, char **out, char **err) {
    const char *argv[16];
    int k = 0;
    argv[k++] = alc_bin();
    for (int i = 0; args[i]; i++) argv[k++] = args[i];
    argv[k] = NULL;
    const char *envv[16];
    int e = 0;
    envv[e++] = fmt("ALC_HOME=%s", home);
    for (int i = 0; env && env[i]; i++) envv[e++] = env[i];
    envv[e] = NULL;
    alc_proc_opts o = {.env = envv, .drop_prefix = "ALC_", .stderr_mode = ALC_PROC_STDERR_CAPTURE};
    alc_proc *p = alc_proc_spawn(argv, &o);
    cr_assert_not_null(p);
    cr_assert_lt(g_nprocs, 8);
    g_procs[g_nprocs++] = p;
    alc_proc_close_stdin(p);
    char *acc = keep(calloc(1, 1));
    for (;;) {
        int st;
        char *line = alc_proc_recv(p, RECV_MS, &st);
        if (!line) { cr_assert_neq(st, ALC_PROC_TIMEOUT, "alc %s hangs", args[0]); break; }
        char *n = fmt("%s%s\n", acc, line);
        free(line);
        acc = n;
    }
    int status = -1;
    cr_assert_eq(alc_proc_wait(p, RECV_MS, &status), 0, "alc %s did not exit", args[0]);
    if (out) *out = acc;
    if (err) *err = keep(alc_proc_stderr_text(p, NULL));
    return status;
}

/* Closes the server's stdin and requires a clean exit (status 0: under the sanitizers a leak
 * or an error report makes it non-zero). */
static void finish(alc_proc *p) {
    alc_proc_close_stdin(p);
    int st = -1;
    cr_assert_eq(alc_proc_wait(p, RECV_MS, &st), 0, "server did not exit after EOF");
    cr_assert_eq(st, 0, "server exit status %d", st);
}

/* ------------------------------------------------------------------ tool calls */

typedef struct res {
    bool is_error;
    const char *text;   /* the tool result text */
    cJSON *json;        /* text parsed as JSON (NULL for plain-text errors) */
} res;

static int g_id = 10;

/* Calls tool with args (owned) and waits for its response, skipping notifications. */
static res call(alc_proc *p, const char *tool, cJSON *args) {
    int id = g_id++;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args ? args : cJSON_CreateObject());
    char *line = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cr_assert_eq(alc_proc_send(p, line), 0, "send failed");
    free(line);
    for (;;) {
        int st;
        char *raw = alc_proc_recv(p, RECV_MS, &st);
        cr_assert_not_null(raw, "no response to %s (status %d)", tool, st);
        cJSON *m = keep_json(cJSON_Parse(raw));
        cr_assert_not_null(m, "stdout line is not JSON: %s", raw);
        free(raw);
        if (cJSON_GetObjectItemCaseSensitive(m, "method")) continue;  // notification
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m, "id");
        cr_assert(cJSON_IsNumber(rid) && rid->valuedouble == id, "unexpected response id");
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(m, "result");
        cr_assert_not_null(result, "%s: JSON-RPC error instead of a tool result", tool);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(content, 0), "text");
        cr_assert(cJSON_IsString(text));
        res r = {.is_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "isError")), .text = text->valuestring};
        r.json = keep_json(cJSON_Parse(text->valuestring));
        return r;
    }
}

/* Builds an arguments object from "key", "value" string pairs ending with NULL. */
static cJSON *sargs(const char *k, ...) {
    cJSON *o = cJSON_CreateObject();
    va_list ap;
    va_start(ap, k);
    for (const char *key = k; key; key = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        cJSON_AddStringToObject(o, key, v);
    }
    va_end(ap);
    return o;
}

static cJSON *with_bool(cJSON *o, const char *k, bool v) {
    cJSON_AddBoolToObject(o, k, v);
    return o;
}

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void expect_ok(res r, const char *what) {
    cr_assert(!r.is_error, "%s failed: %s", what, r.text);
    cr_assert_not_null(r.json, "%s: result is not JSON: %s", what, r.text);
}

static void expect_error(res r, const char *needle, const char *what) {
    cr_assert(r.is_error, "%s should fail, got: %s", what, r.text);
    cr_assert(strstr(r.text, needle), "%s: error '%s' should mention '%s'", what, r.text, needle);
}

/* True if array arr holds the string s. */
static bool has_str(const cJSON *arr, const char *s) {
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next)
        if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return true;
    return false;
}

static const cJSON *list_entry(const cJSON *list, const char *name, int nth) {
    for (const cJSON *e = jget(list, "packages")->child; e; e = e->next)
        if (strcmp(jstr(e, "name"), name) == 0 && nth-- == 0) return e;
    return NULL;
}

/* alc_advice → the first reply; answer(...) continues a paused session. */
static res advice(alc_proc *p, const char *strategy, const char *task, const char *project_root) {
    cJSON *a = sargs("strategy", strategy, NULL);
    if (task) cJSON_AddStringToObject(a, "task", task);
    if (project_root) cJSON_AddStringToObject(a, "project_root", project_root);
    return call(p, "alc_advice", a);
}

static res answer(alc_proc *p, res paused, const char *response) {
    cr_assert_str_eq(jstr(paused.json, "status"), "needs_response", "not paused: %s", paused.text);
    return call(p, "alc_continue", sargs("session_id", jstr(paused.json, "session_id"), "response", response, NULL));
}

static void expect_status(res r, const char *status) {
    cr_assert_not_null(r.json, "not JSON: %s", r.text);
    cr_assert_str_eq(jstr(r.json, "status"), status, "expected %s: %s", status, r.text);
}

/* A small package source: <dir>/init.lua with meta.version and a one-call run(ctx). */
static void make_pkg(const char *dir, const char *name, const char *version, const char *prompt) {
    write_file(fmt("%s/init.lua", dir),
               fmt("-- %s: a test package ('meta = { version = \"0.0.0\" }' in this comment must be ignored)\n"
                   "local M = {}\n"
                   "M.meta = { name = \"%s\", version = \"%s\", description = \"x\" }\n"
                   "function M.run(ctx)\n"
                   "  ctx.result = { answer = alc.llm(\"%s \" .. tostring(ctx.task)) }\n"
                   "  return ctx\n"
                   "end\n"
                   "return M\n",
                   name, name, version, prompt));
}

/* ================================================================== alc init (CLI) */

Test(e2e_pkg, cli_init_installs_bundled_collection_and_keeps_existing_unless_force) {
    char *home = tmpdir();
    const char *env[] = {fmt("ALC_BUNDLED_DIR=%s", compat_fixture()), NULL};
    char *out, *err;
    int st = run_cli(home, env, (const char *[]){"init", NULL}, &out, &err);
    cr_assert_eq(st, 0, "alc init failed: %s %s", out, err);
    cr_assert(strstr(out, "installed 3 package(s)"), "%s", out);
    for (int i = 0; i < 3; i++) {
        const char *n = (const char *[]){"alc_shapes", "compat_echo", "compat_vote"}[i];
        cr_assert(exists(fmt("%s/packages/%s/init.lua", home, n)), "%s not installed", n);
    }
    cr_assert(exists(fmt("%s/packages/alc_shapes/check.lua", home)), "sub-modules are copied");
    cr_assert(!exists(fmt("%s/packages/docs", home)), "a directory without init.lua is not a package");
    cJSON *inst = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    const cJSON *echo = jget(jget(inst, "packages"), "compat_echo");
    cr_assert_not_null(echo, "installed.json records compat_echo");
    cr_assert_str_eq(jstr(echo, "version"), "1.2.3");
    cr_assert_str_eq(jstr(jget(echo, "source"), "type"), "bundled");
    const char *at = jstr(echo, "installed_at");
    cr_assert(at && strlen(at) == 20 && at[4] == '-' && at[10] == 'T' && at[19] == 'Z', "ISO time stamp: %s", at ? at : "null");
    cr_assert(strstr(err, "no type stubs written"), "missing stubs are reported: %s", err);
    cr_assert(!exists(fmt("%s/types/alc.d.lua", home)));

    // again: everything is kept, nothing changes
    char *before = snapshot(home);
    st = run_cli(home, env, (const char *[]){"init", NULL}, &out, NULL);
    cr_assert_eq(st, 0);
    cr_assert(strstr(out, "kept 3 already installed"), "%s", out);
    cr_assert_str_eq(snapshot(home), before, "a second alc init must not touch existing packages");

    // --force replaces a changed copy, keeps installed_at
    write_file(fmt("%s/packages/compat_echo/init.lua", home), "return {}\n");
    st = run_cli(home, env, (const char *[]){"init", "--force", NULL}, &out, NULL);
    cr_assert_eq(st, 0);
    cr_assert_str_eq(read_text(fmt("%s/packages/compat_echo/init.lua", home)),
                     read_text(fmt("%s/compat_echo/init.lua", compat_fixture())));
    cJSON *inst2 = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    cr_assert_str_eq(jstr(jget(jget(inst2, "packages"), "compat_echo"), "installed_at"), at);
    cr_assert_eq(run_cli(home, env, (const char *[]){"init", "--bogus", NULL}, NULL, NULL), 2);
}

Test(e2e_pkg, cli_init_from_the_build_tree_uses_the_source_packages_and_stubs) {
    char *home = tmpdir();
    char *out, *err;
    int st = run_cli(home, NULL, (const char *[]){"init", NULL}, &out, &err);
    cr_assert_eq(st, 0, "alc init failed: %s %s", out, err);
    const char *src = fmt("%s/packages", src_dir());
    cr_assert(strstr(out, src), "the source tree's packages/ is used: %s", out);
    DIR *d = opendir(src);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !exists(fmt("%s/%s/init.lua", src, e->d_name))) continue;
        cr_assert(exists(fmt("%s/packages/%s/init.lua", home, e->d_name)), "%s was not installed", e->d_name);
        n++;
    }
    closedir(d);
    cr_assert_gt(n, 0, "the source tree has packages");
    const char *stubs = fmt("%s/types/alc.d.lua", src_dir());
    if (exists(stubs))
        cr_assert_str_eq(read_text(fmt("%s/types/alc.d.lua", home)), read_text(stubs), "stubs copied");
    else
        cr_assert(strstr(err, "no type stubs"), "%s", err);
}

Test(e2e_pkg, cli_init_without_a_collection_fails_clearly_and_changes_nothing) {
    char *home = tmpdir();
    char *before = snapshot(home);
    const char *env[] = {"ALC_BUNDLED_DIR=/nonexistent/alc-bundle", NULL};
    char *err;
    cr_assert_eq(run_cli(home, env, (const char *[]){"init", NULL}, NULL, &err), 1);
    cr_assert(strstr(err, "ALC_BUNDLED_DIR=/nonexistent/alc-bundle is not a directory"), "%s", err);
    cr_assert_str_eq(snapshot(home), before);
}

/* ================================================================== alc_advice first use */

Test(e2e_pkg, advice_installs_the_bundled_collection_on_first_use_only) {
    char *home = tmpdir();
    const char *env[] = {fmt("ALC_BUNDLED_DIR=%s", compat_fixture()), NULL};
    alc_proc *p = start(home, env);
    expect_ok(call(p, "alc_pkg_list", NULL), "alc_pkg_list");
    cr_assert(!exists(fmt("%s/packages", home)), "nothing is installed at start-up or by a listing");
    res r = advice(p, "compat_echo", "hello", NULL);
    expect_status(r, "needs_response");
    cr_assert_str_eq(jstr(r.json, "prompt"), "Echo: hello");
    cr_assert(exists(fmt("%s/packages/alc_shapes/t.lua", home)));
    r = answer(p, r, "hello back");
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(jget(r.json, "result"), "result"), "answer"), "hello back");

    // packages exist now: a missing one is reported without another install
    res nf = advice(p, "not_there", NULL, NULL);
    expect_error(nf, "Package 'not_there' not found. Searched: ", "missing package");
    cr_assert(strstr(nf.text, fmt("%s/packages", home)), "%s", nf.text);
    cr_assert(strstr(nf.text, "alc_pkg_install"), "%s", nf.text);
    cr_assert_null(strstr(nf.text, "bundled"), "no install happened, none is claimed: %s", nf.text);
}

Test(e2e_pkg, advice_not_found_messages_say_what_happened_to_the_bundled_collection) {
    char *home = tmpdir();
    const char *env[] = {fmt("ALC_BUNDLED_DIR=%s", compat_fixture()), NULL};
    alc_proc *p = start(home, env);
    res r = advice(p, "missing_one", "x", NULL);
    expect_error(r, "not even in the bundled collection just installed from", "after bundled install");
    cr_assert(strstr(r.text, compat_fixture()) && strstr(r.text, "(3 packages)"), "%s", r.text);
    cr_assert(exists(fmt("%s/packages/compat_vote/init.lua", home)));

    char *home2 = tmpdir();
    const char *env2[] = {"ALC_BUNDLED_DIR=/nonexistent/bundle", NULL};
    alc_proc *p2 = start(home2, env2);
    char *before = snapshot(home2);
    r = advice(p2, "cot", "x", NULL);
    expect_error(r, "could not be installed: ALC_BUNDLED_DIR=/nonexistent/bundle is not a directory", "no collection");
    cr_assert(strstr(r.text, "alc_pkg_install"), "%s", r.text);
    cr_assert_str_eq(snapshot(home2), before);
}

/* ================================================================== install, list, remove */

Test(e2e_pkg, install_local_collection_then_original_style_packages_run_unmodified) {
    char *home = tmpdir();
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_pkg_install", sargs("url", compat_fixture(), NULL));
    expect_ok(r, "install collection");
    cr_assert_str_eq(jstr(r.json, "mode"), "local_collection");
    const cJSON *inst = jget(r.json, "installed");
    cr_assert_eq(cJSON_GetArraySize(inst), 3, "%s", r.text);
    cr_assert(has_str(inst, "alc_shapes") && has_str(inst, "compat_echo") && has_str(inst, "compat_vote"));
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "skipped")), 0);

    // compat_vote: requires alc_shapes.t directly, two pauses, majority result
    res v = advice(p, "compat_vote", "pick", NULL);
    cr_assert_str_eq(jstr(v.json, "prompt"), "Proposal 1 for: pick");
    v = answer(p, v, "B");
    cr_assert_str_eq(jstr(v.json, "prompt"), "Proposal 2 for: pick");
    v = answer(p, v, "B");
    expect_status(v, "completed");
    const cJSON *vr = jget(jget(v.json, "result"), "result");
    cr_assert_str_eq(jstr(vr, "answer"), "B");
    cr_assert_eq(jget(vr, "margin")->valuedouble, 2);

    // without ALC_SHAPE_CHECK the instrument wrapper only forwards: a missing task is not checked
    res e = advice(p, "compat_echo", NULL, NULL);
    cr_assert_str_eq(jstr(e.json, "prompt"), "Echo: nil");

    // a second install skips everything and changes nothing
    char *before = snapshot(home);
    r = call(p, "alc_pkg_install", sargs("url", compat_fixture(), NULL));
    expect_ok(r, "reinstall");
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "installed")), 0);
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "skipped")), 3);
    cr_assert_str_eq(snapshot(home), before);
    finish(p);
}

Test(e2e_pkg, shape_checks_run_when_ALC_SHAPE_CHECK_is_set) {
    char *home = tmpdir();
    const char *env[] = {"ALC_SHAPE_CHECK=1", NULL};
    alc_proc *p = start(home, env);
    expect_ok(call(p, "alc_pkg_install", sargs("url", compat_fixture(), NULL)), "install");
    res e = advice(p, "compat_echo", NULL, NULL);
    expect_status(e, "error");
    cr_assert(strstr(jstr(e.json, "error"), "shape violation at $.task: expected string, got nil (ctx: compat_echo.run:input)"),
              "%s", e.text);
    // the result shape is named by T.ref("voted"): resolved through the lazy circular require
    res v = advice(p, "compat_vote", "pick", NULL);
    v = answer(p, v, "A");
    v = answer(p, v, "C");
    expect_status(v, "completed");
    cr_assert_eq(jget(jget(jget(v.json, "result"), "result"), "margin")->valuedouble, 0);
}

Test(e2e_pkg, install_single_package_records_it_and_refuses_a_collision) {
    char *home = tmpdir(), *src = tmpdir();
    const char *pkg = fmt("%s/mypkg", src);
    make_pkg(pkg, "mypkg", "2.0.0", "Answer:");
    write_file(fmt("%s/lib/helper.lua", pkg), "return 1\n");
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_pkg_install", sargs("url", pkg, NULL));
    expect_ok(r, "install single");
    cr_assert_str_eq(jstr(r.json, "mode"), "local_single");
    cr_assert(has_str(jget(r.json, "installed"), "mypkg"));
    cr_assert(exists(fmt("%s/packages/mypkg/lib/helper.lua", home)));
    cJSON *inst = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    const cJSON *e = jget(jget(inst, "packages"), "mypkg");
    cr_assert_str_eq(jstr(e, "version"), "2.0.0", "version read from meta, not from the comment");
    cr_assert_str_eq(jstr(jget(e, "source"), "type"), "local");
    cr_assert_str_eq(jstr(jget(e, "source"), "path"), pkg);
    const char *at = fmt("%s", jstr(e, "installed_at"));

    r = call(p, "alc_pkg_install", sargs("url", pkg, "name", "other", NULL));
    expect_ok(r, "install under another name");
    cr_assert(has_str(jget(r.json, "installed"), "other"));

    char *before = snapshot(home);
    expect_error(call(p, "alc_pkg_install", sargs("url", pkg, NULL)), "already installed", "collision");
    cr_assert_str_eq(snapshot(home), before, "a refused install changes nothing");

    make_pkg(pkg, "mypkg", "2.1.0", "Answer:");
    r = call(p, "alc_pkg_install", with_bool(sargs("url", pkg, NULL), "force", true));
    expect_ok(r, "forced reinstall");
    inst = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    e = jget(jget(inst, "packages"), "mypkg");
    cr_assert_str_eq(jstr(e, "version"), "2.1.0");
    cr_assert_str_eq(jstr(e, "installed_at"), at, "installed_at survives a reinstall");

    res a = advice(p, "mypkg", "q", NULL);
    cr_assert_str_eq(jstr(a.json, "prompt"), "Answer: q");
    finish(p);
}

Test(e2e_pkg, list_shows_versions_scopes_and_shadowing) {
    char *home = tmpdir(), *src = tmpdir(), *extra = tmpdir();
    make_pkg(fmt("%s/mypkg", src), "mypkg", "2.0.0", "P");
    make_pkg(fmt("%s/mypkg", extra), "mypkg", "9.9.9", "P");
    write_file(fmt("%s/nover/init.lua", extra), "return { run = function() return 1 end }\n");
    write_file(fmt("%s/notpkg/readme.txt", extra), "no init.lua\n");
    const char *env[] = {fmt("ALC_PACKAGES_PATH=%s", extra), NULL};
    alc_proc *p = start(home, env);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/mypkg", src), NULL)), "install");
    res l = call(p, "alc_pkg_list", NULL);
    expect_ok(l, "list");
    const cJSON *first = list_entry(l.json, "mypkg", 0), *second = list_entry(l.json, "mypkg", 1);
    cr_assert(first && second, "%s", l.text);
    cr_assert_str_eq(jstr(first, "version"), "9.9.9");
    cr_assert_str_eq(jstr(first, "source"), "ALC_PACKAGES_PATH");
    cr_assert(cJSON_IsTrue(jget(first, "active")));
    cr_assert_str_eq(jstr(first, "scope"), "global");
    cr_assert_str_eq(jstr(second, "version"), "2.0.0");
    cr_assert_str_eq(jstr(second, "source"), "local");
    cr_assert(cJSON_IsFalse(jget(second, "active")), "the installed copy is shadowed");
    cr_assert_str_eq(jstr(second, "path"), fmt("%s/packages/mypkg", home));
    const cJSON *nover = list_entry(l.json, "nover", 0);
    cr_assert(nover && cJSON_IsNull(jget(nover, "version")), "no meta.version gives null");
    cr_assert_null(list_entry(l.json, "notpkg", 0));
    const cJSON *sp = jget(l.json, "search_paths");
    cr_assert_eq(cJSON_GetArraySize(sp), 2);
    cr_assert_str_eq(jstr(cJSON_GetArrayItem(sp, 0), "path"), extra);
    cr_assert_str_eq(jstr(cJSON_GetArrayItem(sp, 1), "path"), fmt("%s/packages", home));
    finish(p);
}

Test(e2e_pkg, remove_deletes_only_the_installed_copy_and_its_record) {
    char *home = tmpdir(), *src = tmpdir(), *outside = tmpdir();
    write_file(fmt("%s/precious.txt", outside), "keep me\n");
    const char *pkg = fmt("%s/rm_me", src);
    make_pkg(pkg, "rm_me", "1.0.0", "P");
    cr_assert_eq(symlink(fmt("%s/precious.txt", outside), fmt("%s/evil_link", pkg)), 0);
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_pkg_install", sargs("url", pkg, NULL));
    expect_ok(r, "install");
    cr_assert(has_str(jget(r.json, "skipped_symlinks"), "rm_me/evil_link"), "%s", r.text);
    cr_assert(!exists(fmt("%s/packages/rm_me/evil_link", home)), "symlinks are not copied");
    // plant a link to the outside inside the installed copy: removal must not follow it
    cr_assert_eq(symlink(outside, fmt("%s/packages/rm_me/dir_link", home)), 0);
    r = call(p, "alc_pkg_remove", sargs("name", "rm_me", NULL));
    expect_ok(r, "remove");
    cr_assert(cJSON_IsTrue(jget(r.json, "deleted")));
    cr_assert(!exists(fmt("%s/packages/rm_me", home)));
    cr_assert_str_eq(read_text(fmt("%s/precious.txt", outside)), "keep me\n");
    cJSON *inst = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    cr_assert_null(jget(jget(inst, "packages"), "rm_me"), "the record is gone");
    cr_assert(exists(fmt("%s/init.lua", pkg)), "the install source is untouched");

    char *before = snapshot(home);
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rm_me", NULL)), "is not installed", "second remove");
    cr_assert_str_eq(snapshot(home), before);

    // a linked package is only unlinked
    expect_ok(call(p, "alc_pkg_link", sargs("path", pkg, NULL)), "link");
    r = call(p, "alc_pkg_remove", sargs("name", "rm_me", NULL));
    expect_ok(r, "remove link");
    cr_assert(cJSON_IsTrue(jget(r.json, "was_link")));
    cr_assert(!exists(fmt("%s/packages/rm_me", home)));
    cr_assert(exists(fmt("%s/init.lua", pkg)), "the link target survives");
    finish(p);
}

/* ================================================================== link, scaffold, alc_init */

Test(e2e_pkg, link_makes_a_checkout_live_and_unlink_removes_only_the_link) {
    char *home = tmpdir(), *src = tmpdir();
    const char *pkg = fmt("%s/live_pkg", src);
    make_pkg(pkg, "live_pkg", "0.1.0", "First:");
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_pkg_link", sargs("path", pkg, NULL));
    expect_ok(r, "link");
    cr_assert(has_str(jget(r.json, "linked"), "live_pkg"));
    char target[PATH_MAX] = "";
    ssize_t n = readlink(fmt("%s/packages/live_pkg", home), target, sizeof target - 1);
    cr_assert_gt(n, 0);
    target[n] = '\0';
    cr_assert_str_eq(target, pkg);
    res a = advice(p, "live_pkg", "x", NULL);
    cr_assert_str_eq(jstr(a.json, "prompt"), "First: x");
    make_pkg(pkg, "live_pkg", "0.1.0", "Edited:");
    a = advice(p, "live_pkg", "x", NULL);
    cr_assert_str_eq(jstr(a.json, "prompt"), "Edited: x", "edits take effect in the next session");
    res l = call(p, "alc_pkg_list", NULL);
    const cJSON *e = list_entry(l.json, "live_pkg", 0);
    cr_assert_str_eq(jstr(e, "source"), "linked");
    cr_assert(cJSON_IsTrue(jget(e, "linked")));

    char *before = snapshot(home);
    expect_error(call(p, "alc_pkg_link", sargs("path", pkg, NULL)), "already exists", "second link");
    expect_error(call(p, "alc_pkg_link", sargs("path", compat_fixture(), "name", "x", NULL)), "collection", "name on a collection");
    cr_assert_str_eq(snapshot(home), before);

    r = call(p, "alc_pkg_link", sargs("path", compat_fixture(), NULL));
    expect_ok(r, "link a collection");
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "linked")), 3);

    r = call(p, "alc_pkg_unlink", sargs("name", "live_pkg", NULL));
    expect_ok(r, "unlink");
    cr_assert(!exists(fmt("%s/packages/live_pkg", home)));
    cr_assert(exists(fmt("%s/init.lua", pkg)));

    expect_ok(call(p, "alc_pkg_install", sargs("url", pkg, NULL)), "install a copy");
    before = snapshot(home);
    expect_error(call(p, "alc_pkg_unlink", sargs("name", "live_pkg", NULL)), "not a link", "unlink a copy");
    expect_error(call(p, "alc_pkg_unlink", sargs("name", "nothing", NULL)), "not linked", "unlink missing");
    cr_assert_str_eq(snapshot(home), before);
    finish(p);
}

Test(e2e_pkg, scaffold_writes_a_runnable_template) {
    char *home = tmpdir(), *target = tmpdir();
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_pkg_scaffold", sargs("name", "my_strategy", NULL));
    expect_ok(r, "scaffold");
    cr_assert_str_eq(jstr(r.json, "init_lua"), fmt("%s/packages/my_strategy/init.lua", home));
    res a = advice(p, "my_strategy", "2+2", NULL);
    expect_status(a, "needs_response");
    cr_assert(strstr(jstr(a.json, "prompt"), "Task: 2+2"), "%s", a.text);
    a = answer(p, a, "4");
    expect_status(a, "completed");
    cr_assert_str_eq(jstr(jget(jget(a.json, "result"), "result"), "answer"), "4");
    res l = call(p, "alc_pkg_list", NULL);
    cr_assert_str_eq(jstr(list_entry(l.json, "my_strategy", 0), "version"), "0.1.0");

    r = call(p, "alc_pkg_scaffold", sargs("name", "elsewhere", "target_dir", target, NULL));
    expect_ok(r, "scaffold into target_dir");
    cr_assert(exists(fmt("%s/elsewhere/init.lua", target)));

    char *hb = snapshot(home), *tb = snapshot(target);
    expect_error(call(p, "alc_pkg_scaffold", sargs("name", "my_strategy", NULL)), "already exists", "twice");
    const char *bad[] = {"Bad", "1x", "a-b", "../x", "a/b", "", "x.y",
                         "a2345678901234567890123456789012345678901234567890123456789012345", NULL};  // 65 characters
    for (int i = 0; bad[i]; i++)
        expect_error(call(p, "alc_pkg_scaffold", sargs("name", bad[i], NULL)), "invalid name", bad[i]);
    expect_error(call(p, "alc_pkg_scaffold", sargs("name", "ok_name", "target_dir", "relative/dir", NULL)), "absolute", "rel target");
    expect_error(call(p, "alc_pkg_scaffold", sargs("name", "ok_name", "target_dir", "/nonexistent/dir", NULL)), "nonexistent", "missing target");
    cr_assert_str_eq(snapshot(home), hb);
    cr_assert_str_eq(snapshot(target), tb);
    finish(p);
}

Test(e2e_pkg, alc_init_creates_alc_toml_and_ignores_alc_local_toml) {
    char *home = tmpdir(), *proj = tmpdir(), *proj2 = tmpdir();
    write_file(fmt("%s/.gitignore", proj), "node_modules");
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_init", sargs("project_root", proj, NULL));
    expect_ok(r, "alc_init");
    cr_assert_str_eq(jstr(r.json, "created"), fmt("%s/alc.toml", proj));
    cr_assert(cJSON_IsTrue(jget(r.json, "gitignore_updated")));
    cr_assert_str_eq(read_text(fmt("%s/.gitignore", proj)), "node_modules\nalc.local.toml\n");
    cr_assert(strstr(read_text(fmt("%s/alc.toml", proj)), "\n[packages]\n"));

    char *before = snapshot(proj);
    expect_error(call(p, "alc_init", sargs("project_root", proj, NULL)), "already exists", "second alc_init");
    cr_assert_str_eq(snapshot(proj), before);

    write_file(fmt("%s/.gitignore", proj2), "build/\n/alc.local.toml\n");
    r = call(p, "alc_init", sargs("project_root", proj2, NULL));
    expect_ok(r, "alc_init 2");
    cr_assert(cJSON_IsFalse(jget(r.json, "gitignore_updated")));
    cr_assert_str_eq(read_text(fmt("%s/.gitignore", proj2)), "build/\n/alc.local.toml\n");

    expect_error(call(p, "alc_init", sargs("project_root", "relative", NULL)), "absolute", "relative root");
    expect_error(call(p, "alc_init", sargs("project_root", "/nonexistent/proj", NULL)), "not an existing directory", "missing root");
    // the server's packages were never touched
    cr_assert(!exists(fmt("%s/packages", home)));
    finish(p);

    // no project_root and no ALC_PROJECT_ROOT: the server's cwd itself (no walk up)
    char *cwd_proj = tmpdir();
    mkdirs(fmt("%s/inner", cwd_proj));
    alc_proc *q = start_in(fmt("%s/inner", cwd_proj), home, NULL);
    r = call(q, "alc_init", NULL);
    expect_ok(r, "alc_init in the cwd");
    cr_assert_str_eq(jstr(r.json, "created"), fmt("%s/inner/alc.toml", cwd_proj));
    finish(q);
}

/* ================================================================== refused requests */

Test(e2e_pkg, bad_urls_names_and_paths_are_refused_and_change_nothing) {
    char *home = tmpdir(), *src = tmpdir(), *victim = tmpdir();
    make_pkg(fmt("%s/good", src), "good", "1.0.0", "P");
    write_file(fmt("%s/file.txt", victim), "x\n");
    make_pkg(fmt("%s/victim_pkg", victim), "victim_pkg", "1.0.0", "P");
    mkdirs(fmt("%s/emptydir", victim));
    alc_proc *p = start(home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/good", src), NULL)), "install");
    char *hb = snapshot(home), *vb = snapshot(victim), *sb = snapshot(src);

    const char *bad_urls[] = {"../x", "relative/path", "not a url", "", "-oProxyCommand=touch /tmp/x",
                              "ftp://example.com/x", "https://", "file://relative", "git@", "./pkg", NULL};
    for (int i = 0; bad_urls[i]; i++) {
        res r = call(p, "alc_pkg_install", sargs("url", bad_urls[i], NULL));
        cr_assert(r.is_error, "url '%s' should be refused: %s", bad_urls[i], r.text);
    }
    expect_error(call(p, "alc_pkg_install", sargs("url", "/nonexistent/pkg", NULL)), "No such file", "missing dir");
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/file.txt", victim), NULL)), "not a directory", "file");
    expect_error(call(p, "alc_pkg_install", sargs("url", "/", NULL)), "refusing", "root dir");
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/packages/good", home), NULL)), "refusing", "self");
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/emptydir", victim), NULL)), "neither a package", "empty dir");
    res again = call(p, "alc_pkg_install", sargs("url", src, NULL));  // a collection whose member exists
    expect_ok(again, "collection with an existing member");
    cr_assert(has_str(jget(again.json, "skipped"), "good") && cJSON_GetArraySize(jget(again.json, "installed")) == 0);
    const char *bad_names[] = {"../x", "a/b", "..", "x\\y", "-rf", ".hidden", "a.b", NULL};
    for (int i = 0; bad_names[i]; i++) {
        expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/good", src), "name", bad_names[i], NULL)),
                     "invalid package name", bad_names[i]);
        expect_error(call(p, "alc_pkg_remove", sargs("name", bad_names[i], NULL)), "invalid package name", bad_names[i]);
        expect_error(call(p, "alc_pkg_unlink", sargs("name", bad_names[i], NULL)), "invalid package name", bad_names[i]);
        expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/good", src), "name", bad_names[i], NULL)),
                     "invalid package name", bad_names[i]);
    }
    expect_error(call(p, "alc_pkg_remove", sargs("name", fmt("%s/victim_pkg", victim), NULL)), "invalid package name", "abs");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "", NULL)), "invalid package name", "empty");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "victim_pkg", NULL)), "not installed", "outside pkg");
    expect_error(call(p, "alc_pkg_link", sargs("path", "relative/dir", NULL)), "absolute", "relative link");
    expect_error(call(p, "alc_pkg_link", sargs("path", "/nonexistent/dir", NULL)), "No such file", "missing link");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/packages/good", home), NULL)), "refusing", "self link");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/file.txt", victim), NULL)), "not a directory", "file link");
    expect_error(call(p, "alc_pkg_list", sargs("project_root", "relative", NULL)), "absolute", "relative project");
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/good", src), "bogus", "1", NULL)), "unknown argument", "extra arg");
    cr_assert_str_eq(snapshot(home), hb, "ALC_HOME changed");
    cr_assert_str_eq(snapshot(victim), vb, "a directory outside ALC_HOME changed");
    cr_assert_str_eq(snapshot(src), sb, "the install source changed");
    finish(p);
}

Test(e2e_pkg, strict_mode_refuses_packages_that_escape_their_root_through_symlinks) {
    char *home = tmpdir(), *outside = tmpdir(), *src = tmpdir();
    write_file(fmt("%s/escapee/init.lua", outside), "return { x = 'escaped' }\n");
    write_file(fmt("%s/sneaky_impl.lua", outside), "return { x = 'sneaky' }\n");
    make_pkg(fmt("%s/fine", src), "fine", "1.0.0", "P");
    mkdirs(fmt("%s/packages/sneaky", home));
    cr_assert_eq(symlink(fmt("%s/escapee", outside), fmt("%s/packages/escapee", home)), 0);
    cr_assert_eq(symlink(fmt("%s/sneaky_impl.lua", outside), fmt("%s/packages/sneaky/init.lua", home)), 0);

    const char *strict[] = {"ALC_PKG_STRICT=1", NULL};
    alc_proc *p = start(home, strict);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/fine", src), NULL)), "install");
    const char *mods[] = {"escapee", "sneaky", NULL};
    for (int i = 0; mods[i]; i++) {
        res r = call(p, "alc_run", sargs("code", fmt("return require('%s').x", mods[i]), NULL));
        expect_status(r, "error");
        cr_assert(strstr(jstr(r.json, "error"), "outside its root") && strstr(jstr(r.json, "error"), "ALC_PKG_STRICT"),
                  "%s: %s", mods[i], r.text);
    }
    res ok = call(p, "alc_run", sargs("code", "return type(require('fine').run)", NULL));
    expect_status(ok, "completed");
    cr_assert_str_eq(jstr(ok.json, "result"), "function");

    alc_proc *lax = start(home, NULL);
    res r = call(lax, "alc_run", sargs("code", "return require('escapee').x .. ',' .. require('sneaky').x", NULL));
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(r.json, "result"), "escaped,sneaky", "without ALC_PKG_STRICT links may point outside");
}

/* ================================================================== project layers */

Test(e2e_pkg, project_variants_and_lock_paths_come_before_global_packages) {
    char *home = tmpdir(), *proj = tmpdir(), *gsrc = tmpdir();
    write_file(fmt("%s/myv/init.lua", gsrc), "return { who = 'global', run = function() return 'global' end }\n");
    write_file(fmt("%s/alc.local.toml", proj),
               "# local overrides\n[packages.myv]\npath = \"variants/myv\"\n\n[packages.gone]\npath = \"missing_dir\"\n");
    write_file(fmt("%s/variants/myv/init.lua", proj),
               "local M = { who = 'variant' }\n"
               "M.meta = { name = 'myv', version = '3.0.0' }\n"
               "function M.sub() return require('myv.helper').x end\n"
               "function M.run(ctx) return { who = M.who, sub = M.sub() } end\n"
               "return M\n");
    write_file(fmt("%s/variants/myv/helper.lua", proj), "return { x = 'helper' }\n");
    write_file(fmt("%s/alc.lock", proj),
               "version = 1\n\n[[package]]\nname = \"lockpkg\"\nsource = { type = \"path\", path = \"vendor\" }\n\n"
               "[[package]]\nname = \"nope\"\nsource = { type = \"path\", path = \"vendor_missing\" }\n\n"
               "[[package]]\nname = \"cot\"\nsource = { type = \"installed\" }\n");
    write_file(fmt("%s/vendor/lockpkg/init.lua", proj), "return { who = 'lock' }\n");
    alc_proc *p = start(home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/myv", gsrc), NULL)), "install global myv");

    const char *code = "return require('myv').who .. ',' .. require('myv').sub() .. ',' .. require('lockpkg').who";
    res r = call(p, "alc_run", sargs("code", code, "project_root", proj, NULL));
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(r.json, "result"), "variant,helper,lock");
    r = call(p, "alc_run", sargs("code", "return require('myv').who", NULL));
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(r.json, "result"), "global", "without project_root the global package is used");

    r = advice(p, "myv", NULL, proj);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "variant");
    r = advice(p, "lockpkg", NULL, proj);
    expect_status(r, "error");  // found (alc.lock path root), but it is a library without run
    cr_assert(strstr(jstr(r.json, "error"), "has no run(ctx)"), "%s", r.text);

    res l = call(p, "alc_pkg_list", sargs("project_root", proj, NULL));
    expect_ok(l, "list with project");
    const cJSON *v = list_entry(l.json, "myv", 0), *g = list_entry(l.json, "myv", 1);
    cr_assert_str_eq(jstr(v, "scope"), "project");
    cr_assert_str_eq(jstr(v, "source"), "variant");
    cr_assert_str_eq(jstr(v, "version"), "3.0.0");
    cr_assert(cJSON_IsTrue(jget(v, "active")));
    cr_assert_not_null(g);
    cr_assert(cJSON_IsFalse(jget(g, "active")), "the global myv is shadowed by the variant");
    cr_assert_null(list_entry(l.json, "myv", 2), "myv is listed once per layer");
    cr_assert_null(list_entry(l.json, "init", 0), "the variant dir is a search root, but its init.lua is not a package 'init'");
    cr_assert_str_eq(jstr(list_entry(l.json, "lockpkg", 0), "source"), "alc.lock");
    char *warn = cJSON_PrintUnformatted(jget(l.json, "warnings"));
    cr_assert(warn && strstr(warn, "missing_dir") && strstr(warn, "vendor_missing"), "warnings: %s", warn ? warn : "none");
    free(warn);
    finish(p);
}

Test(e2e_pkg, malformed_project_files_are_reported_with_their_line) {
    char *home = tmpdir(), *proj = tmpdir(), *proj2 = tmpdir();
    write_file(fmt("%s/alc.local.toml", proj), "[packages.x]\npath = \"a\"\n[packages.y\npath = \"b\"\n");
    write_file(fmt("%s/alc.lock", proj2), "version = 2\n");
    alc_proc *p = start(home, NULL);
    res r = call(p, "alc_run", sargs("code", "return 1", "project_root", proj, NULL));
    expect_status(r, "error");
    cr_assert(strstr(jstr(r.json, "error"), fmt("%s/alc.local.toml:3: ", proj)), "%s", r.text);
    expect_error(call(p, "alc_pkg_list", sargs("project_root", proj, NULL)), "alc.local.toml:3: expected ']'", "list");
    r = call(p, "alc_run", sargs("code", "return 1", "project_root", proj2, NULL));
    expect_status(r, "error");
    cr_assert(strstr(jstr(r.json, "error"), "version = 1"), "%s", r.text);
}

/* ================================================================== project files (alc.toml) */

/* A library-free strategy package whose run(ctx) returns {who = who} without calling the LLM. */
static void make_who(const char *dir, const char *who, const char *version) {
    write_file(fmt("%s/init.lua", dir),
               fmt("local M = {}\nM.meta = { name = 'x', version = '%s' }\n"
                   "function M.run(ctx) return { who = '%s' } end\nreturn M\n", version, who));
}

Test(e2e_pkg, cwd_walk_finds_the_project_its_variant_and_warns_once_about_a_lock_mismatch) {
    char *home = tmpdir(), *proj = tmpdir(), *gsrc = tmpdir();
    make_who(fmt("%s/myv", gsrc), "global", "1.0.0");
    write_file(fmt("%s/alc.toml", proj), "[packages]\nonly_in_toml = \"*\"\n");
    write_file(fmt("%s/alc.lock", proj), "version = 1\n[[package]]\nname = \"only_in_lock\"\nsource = {type = \"installed\"}\n");
    write_file(fmt("%s/alc.local.toml", proj), "[packages.myv]\npath = \"variants/myv\"\n");
    make_who(fmt("%s/variants/myv", proj), "variant", "2.0.0");
    mkdirs(fmt("%s/src/deep", proj));
    alc_proc *p = start_in(fmt("%s/src/deep", proj), home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/myv", gsrc), NULL)), "install global myv");

    res r = advice(p, "myv", NULL, NULL);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "variant", "the project above the cwd is used: %s", r.text);
    r = call(p, "alc_run", sargs("code", "return require('myv').run({}).who", NULL));
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(r.json, "result"), "variant");
    res l = call(p, "alc_pkg_list", NULL);
    expect_ok(l, "list");
    cr_assert_str_eq(jstr(l.json, "project_root"), proj);
    cr_assert_str_eq(jstr(list_entry(l.json, "myv", 0), "source"), "variant");
    // an explicit project_root still wins over the walk
    char *other = tmpdir();
    r = advice(p, "myv", NULL, other);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "global");
    finish(p);
    size_t n = 0;
    char *err = keep(alc_proc_stderr_text(p, &n));
    const char *w = strstr(err, "alc.toml and alc.lock list different packages");
    cr_assert_not_null(w, "stderr: %s", err);
    cr_assert(strstr(err, "only in alc.toml: only_in_toml") && strstr(err, "only in alc.lock: only_in_lock"), "%s", err);
    cr_assert_null(strstr(w + 1, "alc.toml and alc.lock list different packages"), "warned once: %s", err);
}

Test(e2e_pkg, ALC_PROJECT_ROOT_is_used_when_no_project_root_is_given) {
    char *home = tmpdir(), *proj = tmpdir();
    write_file(fmt("%s/alc.local.toml", proj), "[packages.envv]\npath = \"v\"\n");
    make_who(fmt("%s/v", proj), "from_env", "1.0.0");
    const char *env[] = {fmt("ALC_PROJECT_ROOT=%s", proj), NULL};
    alc_proc *p = start(home, env);
    res r = advice(p, "envv", NULL, NULL);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "from_env");
    finish(p);
}

Test(e2e_pkg, link_scope_variant_writes_alc_local_toml_and_advice_uses_it) {
    char *home = tmpdir(), *proj = tmpdir(), *src = tmpdir(), *gsrc = tmpdir();
    make_who(fmt("%s/vpkg", gsrc), "global", "1.0.0");
    make_who(fmt("%s/vpkg", src), "variant", "0.9.0");
    write_file(fmt("%s/alc.local.toml", proj), "# mine\n[packages.other]\npath = \"/somewhere/else\"\n");
    alc_proc *p = start(home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/vpkg", gsrc), NULL)), "install global");
    res r = call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "scope", "variant", "project_root", proj, NULL));
    expect_ok(r, "link variant");
    cr_assert_str_eq(jstr(r.json, "scope"), "variant");
    cr_assert_str_eq(jstr(r.json, "alc_local_toml"), fmt("%s/alc.local.toml", proj));
    cr_assert(has_str(jget(r.json, "linked"), "vpkg"));
    const char *text = read_text(fmt("%s/alc.local.toml", proj));
    cr_assert(strstr(text, fmt("[packages.vpkg]\npath = \"%s/vpkg\"\n", src)), "%s", text);
    cr_assert(strstr(text, "[packages.other]\npath = \"/somewhere/else\"\n"), "other entries are kept: %s", text);
    struct stat gst;
    cr_assert(lstat(fmt("%s/packages/vpkg", home), &gst) == 0 && S_ISDIR(gst.st_mode), "the global copy is not replaced by a link");

    r = advice(p, "vpkg", NULL, proj);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "variant");
    r = advice(p, "vpkg", NULL, NULL);
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(jget(r.json, "result"), "who"), "global", "other projects keep the global package");

    char *before = snapshot(proj), *home_before = snapshot(home);
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "scope", "variant", "project_root", proj, NULL)),
                 "pass force", "second variant link");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "scope", "sideways", NULL)), "unknown scope", "bad scope");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "scope", "variant", NULL)), "no project root",
                 "no project");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "scope", "variant", "project_root", "/nonexistent/p", NULL)),
                 "not an existing directory", "missing project");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "project_root", proj, NULL)), "only used with scope",
                 "project_root with global scope");
    expect_error(call(p, "alc_pkg_link", sargs("path", src, "scope", "variant", "project_root", proj, NULL)), "no init.lua",
                 "collection as variant");
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "name", "../x", "scope", "variant", "project_root", proj, NULL)),
                 "invalid package name", "bad name");
    cr_assert_str_eq(snapshot(proj), before);
    cr_assert_str_eq(snapshot(home), home_before);
    write_file(fmt("%s/alc.local.toml", proj), "[packages.x\n");
    before = snapshot(proj);
    expect_error(call(p, "alc_pkg_link", sargs("path", fmt("%s/vpkg", src), "name", "y", "scope", "variant", "project_root", proj, NULL)),
                 "alc.local.toml:1:", "malformed alc.local.toml");
    cr_assert_str_eq(snapshot(proj), before);
    finish(p);
}

Test(e2e_pkg, install_with_project_root_records_it_and_remove_scopes_project_global_all) {
    char *home = tmpdir(), *proj = tmpdir(), *src = tmpdir();
    make_who(fmt("%s/rp", src), "rp", "1.2.3");
    make_who(fmt("%s/plain", src), "plain", "0.1.0");
    alc_proc *p = start(home, NULL);
    // without project_root no project file is written
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/plain", src), NULL)), "install plain");
    cr_assert(!exists(fmt("%s/alc.toml", proj)));

    res r = call(p, "alc_pkg_install", sargs("url", fmt("%s/rp", src), "project_root", proj, NULL));
    expect_ok(r, "install with project_root");
    cr_assert_str_eq(jstr(r.json, "alc_toml"), fmt("%s/alc.toml", proj));
    cr_assert_str_eq(jstr(r.json, "alc_lock"), fmt("%s/alc.lock", proj));
    cr_assert(strstr(read_text(fmt("%s/alc.toml", proj)), "[packages]\nrp = \"1.2.3\"\n"), "%s", read_text(fmt("%s/alc.toml", proj)));
    const char *lock = read_text(fmt("%s/alc.lock", proj));
    cr_assert(strstr(lock, "version = 1\n") && strstr(lock, "[[package]]\nname = \"rp\"\nversion = \"1.2.3\"\nsource = {type = \"installed\"}\n"),
              "%s", lock);
    // a malformed alc.toml stops the install before anything changes
    char *pdir = tmpdir();
    write_file(fmt("%s/alc.toml", pdir), "[packages]\nx = \n");
    char *home_before = snapshot(home);
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/plain", src), "name", "plain2", "project_root", pdir, NULL)),
                 "alc.toml:2:", "malformed alc.toml");
    cr_assert_str_eq(snapshot(home), home_before, "nothing installed");

    // default scope: the project, because its alc.toml lists rp
    r = call(p, "alc_pkg_remove", sargs("name", "rp", "project_root", proj, NULL));
    expect_ok(r, "remove (project by default)");
    cr_assert_str_eq(jstr(r.json, "scope"), "project");
    cr_assert_str_eq(jstr(r.json, "alc_toml"), fmt("%s/alc.toml", proj));
    cr_assert_str_eq(jstr(r.json, "alc_lock"), fmt("%s/alc.lock", proj));
    cr_assert_null(strstr(read_text(fmt("%s/alc.toml", proj)), "rp"));
    cr_assert_null(strstr(read_text(fmt("%s/alc.lock", proj)), "rp"));
    cr_assert(exists(fmt("%s/packages/rp/init.lua", home)), "the installed copy stays");
    // the project no longer lists it: still the project scope (a retry must not fall through to
    // deleting the global copy), so not found, and the copy stays
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rp", "project_root", proj, NULL)), "not listed",
                 "remove again (project by default)");
    cr_assert(exists(fmt("%s/packages/rp/init.lua", home)), "the installed copy stays");
    // with no project at all the default is the global store
    r = call(p, "alc_pkg_remove", sargs("name", "rp", NULL));
    expect_ok(r, "remove (global by default, no project)");
    cr_assert_str_eq(jstr(r.json, "scope"), "global");
    cr_assert(cJSON_IsTrue(jget(r.json, "deleted")));
    cr_assert_not_null(jstr(r.json, "installed_json"));
    cr_assert(!exists(fmt("%s/packages/rp", home)));

    // all: both places
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/rp", src), "project_root", proj, NULL)), "reinstall");
    r = call(p, "alc_pkg_remove", sargs("name", "rp", "scope", "all", "project_root", proj, NULL));
    expect_ok(r, "remove all");
    cr_assert_str_eq(jstr(r.json, "scope"), "all");
    cr_assert(cJSON_IsTrue(jget(r.json, "project_removed")) && cJSON_IsTrue(jget(r.json, "global_removed")), "%s", r.text);
    cr_assert_not_null(jstr(r.json, "project_note"));
    cr_assert_not_null(jstr(r.json, "global_note"));
    cr_assert(!exists(fmt("%s/packages/rp", home)));
    // explicit scopes and the refusals, each changing nothing
    char *before = snapshot(proj);
    home_before = snapshot(home);
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rp", "scope", "all", "project_root", proj, NULL)), "neither", "all again");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rp", "scope", "project", "project_root", proj, NULL)), "not listed",
                 "project again");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rp", "scope", "project", NULL)), "no project root", "no project");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "plain", "scope", "nowhere", NULL)), "unknown scope", "bad scope");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "plain", "scope", "global", "version", "9.9", NULL)), "not 9.9",
                 "wrong version");
    expect_error(call(p, "alc_pkg_remove", sargs("name", "../x", "scope", "project", "project_root", proj, NULL)),
                 "invalid package name", "bad name");
    cr_assert_str_eq(snapshot(proj), before);
    cr_assert_str_eq(snapshot(home), home_before);
    r = call(p, "alc_pkg_remove", sargs("name", "plain", "scope", "global", "version", "0.1.0", NULL));
    expect_ok(r, "remove global with the right version");
    cr_assert_str_eq(jstr(r.json, "scope"), "global");
    finish(p);
}

Test(e2e_pkg, project_files_alc_cannot_rewrite_stop_an_operation_before_anything_changes) {
    char *home = tmpdir(), *proj = tmpdir(), *src = tmpdir(), *outside = tmpdir();
    make_who(fmt("%s/rp", src), "rp", "1.2.3");
    alc_proc *p = start(home, NULL);
    // a string that is not UTF-8 parses but cannot be written back: the install is refused
    // before anything is installed
    write_file(fmt("%s/alc.toml", proj), "[packages]\nother = \"caf\xe9\"\n");
    char *home_before = snapshot(home), *proj_before = snapshot(proj);
    expect_error(call(p, "alc_pkg_install", sargs("url", fmt("%s/rp", src), "project_root", proj, NULL)), "cannot be rewritten",
                 "install into a project whose alc.toml cannot be rewritten");
    cr_assert_str_eq(snapshot(home), home_before, "nothing installed");
    cr_assert_str_eq(snapshot(proj), proj_before, "no project file changed");
    // remove: alc.toml can be written but alc.lock cannot: neither changes
    write_file(fmt("%s/alc.toml", proj), "[packages]\nrp = \"*\"\nkeep = \"*\"\n");
    write_file(fmt("%s/alc.lock", proj), "version = 1\n[[package]]\nname = \"rp\"\n[[package]]\nname = \"keep\"\nnote = \"caf\xe9\"\n");
    proj_before = snapshot(proj);
    expect_error(call(p, "alc_pkg_remove", sargs("name", "rp", "scope", "project", "project_root", proj, NULL)),
                 "cannot be rewritten", "remove with an alc.lock that cannot be rewritten");
    cr_assert_str_eq(snapshot(proj), proj_before, "neither file changed");
    // a project file that is a symbolic link is refused, and its target is left alone
    write_file(fmt("%s/shared.toml", outside), "[packages]\nq = \"*\"\n");
    cr_assert_eq(unlink(fmt("%s/alc.toml", proj)), 0);
    cr_assert_eq(symlink(fmt("%s/shared.toml", outside), fmt("%s/alc.toml", proj)), 0);
    expect_error(call(p, "alc_pkg_remove", sargs("name", "q", "scope", "project", "project_root", proj, NULL)),
                 "symbolic link", "remove through a symlinked alc.toml");
    cr_assert_str_eq(read_text(fmt("%s/shared.toml", outside)), "[packages]\nq = \"*\"\n");
    finish(p);
}

Test(e2e_pkg, alc_update_finds_packages_in_every_global_root_as_require_does) {
    char *home = tmpdir(), *proj = tmpdir(), *extra = tmpdir();
    make_who(fmt("%s/far", extra), "far", "2.0.0");
    write_file(fmt("%s/alc.toml", proj), "[packages]\nfar = \"*\"\n");
    const char *env[] = {fmt("ALC_PACKAGES_PATH=%s", extra), NULL};
    alc_proc *p = start(home, env);
    res r = call(p, "alc_update", sargs("project_root", proj, NULL));
    expect_ok(r, "alc_update");
    cr_assert_eq(jget(r.json, "resolved")->valueint, 1, "%s", r.text);
    cr_assert(strstr(read_text(fmt("%s/alc.lock", proj)), "name = \"far\"\nversion = \"2.0.0\""), "%s",
              read_text(fmt("%s/alc.lock", proj)));
    finish(p);
}

Test(e2e_pkg, alc_update_reports_a_pinned_version_that_is_not_installed_and_drops_an_empty_lock_array) {
    char *home = tmpdir(), *proj = tmpdir(), *src = tmpdir();
    make_who(fmt("%s/rp", src), "rp", "1.2.3");
    alc_proc *p = start(home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/rp", src), NULL)), "install");
    write_file(fmt("%s/alc.toml", proj), "[packages]\nrp = \"9.9.9\"\n");
    res r = call(p, "alc_update", sargs("project_root", proj, NULL));
    expect_ok(r, "alc_update");
    cr_assert_eq(jget(r.json, "resolved")->valueint, 0, "%s", r.text);
    cr_assert(strstr(r.text, "9.9.9") && strstr(r.text, "1.2.3"), "the error names both versions: %s", r.text);
    const char *lock = read_text(fmt("%s/alc.lock", proj));
    cr_assert_null(strstr(lock, "package"), "no entry, and no empty package array: %s", lock);
    // a hand-added [[package]] still parses after that
    write_file(fmt("%s/alc.lock", proj), fmt("%s[[package]]\nname = \"hand\"\nsource = {type = \"path\", path = \".\"}\n", lock));
    r = call(p, "alc_pkg_list", sargs("project_root", proj, NULL));
    expect_ok(r, "list with the hand-edited lock");
    cr_assert(strstr(r.text, "\"source\":\"alc.lock\""), "the hand-added path entry is a search root: %s", r.text);
    finish(p);
}

Test(e2e_pkg, alc_update_rewrites_the_lock_from_alc_toml_and_require_reads_it) {
    char *home = tmpdir(), *proj = tmpdir(), *src = tmpdir();
    make_who(fmt("%s/inst", src), "inst", "3.1.0");
    write_file(fmt("%s/vendor/vlib/init.lua", proj), "return { who = 'vendored' }\n");
    write_file(fmt("%s/alc.toml", proj),
               "# my project\n[packages]\ninst = \"*\"\nnot_installed = \"1.0\"\nvendored = { path = \"vendor\" }\n"
               "lost = { path = \"gone\" }\nremote = { git = \"https://example.invalid/r.git\", rev = \"v2\" }\n");
    write_file(fmt("%s/alc.lock", proj), "version = 1\n[[package]]\nname = \"stale\"\nsource = {type = \"installed\"}\n");
    alc_proc *p = start(home, NULL);
    expect_ok(call(p, "alc_pkg_install", sargs("url", fmt("%s/inst", src), NULL)), "install");
    res r = call(p, "alc_update", sargs("project_root", proj, NULL));
    expect_ok(r, "alc_update");
    cr_assert_eq(jget(r.json, "resolved")->valueint, 3, "%s", r.text);
    cr_assert_eq(cJSON_GetArraySize(jget(r.json, "errors")), 2, "%s", r.text);
    cr_assert(strstr(r.text, "not_installed") && strstr(r.text, "lost"), "%s", r.text);
    cr_assert_str_eq(jstr(r.json, "alc_lock"), fmt("%s/alc.lock", proj));
    const char *lock = read_text(fmt("%s/alc.lock", proj));
    cr_assert_null(strstr(lock, "stale"), "the lock is rewritten: %s", lock);
    cr_assert(strstr(lock, "name = \"inst\"\nversion = \"3.1.0\"\nsource = {type = \"installed\"}"), "%s", lock);
    cr_assert(strstr(lock, "source = {type = \"path\", path = \"vendor\"}"), "%s", lock);
    cr_assert(strstr(lock, "source = {type = \"git\", url = \"https://example.invalid/r.git\", rev = \"v2\"}"), "%s", lock);
    cr_assert(strstr(read_text(fmt("%s/alc.toml", proj)), "# my project"), "alc.toml is not rewritten");
    // the path entry it wrote is a search root for require
    r = call(p, "alc_run", sargs("code", "return require('vlib').who", "project_root", proj, NULL));
    expect_status(r, "completed");
    cr_assert_str_eq(jstr(r.json, "result"), "vendored");

    char *before = snapshot(proj);
    char *noproj = tmpdir();
    expect_error(call(p, "alc_update", sargs("project_root", noproj, NULL)), "alc_init", "no alc.toml");
    expect_error(call(p, "alc_update", sargs("project_root", "relative/p", NULL)), "absolute", "relative");
    expect_error(call(p, "alc_update", NULL), "no project root", "no project");
    write_file(fmt("%s/alc.toml", noproj), "[packages]\na = { path = \n");
    expect_error(call(p, "alc_update", sargs("project_root", noproj, NULL)), "alc.toml:2:", "malformed");
    cr_assert(!exists(fmt("%s/alc.lock", noproj)));
    write_file(fmt("%s/alc.lock", noproj), "version = 7\n");
    write_file(fmt("%s/alc.toml", noproj), "[packages]\n");
    expect_error(call(p, "alc_update", sargs("project_root", noproj, NULL)), "version = 1", "future lock version");
    cr_assert_str_eq(read_text(fmt("%s/alc.lock", noproj)), "version = 7\n");
    cr_assert_str_eq(snapshot(proj), before);
    finish(p);
}

/* ================================================================== git */

static bool have_git(void) { return system("git --version >/dev/null 2>&1") == 0; }

static void sh(const char *cmd) {
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "command failed: %s", cmd);
}

Test(e2e_pkg, install_from_a_git_repository) {
    if (!have_git()) cr_skip_test("git is not installed");
    char *home = tmpdir(), *work = tmpdir(), *repos = tmpdir();
    const char *g = "git -c user.name=alc-test -c user.email=test@example.invalid -c init.defaultBranch=main";
    // a single package at the repository root
    make_pkg(fmt("%s/single", work), "gitpkg", "4.5.6", "Git:");
    sh(fmt("cd '%s/single' && %s init -q && %s add -A && %s commit -q -m init && "
           "%s clone -q --bare . '%s/single.git'", work, g, g, g, g, repos));
    // a collection
    make_pkg(fmt("%s/coll/one", work), "one", "1.0.0", "One:");
    make_pkg(fmt("%s/coll/two", work), "two", "2.0.0", "Two:");
    sh(fmt("cd '%s/coll' && %s init -q && %s add -A && %s commit -q -m init && "
           "%s clone -q --bare . '%s/coll.git'", work, g, g, g, g, repos));

    alc_proc *p = start(home, NULL);
    const char *url = fmt("file://%s/single.git", repos);
    res r = call(p, "alc_pkg_install", sargs("url", url, "name", "gitpkg", NULL));
    expect_ok(r, "git install");
    cr_assert_str_eq(jstr(r.json, "mode"), "single");
    cr_assert(exists(fmt("%s/packages/gitpkg/init.lua", home)));
    cr_assert(!exists(fmt("%s/packages/gitpkg/.git", home)), "the .git directory is not installed");
    cJSON *inst = keep_json(cJSON_Parse(read_text(fmt("%s/installed.json", home))));
    const cJSON *e = jget(jget(inst, "packages"), "gitpkg");
    cr_assert_str_eq(jstr(jget(e, "source"), "type"), "git");
    cr_assert_str_eq(jstr(jget(e, "source"), "url"), url);
    cr_assert_str_eq(jstr(e, "version"), "4.5.6");
    cr_assert_str_eq(snapshot(fmt("%s/tmp", home)), "", "the clone is cleaned up");

    r = call(p, "alc_pkg_install", sargs("url", fmt("file://%s/coll.git", repos), NULL));
    expect_ok(r, "git collection");
    cr_assert_str_eq(jstr(r.json, "mode"), "collection");
    cr_assert(has_str(jget(r.json, "installed"), "one") && has_str(jget(r.json, "installed"), "two"));
    res a = advice(p, "two", "t", NULL);
    cr_assert_str_eq(jstr(a.json, "prompt"), "Two: t");

    char *before = snapshot(fmt("%s/packages", home));
    char *json_before = read_text(fmt("%s/installed.json", home));
    r = call(p, "alc_pkg_install", sargs("url", fmt("file://%s/missing.git", repos), NULL));
    expect_error(r, "git clone of", "missing repository");
    cr_assert(strstr(r.text, "failed"), "%s", r.text);
    cr_assert_str_eq(snapshot(fmt("%s/packages", home)), before, "a failed clone installs nothing");
    cr_assert_str_eq(read_text(fmt("%s/installed.json", home)), json_before);
    cr_assert_str_eq(snapshot(fmt("%s/tmp", home)), "", "a failed clone leaves no temporary files");
    finish(p);
}
