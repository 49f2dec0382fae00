/*
 * lib_state.c — alc.state: persistent key/value storage per namespace (ctx._ns or
 * "default"), backed by src/store/state.c (atomic writes, flock across processes).
 *
 * Runs on the session thread. Values cross as JSON text; every C buffer is freed before a
 * call that can raise, or lives in a userdata with __gc.
 */
#include "alc/error.h"
#include "alc/json_conv.h"
#include "alc/lua_runtime.h"
#include "alc/state.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define BOX_MT "alc.state.box"

typedef struct state_box {
    cJSON *json;
} state_box;

static int box_gc(lua_State *L) {
    state_box *b = luaL_checkudata(L, 1, BOX_MT);
    cJSON_Delete(b->json);
    b->json = NULL;
    return 0;
}

static state_box *new_box(lua_State *L) {
    state_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->json = NULL;
    if (luaL_newmetatable(L, BOX_MT)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

/* Converts the Lua value at idx to a cJSON tree held in a box on the stack. */
static cJSON *value_arg(lua_State *L, int idx, const char *fn) {
    idx = lua_absindex(L, idx);
    state_box *b = new_box(L);
    char *text = NULL;
    size_t len;
    char err[256];
    if (alc_json_encode_lua(L, idx, &text, &len, NULL, NULL, err, sizeof err) != ALC_OK) {
        free(text);
        luaL_error(L, "alc.state.%s: %s", fn, err);
    }
    b->json = cJSON_ParseWithLength(text, len);
    free(text);
    if (!b->json) luaL_error(L, "alc.state.%s: value cannot be stored", fn);
    return b->json;
}

static const alc_lua_host *host(lua_State *L) { return alc_lua_host_of(L); }

static int raise_store(lua_State *L, const char *fn, const char *err) {
    return luaL_error(L, "alc.state.%s: %s", fn, err);
}

static int l_get(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    lua_settop(L, 2);                                             // key default|nil
    const alc_lua_host *h = host(L);
    state_box *b = new_box(L);                                    // key default box
    char err[512];
    int rc = alc_state_get(h->state_root, h->state_ns, key, &b->json, err, sizeof err);
    if (rc != ALC_OK) return raise_store(L, "get", err);
    if (!b->json) { lua_pushvalue(L, 2); return 1; }              /* default or nil */
    alc_json_push_cjson(L, b->json);
    return 1;
}

static int l_set(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    const alc_lua_host *h = host(L);
    cJSON *v = value_arg(L, 2, "set");
    char err[512];
    if (alc_state_set(h->state_root, h->state_ns, key, v, err, sizeof err) != ALC_OK) return raise_store(L, "set", err);
    return 0;
}

static int l_set_nx(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    const alc_lua_host *h = host(L);
    cJSON *v = value_arg(L, 2, "set_nx");
    char err[512];
    bool written = false;
    if (alc_state_set_nx(h->state_root, h->state_ns, key, v, &written, err, sizeof err) != ALC_OK)
        return raise_store(L, "set_nx", err);
    lua_pushboolean(L, written);
    return 1;
}

static int l_keys(lua_State *L) {
    const alc_lua_host *h = host(L);
    state_box *b = new_box(L);
    char err[512];
    if (alc_state_keys(h->state_root, h->state_ns, &b->json, err, sizeof err) != ALC_OK) return raise_store(L, "keys", err);
    int n = cJSON_GetArraySize(b->json);
    lua_createtable(L, n, 0);
    int i = 1;
    for (const cJSON *c = b->json ? b->json->child : NULL; c; c = c->next) {
        lua_pushstring(L, c->valuestring);
        lua_rawseti(L, -2, i++);
    }
    alc_json_mark_array(L, -1);
    return 1;
}

static int l_delete(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    const alc_lua_host *h = host(L);
    char err[512];
    bool existed = false;
    if (alc_state_delete(h->state_root, h->state_ns, key, &existed, err, sizeof err) != ALC_OK)
        return raise_store(L, "delete", err);
    lua_pushboolean(L, existed);
    return 1;
}

static int l_has(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    const alc_lua_host *h = host(L);
    char err[512];
    bool has = false;
    if (alc_state_has(h->state_root, h->state_ns, key, &has, err, sizeof err) != ALC_OK) return raise_store(L, "has", err);
    lua_pushboolean(L, has);
    return 1;
}

static int l_incr(lua_State *L) {
    const char *key = luaL_checkstring(L, 1);
    lua_Number delta = luaL_optnumber(L, 2, 1);
    lua_Number dflt = luaL_optnumber(L, 3, 0);
    const alc_lua_host *h = host(L);
    char err[512];
    double out = 0;
    if (alc_state_incr(h->state_root, h->state_ns, key, delta, dflt, &out, err, sizeof err) != ALC_OK)
        return raise_store(L, "incr", err);
    lua_pushnumber(L, out);
    return 1;
}

/* Registers alc.state into the table on top of the stack. */
void alc_lua_open_state(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"get", l_get}, {"set", l_set}, {"set_nx", l_set_nx}, {"keys", l_keys},
        {"delete", l_delete}, {"has", l_has}, {"incr", l_incr}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "state");
}
