/*
 * resources.c — MCP resources: read-only material served as alc:// URIs.
 *   alc://types/alc.d.lua             the LuaCATS stubs of the alc API
 *   alc://packages/{name}/init.lua    an installed package's source
 *   alc://packages/{name}/meta        its M.meta as JSON, read WITHOUT running the package
 *   alc://logs/{session_id}           a session transcript
 * Malformed URIs (bad scheme or shape, invalid names, traversal) are -32602; well-formed URIs
 * naming nothing are -32002 (resource not found).
 *
 * Runs on the reader thread. Reading meta compiles only the `meta = { ... }` table
 * constructor found in the source text, in an empty environment with an instruction limit.
 */
#include "server_internal.h"

#include "alc/error.h"
#include "alc/session.h"
#include "alc/fsutil.h"
#include "alc/json_conv.h"
#include "alc/pkg.h"
#include "alc/transcript.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_RESOURCE_BYTES (4u << 20) /* well below the 10 MiB line limit of common clients */

static void reply(alc_server *s, const cJSON *id, char *result_json) {
    size_t len;
    char *line = result_json ? alc_rpc_result_line(id, result_json, &len) : NULL;
    if (!line) line = alc_rpc_error_line(id, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory", NULL, &len);
    alc__server_write(s, line, len);
    free(result_json);
}

static void reply_error(alc_server *s, const cJSON *id, int code, const char *msg, const char *uri) {
    alc_jbuf d;
    alc_jbuf_init(&d);
    alc_jbuf_puts(&d, "{\"uri\":");
    alc_jbuf_json_str(&d, uri ? uri : "", uri ? strlen(uri) : 0);
    alc_jbuf_puts(&d, "}");
    char *data = alc_jbuf_take(&d, NULL);
    size_t len;
    char *line = alc_rpc_error_line(id, code, msg, data, &len);
    free(data);
    alc__server_write(s, line, len);
}

/* First package root holding <name>/init.lua; fills path. */
static bool find_package(const alc_config *cfg, const char *name, char *path, size_t len) {
    struct stat st;
    for (size_t i = 0; i < cfg->n_package_paths; i++) {
        snprintf(path, len, "%s/%s/init.lua", cfg->package_paths[i], name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return true;
    }
    return false;
}

/* The stubs: $ALC_HOME/types/alc.d.lua, else next to the bundled collection. */
static bool find_types(const alc_config *cfg, char *path, size_t len) {
    struct stat st;
    snprintf(path, len, "%s/types/alc.d.lua", cfg->home);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return true;
    char *dir = NULL, err[256];
    if (alc_pkg_bundled_dir(&dir, err, sizeof err) != ALC_OK) return false;
    snprintf(path, len, "%s/../types/alc.d.lua", dir);
    free(dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- meta without running the package ---------------------------------------------- */

/* Skips a Lua string, long bracket or comment starting at i; returns the index after it,
 * or i when nothing is to be skipped. */
static size_t skip_lua_token(const char *s, size_t n, size_t i) {
    if (s[i] == '"' || s[i] == '\'') {
        char q = s[i++];
        while (i < n && s[i] != q) { if (s[i] == '\\') i++; i++; }
        return i < n ? i + 1 : n;
    }
    size_t j = i;
    bool comment = false;
    if (s[j] == '-' && j + 1 < n && s[j + 1] == '-') { comment = true; j += 2; }
    if (j < n && s[j] == '[') {
        size_t k = j + 1, level = 0;
        while (k < n && s[k] == '=') { k++; level++; }
        if (k < n && s[k] == '[') {
            for (size_t p = k + 1; p + 1 + level < n; p++) {
                if (s[p] != ']') continue;
                size_t e = p + 1, m = 0;
                while (e < n && s[e] == '=' && m < level) { e++; m++; }
                if (m == level && e < n && s[e] == ']') return e + 1;
            }
            return n;
        }
    }
    if (comment) {
        while (j < n && s[j] != '\n') j++;
        return j;
    }
    return i;
}

/* Finds `meta = { ... }` and returns the constructor text (pointer into src, *len). */
static const char *find_meta_table(const char *src, size_t n, size_t *len) {
    for (size_t i = 0; i < n;) {
        size_t k = skip_lua_token(src, n, i);
        if (k != i) { i = k; continue; }
        bool word_start = i == 0 || !(src[i - 1] == '_' || (src[i - 1] >= 'a' && src[i - 1] <= 'z') ||
                                      (src[i - 1] >= 'A' && src[i - 1] <= 'Z') || (src[i - 1] >= '0' && src[i - 1] <= '9'));
        if (word_start && n - i > 4 && memcmp(src + i, "meta", 4) == 0) {
            size_t j = i + 4;
            while (j < n && (src[j] == ' ' || src[j] == '\t' || src[j] == '\n' || src[j] == '\r')) j++;
            if (j < n && src[j] == '=' && (j + 1 >= n || src[j + 1] != '=')) {
                j++;
                while (j < n && (src[j] == ' ' || src[j] == '\t' || src[j] == '\n' || src[j] == '\r')) j++;
                if (j < n && src[j] == '{') {
                    size_t depth = 0, p = j;
                    while (p < n) {
                        size_t q = skip_lua_token(src, n, p);
                        if (q != p) { p = q; continue; }
                        if (src[p] == '{') depth++;
                        else if (src[p] == '}' && --depth == 0) { *len = p + 1 - j; return src + j; }
                        p++;
                    }
                    return NULL;
                }
            }
        }
        i++;
    }
    return NULL;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    luaL_error(L, "meta is not a plain table constructor");
}

/* JSON text of the package's meta table, or "null" when it cannot be read safely. */
static char *meta_json(const char *src, size_t n) {
    size_t tlen = 0;
    const char *t = find_meta_table(src, n, &tlen);
    if (!t) return strdup("null");
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    alc_json_conv_open(L);
    char *out = NULL;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "return ");
    luaL_addlstring(&b, t, tlen);
    luaL_pushresult(&b);
    size_t clen;
    const char *code = lua_tolstring(L, -1, &clen);
    if (luaL_loadbufferx(L, code, clen, "=meta", "t") == LUA_OK) {
        lua_newtable(L);                       /* empty environment: no globals, no functions */
        lua_setupvalue(L, -2, 1);
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 100000);
        if (lua_pcall(L, 0, 1, 0) == LUA_OK && lua_istable(L, -1)) {
            size_t len;
            char err[128];
            if (alc_json_encode_lua(L, -1, &out, &len, NULL, NULL, err, sizeof err) != ALC_OK) {
                free(out);
                out = NULL;
            }
        }
    }
    lua_close(L);
    return out ? out : strdup("null");
}

/* ---- methods -------------------------------------------------------------------------- */

static void add_resource(alc_jbuf *b, bool *first, const char *uri, const char *name, const char *desc, const char *mime) {
    alc_jbuf_puts(b, *first ? "{\"uri\":" : ",{\"uri\":");
    *first = false;
    alc_jbuf_json_str(b, uri, strlen(uri));
    alc_jbuf_puts(b, ",\"name\":");
    alc_jbuf_json_str(b, name, strlen(name));
    alc_jbuf_puts(b, ",\"description\":");
    alc_jbuf_json_str(b, desc, strlen(desc));
    alc_jbuf_printf(b, ",\"mimeType\":\"%s\"}", mime);
}

/* resources/list: the stubs, every package visible in the roots, the newest 50 logs. */
void alc_resources_list(alc_server *s, const alc_rpc_msg *m) {
    const alc_config *cfg = s->cfg;
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"resources\":[");
    bool first = true;
    char path[4096];
    if (find_types(cfg, path, sizeof path))
        add_resource(&b, &first, "alc://types/alc.d.lua", "alc.d.lua", "LuaCATS type stubs of the alc Lua API", "text/x-lua");
    cJSON *pkgs = NULL;
    char err[256];
    if (alc_pkg_list(cfg, NULL, &pkgs, err, sizeof err) == ALC_OK) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pkgs, "packages");
        for (const cJSON *p = arr ? arr->child : NULL; p; p = p->next) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
            if (!cJSON_IsString(name) || !alc_pkg_valid_name(name->valuestring)) continue;
            char uri[300], title[300];
            snprintf(uri, sizeof uri, "alc://packages/%s/init.lua", name->valuestring);
            snprintf(title, sizeof title, "%s/init.lua", name->valuestring);
            add_resource(&b, &first, uri, title, "Lua source of the package", "text/x-lua");
            snprintf(uri, sizeof uri, "alc://packages/%s/meta", name->valuestring);
            snprintf(title, sizeof title, "%s meta", name->valuestring);
            add_resource(&b, &first, uri, title, "The package's M.meta as JSON (read without running it)", "application/json");
        }
    }
    cJSON_Delete(pkgs);
    cJSON *logs = NULL;
    if (cfg->log_enabled) alc_registry_wait_logs(s->reg, 5000); /* logs written after their reply */
    if (cfg->log_enabled && alc_transcript_list(cfg->log_dir, 50, &logs, err, sizeof err) == ALC_OK) {
        for (const cJSON *l = logs ? logs->child : NULL; l; l = l->next) {
            const cJSON *sid = cJSON_GetObjectItemCaseSensitive(l, "session_id");
            if (!cJSON_IsString(sid) || !alc_transcript_id_valid(sid->valuestring)) continue;
            char uri[200];
            snprintf(uri, sizeof uri, "alc://logs/%s", sid->valuestring);
            add_resource(&b, &first, uri, sid->valuestring, "Transcript of a finished session", "application/json");
        }
    }
    cJSON_Delete(logs);
    alc_jbuf_puts(&b, "]}");
    reply(s, m->id, alc_jbuf_take(&b, NULL));
}

