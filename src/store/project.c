/*
 * project.c — reads a project's package layers (alc.local.toml variants and roots, alc.lock
 * path roots, <project>/packages) into an alc_project; see project.h.
 *
 * Also resolves the project root of a call (alc_project_resolve_root: explicit → $ALC_PROJECT_ROOT
 * → the first ancestor of the cwd holding alc.toml) and warns on stderr when alc.toml and
 * alc.lock list different packages.
 *
 * Global state: the resolution cache (the implicit result, kept for ALC_PROJECT_RESOLVE_CACHE_MS)
 * and the last alc.toml/alc.lock comparison, both under one process-wide mutex. Every function
 * may be called from any thread; alc_project_load blocks on disk I/O and runs no Lua (the
 * runtime calls it before pushing anything).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "alc/project.h"

#include "alc/error.h"
#include "alc/pkg.h"
#include "alc/thread.h"
#include "alc/toml.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- project root resolution ------------------------------------------------------- */

static alc_mutex resolve_mu = {PTHREAD_MUTEX_INITIALIZER}; /* guards resolve_cache and mismatch_seen */
static struct {
    bool valid;
    int64_t at_ms;       /* when the cached result was computed (alc_now_ms) */
    char *env;           /* the $ALC_PROJECT_ROOT value it was computed for (NULL = unset) */
    char *root;          /* the result (NULL = none) */
} resolve_cache;
/* The last comparison of alc.toml and alc.lock for each of the most recently seen project
 * roots (a host may alternate between a few projects; the oldest entry is reused). */
#define MISMATCH_SEEN 8
typedef struct mismatch_entry {
    char *root;          /* NULL: free slot */
    int64_t at_ms;       /* when it was last compared (or claimed for a comparison) */
    struct timespec toml_m, lock_m;  /* mtimes of that comparison (0 = missing) */
    off_t toml_sz, lock_sz;
} mismatch_entry;
static mismatch_entry mismatch_seen[MISMATCH_SEEN];

/* The entry of root, or NULL. Called with resolve_mu held. */
static mismatch_entry *mismatch_find(const char *root) {
    for (int i = 0; i < MISMATCH_SEEN; i++)
        if (mismatch_seen[i].root && strcmp(mismatch_seen[i].root, root) == 0) return &mismatch_seen[i];
    return NULL;
}

/* A slot for a root not in the table: a free one, else the least recently compared. Called
 * with resolve_mu held. */
static mismatch_entry *mismatch_slot(void) {
    mismatch_entry *best = &mismatch_seen[0];
    for (int i = 0; i < MISMATCH_SEEN; i++) {
        if (!mismatch_seen[i].root) return &mismatch_seen[i];
        if (mismatch_seen[i].at_ms < best->at_ms) best = &mismatch_seen[i];
    }
    return best;
}

static bool same_str(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Returns new realpath of an existing directory, or NULL. */
static char *real_dir(const char *p) {
    char buf[PATH_MAX];
    if (!p || !*p || !realpath(p, buf) || !is_dir(buf)) return NULL;
    return strdup(buf);
}

/* The first ancestor of the cwd (itself included) that holds alc.toml; returns new or NULL. */
static char *walk_cwd(void) {
    char dir[PATH_MAX];
    if (!getcwd(dir, sizeof dir - 16)) return NULL;
    for (;;) {
        size_t n = strlen(dir);
        struct stat st;
        snprintf(dir + n, sizeof dir - n, "%salc.toml", n > 1 ? "/" : "");
        bool hit = stat(dir, &st) == 0 && S_ISREG(st.st_mode);
        dir[n] = '\0';
        if (hit) return strdup(dir);
        if (n <= 1) return NULL;
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = '\0';
        else *slash = '\0';
    }
}

/* Appends the names of a [packages] table (alc.toml) or [[package]] array (alc.lock) that are
 * missing from other to out ("a, b"). */
static void names_missing(const cJSON *mine, bool mine_is_lock, const cJSON *other, bool other_is_lock,
                          char *out, size_t outlen) {
    for (const cJSON *e = mine ? mine->child : NULL; e; e = e->next) {
        const char *nm = e->string;
        if (mine_is_lock) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
            nm = cJSON_IsString(n) ? n->valuestring : NULL;
        }
        if (!nm) continue;
        bool found = false;
        for (const cJSON *o = other ? other->child : NULL; o && !found; o = o->next) {
            if (other_is_lock) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "name");
                found = cJSON_IsString(n) && strcmp(n->valuestring, nm) == 0;
            } else {
                found = o->string && strcmp(o->string, nm) == 0;
            }
        }
        if (found) continue;
        size_t l = strlen(out);
        if (l + 8 < outlen) snprintf(out + l, outlen - l, "%s%s", l ? ", " : "", nm);
    }
}

/* Prints one warning line to stderr when root's alc.toml and alc.lock (both present and
 * parsable) list different package names. Called without resolve_mu; takes it only to read and
 * update mismatch_seen, never across the file I/O. The comparison is skipped when root was
 * compared less than ALC_PROJECT_RESOLVE_CACHE_MS ago, or when neither file changed (mtime and
 * size) since the last comparison of root, so one mismatch is reported once, not at every call,
 * also when calls alternate between a few projects. */
