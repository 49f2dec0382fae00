/*
 * fuzz_json_conv.c — libFuzzer harness for the Lua <-> JSON converter (src/lua/json_conv.c), both
 * ways. Built by scripts/fuzz with clang; not part of the Meson build.
 *
 * The first input byte picks a mode:
 *   even: JSON text -> Lua. The rest of the input is decoded with alc_json_decode_push; when it
 *         decodes, the value is encoded (e1), e1 decoded and encoded again (e2), and e1 must
 *         equal e2 and parse as JSON with cJSON. The same text also goes through cJSON ->
 *         alc_json_push_cjson -> encode, which must not fail except for "nesting too deep".
 *   odd:  Lua -> JSON text. The rest is a little program that builds a Lua value (integers,
 *         floats including NaN/Inf/-0, strings with invalid UTF-8 and NUL, booleans, null, nil,
 *         tables with any keys, the array metatable, shared and cyclic references, functions,
 *         coroutines, userdata, metatables whose metamethods raise); the value is encoded, and
 *         when that succeeds e1 == encode(decode(e1)) must hold as above.
 * Every Lua call runs under lua_pcall; the encoder must never raise and never call a
 * metamethod.
 *
 * Threads: one lua_State, used only on libFuzzer's thread.
 */
#include "alc/error.h"
#include "alc/json_conv.h"

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *g_L;

static void die(const char *what, const char *a, size_t al, const char *b, size_t bl) {
    fprintf(stderr, "fuzz_json_conv: %s\n  e1 = %.*s\n  e2 = %.*s\n", what, (int)(al > 800 ? 800 : al), a ? a : "",
            (int)(bl > 800 ? 800 : bl), b ? b : "");
    abort();
}

static void no_warn(void *ud, const char *msg) {
    (void)ud;
    (void)msg;
}

/* Checks that the encoding e1 of some value is stable: decode + encode gives e1 again, and
 * cJSON accepts it. Runs inside a pcall (may raise on memory errors only). */
static void check_stable(lua_State *L, const char *e1, size_t l1) {
    cJSON *j = cJSON_ParseWithLength(e1, l1);
    if (!j) die("encoder output is not JSON for cJSON", e1, l1, NULL, 0);
    cJSON_Delete(j);
    char err[256];
    int top = lua_gettop(L);
    if (alc_json_decode_push(L, e1, l1, err, sizeof err) != ALC_OK) die(err, e1, l1, NULL, 0);
    char *e2 = NULL;
    size_t l2 = 0;
    if (alc_json_encode_lua(L, -1, &e2, &l2, no_warn, NULL, err, sizeof err) != ALC_OK) die(err, e1, l1, NULL, 0);
    if (l1 != l2 || memcmp(e1, e2, l1) != 0) die("encode(decode(e1)) != e1", e1, l1, e2, l2);
    free(e2);
    lua_settop(L, top);
}

static int open_conv(lua_State *L) {
    alc_json_conv_open(L);
    return 0;
}

static int erroring_mm(lua_State *L) { return luaL_error(L, "metamethod called by the encoder"); }

typedef struct prog {
    const uint8_t *p;
    size_t n;
} prog;

static int take(prog *g, void *out, size_t k) {
    if (g->n < k) return 0;
    memcpy(out, g->p, k);
    g->p += k;
    g->n -= k;
    return 1;
}

