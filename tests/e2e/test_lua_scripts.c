/*
 * test_lua_scripts.c — runs every tests/lua/<name>.lua script through the real alc server.
 *
 * The directory comes from the environment variable ALC_LUA_TESTS_DIR (set by tests/meson.build)
 * and is listed when the test binary starts, sorted by name; each file becomes one case of the
 * parameterized test lua_scripts::script_completes_ok, and every failure message starts with the
 * file name. For each script the test spawns the server ($ALC_BIN, fresh ALC_HOME), initializes,
 * calls alc_run with code_file = the script's absolute path and then acts as a scripted host:
 *
 *   - every needs_response is answered at once, deterministically: a prompt that starts with
 *     "ANSWER:" gets the rest of the prompt verbatim (so a script controls the exact reply, e.g.
 *     malformed JSON); a prompt that starts with "ECHO:" gets a JSON object describing what the
 *     host saw: {"prompt","system" (string|null),"max_tokens","grounded","underspecified"} (so a
 *     script can check options and flags); any other prompt gets "R:" .. prompt. A batch is
 *     answered with one alc_continue carrying `responses` for every query, in order;
 *   - the run must end with status "completed" and result.ok == true; any other outcome (error,
 *     cancelled, a tool error, a protocol error, a timeout) fails the case with the file name, the
 *     status and the error text;
 *   - afterwards stdin is closed and the server must exit with status 0 (so sanitizer reports in
 *     the child fail the case).
 *
 * Script conventions: plain assert(cond, "message") and `return {ok = true}`. A first line of the
 * form `-- ctx: {JSON object}` is passed as the alc_run ctx (used for budgets), with the key
 * "repo_root" added (unless set): the absolute path of the repository, ALC_LUA_TESTS_DIR/../..,
 * for scripts that read repository files (tests/lua/types_api.lua reads types/alc.d.lua).
 *
 * Threads: Criterion runs each case in its own process; everything here is single-threaded.
 */
#include "helpers.h"
#include "harness/proc.h"

#include <criterion/parameterized.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <time.h>

#define REPLY_MS 30000     // max wait for one tool reply (sanitizer builds are slow)
#define EXIT_MS 5000       // exit deadline after stdin EOF
#define MAX_ROUNDS 20000   // host answers per script before giving up (runaway loop guard)
#define ANSWER_PREFIX "ANSWER:"
#define ECHO_PREFIX "ECHO:"

typedef struct lua_case {
    char name[256]; // file name inside ALC_LUA_TESTS_DIR
} lua_case;

static alc_proc *g_proc;
static char *g_home;
static const char *g_name = "?";

static void teardown(void) {
    alc_proc_free(g_proc);
    g_proc = NULL;
    if (g_home) alc_test_rmtree(g_home);
    free(g_home);
    g_home = NULL;
}

/* ------------------------------------------------------------------ discovery */

static int is_lua_file(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".lua") == 0;
}

// Sorted list of *.lua names in dir (new, free each entry and the array), count in *n; -1 on error.
static int list_scripts(const char *dir, struct dirent ***out) {
    return scandir(dir, out, is_lua_file, alphasort);
}

ParameterizedTestParameters(lua_scripts, script_completes_ok) {
    const char *dir = getenv("ALC_LUA_TESTS_DIR");
    struct dirent **ents = NULL;
    int n = dir ? list_scripts(dir, &ents) : -1;
    if (n <= 0) {
        free(ents);
        return cr_make_param_array(lua_case, NULL, 0, NULL);
    }
    lua_case *cases = cr_malloc(sizeof *cases * (size_t)n);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (cases && strlen(ents[i]->d_name) < sizeof cases[k].name) {
            snprintf(cases[k].name, sizeof cases[k].name, "%s", ents[i]->d_name);
            k++;
        }
        free(ents[i]);
    }
    free(ents);
    return cr_make_param_array(lua_case, cases, cases ? (size_t)k : 0, NULL);
}

/* ------------------------------------------------------------------ failure reporting */