/* resources/templates/list */
void alc_resources_templates(alc_server *s, const alc_rpc_msg *m) {
    static const char json[] =
        "{\"resourceTemplates\":["
        "{\"uriTemplate\":\"alc://packages/{name}/init.lua\",\"name\":\"package source\","
        "\"description\":\"Lua source of an installed package\",\"mimeType\":\"text/x-lua\"},"
        "{\"uriTemplate\":\"alc://packages/{name}/meta\",\"name\":\"package meta\","
        "\"description\":\"A package's M.meta as JSON, read without running the package\",\"mimeType\":\"application/json\"},"
        "{\"uriTemplate\":\"alc://logs/{session_id}\",\"name\":\"session log\","
        "\"description\":\"Transcript of a finished session (prompts, responses, stats, notes)\",\"mimeType\":\"application/json\"}]}";
    reply(s, m->id, strdup(json));
}

static void reply_contents(alc_server *s, const cJSON *id, const char *uri, const char *mime, const char *text, size_t len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"contents\":[{\"uri\":");
    alc_jbuf_json_str(&b, uri, strlen(uri));
    alc_jbuf_printf(&b, ",\"mimeType\":\"%s\",\"text\":", mime);
    alc_jbuf_json_str(&b, text, len);
    alc_jbuf_puts(&b, "}]}");
    reply(s, id, alc_jbuf_take(&b, NULL));
}