/* Builds a value from the program bytes; leaves one value on the stack. */
static void build(lua_State *L, prog *g) {
    int base = lua_gettop(L);
    uint8_t op;
    while (take(g, &op, 1) && lua_gettop(L) - base < 40) {
        int top = lua_gettop(L) - base;
        switch (op % 16) {
        case 0: { int64_t v = 0; take(g, &v, sizeof v); lua_pushinteger(L, (lua_Integer)v); break; }
        case 1: { double d = 0; take(g, &d, sizeof d); lua_pushnumber(L, d); break; }
        case 2: {
            uint8_t len = 0;
            take(g, &len, 1);
            if (len > g->n) len = (uint8_t)g->n;
            lua_pushlstring(L, (const char *)g->p, len);
            g->p += len;
            g->n -= len;
            break;
        }
        case 3: lua_pushboolean(L, op & 16); break;
        case 4: alc_json_push_null(L); break;
        case 5: lua_pushnil(L); break;
        case 6: lua_createtable(L, 0, 0); break;
        case 7:  // t[k] = v with t, k, v on top
            if (top >= 3 && lua_istable(L, -3) && !lua_isnil(L, -2) &&
                !(lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) != lua_tonumber(L, -2)))
                lua_rawset(L, -3);
            else if (top >= 1)
                lua_pop(L, 1);
            break;
        case 8:  // append v to t
            if (top >= 2 && lua_istable(L, -2)) lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            else if (top >= 1) lua_pop(L, 1);
            break;
        case 9: if (top >= 1 && lua_istable(L, -1)) alc_json_mark_array(L, -1); break;
        case 10: {  // duplicate an earlier value (shared references, cycles once stored)
            uint8_t i = 0;
            take(g, &i, 1);
            if (top >= 1) lua_pushvalue(L, base + 1 + i % top);
            break;
        }
        case 11: lua_pushcfunction(L, erroring_mm); break;
        case 12: lua_newthread(L); break;
        case 13: lua_newuserdatauv(L, 8, 0); break;
        case 14:  // a metatable whose metamethods raise: the encoder must use raw access
            if (top >= 1 && lua_istable(L, -1)) {
                lua_createtable(L, 0, 4);
                lua_pushcfunction(L, erroring_mm);
                lua_setfield(L, -2, "__index");
                lua_pushcfunction(L, erroring_mm);
                lua_setfield(L, -2, "__pairs");
                lua_pushcfunction(L, erroring_mm);
                lua_setfield(L, -2, "__len");
                lua_pushcfunction(L, erroring_mm);
                lua_setfield(L, -2, "__tostring");
                lua_setmetatable(L, -2);
            }
            break;
        case 15: if (top >= 1) lua_pop(L, 1); break;
        }
    }
    if (lua_gettop(L) == base) lua_pushnil(L);
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
}

static int run_one(lua_State *L) {
    const uint8_t *data = lua_touserdata(L, 1);
    size_t size = (size_t)lua_tointeger(L, 2);
    lua_settop(L, 0);
    char err[256];
    if ((data[0] & 1) == 0) {
        const char *text = (const char *)data + 1;
        size_t n = size - 1;
        if (alc_json_decode_push(L, text, n, err, sizeof err) == ALC_OK) {
            char *e1 = NULL;
            size_t l1 = 0;
            if (alc_json_encode_lua(L, -1, &e1, &l1, no_warn, NULL, err, sizeof err) != ALC_OK)
                die("a decoded value does not encode", err, strlen(err), text, n);
            lua_settop(L, 0);
            check_stable(L, e1, l1);
            free(e1);
        }
        lua_settop(L, 0);
        cJSON *j = cJSON_ParseWithLength(text, n);
        if (j) {
            alc_json_push_cjson(L, j);
            cJSON_Delete(j);
            char *e1 = NULL;
            size_t l1 = 0;
            if (alc_json_encode_lua(L, -1, &e1, &l1, no_warn, NULL, err, sizeof err) == ALC_OK) {
                lua_settop(L, 0);
                check_stable(L, e1, l1);
            } else if (!strstr(err, "deep") && !strstr(err, "after number or UTF-8 conversion")) {
                /* cJSON accepts invalid UTF-8, so two keys differing only in invalid bytes
                 * collide once repaired: a clear error is the expected answer there */
                die("a cJSON value does not encode", err, strlen(err), text, n);
            }
            free(e1);
        }
    } else {
        prog g = {data + 1, size - 1};
        build(L, &g);
        char *e1 = NULL;
        size_t l1 = 0;
        if (alc_json_encode_lua(L, -1, &e1, &l1, no_warn, NULL, err, sizeof err) == ALC_OK) {
            lua_settop(L, 0);
            check_stable(L, e1, l1);
        }
        free(e1);
    }
    lua_settop(L, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (!g_L) {
        g_L = luaL_newstate();
        if (!g_L) abort();
        luaL_openlibs(g_L);
        lua_pushcfunction(g_L, open_conv);
        if (lua_pcall(g_L, 0, 0, 0) != LUA_OK) abort();
    }
    lua_pushcfunction(g_L, run_one);
    lua_pushlightuserdata(g_L, (void *)data);
    lua_pushinteger(g_L, (lua_Integer)size);
    if (lua_pcall(g_L, 2, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(g_L, -1);
        if (!m || !strstr(m, "not enough memory")) {
            fprintf(stderr, "fuzz_json_conv: unexpected Lua error: %s\n", m ? m : "?");
            abort();
        }
    }
    lua_settop(g_L, 0);
    static unsigned runs;
    if (++runs % 1024 == 0) lua_gc(g_L, LUA_GCCOLLECT);
    return 0;
}
