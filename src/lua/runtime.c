/*
 * runtime.c — builds a session's Lua environment (see lua_runtime.h): library profile,
 * sandbox, alc/ctx globals, print redirection, the package searcher and the prelude.
 *
 * Runs on the session thread that owns L. All Lua work happens inside lua_pcall.
 */
#include "alc/lua_runtime.h"

#include "alc/error.h"
#include "alc/json_conv.h"
#include "alc/lua_libs.h"
#include "alc/project.h"

#include "boot_lua.h"
#include "prelude_lua.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define HOST_KEY "alc.session"

const alc_lua_host *alc_lua_host_of(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);               // host
    const alc_lua_host *h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!h) luaL_error(L, "alc: no session attached to this Lua state");
    return h;
}

/* print(...): tab-joined tostring of each argument, to the session log. */
static int l_print(lua_State *L) {
    const alc_lua_host *h = alc_lua_host_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);                               // ... <buf> s
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);                                          // ... line
    size_t len;
    const char *line = lua_tolstring(L, -1, &len);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    h->log(h->ud, "info", "alc.lua.print", line, len);
    return 0;
}

/* ---- require: package roots --------------------------------------------------------- */

static bool valid_module_name(const char *name, size_t len) {
    if (len == 0 || len > 200) return false;
    if (name[0] == '.' || name[len - 1] == '.') return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c == '\\' || c == '\0') return false;
        if (c == '.' && i + 1 < len && name[i + 1] == '.') return false;
        if (!(c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Loads path as module name's chunk and returns 2 (loader, path), or raises. With
 * ALC_PKG_STRICT (upvalue 3) the file's real path must lie inside root: a symlink that leads
 * out of the package root is refused. */
static int load_module(lua_State *L, const char *name, const char *path, const char *root) {
    if (lua_toboolean(L, lua_upvalueindex(3)) && !alc_project_path_inside(path, root))
        return luaL_error(L, "package '%s': %s resolves to a file outside its root %s (refused because ALC_PKG_STRICT is set)",
                          name, path, root);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return luaL_error(L, "error loading package '%s' from %s:\n\t%s", name, path, lua_tostring(L, -1));
    lua_pushstring(L, path);                                      // ... loader path
    return 2;
}

/* package.searchers entry. Upvalues: 1 = array of root dirs, 2 = variant packages
 * {NAME = DIR} from alc.local.toml, 3 = strict flag. */
static int l_searcher(lua_State *L) {
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    if (!valid_module_name(name, len)) {
        lua_pushfstring(L, "\n\tinvalid package name '%s' (allowed: letters, digits, '_', '-', '.' between parts)", name);
        return 1;
    }
    const char *rel = luaL_gsub(L, name, ".", "/");                // name rel
    /* a variant package: NAME → DIR/init.lua, NAME.a.b → DIR/a/b.lua or DIR/a/b/init.lua */
    size_t head = strcspn(name, ".");
    bool variant_miss = false;
    lua_pushlstring(L, name, head);                               // name rel head
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TSTRING) {      // name rel dir
        const char *dir = lua_tostring(L, -1);
        const char *sub = rel + head;                             // "" or "/a/b"
        for (int form = 0; form < (sub[0] ? 2 : 1); form++) {
            const char *path = sub[0] ? lua_pushfstring(L, form == 0 ? "%s%s.lua" : "%s%s/init.lua", dir, sub)
                                      : lua_pushfstring(L, "%s/init.lua", dir);
            if (is_file(path)) return load_module(L, name, path, dir);
            lua_pop(L, 1);
        }
        lua_pushfstring(L, "\n\tno file for '%s' in its variant directory '%s' (alc.local.toml)", name, dir);
        lua_remove(L, -2);                                        // name rel msg
        variant_miss = true;
    } else {
        lua_pop(L, 1);                                            // name rel
    }
    luaL_Buffer tried;
    luaL_buffinit(L, &tried);                                     // name rel [msg] <buf>
    if (variant_miss) {
        lua_pushvalue(L, 3);
        luaL_addvalue(&tried);
    }
    lua_Integer n = luaL_len(L, lua_upvalueindex(1));
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, lua_upvalueindex(1), i);                   // ... root
        const char *root = lua_tostring(L, -1);
        for (int form = 0; form < 2; form++) {
            const char *path = lua_pushfstring(L, form == 0 ? "%s/%s.lua" : "%s/%s/init.lua", root, rel);
            if (is_file(path)) return load_module(L, name, path, root);
            lua_pop(L, 1);                                        // ... root
        }
        lua_pushfstring(L, "\n\tno file '%s/%s.lua' or '%s/%s/init.lua'", root, rel, root, rel);
        lua_remove(L, -2);                                        // ... msg
        luaL_addvalue(&tried);
    }
    luaL_pushresult(&tried);
    return 1;
}