static void check_mismatch(const char *root) {
    int64_t now = alc_now_ms();
    alc_mutex_lock(&resolve_mu);
    mismatch_entry *seen = mismatch_find(root);
    bool due = !seen || now - seen->at_ms >= ALC_PROJECT_RESOLVE_CACHE_MS;
    if (seen && due) seen->at_ms = now; /* claims this turn: a concurrent caller skips it */
    alc_mutex_unlock(&resolve_mu);
    if (!due) return;
    char tp[PATH_MAX + 16], lp[PATH_MAX + 16];
    snprintf(tp, sizeof tp, "%s/alc.toml", root);
    snprintf(lp, sizeof lp, "%s/alc.lock", root);
    struct stat ts, ls;
    bool th = stat(tp, &ts) == 0, lh = stat(lp, &ls) == 0;
    struct timespec zero = {0, 0};
    struct timespec tm = th ? ts.st_mtim : zero, lm = lh ? ls.st_mtim : zero;
    off_t tz = th ? ts.st_size : -1, lz = lh ? ls.st_size : -1;
    char *r = strdup(root);
    if (!r) return;
    alc_mutex_lock(&resolve_mu);
    seen = mismatch_find(root);
    bool unchanged = seen && tm.tv_sec == seen->toml_m.tv_sec && tm.tv_nsec == seen->toml_m.tv_nsec &&
                     lm.tv_sec == seen->lock_m.tv_sec && lm.tv_nsec == seen->lock_m.tv_nsec && tz == seen->toml_sz &&
                     lz == seen->lock_sz;
    if (!seen) {
        seen = mismatch_slot();
        free(seen->root);
        seen->root = r;
        r = NULL;
    }
    seen->at_ms = now;
    seen->toml_m = tm;
    seen->lock_m = lm;
    seen->toml_sz = tz;
    seen->lock_sz = lz;
    alc_mutex_unlock(&resolve_mu);
    free(r);
    if (unchanged || !th || !lh) return;
    cJSON *toml = NULL, *lock = NULL;
    char err[256];
    if (alc_toml_parse_file(tp, &toml, err, sizeof err) == ALC_OK &&
        alc_toml_parse_file(lp, &lock, err, sizeof err) == ALC_OK) {
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(toml, "packages");
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(lock, "package");
        if (!cJSON_IsObject(pk)) pk = NULL;
        if (!cJSON_IsArray(arr)) arr = NULL;
        char only_toml[512] = "", only_lock[512] = "";
        names_missing(pk, false, arr, true, only_toml, sizeof only_toml);
        names_missing(arr, true, pk, false, only_lock, sizeof only_lock);
        if (only_toml[0] || only_lock[0])
            fprintf(stderr, "alc: warning: %s: alc.toml and alc.lock list different packages (only in alc.toml: %s; "
                            "only in alc.lock: %s); run alc_update to rewrite alc.lock\n",
                    root, only_toml[0] ? only_toml : "-", only_lock[0] ? only_lock : "-");
    }
    cJSON_Delete(toml);
    cJSON_Delete(lock);
}

/* Resolves the project root of a call; see project.h. The implicit steps ($ALC_PROJECT_ROOT,
 * the cwd walk) run without resolve_mu, which guards only the cached result. */
int alc_project_resolve_root(const char *explicit_root, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    char *root = NULL;
    if (explicit_root && *explicit_root && is_dir(explicit_root)) {
        if (!(root = strdup(explicit_root))) goto nomem;
        check_mismatch(root);
        *out = root;
        return ALC_OK;
    }
    if (explicit_root && *explicit_root) /* the reference falls through; a typo should not pass silently */
        fprintf(stderr, "alc: warning: project_root %.300s is not a directory; using the next choice "
                        "($ALC_PROJECT_ROOT, then the nearest alc.toml above the cwd)\n", explicit_root);
    const char *env = getenv("ALC_PROJECT_ROOT");
    if (env && !*env) env = NULL;
    int64_t now = alc_now_ms();
    bool hit = false, nomem = false;
    alc_mutex_lock(&resolve_mu);
    if (resolve_cache.valid && now - resolve_cache.at_ms < ALC_PROJECT_RESOLVE_CACHE_MS && same_str(resolve_cache.env, env)) {
        hit = true;
        if (resolve_cache.root && !(root = strdup(resolve_cache.root))) nomem = true;
    }
    alc_mutex_unlock(&resolve_mu);
    if (nomem) goto nomem;
    if (!hit) {
        char *fresh = real_dir(env);
        if (!fresh) fresh = walk_cwd();
        char *env_copy = env ? strdup(env) : NULL;
        char *mine = fresh ? strdup(fresh) : NULL;
        if ((env && !env_copy) || (fresh && !mine)) {
            free(fresh);
            free(env_copy);
            free(mine);
            goto nomem;
        }
        alc_mutex_lock(&resolve_mu);
        free(resolve_cache.root);
        free(resolve_cache.env);
        resolve_cache.root = fresh;
        resolve_cache.env = env_copy;
        resolve_cache.at_ms = now;
        resolve_cache.valid = true;
        alc_mutex_unlock(&resolve_mu);
        root = mine;
    }
    if (root) check_mismatch(root);
    *out = root;
    return ALC_OK;
nomem:
    if (err && errlen) snprintf(err, errlen, "out of memory resolving the project root");
    return ALC_E_NOMEM;
}
