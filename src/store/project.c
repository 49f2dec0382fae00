/*
 * project.c — reads a project's package layers (alc.local.toml variants and roots, alc.lock
 * path roots, <project>/packages) into an alc_project; see project.h.
 *
 * Owns no global state. Every function may be called from any thread; alc_project_load
 * blocks on disk I/O and runs no Lua (the runtime calls it before pushing anything).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "alc/project.h"

#include "alc/error.h"
#include "alc/pkg.h"
#include "alc/toml.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int push_str(char ***arr, size_t *n, char *item) {
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return ALC_E_NOMEM;
    na[*n] = item;
    *arr = na;
    (*n)++;
    return ALC_OK;
}

static int warn(alc_project *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int warn(alc_project *p, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (!s || push_str(&p->warnings, &p->n_warnings, s) != ALC_OK) { free(s); return ALC_E_NOMEM; }
    return ALC_OK;
}

/* Returns new absolute form of path: itself when absolute, else root/path. */
static char *resolve(const char *root, const char *path) {
    if (path[0] == '/') return strdup(path);
    size_t a = strlen(root), b = strlen(path);
    char *r = malloc(a + b + 2);
    if (!r) return NULL;
    memcpy(r, root, a);
    r[a] = '/';
    memcpy(r + a + 1, path, b + 1);
    return r;
}

static int add_root(alc_project *p, const char *dir, const char *source) {
    char *d = strdup(dir);
    if (!d) return ALC_E_NOMEM;
    const char **ns = realloc(p->root_sources, (p->n_roots + 1) * sizeof *ns);
    if (!ns) { free(d); return ALC_E_NOMEM; }
    p->root_sources = ns;
    size_t n = p->n_roots;
    if (push_str(&p->roots, &n, d) != ALC_OK) { free(d); return ALC_E_NOMEM; }
    p->root_sources[p->n_roots++] = source;
    return ALC_OK;
}

/* alc.local.toml: [packages.NAME] path = "DIR" → variant NAME and root DIR. */
static int load_local(alc_project *p, char *err, size_t errlen) {
    char *file = resolve(p->root, "alc.local.toml");
    if (!file) return ALC_E_NOMEM;
    cJSON *doc = NULL;
    int rc = alc_toml_parse_file(file, &doc, err, errlen);
    free(file);
    if (rc == ALC_E_NOT_FOUND) return ALC_OK;
    if (rc != ALC_OK) return rc;
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(doc, "packages");
    if (pk && !cJSON_IsObject(pk)) rc = warn(p, "alc.local.toml: 'packages' is not a table; ignored");
    for (const cJSON *e = cJSON_IsObject(pk) ? pk->child : NULL; e && rc == ALC_OK; e = e->next) {
        const cJSON *path = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "path") : NULL;
        if (!alc_pkg_valid_name(e->string)) {
            rc = warn(p, "alc.local.toml: [packages.%.100s] is not a valid package name; ignored", e->string);
            continue;
        }
        if (!cJSON_IsString(path) || !path->valuestring[0]) {
            rc = warn(p, "alc.local.toml: [packages.%s] has no path = \"DIR\"; ignored", e->string);
            continue;
        }
        char *dir = resolve(p->root, path->valuestring);
        if (!dir) { rc = ALC_E_NOMEM; break; }
        if (!is_dir(dir)) {
            rc = warn(p, "alc.local.toml: [packages.%s] path '%s' is not a directory; ignored", e->string, dir);
            free(dir);
            continue;
        }
        char *name = strdup(e->string);
        alc_project_variant *nv = name ? realloc(p->variants, (p->n_variants + 1) * sizeof *nv) : NULL;
        if (!nv) { free(name); free(dir); rc = ALC_E_NOMEM; break; }
        p->variants = nv;
        p->variants[p->n_variants].name = name;
        p->variants[p->n_variants].dir = dir;
        p->n_variants++;
        rc = add_root(p, dir, "alc.local.toml");
    }
    cJSON_Delete(doc);
    if (rc == ALC_E_NOMEM) snprintf(err, errlen, "out of memory reading alc.local.toml");
    return rc;
}

