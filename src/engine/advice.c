/*
 * advice.c — the strategy launcher shared by the `alc_advice` tool and `alc advice`:
 * package-name validation, lookup of <root>/<name>/init.lua or <root>/<name>.lua over the
 * search roots, the Lua program that requires the package and calls run(ctx), and the ctx
 * built from the caller's opts and task.
 *
 * Threads: no state of its own; every function may be called from any thread. The
 * configuration is only read.
 */
#include "alc/advice.h"

#include "alc/error.h"
#include "alc/project.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * True if name is usable in require(): 1..ALC_ADVICE_NAME_MAX bytes of letters, digits, '_'
 * and '-', with single dots between parts (no leading, trailing or doubled dot). Such a
 * name can be placed inside a Lua string literal and a path without escaping.
 * name: borrowed, NULL gives false.
 */
bool alc_advice_valid_name(const char *name) {
    if (!name) return false;
    size_t n = strlen(name);
    if (n == 0 || n > ALC_ADVICE_NAME_MAX || name[0] == '.' || name[n - 1] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok || (c == '.' && name[i + 1] == '.')) return false;
    }
    return true;
}

/* True if <root>/<rel>/init.lua or <root>/<rel>.lua is readable. */
static bool in_root(const char *root, const char *rel) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/init.lua", root, rel);
    if (access(path, R_OK) == 0) return true;
    snprintf(path, sizeof path, "%s/%s.lua", root, rel);
    return access(path, R_OK) == 0;
}

/*
 * Looks for the package `name` (dots become '/') where require would: when project_root is
 * not NULL, first its variant packages (alc.local.toml: NAME → DIR/init.lua) and its roots
 * (alc.local.toml dirs, alc.lock path entries, <project_root>/packages; see project.h), then
 * cfg->package_paths in order; in each root as <root>/<name>/init.lua or <root>/<name>.lua.
 * Returns true when a readable file exists. On false, every root searched is appended to
 * tried as "root1, root2" (tried may already hold text; the caller owns it and deinits it),
 * plus a note when the project files cannot be read. name must satisfy alc_advice_valid_name.
 * cfg, project_root, name: borrowed. Blocks on disk I/O. project_root is used as given (NULL:
 * no project layers): the tools resolve it first with alc_project_resolve_root and pass the
 * same root to the session, so that what is found here is what require loads.
 */
bool alc_advice_find(const alc_config *cfg, const char *project_root, const char *name,
                     alc_jbuf *tried) {
    char rel[ALC_ADVICE_NAME_MAX + 1];
    snprintf(rel, sizeof rel, "%s", name);
    for (char *p = rel; *p; p++)
        if (*p == '.') *p = '/';
    if (project_root) {
        alc_project *proj = NULL;
        char err[512];
        if (alc_project_load(project_root, &proj, err, sizeof err) != ALC_OK) {
            alc_jbuf_printf(tried, "%s(project files not readable: %s)", tried->len ? ", " : "", err);
        } else {
            bool found = false;
            const alc_project_variant *v = alc_project_variant_for(proj, name);
            if (v) {
                const char *sub = strchr(rel, '/');
                char path[4400];
                if (!sub) snprintf(path, sizeof path, "%s/init.lua", v->dir);
                found = sub ? in_root(v->dir, sub + 1) : access(path, R_OK) == 0;
                if (!found) alc_jbuf_printf(tried, "%s%s (variant)", tried->len ? ", " : "", v->dir);
            }
            for (size_t i = 0; !found && i < proj->n_roots; i++) {
                found = in_root(proj->roots[i], rel);
                if (!found) alc_jbuf_printf(tried, "%s%s", tried->len ? ", " : "", proj->roots[i]);
            }
            alc_project_free(proj);
            if (found) return true;
        }
    }
    for (size_t i = 0; i < cfg->n_package_paths; i++) {
        if (in_root(cfg->package_paths[i], rel)) return true;
        alc_jbuf_printf(tried, "%s%s", tried->len ? ", " : "", cfg->package_paths[i]);
    }
    return false;
}

/*
 * Writes the launcher program for strategy `name` into code (codelen bytes, at least
 * ALC_ADVICE_CODE_MAX suffice) with its length in *len_out, and its chunk name
 * "=advice:<name>" into chunk (chunklen bytes, ALC_ADVICE_CHUNK_MAX suffice). The program
 * requires the package, checks that it has a run function, and returns run(ctx).
 * Returns ALC_OK, ALC_E_INVAL (name not valid) or ALC_E_TOO_LARGE (a buffer is too small).
 */
int alc_advice_program(const char *name, char *code, size_t codelen, size_t *len_out,
                       char *chunk, size_t chunklen) {
    if (!alc_advice_valid_name(name)) return ALC_E_INVAL;
    /* the name was validated, so it can be placed in a string literal as is */
    int n = snprintf(code, codelen,
                     "local m = require(\"%s\")\n"
                     "if type(m) ~= \"table\" or type(m.run) ~= \"function\" then\n"
                     "  error(\"package '%s' has no run(ctx) function (it is a library, not a strategy)\", 0)\n"
                     "end\n"
                     "return m.run(ctx)\n",
                     name, name);
    if (n < 0 || (size_t)n >= codelen) return ALC_E_TOO_LARGE;
    int c = snprintf(chunk, chunklen, "=advice:%s", name);
    if (c < 0 || (size_t)c >= chunklen) return ALC_E_TOO_LARGE;
    *len_out = (size_t)n;
    return ALC_OK;
}

/*
 * Builds the ctx of an advice session: a deep copy of opts (an object, or NULL for {}) whose
 * "task" member is replaced by task when task is not NULL. opts, task: borrowed.
 * *out returns new (cJSON_Delete). Returns ALC_OK, ALC_E_INVAL (opts is not an object) or
 * ALC_E_NOMEM (then *out is NULL).
 */
int alc_advice_ctx(const cJSON *opts, const char *task, cJSON **out) {
    *out = NULL;
    if (opts && !cJSON_IsObject(opts)) return ALC_E_INVAL;
    cJSON *ctx = opts ? cJSON_Duplicate(opts, 1) : cJSON_CreateObject();
    if (!ctx) return ALC_E_NOMEM;
    if (task) {
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, "task");
        if (!cJSON_AddStringToObject(ctx, "task", task)) {
            cJSON_Delete(ctx);
            return ALC_E_NOMEM;
        }
    }
    *out = ctx;
    return ALC_OK;
}
