/*
 * sandbox_strict.c — ALC_SANDBOX=strict: on top of the default profile, file access from Lua
 * (io.open, io.lines, io.input, io.output, loadfile, dofile) is confined to the package roots,
 * the project root and ALC_HOME. A path is allowed when its real path (or, for a file that does
 * not exist yet, the real path of its directory) lies inside one of those roots, so "..",
 * symlinks and relative paths cannot escape.
 *
 * Runs on the thread that owns the lua_State, during setup and inside Lua calls.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "alc/lua_runtime.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ROOTS_KEY "alc.strict_roots"

/* True iff real path p is root itself or inside it. */
static bool inside(const char *p, const char *root) {
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Resolves path (or its parent directory when it does not exist) to a real path. */
static bool resolve(const char *path, char *out) {
    if (realpath(path, out)) return true;
    char dir[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof dir) return false;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    const char *base;
    if (!slash) { base = dir; if (!realpath(".", out)) return false; }
    else {
        *slash = '\0';
        base = slash + 1;
        if (!realpath(slash == dir ? "/" : dir, out)) return false;
    }
    if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0 || !*base) return false;
    size_t ol = strlen(out);
    if (ol + 1 + strlen(base) >= PATH_MAX) return false;
    if (ol > 1) out[ol++] = '/';
    strcpy(out + ol, base);
    return true;
}

/* Raises unless the path argument at idx is inside an allowed root. */
static void check_path(lua_State *L, int idx, const char *fn) {
    if (lua_type(L, idx) != LUA_TSTRING) return; /* file handles and nil (stdin) pass through */
    const char *path = lua_tostring(L, idx);
    char real[PATH_MAX];
    if (resolve(path, real)) {
        lua_getfield(L, LUA_REGISTRYINDEX, ROOTS_KEY);            // ... roots
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            bool ok = inside(real, lua_tostring(L, -1));
            lua_pop(L, 1);
            if (ok) { lua_pop(L, 1); return; }
        }
        lua_pop(L, 1);
    }
    luaL_error(L, "%s: access to '%s' is outside the allowed roots (ALC_SANDBOX=strict)", fn, path);
}

/* Wrapper: upvalue 1 = original function, upvalue 2 = its name. */
static int guarded(lua_State *L) {
    check_path(L, 1, lua_tostring(L, lua_upvalueindex(2)));
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static void wrap(lua_State *L, int table, const char *field, const char *label) {
    lua_getfield(L, table, field);                                 // ... fn
    if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return; }
    lua_pushstring(L, label);                                      // ... fn label
    lua_pushcclosure(L, guarded, 2);                               // ... wrapped
    lua_setfield(L, table, field);
}

/* Installs the strict file-access checks; see the file comment. */
void alc_lua_sandbox_strict(lua_State *L, const alc_lua_env *env) {
    lua_newtable(L);                                               // roots
    int k = 1;
    char real[PATH_MAX];
    if (realpath(env->cfg->home, real)) { lua_pushstring(L, real); lua_rawseti(L, -2, k++); }
    if (env->project_root && realpath(env->project_root, real)) { lua_pushstring(L, real); lua_rawseti(L, -2, k++); }
    for (size_t i = 0; i < env->cfg->n_package_paths; i++)
        if (realpath(env->cfg->package_paths[i], real)) { lua_pushstring(L, real); lua_rawseti(L, -2, k++); }
    lua_setfield(L, LUA_REGISTRYINDEX, ROOTS_KEY);
    lua_getglobal(L, "io");                                        // io
    int io = lua_gettop(L);
    wrap(L, io, "open", "io.open");
    wrap(L, io, "lines", "io.lines");
    wrap(L, io, "input", "io.input");
    wrap(L, io, "output", "io.output");
    lua_pop(L, 1);
    lua_pushglobaltable(L);                                        // _G
    int g = lua_gettop(L);
    wrap(L, g, "loadfile", "loadfile");
    wrap(L, g, "dofile", "dofile");
    lua_pop(L, 1);
}