// Fails the running case with "<file>: <message>" plus the tail of the server's stderr.
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
    cr_assert_fail("%s: %s%s%s", g_name, msg, tail[0] ? "\n---- server stderr (tail) ----\n" : "", tail);
    abort(); // not reached: cr_assert_fail ends the test
}

/* ------------------------------------------------------------------ protocol */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Sends a request built from req (borrowed) and returns the reply to request id (new tree),
// skipping notifications.
static cJSON *call(cJSON *req, int id) {
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
        if (st == ALC_PROC_TIMEOUT) fail("no reply within %d ms (script hung?)", REPLY_MS);
        if (st != ALC_PROC_LINE) {
            free(raw);
            fail("server stdout ended or failed (status %d)", st);
        }
        cJSON *m = cJSON_Parse(raw);
        if (!m) {
            char copy[512];
            snprintf(copy, sizeof copy, "%s", raw);
            free(raw);
            fail("stdout line is not JSON: %s", copy);
        }
        free(raw);
        if (cJSON_GetObjectItemCaseSensitive(m, "method")) { // notification
            cJSON_Delete(m);
            continue;
        }
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsNumber(rid) || (int)rid->valuedouble != id) {
            char *t = cJSON_PrintUnformatted(m);
            char copy[512];
            snprintf(copy, sizeof copy, "%s", t ? t : "?");
            cJSON_free(t);
            cJSON_Delete(m);
            fail("reply with an unexpected id: %s", copy);
        }
        return m;
    }
}

static cJSON *tool_request(int id, const char *tool, cJSON *args /* owns */) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args);
    return req;
}

// Calls a tool and returns the parsed JSON of its text content (new tree).
static cJSON *tool_call(int id, const char *tool, cJSON *args /* owns */) {
    cJSON *req = tool_request(id, tool, args);
    cJSON *m = call(req, id);
    cJSON_Delete(req);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(m, "error");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(m, "result");
    if (err || !res) {
        char *t = cJSON_PrintUnformatted(m);
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", t ? t : "?");
        cJSON_free(t);
        cJSON_Delete(m);
        fail("%s returned a JSON-RPC error: %s", tool, copy);
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(res, "content");
    const cJSON *first = cJSON_IsArray(content) ? content->child : NULL;
    const cJSON *text = first ? cJSON_GetObjectItemCaseSensitive(first, "text") : NULL;
    if (!cJSON_IsString(text)) {
        cJSON_Delete(m);
        fail("%s result has no text content", tool);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"))) {
        char copy[2048];
        snprintf(copy, sizeof copy, "%s", text->valuestring);
        cJSON_Delete(m);
        fail("%s failed (isError): %s", tool, copy);
    }
    cJSON *out = cJSON_Parse(text->valuestring);
    if (!out) {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", text->valuestring);
        cJSON_Delete(m);
        fail("%s text is not JSON: %s", tool, copy);
    }
    cJSON_Delete(m);
    return out;
}

// The scripted host's answer to the query q (borrowed) whose prompt is prompt (new string).
static char *answer_for(const cJSON *q, const char *prompt) {
    size_t pl = strlen(ANSWER_PREFIX);
    if (strncmp(prompt, ANSWER_PREFIX, pl) == 0) return strdup(prompt + pl);
    if (strncmp(prompt, ECHO_PREFIX, strlen(ECHO_PREFIX)) == 0) {
        // what the host saw, as a JSON object the script can decode and check
        cJSON *e = cJSON_CreateObject();
        const cJSON *sys = cJSON_GetObjectItemCaseSensitive(q, "system");
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(q, "max_tokens");
        cJSON_AddStringToObject(e, "prompt", prompt);
        if (cJSON_IsString(sys)) cJSON_AddStringToObject(e, "system", sys->valuestring);
        else cJSON_AddNullToObject(e, "system");
        if (cJSON_IsNumber(mt)) cJSON_AddNumberToObject(e, "max_tokens", mt->valuedouble);
        else cJSON_AddNullToObject(e, "max_tokens");
        cJSON_AddBoolToObject(e, "grounded", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "grounded")));
        cJSON_AddBoolToObject(e, "underspecified",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "underspecified")));
        char *text = cJSON_PrintUnformatted(e);
        cJSON_Delete(e);
        char *a = text ? strdup(text) : NULL;
        cJSON_free(text);
        return a;
    }
    size_t n = strlen(prompt);
    char *a = malloc(n + 3);
    if (a) {
        memcpy(a, "R:", 2);
        memcpy(a + 2, prompt, n + 1);
    }
    return a;
}