static void read_file_resource(alc_server *s, const cJSON *id, const char *uri, const char *path, bool as_meta) {
    char *text = NULL, err[512];
    size_t len = 0;
    int rc = alc_fs_read_file(path, MAX_RESOURCE_BYTES, &text, &len, err, sizeof err);
    if (rc == ALC_E_NOT_FOUND) { reply_error(s, id, ALC_RPC_RESOURCE_NOT_FOUND, "Resource not found", uri); return; }
    if (rc != ALC_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "Internal error: cannot read the resource: %s", err);
        reply_error(s, id, ALC_RPC_INTERNAL_ERROR, msg, uri);
        return;
    }
    if (as_meta) {
        char *json = meta_json(text, len);
        if (json) reply_contents(s, id, uri, "application/json", json, strlen(json));
        else reply_error(s, id, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory", uri);
        free(json);
    } else {
        reply_contents(s, id, uri, "text/x-lua", text, len);
    }
    free(text);
}

/* resources/read {uri} */
void alc_resources_read(alc_server *s, const alc_rpc_msg *m) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(m->params, "uri");
    if (!cJSON_IsString(u)) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: 'uri' (string) is required", NULL);
        return;
    }
    const char *uri = u->valuestring;
    const alc_config *cfg = s->cfg;
    char path[4096];
    if (strncmp(uri, "alc://", 6) != 0) {
        reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: resource URIs start with alc://", uri);
        return;
    }
    const char *rest = uri + 6;
    if (strcmp(rest, "types/alc.d.lua") == 0) {
        if (!find_types(cfg, path, sizeof path)) { reply_error(s, m->id, ALC_RPC_RESOURCE_NOT_FOUND, "Resource not found", uri); return; }
        read_file_resource(s, m->id, uri, path, false);
        return;
    }
    if (strncmp(rest, "packages/", 9) == 0) {
        const char *name = rest + 9;
        const char *slash = strchr(name, '/');
        char pkg[130];
        size_t nl = slash ? (size_t)(slash - name) : 0;
        bool is_src = slash && strcmp(slash, "/init.lua") == 0;
        bool is_meta = slash && strcmp(slash, "/meta") == 0;
        if (!slash || nl == 0 || nl >= sizeof pkg || !(is_src || is_meta)) {
            reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: expected alc://packages/{name}/init.lua or alc://packages/{name}/meta", uri);
            return;
        }
        memcpy(pkg, name, nl);
        pkg[nl] = '\0';
        if (!alc_pkg_valid_name(pkg)) {
            reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: invalid package name", uri);
            return;
        }
        if (!find_package(cfg, pkg, path, sizeof path)) { reply_error(s, m->id, ALC_RPC_RESOURCE_NOT_FOUND, "Resource not found", uri); return; }
        read_file_resource(s, m->id, uri, path, is_meta);
        return;
    }
    if (strncmp(rest, "logs/", 5) == 0) {
        const char *sid = rest + 5;
        if (!alc_transcript_id_valid(sid)) {
            reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: invalid session id", uri);
            return;
        }
        char *text = NULL, err[512];
        size_t len = 0;
        if (cfg->log_enabled) alc_registry_wait_logs(s->reg, 5000);
        int rc = cfg->log_enabled ? alc_transcript_detail(cfg->log_dir, sid, MAX_RESOURCE_BYTES, &text, &len, err, sizeof err)
                                  : ALC_E_NOT_FOUND;
        if (rc == ALC_OK) reply_contents(s, m->id, uri, "application/json", text, len);
        else if (rc == ALC_E_NOT_FOUND) reply_error(s, m->id, ALC_RPC_RESOURCE_NOT_FOUND, "Resource not found", uri);
        else reply_error(s, m->id, ALC_RPC_INTERNAL_ERROR, "Internal error: cannot read the log", uri);
        free(text);
        return;
    }
    reply_error(s, m->id, ALC_RPC_INVALID_PARAMS, "Invalid params: unknown resource path (types/alc.d.lua, packages/{name}/..., logs/{session_id})", uri);
}