/* __gc of the box holding the project's layers during install_searcher. */
static int project_box_gc(lua_State *L) {
    alc_project **box = lua_touserdata(L, 1);
    if (box && *box) {
        alc_project_free(*box);
        *box = NULL;
    }
    return 0;
}

static void install_searcher(lua_State *L, const alc_lua_env *env) {
    const alc_project *proj = NULL;
    if (env->project_root) {
        /* the project's layers (alc.local.toml, alc.lock, packages/) are read into C memory
         * owned by a userdata, so a raising push below cannot leak them */
        alc_project **box = lua_newuserdatauv(L, sizeof *box, 0);  // box
        *box = NULL;
        lua_createtable(L, 0, 1);                                 // box mt
        lua_pushcfunction(L, project_box_gc);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);                                  // box
        char err[640];
        if (alc_project_load(env->project_root, box, err, sizeof err) != ALC_OK) luaL_error(L, "%s", err);
        proj = *box;
        const alc_lua_host *h = alc_lua_host_of(L);
        for (size_t i = 0; i < proj->n_warnings && h->log; i++)
            h->log(h->ud, "warn", "alc.require", proj->warnings[i], strlen(proj->warnings[i]));
    }
    lua_getglobal(L, "package");                                  // [box] package
    lua_getfield(L, -1, "searchers");                             // [box] package searchers
    lua_newtable(L);                                              // [box] package searchers roots
    int k = 1;
    /* project roots first (alc.local.toml dirs, alc.lock path entries, <project>/packages) */
    for (size_t i = 0; proj && i < proj->n_roots; i++) {
        lua_pushstring(L, proj->roots[i]);
        lua_rawseti(L, -2, k++);
    }
    for (size_t i = 0; i < env->cfg->n_package_paths; i++) {
        lua_pushstring(L, env->cfg->package_paths[i]);
        lua_rawseti(L, -2, k++);
    }
    lua_newtable(L);                                              // ... roots variants
    for (size_t i = 0; proj && i < proj->n_variants; i++) {
        lua_pushstring(L, proj->variants[i].dir);
        lua_setfield(L, -2, proj->variants[i].name);
    }
    const char *strict = getenv("ALC_PKG_STRICT");
    lua_pushboolean(L, strict && (strcmp(strict, "1") == 0 || strcasecmp(strict, "true") == 0));
    lua_pushcclosure(L, l_searcher, 3);                           // [box] package searchers fn
    /* keep the preload searcher (1), put ours second, drop the C and path searchers unless
     * the sandbox is off */
    if (env->cfg->sandbox == ALC_SANDBOX_OFF) {
        lua_Integer n = luaL_len(L, -2);
        for (lua_Integer i = n; i >= 2; i--) { lua_rawgeti(L, -2, i); lua_rawseti(L, -3, i + 1); }
        lua_rawseti(L, -2, 2);
    } else {
        lua_rawseti(L, -2, 2);
        lua_pushnil(L); lua_rawseti(L, -2, 5);
        lua_pushnil(L); lua_rawseti(L, -2, 4);
        lua_pushnil(L); lua_rawseti(L, -2, 3);
    }
    lua_pop(L, proj ? 3 : 2);                                     // (the box is collected later)
}

/* ---- sandbox ------------------------------------------------------------------------ */

static int l_load_text_only(lua_State *L) {
    /* load(chunk, chunkname, mode, env) with mode forced to "t": no binary chunks */
    int n = lua_gettop(L);
    if (n >= 3 && !lua_isnil(L, 3)) {
        const char *mode = luaL_checkstring(L, 3);
        if (strchr(mode, 'b')) return luaL_error(L, "load: binary chunks are disabled in the alc sandbox");
    }
    lua_pushvalue(L, lua_upvalueindex(1));                        // ... load
    lua_pushvalue(L, 1);
    if (n >= 2) lua_pushvalue(L, 2); else lua_pushnil(L);
    lua_pushliteral(L, "t");
    int nargs = 3;
    if (n >= 4) { lua_pushvalue(L, 4); nargs = 4; }
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L) - n;
}