static const char *str_field(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// Builds the alc_continue arguments answering the needs_response outcome out (borrowed).
static cJSON *answers_for(const cJSON *out) {
    const char *sid = str_field(out, "session_id");
    if (!sid) fail("needs_response without a session_id");
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "session_id", sid);
    const cJSON *queries = cJSON_GetObjectItemCaseSensitive(out, "queries");
    if (cJSON_IsArray(queries)) {
        cJSON *responses = cJSON_AddArrayToObject(args, "responses");
        const cJSON *q;
        cJSON_ArrayForEach(q, queries) {
            const char *id = str_field(q, "id");
            const char *prompt = str_field(q, "prompt");
            if (!id || !prompt) {
                cJSON_Delete(args);
                fail("batch query without id or prompt");
            }
            char *a = answer_for(q, prompt);
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "query_id", id);
            cJSON_AddStringToObject(r, "response", a ? a : "");
            cJSON_AddItemToArray(responses, r);
            free(a);
        }
    } else {
        const char *qid = str_field(out, "query_id");
        const char *prompt = str_field(out, "prompt");
        if (!qid || !prompt) {
            cJSON_Delete(args);
            fail("needs_response without query_id/prompt or queries");
        }
        char *a = answer_for(out, prompt);
        cJSON_AddStringToObject(args, "query_id", qid);
        cJSON_AddStringToObject(args, "response", a ? a : "");
        free(a);
    }
    return args;
}

/* ------------------------------------------------------------------ script */

// Reads the optional "-- ctx: {...}" first line of path; returns a new cJSON object or NULL.
static cJSON *script_ctx(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) fail("cannot open %s: %s", path, strerror(errno));
    char line[8192];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    static const char tag[] = "-- ctx:";
    if (!got || strncmp(line, tag, sizeof tag - 1) != 0) return NULL;
    cJSON *ctx = cJSON_Parse(line + sizeof tag - 1);
    if (!cJSON_IsObject(ctx)) {
        cJSON_Delete(ctx);
        fail("the '-- ctx:' line is not a JSON object");
    }
    return ctx;
}

/* An optional "-- env: NAME=VALUE" line among the first lines sets one server variable
 * (e.g. ALC_SANDBOX=strict). Returns false when there is none. */
static bool script_env(const char *path, char *out, size_t outlen) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    for (int i = 0; i < 5 && !found && fgets(line, sizeof line, f); i++) {
        static const char tag[] = "-- env: ";
        if (strncmp(line, tag, sizeof tag - 1) != 0) continue;
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, outlen, "%s", line + sizeof tag - 1);
        found = strchr(out, '=') != NULL;
    }
    fclose(f);
    return found;
}

static void describe_failure(const cJSON *out) {
    const char *status = str_field(out, "status");
    const char *error = str_field(out, "error");
    char *t = cJSON_PrintUnformatted(out);
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", t ? t : "?");
    cJSON_free(t);
    fail("run ended with status %s%s%s (outcome: %s)", status ? status : "(none)",
         error ? ", error: " : "", error ? error : "", copy);
}

// Adds "repo_root" = "<cwd>/<dir>/../.." (absolute, not normalised) to ctx (borrowed) unless set.
static void add_repo_root(cJSON *ctx, const char *cwd, const char *dir) {
    if (cJSON_GetObjectItemCaseSensitive(ctx, "repo_root")) return;
    char up[2 * PATH_MAX + 16];
    int n = snprintf(up, sizeof up, "%s%s%s/../..", cwd, cwd[0] ? "/" : "", dir);
    if (n < 0 || (size_t)n >= sizeof up) fail("repository path too long");
    if (!cJSON_AddStringToObject(ctx, "repo_root", up)) fail("out of memory adding ctx.repo_root");
}

