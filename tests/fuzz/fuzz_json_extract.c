/*
 * fuzz_json_extract.c — libFuzzer harness for the path an LLM answer takes into a strategy:
 * alc.json_decode (C, json_conv.c) and the prelude's alc.json_extract, alc.parse_score and
 * alc.parse_number (Lua, prelude.lua), in a session-like Lua state set up by alc_lua_setup
 * (sandbox, bridge, prelude) with a host whose callbacks do nothing. Built by scripts/fuzz with
 * clang; not part of the Meson build.
 *
 * The input is the answer text. Oracle: no sanitizer report, no Lua error escaping the pcall
 * around each call except the documented ones (json_decode raises on bad JSON), and a table
 * returned by json_extract must encode with alc.json_encode and decode back to the same
 * encoding. The state's memory is capped by its allocator (64 MiB) so a pathological input is a
 * Lua memory error, not an out-of-memory kill of the fuzzer.
 *
 * Threads: one lua_State, used only on libFuzzer's thread.
 */
#include "alc/config.h"
#include "alc/error.h"
#include "alc/lua_host.h"
#include "alc/lua_runtime.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *g_L;
static alc_config g_cfg;
static size_t g_used;
static const size_t g_limit = (size_t)64 << 20;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        g_used -= osize;
        free(ptr);
        return NULL;
    }
    if (nsize > osize && g_used + (nsize - osize) > g_limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) g_used = g_used - osize + nsize;
    return p;
}

/* Host callbacks: nothing is ever asked from this harness's scripts. */
static int h_ask(void *ud, alc_query *q, size_t n, alc_lua_answers *out) {
    (void)ud;
    (void)out;
    alc_queries_free(q, n);
    return ALC_E_CANCELLED;
}
static bool h_budget_ok(void *ud, char *msg, size_t len) { (void)ud; (void)msg; (void)len; return true; }
static bool h_budget_remaining(void *ud, long long *a, long long *b, long long *c) {
    (void)ud; (void)a; (void)b; (void)c;
    return false;
}
static void h_progress(void *ud, long long a, long long b, const char *m) { (void)ud; (void)a; (void)b; (void)m; }
static void h_log(void *ud, const char *l, const char *s, const char *m, size_t n) {
    (void)ud; (void)l; (void)s; (void)m; (void)n;
}
static void h_stats_record(void *ud, const char *k, const char *v) { (void)ud; (void)k; (void)v; }
static char *h_stats_get(void *ud, const char *k) { (void)ud; (void)k; return NULL; }
static long long h_llm_calls(void *ud) { (void)ud; return 0; }
static int h_fork(void *ud, const char *const *names, size_t n, const char *ctx, bool abort_on_error, char **out,
                  char *err, size_t errlen) {
    (void)ud; (void)names; (void)n; (void)ctx; (void)abort_on_error; (void)out;
    snprintf(err, errlen, "no fork in the fuzzer");
    return ALC_E_INVAL;
}
static bool h_cancelled(void *ud) { (void)ud; return false; }

static const char checker[] =
    "local s = ...\n"
    "pcall(alc.json_decode, s)\n"
    "local ok, t = pcall(alc.json_extract, s)\n"
    "if not ok then\n"
    "  if tostring(t):find('not enough memory', 1, true) then return end\n"
    "  error('json_extract raised: ' .. tostring(t), 0)\n"
    "end\n"
    "if t ~= nil then\n"
    "  if type(t) ~= 'table' then error('json_extract returned a ' .. type(t), 0) end\n"
    "  local e1 = alc.json_encode(t)\n"
    "  local e2 = alc.json_encode(alc.json_decode(e1))\n"
    "  if e1 ~= e2 then error('unstable encoding: ' .. e1 .. ' vs ' .. e2, 0) end\n"
    "end\n"
    "local ok2, v = pcall(alc.parse_score, s)\n"
    "if not ok2 then error('parse_score raised: ' .. tostring(v), 0) end\n"
    "local ok3, w = pcall(alc.parse_number, s)\n"
    "if not ok3 then error('parse_number raised: ' .. tostring(w), 0) end\n";

static void setup(void) {
    const char *base = getenv("TMPDIR");
    static char home[256];
    snprintf(home, sizeof home, "%s/alc-fuzz-extract", base && *base ? base : "/tmp");
    setenv("ALC_HOME", home, 1);
    char err[512];
    if (alc_config_load(&g_cfg, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "fuzz_json_extract: config: %s\n", err);
        abort();
    }
    g_L = lua_newstate(capped_alloc, NULL);
    if (!g_L) abort();
    static const alc_lua_host host = {
        .ud = NULL, .ask = h_ask, .budget_ok = h_budget_ok, .budget_remaining = h_budget_remaining,
        .progress = h_progress, .log = h_log, .stats_record = h_stats_record, .stats_get = h_stats_get,
        .llm_calls = h_llm_calls, .fork = h_fork, .cancelled = h_cancelled, .state_root = "/nonexistent/state",
        .state_ns = "default",
    };
    alc_lua_env env = {.cfg = &g_cfg, .project_root = NULL, .ctx = NULL};
    if (alc_lua_setup(g_L, &host, &env, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "fuzz_json_extract: setup: %s\n", err);
        abort();
    }
    if (luaL_loadbufferx(g_L, checker, sizeof checker - 1, "=checker", "t") != LUA_OK) abort();
    lua_setfield(g_L, LUA_REGISTRYINDEX, "fuzz.checker");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_L) setup();
    lua_getfield(g_L, LUA_REGISTRYINDEX, "fuzz.checker");
    lua_pushlstring(g_L, (const char *)data, size);
    if (lua_pcall(g_L, 1, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(g_L, -1);
        if (!m || !strstr(m, "not enough memory")) {
            fprintf(stderr, "fuzz_json_extract: %s\n", m ? m : "(non-string error)");
            abort();
        }
    }
    lua_settop(g_L, 0);
    static unsigned runs;
    if (++runs % 256 == 0) lua_gc(g_L, LUA_GCCOLLECT);
    return 0;
}