static void apply_sandbox(lua_State *L, alc_sandbox_mode mode) {
    if (mode == ALC_SANDBOX_OFF) return;
    lua_getglobal(L, "os");                                       // os
    static const char *const os_gone[] = {"execute", "exit", "remove", "rename", "tmpname", "setlocale", NULL};
    for (int i = 0; os_gone[i]; i++) { lua_pushnil(L); lua_setfield(L, -2, os_gone[i]); }
    lua_pop(L, 1);
    lua_getglobal(L, "io");                                       // io
    static const char *const io_gone[] = {"popen", "tmpfile", NULL};
    for (int i = 0; io_gone[i]; i++) { lua_pushnil(L); lua_setfield(L, -2, io_gone[i]); }
    lua_pop(L, 1);
    lua_getglobal(L, "package");                                  // package
    lua_pushnil(L); lua_setfield(L, -2, "loadlib");
    lua_pushstring(L, ""); lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_getglobal(L, "string");                                   // string
    lua_pushnil(L); lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_getglobal(L, "load");                                     // load
    lua_pushcclosure(L, l_load_text_only, 1);
    lua_setglobal(L, "load");
    /* loadfile / dofile: text only as well (boot.lua) */
}

/* ---- setup -------------------------------------------------------------------------- */

/* ---- the prelude, loaded group by group ------------------------------------------------ */

/*
 * The prelude is embedded as groups (scripts/embed_bytecode.c): `eager` runs at set-up; any
 * other group runs the first time a script reads one of its alc fields, through alc's
 * __index. Memory and set-up time are then paid only for what a script uses (most strategies
 * use two or three of the groups). The groups run with _ENV = a copy of the globals taken at
 * set-up (falling back to the live globals for anything else), so a script that replaces
 * `string` or `type` before its first alc.fmt call gets the same alc.fmt as one that did
 * not. A field the script assigned before its group loaded keeps the script's value.
 */
#define PRELUDE_ENV_KEY "alc.prelude_env"
#define PRELUDE_LOADED_KEY "alc.prelude_loaded"

static int field_cmp(const void *key, const void *elem) {
    return strcmp(key, *(const char *const *)elem); /* the entry's first member is its name */
}

static int prelude_group_of(const char *name) {
    const void *hit = bsearch(name, alc_prelude_lua_fields, alc_prelude_lua_n_fields, sizeof alc_prelude_lua_fields[0], field_cmp);
    return hit ? ((const alc_embedded_field *)hit)->group : -1;
}

/* Runs group g (raises on failure). Leaves the stack as it found it. */
/* Runs group g in protected mode. Returns the lua_pcall status; on failure the error is on
 * the stack top. */
static int run_prelude_group(lua_State *L, size_t g) {
    int st = luaL_loadbufferx(L, (const char *)alc_prelude_lua_groups[g].code, alc_prelude_lua_groups[g].len, "=prelude", "b");
    if (st != LUA_OK) return st;
    lua_getfield(L, LUA_REGISTRYINDEX, PRELUDE_ENV_KEY);          // chunk env
    lua_setupvalue(L, -2, 1);                                     // chunk (its _ENV is env)
    return lua_pcall(L, 0, 0, 0);
}

static lua_Integer loaded_bits(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, PRELUDE_LOADED_KEY);
    lua_Integer loaded = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return loaded;
}

static void set_loaded_bits(lua_State *L, lua_Integer bits) {
    lua_pushinteger(L, bits);
    lua_setfield(L, LUA_REGISTRYINDEX, PRELUDE_LOADED_KEY);
}

