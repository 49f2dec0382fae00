/*
 * bridge.c — Layer 0 of the alc standard library that talks to the session: alc.llm,
 * alc.llm_batch, alc.budget_remaining, alc.progress, alc.log, alc.time, alc.stats.*,
 * alc.json_encode / json_decode and alc.null.
 *
 * Runs on the session thread. Arguments are checked before any C allocation; answers from
 * the host are moved into a userdata whose __gc frees them, so a raising push cannot leak.
 */
#include "alc/error.h"
#include "alc/json_conv.h"
#include "alc/lua_runtime.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ANSWERS_MT "alc.answers"
#define DEFAULT_MAX_TOKENS 1024
#define MAX_TOKENS_LIMIT 1000000 /* opts.max_tokens must be an integer in 1..MAX_TOKENS_LIMIT */

static int answers_gc(lua_State *L) {
    alc_lua_answers *a = luaL_checkudata(L, 1, ANSWERS_MT);
    for (size_t i = 0; i < a->n; i++) free(a->texts[i]);
    free(a->texts);
    free(a->lens);
    free(a->errors);
    memset(a, 0, sizeof *a);
    return 0;
}

static alc_lua_answers *new_answers_box(lua_State *L) {
    alc_lua_answers *a = lua_newuserdatauv(L, sizeof *a, 0);      // ... box
    memset(a, 0, sizeof *a);
    if (luaL_newmetatable(L, ANSWERS_MT)) {
        lua_pushcfunction(L, answers_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return a;
}

/* Reads the llm options of the table at idx (or nil). Strings stay on the Lua stack. */
typedef struct llm_opts {
    const char *system;
    long long max_tokens;
    bool grounded, underspecified;
} llm_opts;

/* Raises "<what>max_tokens must be an integer from 1 to 1000000 (got ...)" unless the
 * max_tokens field of the table at idx is nil or such an integer (a float like 100.0 counts;
 * strings do not). Does nothing when idx is not a table. Call before any C allocation. */
static void check_max_tokens(lua_State *L, int idx, const char *what) {
    if (!lua_istable(L, idx)) return;
    lua_getfield(L, idx, "max_tokens");                           // ... mt
    int t = lua_type(L, -1);
    if (t != LUA_TNIL) {
        int isint = 0;
        lua_Integer mt = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
        if (!isint || mt < 1 || mt > MAX_TOKENS_LIMIT)
            luaL_error(L, "%smax_tokens must be an integer from 1 to %d (got %s)", what, MAX_TOKENS_LIMIT,
                       t == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
    }
    lua_pop(L, 1);                                                // ...
}

static void read_opts(lua_State *L, int idx, llm_opts *o) {
    o->system = NULL;
    o->max_tokens = DEFAULT_MAX_TOKENS;
    o->grounded = o->underspecified = false;
    if (!lua_istable(L, idx)) return;
    idx = lua_absindex(L, idx);
    lua_getfield(L, idx, "system");
    if (lua_type(L, -1) == LUA_TSTRING) o->system = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays referenced by the opts table */
    lua_getfield(L, idx, "max_tokens");
    int isnum = 0;
    lua_Integer mt = lua_tointegerx(L, -1, &isnum);
    if (isnum && mt > 0) o->max_tokens = (long long)mt; /* validated by check_max_tokens */
    lua_pop(L, 1);
    lua_getfield(L, idx, "grounded");
    o->grounded = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, idx, "underspecified");
    o->underspecified = lua_toboolean(L, -1);
    lua_pop(L, 1);
}

static bool fill_query(alc_query *q, int index, const char *prompt, size_t plen, const llm_opts *o) {
    char idbuf[32] = "q-", digits[16];
    int nd = 0; /* "q-<index>" without printf: once per LLM call */
    unsigned u = (unsigned)index;
    do { digits[nd++] = (char)('0' + u % 10); u /= 10; } while (u);
    for (int i = 0; i < nd; i++) idbuf[2 + i] = digits[nd - 1 - i];
    idbuf[2 + nd] = '\0';
    q->id = strdup(idbuf);
    q->prompt = malloc(plen + 1);
    q->system = o->system ? strdup(o->system) : NULL;
    if (!q->id || !q->prompt || (o->system && !q->system)) return false;
    memcpy(q->prompt, prompt, plen);
    q->prompt[plen] = '\0';
    q->prompt_len = plen;
    q->max_tokens = o->max_tokens;
    q->grounded = o->grounded;
    q->underspecified = o->underspecified;
    return true;
}

static void check_budget(lua_State *L, const alc_lua_host *h) {
    char msg[256];
    if (!h->budget_ok(h->ud, msg, sizeof msg)) luaL_error(L, "%s", msg);
    if (h->cancelled(h->ud)) {
        alc_lua_arm_stop_hook(L);
        luaL_error(L, "cancelled");
    }
}

/* Asks the host; on success leaves the answers box on the stack and returns it. */
static alc_lua_answers *ask(lua_State *L, const alc_lua_host *h, alc_query *q, size_t n, alc_lua_answers *box) {
    int rc = h->ask(h->ud, q, n, box); /* takes q */
    if (rc == ALC_E_CANCELLED) {
        alc_lua_arm_stop_hook(L);
        luaL_error(L, "cancelled");
    }
    if (rc == ALC_E_BUSY) luaL_error(L, "alc.llm: not available while this session is pausing (called from a finalizer?)");
    if (rc != ALC_OK) luaL_error(L, "alc.llm: %s", alc_err_message(rc));
    /* an LLM call that failed (e.g. a refused sampling request) raises; pcall can catch it */
    for (size_t i = 0; box->errors && i < box->n; i++)
        if (box->errors[i]) luaL_error(L, "alc.llm: %s", box->texts[i] ? box->texts[i] : "the LLM call failed");
    return box;
}

/* alc.llm(prompt, opts?) -> string */
static int l_llm(lua_State *L) {
    size_t plen;
    const char *prompt = luaL_checklstring(L, 1, &plen);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    const alc_lua_host *h = alc_lua_host_of(L);
    check_max_tokens(L, 2, "alc.llm: opts.");
    llm_opts o;
    read_opts(L, 2, &o);
    check_budget(L, h);
    alc_lua_answers *box = new_answers_box(L);                   // prompt opts box
    alc_query *q = calloc(1, sizeof *q);
    if (!q || !fill_query(q, 0, prompt, plen, &o)) {
        alc_queries_free(q, 1);
        return luaL_error(L, "alc.llm: out of memory");
    }
    ask(L, h, q, 1, box);
    lua_pushlstring(L, box->texts[0], box->lens[0]);              // prompt opts box answer
    return 1;
}

/* alc.llm_batch(items) -> { string, ... } */
static int l_llm_batch(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n <= 0) return luaL_error(L, "alc.llm_batch: empty items array");
    if (n > 100000) return luaL_error(L, "alc.llm_batch: too many items (%d, at most 100000)", (int)n);
    /* validate every item first (may raise; nothing allocated yet) */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);                                     // items item
        if (!lua_istable(L, -1)) return luaL_error(L, "alc.llm_batch: item %d must be a table", (int)i);
        lua_getfield(L, -1, "prompt");
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "alc.llm_batch: item %d needs a string 'prompt'", (int)i);
        lua_pop(L, 1);                                            // items item
        char what[64];
        snprintf(what, sizeof what, "alc.llm_batch: item %d: ", (int)i);
        check_max_tokens(L, -1, what);
        lua_pop(L, 1);                                            // items
    }
    const alc_lua_host *h = alc_lua_host_of(L);
    check_budget(L, h);
    alc_lua_answers *box = new_answers_box(L);                   // items box
    luaL_checkstack(L, 4, "alc.llm_batch");
    alc_query *q = calloc((size_t)n, sizeof *q);
    if (!q) return luaL_error(L, "alc.llm_batch: out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);                                     // items box item
        lua_getfield(L, -1, "prompt");                            // items box item prompt
        size_t plen;
        const char *p = lua_tolstring(L, -1, &plen);
        llm_opts o;
        read_opts(L, -2, &o);  /* cannot raise: plain field reads of a table */
        bool ok = fill_query(&q[i - 1], (int)(i - 1), p, plen, &o);
        lua_pop(L, 2);                                            // items box
        if (!ok) {
            alc_queries_free(q, (size_t)n);
            return luaL_error(L, "alc.llm_batch: out of memory");
        }
    }
    ask(L, h, q, (size_t)n, box);
    lua_createtable(L, (int)n, 0);                                // items box results
    for (size_t i = 0; i < box->n; i++) {
        lua_pushlstring(L, box->texts[i], box->lens[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* alc.budget_remaining() -> nil | {llm_calls, elapsed_ms, tokens} (alc.null where unset) */
static int l_budget_remaining(lua_State *L) {
    const alc_lua_host *h = alc_lua_host_of(L);
    long long c, ms, t;
    if (!h->budget_remaining(h->ud, &c, &ms, &t)) { lua_pushnil(L); return 1; }
    lua_createtable(L, 0, 3);
    const char *keys[3] = {"llm_calls", "elapsed_ms", "tokens"};
    long long vals[3] = {c, ms, t};
    for (int i = 0; i < 3; i++) {
        if (vals[i] < 0) alc_json_push_null(L); else lua_pushinteger(L, (lua_Integer)vals[i]);
        lua_setfield(L, -2, keys[i]);
    }
    return 1;
}

/* alc.progress(step, total, msg?) */
static int l_progress(lua_State *L) {
    lua_Integer step = luaL_checkinteger(L, 1);
    lua_Integer total = luaL_checkinteger(L, 2);
    const char *msg = luaL_optstring(L, 3, NULL);
    const alc_lua_host *h = alc_lua_host_of(L);
    h->progress(h->ud, (long long)step, (long long)total, msg);
    return 0;
}

/* alc.log(level, msg) */
static int l_log(lua_State *L) {
    const char *level = luaL_checkstring(L, 1);
    size_t len;
    const char *msg = luaL_tolstring(L, 2, &len);
    const alc_lua_host *h = alc_lua_host_of(L);
    h->log(h->ud, level, "alc.log", msg, len);
    return 0;
}

/* alc.time() -> Unix seconds as a float */
static int l_time(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* Calls the json warning hook: sends encoder warnings to the session log. */
static int l_json_warn(lua_State *L) {
    size_t len;
    const char *m = luaL_checklstring(L, 1, &len);
    const alc_lua_host *h = alc_lua_host_of(L);
    h->log(h->ud, "warn", "alc.json", m, len);
    return 0;
}

/* alc.stats.record(key, value) */
static int l_stats_record(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    const alc_lua_host *h = alc_lua_host_of(L);
    char *json = NULL;
    size_t len;
    char err[256];
    if (alc_json_encode_lua(L, 2, &json, &len, NULL, NULL, err, sizeof err) != ALC_OK) {
        free(json);
        return luaL_error(L, "alc.stats.record: %s", err);
    }
    h->stats_record(h->ud, key, json);
    free(json);
    return 0;
}

/* alc.stats.get(key) -> value | nil */
static int l_stats_get(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    const alc_lua_host *h = alc_lua_host_of(L);
    alc_lua_answers *box = new_answers_box(L);                   // key box
    box->texts = calloc(1, sizeof *box->texts);
    box->lens = calloc(1, sizeof *box->lens);
    if (!box->texts || !box->lens) return luaL_error(L, "alc.stats.get: out of memory");
    box->n = 1;
    box->texts[0] = h->stats_get(h->ud, key);
    if (!box->texts[0]) { lua_pushnil(L); return 1; }
    char err[200];
    if (alc_json_decode_push(L, box->texts[0], strlen(box->texts[0]), err, sizeof err) != ALC_OK)
        lua_pushnil(L);
    return 1;
}

static int l_stats_llm_calls(lua_State *L) {
    const alc_lua_host *h = alc_lua_host_of(L);
    lua_pushinteger(L, (lua_Integer)h->llm_calls(h->ud));
    return 1;
}

/* alc.fork(strategies, ctx?, opts?) -> { {strategy, ok, result|error}, ... } */
static int l_fork(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 3);                                             // strategies ctx|nil opts|nil
    lua_Integer n = luaL_len(L, 1);
    if (n <= 0) return luaL_error(L, "alc.fork: strategies must be a non-empty array");
    if (n > 64) return luaL_error(L, "alc.fork: at most 64 strategies, got %d", (int)n);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        size_t len;
        const char *name = lua_tolstring(L, -1, &len);
        bool ok = name && lua_type(L, -1) == LUA_TSTRING && len > 0 && len <= 128 && name[0] != '.' && name[len - 1] != '.';
        for (size_t k = 0; ok && k < len; k++) {
            char c = name[k];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                 (c == '.' && name[k + 1] != '.');
        }
        if (!ok) return luaL_error(L, "alc.fork: invalid strategy name '%s' (letters, digits, '_', '-', '.' between parts)",
                                   name ? name : luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    bool abort_on_error = false;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "on_error");
        const char *oe = lua_tostring(L, -1);
        /* "abort" is what the original checks; "fail" is what it documents: accept both */
        abort_on_error = oe && (strcmp(oe, "abort") == 0 || strcmp(oe, "fail") == 0);
        lua_pop(L, 1);
    }
    const alc_lua_host *h = alc_lua_host_of(L);
    check_budget(L, h);
    /* every C buffer lives in this box from here on, so raising calls cannot leak it */
    alc_lua_answers *box = new_answers_box(L);                   // strategies ctx opts box
    box->texts = calloc((size_t)n + 2, sizeof *box->texts);
    box->lens = calloc((size_t)n + 2, sizeof *box->lens);
    if (!box->texts || !box->lens) return luaL_error(L, "alc.fork: out of memory");
    box->n = (size_t)n + 2;
    char err[512];
    size_t len;
    if (lua_isnoneornil(L, 2)) box->texts[0] = strdup("{}");
    else if (alc_json_encode_lua(L, 2, &box->texts[0], &len, NULL, NULL, err, sizeof err) != ALC_OK)
        return luaL_error(L, "alc.fork: ctx cannot be copied: %s", err);
    if (!box->texts[0]) return luaL_error(L, "alc.fork: out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        box->texts[1 + i] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (!box->texts[1 + i]) return luaL_error(L, "alc.fork: out of memory");
    }
    int rc = h->fork(h->ud, (const char *const *)&box->texts[2], (size_t)n, box->texts[0], abort_on_error,
                     &box->texts[1], err, sizeof err);
    if (rc == ALC_E_CANCELLED) {
        alc_lua_arm_stop_hook(L);
        return luaL_error(L, "cancelled");
    }
    if (rc != ALC_OK) return luaL_error(L, "%s", err);
    if (alc_json_decode_push(L, box->texts[1], strlen(box->texts[1]), err, sizeof err) != ALC_OK)
        return luaL_error(L, "alc.fork: %s", err);
    return 1;
}

/* Registers Layer 0 into the table on top of the stack. */
void alc_lua_open_bridge(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"llm", l_llm}, {"llm_batch", l_llm_batch}, {"budget_remaining", l_budget_remaining},
        {"progress", l_progress}, {"log", l_log}, {"time", l_time},
        {"json_encode", alc_lua_json_encode}, {"json_decode", alc_lua_json_decode}, {"fork", l_fork},
        {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);                                     // alc
    alc_json_push_null(L);
    lua_setfield(L, -2, "null");
    lua_newtable(L);                                              // alc stats
    static const luaL_Reg stats[] = {
        {"record", l_stats_record}, {"get", l_stats_get}, {"llm_calls", l_stats_llm_calls}, {NULL, NULL},
    };
    luaL_setfuncs(L, stats, 0);
    lua_setfield(L, -2, "stats");                                 // alc
    lua_pushcfunction(L, l_json_warn);
    lua_setfield(L, LUA_REGISTRYINDEX, "alc.json_warn");
}