/* alc.lock: version = 1; [[package]] source = {type = "path", path = "DIR"} → root DIR. */
static int load_lock(alc_project *p, char *err, size_t errlen) {
    char *file = resolve(p->root, "alc.lock");
    if (!file) return ALC_E_NOMEM;
    cJSON *doc = NULL;
    int rc = alc_toml_parse_file(file, &doc, err, errlen);
    if (rc == ALC_E_NOT_FOUND) { free(file); return ALC_OK; }
    if (rc != ALC_OK) { free(file); return rc; }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "version");
    if (ver && !(cJSON_IsNumber(ver) && ver->valuedouble == 1)) {
        snprintf(err, errlen, "%s: lock file version %s is not supported (expected version = 1)", file,
                 cJSON_IsNumber(ver) ? "other than 1" : "that is not a number");
        free(file);
        cJSON_Delete(doc);
        return ALC_E_INVAL;
    }
    free(file);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "package");
    if (arr && !cJSON_IsArray(arr)) rc = warn(p, "alc.lock: 'package' is not an array of tables; ignored");
    int i = 0;
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e && rc == ALC_OK; e = e->next, i++) {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(e, "source");
        const cJSON *type = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "type") : NULL;
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "path") != 0) continue;
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(src, "path");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        const char *label = cJSON_IsString(name) ? name->valuestring : "?";
        if (!cJSON_IsString(path) || !path->valuestring[0]) {
            rc = warn(p, "alc.lock: package #%d (%.100s) has source type \"path\" without a path; ignored", i + 1, label);
            continue;
        }
        char *dir = resolve(p->root, path->valuestring);
        if (!dir) { rc = ALC_E_NOMEM; break; }
        if (!is_dir(dir)) rc = warn(p, "alc.lock: package %.100s: path '%s' is not a directory; ignored", label, dir);
        else rc = add_root(p, dir, "alc.lock");
        free(dir);
    }
    cJSON_Delete(doc);
    if (rc == ALC_E_NOMEM) snprintf(err, errlen, "out of memory reading alc.lock");
    return rc;
}

/* Reads the project's layers; see project.h. */
int alc_project_load(const char *project_root, alc_project **out, char *err, size_t errlen) {
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    alc_project *p = calloc(1, sizeof *p);
    if (!p || !(p->root = strdup(project_root))) { free(p); snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
    int rc = ALC_OK;
    if (!is_dir(project_root)) {
        rc = warn(p, "project_root '%s' is not a directory; no project packages are used", project_root);
        goto done;
    }
    if ((rc = load_local(p, err, errlen)) != ALC_OK) goto done;
    if ((rc = load_lock(p, err, errlen)) != ALC_OK) goto done;
    char *pk = resolve(project_root, "packages");
    if (!pk) { rc = ALC_E_NOMEM; goto done; }
    rc = add_root(p, pk, "project");
    free(pk);
done:
    if (rc != ALC_OK) {
        if (rc == ALC_E_NOMEM && err && errlen && !err[0]) snprintf(err, errlen, "out of memory reading the project files");
        alc_project_free(p);
        return rc;
    }
    *out = p;
    return ALC_OK;
}

/* Frees p; NULL is a no-op. */
void alc_project_free(alc_project *p) {
    if (!p) return;
    free(p->root);
    for (size_t i = 0; i < p->n_variants; i++) { free(p->variants[i].name); free(p->variants[i].dir); }
    free(p->variants);
    for (size_t i = 0; i < p->n_roots; i++) free(p->roots[i]);
    free(p->roots);
    free(p->root_sources);
    for (size_t i = 0; i < p->n_warnings; i++) free(p->warnings[i]);
    free(p->warnings);
    free(p);
}

/* The variant whose name is the first dotted part of module; NULL if none. */
const alc_project_variant *alc_project_variant_for(const alc_project *p, const char *module) {
    if (!p || !module) return NULL;
    size_t n = strcspn(module, ".");
    for (size_t i = 0; i < p->n_variants; i++)
        if (strlen(p->variants[i].name) == n && strncmp(p->variants[i].name, module, n) == 0) return &p->variants[i];
    return NULL;
}

/* True if realpath(path) lies in realpath(root); see project.h. */
bool alc_project_path_inside(const char *path, const char *root) {
    char rp[PATH_MAX], rr[PATH_MAX];
    if (!realpath(path, rp) || !realpath(root, rr)) return false;
    size_t n = strlen(rr);
    while (n > 1 && rr[n - 1] == '/') n--;
    if (n == 1 && rr[0] == '/') return true;
    return strncmp(rp, rr, n) == 0 && (rp[n] == '\0' || rp[n] == '/');
}