/* Loads group g into the alc table at index t unless it was loaded before. */
static void ensure_prelude_group(lua_State *L, int t, size_t g) {
    t = lua_absindex(L, t);
    lua_Integer loaded = loaded_bits(L), bit = (lua_Integer)1 << g;
    if (loaded & bit) return;
    /* the script's own values for this group's fields win over the prelude's */
    lua_newtable(L);                                              // saved
    for (size_t i = 0; i < alc_prelude_lua_n_fields; i++) {
        if ((size_t)alc_prelude_lua_fields[i].group != g) continue;
        lua_pushstring(L, alc_prelude_lua_fields[i].name);
        if (lua_rawget(L, t) == LUA_TNIL) { lua_pop(L, 1); continue; }
        lua_setfield(L, -2, alc_prelude_lua_fields[i].name);
    }
    set_loaded_bits(L, loaded | bit);                             /* mark first: no recursion */
    int st = run_prelude_group(L, g);                             // saved [err]
    if (st != LUA_OK) {
        /* out of memory, a stop, a C stack overflow...: not loaded, so a later read retries */
        set_loaded_bits(L, loaded_bits(L) & ~bit);
        lua_insert(L, -2);                                        // err saved
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {                                     // ... saved k v
        lua_pushvalue(L, -2);
        lua_insert(L, -2);                                        // ... saved k k v
        lua_rawset(L, t);                                         // ... saved k
    }
    lua_pop(L, 1);                                                // [err]
    if (st != LUA_OK) lua_error(L);
}

/* alc's __index(t, k): a prelude field not loaded yet. */
/* alc.math (~50 C functions) is created on first use too, like a prelude group: a bit in
 * PRELUDE_LOADED_KEY above the prelude's groups says it was. */
#define MATH_LOADED_BIT ((lua_Integer)1 << 62)

static int l_open_math(lua_State *L) { /* (alc) */
    alc_lua_open_math(L);
    return 0;
}

static void ensure_math(lua_State *L, int t) {
    t = lua_absindex(L, t);
    lua_Integer loaded = loaded_bits(L);
    if (loaded & MATH_LOADED_BIT) return;
    set_loaded_bits(L, loaded | MATH_LOADED_BIT);
    lua_pushliteral(L, "math");
    if (lua_rawget(L, t) != LUA_TNIL) { lua_pop(L, 1); return; } /* the script set its own */
    lua_pop(L, 1);
    lua_pushcfunction(L, l_open_math);
    lua_pushvalue(L, t);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {                        /* not built: a later read retries */
        set_loaded_bits(L, loaded_bits(L) & ~MATH_LOADED_BIT);
        lua_error(L);
    }
}

static int l_alc_index(lua_State *L) {
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "math") == 0) {
        ensure_math(L, 1);
    } else {
        int g = prelude_group_of(k);
        if (g < 0) return 0;
        ensure_prelude_group(L, 1, (size_t)g);
    }
    lua_settop(L, 2);
    lua_rawget(L, 1);
    return 1;
}

/* alc's __pairs(t): every field, loaded ones and lazy ones alike. */
static int l_alc_pairs(lua_State *L) {
    for (size_t g = 0; g < alc_prelude_lua_n_groups; g++) ensure_prelude_group(L, 1, g);
    ensure_math(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, PRELUDE_ENV_KEY);
    lua_pushliteral(L, "next");
    lua_rawget(L, -2);                                            /* the original next, not the script's */
    lua_remove(L, -2);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Runs the eager group and gives alc (on the stack top) its lazy-loading metatable. */
static void open_prelude(lua_State *L) {
    int alc = lua_gettop(L);
    /* the globals as the prelude sees them */
    lua_newtable(L);                                              // alc env
    lua_pushglobaltable(L);                                       // alc env _G
    lua_pushnil(L);
    while (lua_next(L, -2)) {                                     // alc env _G k v
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);                                        // alc env _G k
    }
    lua_createtable(L, 0, 2);                                     // alc env _G mt
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -3);                                      // alc env _G
    lua_pop(L, 1);                                                // alc env
    lua_pushliteral(L, "_ALC_NULL");                              /* the sentinel as set up, for the prelude */
    lua_pushliteral(L, "null");
    lua_rawget(L, alc);
    lua_rawset(L, -3);                                            /* raw: env's __newindex is _G */
    lua_setfield(L, LUA_REGISTRYINDEX, PRELUDE_ENV_KEY);          // alc
    lua_pushinteger(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, PRELUDE_LOADED_KEY);
    lua_createtable(L, 0, 3);                                     // alc mt
    lua_pushcfunction(L, l_alc_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_alc_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");                           /* getmetatable(alc) == false; cannot be replaced */
    lua_setmetatable(L, alc);                                     // alc
    for (size_t g = 0; g < alc_prelude_lua_n_groups; g++)
        if (strcmp(alc_prelude_lua_groups[g].name, "eager") == 0) ensure_prelude_group(L, alc, g);
}

/* ---- accounting allocator ------------------------------------------------------------ */

/* The lua_Alloc of every session state; see lua_runtime.h. */
void *alc_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    alc_lua_mem *m = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        m->used -= old;
        return NULL;
    }
    if (nsize > old && m->used - old + nsize > m->limit) return NULL; /* "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    m->used = m->used - old + nsize;
    if (m->used > m->peak) m->peak = m->used;
    return p;
}

/* ---- setup -------------------------------------------------------------------------- */

typedef struct setup_args {
    const alc_lua_host *host;    /* NULL: base part only */
    const alc_lua_env *env;      /* NULL: base part only */
    const alc_config *cfg;
    bool base, session;
} setup_args;