ParameterizedTest(lua_case *c, lua_scripts, script_completes_ok, .fini = teardown, .timeout = 300) {
    g_name = c->name;
    const char *dir = getenv("ALC_LUA_TESTS_DIR");
    cr_assert(dir && *dir, "ALC_LUA_TESTS_DIR is not set");
    char cwd[PATH_MAX] = "";
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd)) fail("getcwd: %s", strerror(errno));
    char path[2 * PATH_MAX];
    int plen = snprintf(path, sizeof path, "%s%s%s/%s", cwd, cwd[0] ? "/" : "", dir, c->name);
    if (plen < 0 || (size_t)plen >= sizeof path) fail("script path too long");
    cJSON *ctx = script_ctx(path);
    if (ctx) add_repo_root(ctx, cwd, dir);

    g_home = alc_test_tmpdir();
    /* fixture packages (for require and alc.fork) live next to the scripts */
    char pkgs[2 * PATH_MAX + 64];
    snprintf(pkgs, sizeof pkgs, "ALC_PACKAGES_PATH=%s%s%s/fixtures", cwd, cwd[0] ? "/" : "", dir);
    char extra[1024];
    const char *const env[] = {pkgs, script_env(path, extra, sizeof extra) ? extra : NULL, NULL};
    g_proc = alc_proc_spawn_alc(g_home, env, ALC_PROC_STDERR_CAPTURE);
    if (!g_proc) fail("cannot spawn $ALC_BIN (%s): %s", getenv("ALC_BIN") ? getenv("ALC_BIN") : "unset",
                      strerror(errno));
    if (alc_proc_initialize(g_proc) != 0) fail("MCP initialize failed");

    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "code_file", path);
    if (ctx) cJSON_AddItemToObject(args, "ctx", ctx);
    int id = 1;
    cJSON *out = tool_call(id, "alc_run", args);
    for (int round = 0;; round++) {
        const char *status = str_field(out, "status");
        if (status && strcmp(status, "needs_response") == 0) {
            if (round >= MAX_ROUNDS) fail("more than %d host answers; runaway script?", MAX_ROUNDS);
            cJSON *cargs = answers_for(out);
            cJSON_Delete(out);
            out = tool_call(++id, "alc_continue", cargs);
            continue;
        }
        if (status && strcmp(status, "completed") == 0) {
            const cJSON *result = cJSON_GetObjectItemCaseSensitive(out, "result");
            const cJSON *ok = cJSON_IsObject(result) ? cJSON_GetObjectItemCaseSensitive(result, "ok") : NULL;
            if (!cJSON_IsTrue(ok)) describe_failure(out);
            break;
        }
        describe_failure(out);
    }
    cJSON_Delete(out);

    alc_proc_close_stdin(g_proc);
    for (;;) { // drain whatever is left until EOF
        int st;
        char *raw = alc_proc_recv(g_proc, EXIT_MS, &st);
        free(raw);
        if (st != ALC_PROC_LINE) break;
    }
    int es = -1;
    int r = alc_proc_wait(g_proc, EXIT_MS, &es);
    if (r != 0) fail("server did not exit within %d ms of stdin EOF", EXIT_MS);
    if (es != 0) fail("server exit status %d after stdin EOF", es);
}

// Guards against a silently empty parameter list (wrong directory, no scripts).
Test(lua_scripts, script_directory_has_scripts) {
    const char *dir = getenv("ALC_LUA_TESTS_DIR");
    cr_assert(dir && *dir, "ALC_LUA_TESTS_DIR must name the tests/lua directory");
    struct dirent **ents = NULL;
    int n = list_scripts(dir, &ents);
    cr_assert_geq(n, 0, "cannot list %s: %s", dir, strerror(errno));
    for (int i = 0; i < n; i++) free(ents[i]);
    free(ents);
    cr_assert_geq(n, 10, "expected the prelude and Layer 0 scripts in %s, found %d", dir, n);
}