/* What depends on the server configuration only: libraries, sandbox, the alc table and the
 * prelude. A state prepared this far may be kept for a later session (warm_pool.c). */
static void setup_base(lua_State *L, const alc_config *cfg, const alc_lua_env *env) {
    luaL_openlibs(L);
    /* no debug library in a session: it can break every invariant of the sandbox */
    if (cfg->sandbox != ALC_SANDBOX_OFF) {
        lua_pushnil(L);
        lua_setglobal(L, "debug");
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_pushnil(L);
        lua_setfield(L, -2, "debug");
        lua_pop(L, 1);
    }
    alc_json_conv_open(L);
    alc_lua_open_interrupt(L);
    apply_sandbox(L, cfg->sandbox);
    if (luaL_loadbufferx(L, (const char *)alc_boot_lua, alc_boot_lua_len, "=boot", "b") != LUA_OK) lua_error(L);
    lua_pushstring(L, cfg->sandbox == ALC_SANDBOX_OFF ? "off" : cfg->sandbox == ALC_SANDBOX_STRICT ? "strict" : "default");
    lua_call(L, 1, 0);
    if (cfg->sandbox == ALC_SANDBOX_STRICT) alc_lua_sandbox_strict(L, env); /* needs the roots: never pooled */
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_newtable(L);                                              // alc
    alc_lua_open_bridge(L);
    alc_lua_open_text(L);
    /* alc.math: on first use (l_alc_index) */
    alc_lua_open_state(L);
    /* alc._dirs: absolute paths under ALC_HOME (alc.eval finds a scenario by name there) */
    lua_createtable(L, 0, 3);                                     // alc dirs
    static const char *const dir_names[] = {"state", "cards", "scenarios"};
    for (int i = 0; i < 3; i++) {
        lua_pushfstring(L, "%s/%s", cfg->home, dir_names[i]);
        lua_setfield(L, -2, dir_names[i]);
    }
    lua_setfield(L, -2, "_dirs");                                 // alc
    lua_pushvalue(L, -1);
    lua_setglobal(L, "alc");                                      // alc
    open_prelude(L);
    lua_pop(L, 1);
}

/* What belongs to one session: its host callbacks, require over its roots, its ctx. */
static void setup_session(lua_State *L, const alc_lua_host *host, const alc_lua_env *env) {
    alc_lua_host *h = lua_newuserdatauv(L, sizeof *h, 0);        // host
    *h = *host;
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);                 // (registry keeps it alive)
    install_searcher(L, env);
    if (env->ctx) alc_json_push_cjson(L, env->ctx); else lua_newtable(L);
    lua_setglobal(L, "ctx");
}

static int pmain_setup(lua_State *L) {
    setup_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (a->base) setup_base(L, a->cfg, a->env);
    if (a->session) setup_session(L, a->host, a->env);
    return 0;
}

static int run_setup(lua_State *L, setup_args *a, char *err, size_t errlen) {
    lua_pushcfunction(L, pmain_setup);
    lua_pushlightuserdata(L, a);
    int st = lua_pcall(L, 1, 0, 0);
    if (st != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "%s: %s", st == LUA_ERRMEM ? "not enough memory while preparing the session" : "session setup failed",
                 m ? m : "(no message)");
        lua_pop(L, 1);
        return st == LUA_ERRMEM ? ALC_E_NOMEM : ALC_E_INTERNAL;
    }
    return ALC_OK;
}

/* Prepares L; see lua_runtime.h. */
int alc_lua_setup(lua_State *L, const alc_lua_host *host, const alc_lua_env *env, char *err, size_t errlen) {
    setup_args a = {host, env, env->cfg, true, true};
    return run_setup(L, &a, err, errlen);
}

/* The configuration-only part; see lua_runtime.h. */
int alc_lua_setup_base(lua_State *L, const alc_config *cfg, char *err, size_t errlen) {
    if (cfg->sandbox == ALC_SANDBOX_STRICT) {
        snprintf(err, errlen, "a strict-sandbox state needs its session's roots");
        return ALC_E_INVAL;
    }
    setup_args a = {NULL, NULL, cfg, true, false};
    return run_setup(L, &a, err, errlen);
}

/* The per-session part, on a state from alc_lua_setup_base; see lua_runtime.h. */
int alc_lua_setup_session(lua_State *L, const alc_lua_host *host, const alc_lua_env *env, char *err, size_t errlen) {
    setup_args a = {host, env, env->cfg, false, true};
    return run_setup(L, &a, err, errlen);
}
