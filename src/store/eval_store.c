/*
 * eval_store.c — the evaluation store (see alc/eval_store.h): saved alc_eval results and
 * their meta files, the history listing, cached comparisons, and the scenario files under
 * $ALC_HOME/scenarios (list, read, install from a local path or a git URL).
 *
 * Owns no global state. Every function may be called from any thread and takes no lock;
 * uniqueness of eval ids across threads and processes comes from creating the result file
 * with O_EXCL. The git clone and the removal of its temporary directory reuse the package
 * store's runner (pkg_internal.h, same store module).
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "alc/eval_store.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"
#include "pkg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAX_BYTES ((size_t)1 << 20)
#define RESULT_MAX_BYTES ((size_t)512 << 20)
#define MAX_LISTED 100000

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- names ------------------------------------------------------------------------- */

static bool safe_name(const char *s, size_t max, bool allow_dash_first) {
    if (!s) return false;
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '.' || (!allow_dash_first && s[0] == '-')) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        if (!ok || (c == '.' && s[i + 1] == '.')) return false;
    }
    return true;
}

/*
 * True if id is usable as a stored eval id: letters, digits, '_', '-', '.', 1 to
 * ALC_EVAL_ID_MAX - 1 bytes, not starting with '.', no "..". id: borrowed; NULL gives false.
 */
bool alc_eval_store_valid_id(const char *id) {
    return safe_name(id, ALC_EVAL_ID_MAX - 1, true);
}

/*
 * True if name is usable as a scenario name (file <name>.lua): letters, digits, '_', '-',
 * '.', 1 to ALC_EVAL_SCENARIO_NAME_MAX bytes, not starting with '.' or '-', no "..".
 * name: borrowed; NULL gives false.
 */
bool alc_eval_store_valid_scenario_name(const char *name) {
    return safe_name(name, ALC_EVAL_SCENARIO_NAME_MAX, false);
}

/* ---- small helpers ------------------------------------------------------------------- */

/* Returns new "<home>/<sub>" created 0700 (mkdir -p), or NULL with err set. */
static char *subdir(const char *home, const char *sub, bool create, int *rc, char *err, size_t errlen) {
    char *dir = alc_fs_join(home, sub);
    if (!dir) {
        *rc = ALC_E_NOMEM;
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (create && alc_fs_mkdirs(dir, 0700) != ALC_OK) {
        *rc = ALC_E_IO;
        set_err(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

/* 16 random bits from the OS; falls back to a counter mixed with time and pid. */
static unsigned random16(int64_t now_ms) {
    static atomic_uint counter = 0;
    unsigned char b[2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, b, sizeof b);
        close(fd);
        if (n == (ssize_t)sizeof b) return ((unsigned)b[0] << 8) | b[1];
    }
    unsigned x = (unsigned)now_ms ^ ((unsigned)getpid() << 7) ^ (atomic_fetch_add(&counter, 1) * 2654435761u);
    return (x ^ (x >> 16)) & 0xffffu;
}

static const cJSON *get_path(const cJSON *o, const char *a, const char *b, const char *c) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (v && b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (v && c) v = cJSON_GetObjectItemCaseSensitive(v, c);
    return v;
}

/* Adds key = a copy of src (when a number or string), else null. */
static bool add_copy(cJSON *dst, const char *key, const cJSON *src) {
    cJSON *v = (cJSON_IsNumber(src) || cJSON_IsString(src)) ? cJSON_Duplicate(src, 0) : cJSON_CreateNull();
    if (!v) return false;
    if (!cJSON_AddItemToObject(dst, key, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

/* Builds the meta object of a saved response. Returns new or NULL (out of memory). */
static cJSON *build_meta(const cJSON *resp, const char *id, const char *strategy, int64_t now_ms) {
    cJSON *m = cJSON_CreateObject();
    if (!m) return NULL;
    const cJSON *agg = get_path(resp, "result", "aggregated", NULL);
    bool ok = cJSON_AddStringToObject(m, "eval_id", id) && cJSON_AddStringToObject(m, "strategy", strategy) &&
              cJSON_AddNumberToObject(m, "timestamp", (double)now_ms) &&
              add_copy(m, "scenario", get_path(resp, "result", "scenario", NULL)) &&
              add_copy(m, "session_id", get_path(resp, "session_id", NULL, NULL)) &&
              add_copy(m, "pass_rate", get_path(agg, "pass_rate", NULL, NULL)) &&
              add_copy(m, "mean_score", get_path(agg, "scores", "mean", NULL)) &&
              add_copy(m, "total_cases", get_path(agg, "total", NULL, NULL)) &&
              add_copy(m, "passed", get_path(agg, "passed", NULL, NULL)) &&
              add_copy(m, "llm_calls", get_path(resp, "stats", "auto", "llm_calls")) &&
              add_copy(m, "elapsed_ms", get_path(resp, "stats", "auto", "elapsed_ms")) &&
              add_copy(m, "summary", get_path(resp, "result", "summary", NULL));
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* Writes tree (sorted, compact) to path atomically. */
static int write_json(const char *path, cJSON *tree, char *err, size_t errlen) {
    char *text = alc_json_print_sorted(tree);
    if (!text) {
        set_err(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    int rc = alc_fs_write_atomic(path, text, strlen(text), 0600, err, errlen);
    free(text);
    return rc;
}

/* ---- save ---------------------------------------------------------------------------- */

/*
 * Saves response (borrowed; gets "eval_id" on success) as <home>/evals/<id>.json and its meta
 * as <id>.meta.json, with id = "<strategy>_<now_ms>_<4 hex>" reserved by an exclusive create
 * (up to 64 draws). id_out: ALC_EVAL_ID_MAX bytes, receives the id on success. On failure no
 * file is left behind. Returns ALC_OK, ALC_E_INVAL (NULL/non-object response, bad strategy),
 * ALC_E_IO or ALC_E_NOMEM with err. Blocks on disk I/O; any thread.
 */
int alc_eval_store_save(const char *home, const char *strategy, cJSON *response, int64_t now_ms,
                        char *id_out, char *err, size_t errlen) {
    int rc = ALC_OK;
    char *dir = NULL, *path = NULL, *meta_path = NULL;
    cJSON *meta = NULL;
    char id[ALC_EVAL_ID_MAX];
    bool reserved = false, id_added = false;
    if (!home || !cJSON_IsObject(response) || !safe_name(strategy, 128, false)) {
        set_err(err, errlen, "invalid eval to save (strategy '%.100s')", strategy ? strategy : "(null)");
        return ALC_E_INVAL;
    }
    if (!(dir = subdir(home, "evals", true, &rc, err, errlen))) return rc;
    for (int attempt = 0; attempt < 64 && !reserved; attempt++) {
        snprintf(id, sizeof id, "%s_%lld_%04x", strategy, (long long)now_ms, random16(now_ms + attempt));
        free(path);
        char file[ALC_EVAL_ID_MAX + 8];
        snprintf(file, sizeof file, "%s.json", id);
        if (!(path = alc_fs_join(dir, file))) { rc = ALC_E_NOMEM; set_err(err, errlen, "out of memory"); goto fail; }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            reserved = true;
        } else if (errno != EEXIST) {
            rc = ALC_E_IO;
            set_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    if (!reserved) {
        rc = ALC_E_IO;
        set_err(err, errlen, "no free eval id for %s at %lld", strategy, (long long)now_ms);
        goto fail;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(response, "eval_id");
    if (!cJSON_AddStringToObject(response, "eval_id", id)) { rc = ALC_E_NOMEM; set_err(err, errlen, "out of memory"); goto fail; }
    id_added = true;
    if ((rc = write_json(path, response, err, errlen)) != ALC_OK) goto fail;
    char mfile[ALC_EVAL_ID_MAX + 16];
    snprintf(mfile, sizeof mfile, "%s.meta.json", id);
    if (!(meta_path = alc_fs_join(dir, mfile)) || !(meta = build_meta(response, id, strategy, now_ms))) {
        rc = ALC_E_NOMEM;
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    if ((rc = write_json(meta_path, meta, err, errlen)) != ALC_OK) goto fail;
    snprintf(id_out, ALC_EVAL_ID_MAX, "%s", id);
    cJSON_Delete(meta);
    free(meta_path);
    free(path);
    free(dir);
    return ALC_OK;
fail:
    if (id_added) cJSON_DeleteItemFromObjectCaseSensitive(response, "eval_id");
    if (reserved) unlink(path);
    if (meta_path) unlink(meta_path);
    cJSON_Delete(meta);
    free(meta_path);
    free(path);
    free(dir);
    return rc;
}

/* ---- history / detail ---------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_meta(const void *x, const void *y) {
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(a, "timestamp");
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(b, "timestamp");
    double da = cJSON_IsNumber(ta) ? ta->valuedouble : 0, db = cJSON_IsNumber(tb) ? tb->valuedouble : 0;
    if (da != db) return da < db ? 1 : -1;
    const char *ia = cJSON_GetObjectItemCaseSensitive(a, "eval_id")->valuestring;
    const char *ib = cJSON_GetObjectItemCaseSensitive(b, "eval_id")->valuestring;
    return -strcmp(ia, ib);
}

static bool add_warning(cJSON *warnings, const char *file, const char *msg) {
    cJSON *w = cJSON_CreateObject();
    if (!w || !cJSON_AddStringToObject(w, "file", file) || !cJSON_AddStringToObject(w, "error", msg) ||
        !cJSON_AddItemToArray(warnings, w)) {
        cJSON_Delete(w);
        return false;
    }
    return true;
}

/*
 * Lists saved evals (see the header). home, strategy (NULL: all): borrowed. *out returns new
 * {evals, warnings?}. ALC_OK, ALC_E_IO (directory unreadable), ALC_E_NOMEM. Blocks on disk
 * I/O; any thread.
 */
int alc_eval_store_history(const char *home, const char *strategy, size_t limit, cJSON **out,
                           char *err, size_t errlen) {
    int rc = ALC_OK;
    *out = NULL;
    char *dir = NULL;
    DIR *d = NULL;
    cJSON **metas = NULL;
    size_t n = 0, cap = 0;
    cJSON *root = cJSON_CreateObject(), *warnings = cJSON_CreateArray(), *list = NULL;
    if (!root || !warnings) goto oom;
    if (!(dir = subdir(home, "evals", false, &rc, err, errlen))) goto fail;
    d = opendir(dir);
    if (!d && errno != ENOENT) {
        rc = ALC_E_IO;
        set_err(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        goto fail;
    }
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".meta.json")) continue;
        if (n >= MAX_LISTED) break;
        char *path = alc_fs_join(dir, e->d_name), *text = NULL;
        if (!path) goto oom;
        size_t len = 0;
        char ferr[512];
        int r = alc_fs_read_file(path, META_MAX_BYTES, &text, &len, ferr, sizeof ferr);
        free(path);
        if (r == ALC_E_NOMEM) goto oom;
        if (r != ALC_OK) {
            if (!add_warning(warnings, e->d_name, ferr)) goto oom;
            continue;
        }
        cJSON *m = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
        free(text);
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(m, "eval_id");
        if (!cJSON_IsObject(m) || !cJSON_IsString(idv)) {
            cJSON_Delete(m);
            if (!add_warning(warnings, e->d_name, "not a meta object with an eval_id")) goto oom;
            continue;
        }
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "strategy");
        if (strategy && (!cJSON_IsString(st) || strcmp(st->valuestring, strategy) != 0)) {
            cJSON_Delete(m);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            cJSON **g = realloc(metas, nc * sizeof *g);
            if (!g) { cJSON_Delete(m); goto oom; }
            metas = g;
            cap = nc;
        }
        metas[n++] = m;
    }
    if (n > 1) qsort(metas, n, sizeof *metas, cmp_meta);
    if (!(list = cJSON_AddArrayToObject(root, "evals"))) goto oom;
    for (size_t i = 0; i < n; i++) {
        if ((limit == 0 || i < limit) && cJSON_AddItemToArray(list, metas[i])) metas[i] = NULL;
        cJSON_Delete(metas[i]);
        metas[i] = NULL;
    }
    if (cJSON_GetArraySize(warnings) > 0) {
        if (!cJSON_AddItemToObject(root, "warnings", warnings)) goto oom;
    } else {
        cJSON_Delete(warnings);
    }
    warnings = NULL;
    *out = root;
    root = NULL;
    goto done;
oom:
    rc = ALC_E_NOMEM;
    set_err(err, errlen, "out of memory");
fail:
    for (size_t i = 0; i < n; i++) cJSON_Delete(metas[i]);
done:
    if (d) closedir(d);
    free(metas);
    free(dir);
    cJSON_Delete(warnings);
    cJSON_Delete(root);
    return rc;
}

/* Reads <home>/evals/<file> into *text (returns new). */
static int read_eval_file(const char *home, const char *file, char **text, size_t *len, char *err, size_t errlen) {
    int rc = ALC_OK;
    char *dir = subdir(home, "evals", false, &rc, err, errlen);
    if (!dir) return rc;
    char *path = alc_fs_join(dir, file);
    free(dir);
    if (!path) {
        set_err(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    rc = alc_fs_read_file(path, RESULT_MAX_BYTES, text, len, err, errlen);
    free(path);
    return rc;
}

/*
 * The stored response of eval id. *text returns new (free()), NUL-terminated, length in *len.
 * ALC_OK; ALC_E_INVAL ("Invalid eval_id ..."); ALC_E_NOT_FOUND ("Eval result not found: ID");
 * ALC_E_IO / ALC_E_TOO_LARGE / ALC_E_NOMEM. Blocks on disk I/O; any thread.
 */
int alc_eval_store_detail(const char *home, const char *id, char **text, size_t *len,
                          char *err, size_t errlen) {
    *text = NULL;
    if (!alc_eval_store_valid_id(id)) {
        set_err(err, errlen, "Invalid eval_id '%.200s': letters, digits, '_', '-' and '.' only (no '/' or '..')",
                id ? id : "");
        return ALC_E_INVAL;
    }
    char file[ALC_EVAL_ID_MAX + 8];
    snprintf(file, sizeof file, "%s.json", id);
    int rc = read_eval_file(home, file, text, len, err, errlen);
    if (rc == ALC_E_NOT_FOUND) set_err(err, errlen, "Eval result not found: %s", id);
    return rc;
}

/* "compare_<a>_vs_<b>.json" into buf; false if an id is bad or the name is too long. */
static bool compare_file(const char *a, const char *b, char *buf, size_t buflen) {
    if (!alc_eval_store_valid_id(a) || !alc_eval_store_valid_id(b)) return false;
    int n = snprintf(buf, buflen, "compare_%s_vs_%s.json", a, b);
    return n > 0 && (size_t)n < buflen && alc_fs_valid_component(buf, (size_t)n);
}

/*
 * Reads the cached comparison of a and b (see the header). *text returns new. Blocks on disk
 * I/O; any thread.
 */
int alc_eval_store_compare_read(const char *home, const char *a, const char *b, char **text,
                                size_t *len, char *err, size_t errlen) {
    *text = NULL;
    if (!alc_eval_store_valid_id(a) || !alc_eval_store_valid_id(b)) {
        set_err(err, errlen, "invalid eval id");
        return ALC_E_INVAL;
    }
    char file[2 * ALC_EVAL_ID_MAX + 32];
    if (!compare_file(a, b, file, sizeof file)) {
        set_err(err, errlen, "not cached (ids too long for a file name)");
        return ALC_E_NOT_FOUND;
    }
    return read_eval_file(home, file, text, len, err, errlen);
}

/*
 * Writes text (len bytes, borrowed) as the cached comparison of a and b, 0600, atomically.
 * ALC_OK; ALC_E_INVAL (bad ids or name too long); ALC_E_IO; ALC_E_NOMEM. Blocks; any thread.
 */
int alc_eval_store_compare_write(const char *home, const char *a, const char *b, const char *text,
                                 size_t len, char *err, size_t errlen) {
    char file[2 * ALC_EVAL_ID_MAX + 32];
    if (!compare_file(a, b, file, sizeof file)) {
        set_err(err, errlen, "cannot cache: invalid eval ids or a file name that is too long");
        return ALC_E_INVAL;
    }
    int rc = ALC_OK;
    char *dir = subdir(home, "evals", true, &rc, err, errlen);
    if (!dir) return rc;
    char *path = alc_fs_join(dir, file);
    free(dir);
    if (!path) {
        set_err(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    rc = alc_fs_write_atomic(path, text, len, 0600, err, errlen);
    free(path);
    return rc;
}

/* ---- scenarios ----------------------------------------------------------------------- */

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Sorted names of the non-hidden *.lua entries of dir (*names returns new: free each and the
 * array). A missing directory gives 0 names. */
static int lua_names(const char *dir, char ***names, size_t *count, char *err, size_t errlen) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return ALC_OK;
        set_err(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return ALC_E_IO;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = ALC_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".lua")) continue;
        if (n >= MAX_LISTED) break;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **g = realloc(v, nc * sizeof *g);
            if (!g) { rc = ALC_E_NOMEM; break; }
            v = g;
            cap = nc;
        }
        if (!(v[n] = strdup(e->d_name))) { rc = ALC_E_NOMEM; break; }
        n++;
    }
    closedir(d);
    if (rc != ALC_OK) {
        for (size_t i = 0; i < n; i++) free(v[i]);
        free(v);
        set_err(err, errlen, "out of memory");
        return rc;
    }
    if (n > 1) qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    *count = n;
    return ALC_OK;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Copies the file name without ".lua" into buf. */
static void stem(const char *file, char *buf, size_t buflen) {
    size_t n = strlen(file) - 4;
    snprintf(buf, buflen, "%.*s", (int)(n < buflen ? n : buflen - 1), file);
}

/*
 * Lists the *.lua files of <home>/scenarios (see the header). *out returns new. ALC_OK, ALC_E_IO,
 * ALC_E_NOMEM. Blocks on disk I/O; any thread.
 */
int alc_eval_store_scenario_list(const char *home, cJSON **out, char *err, size_t errlen) {
    *out = NULL;
    int rc = ALC_OK;
    char **names = NULL;
    size_t n = 0;
    char *dir = subdir(home, "scenarios", false, &rc, err, errlen);
    if (!dir) return rc;
    cJSON *root = cJSON_CreateObject();
    cJSON *list = root ? cJSON_AddArrayToObject(root, "scenarios") : NULL;
    cJSON *fails = root ? cJSON_AddArrayToObject(root, "failures") : NULL;
    if (!list || !fails) goto oom;
    if ((rc = lua_names(dir, &names, &n, err, errlen)) != ALC_OK) goto fail;
    for (size_t i = 0; i < n; i++) {
        char name[PATH_MAX];
        stem(names[i], name, sizeof name);
        char *path = alc_fs_join(dir, names[i]);
        if (!path) goto oom;
        struct stat st;
        const char *problem = NULL;
        if (stat(path, &st) != 0) problem = strerror(errno);
        else if (!S_ISREG(st.st_mode)) problem = "not a regular file";
        else if (!alc_eval_store_valid_scenario_name(name)) problem = "not a valid scenario name";
        cJSON *e = cJSON_CreateObject();
        bool ok = e != NULL;
        if (ok && problem) {
            ok = cJSON_AddStringToObject(e, "file", names[i]) && cJSON_AddStringToObject(e, "error", problem) &&
                 cJSON_AddItemToArray(fails, e);
        } else if (ok) {
            ok = cJSON_AddStringToObject(e, "name", name) && cJSON_AddStringToObject(e, "path", path) &&
                 cJSON_AddNumberToObject(e, "size_bytes", (double)st.st_size) && cJSON_AddItemToArray(list, e);
        }
        free(path);
        if (!ok) {
            cJSON_Delete(e);
            goto oom;
        }
    }
    free_names(names, n);
    free(dir);
    *out = root;
    return ALC_OK;
oom:
    rc = ALC_E_NOMEM;
    set_err(err, errlen, "out of memory");
fail:
    free_names(names, n);
    free(dir);
    cJSON_Delete(root);
    return rc;
}

/*
 * Reads <home>/scenarios/<name>.lua (see the header). *text and *path return new (free()).
 * Blocks on disk I/O; any thread.
 */
int alc_eval_store_scenario_read(const char *home, const char *name, char **text, size_t *len,
                                 char **path, char *err, size_t errlen) {
    *text = NULL;
    *path = NULL;
    if (!alc_eval_store_valid_scenario_name(name)) {
        set_err(err, errlen, "Invalid scenario name '%.200s': letters, digits, '_', '-' and '.' only (no '/' or '..')",
                name ? name : "");
        return ALC_E_INVAL;
    }
    int rc = ALC_OK;
    char *dir = subdir(home, "scenarios", false, &rc, err, errlen);
    if (!dir) return rc;
    char file[ALC_EVAL_SCENARIO_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.lua", name);
    char *p = alc_fs_join(dir, file);
    free(dir);
    if (!p) {
        set_err(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    rc = alc_fs_read_file(p, ALC_EVAL_SCENARIO_MAX_BYTES, text, len, err, errlen);
    if (rc == ALC_E_NOT_FOUND) set_err(err, errlen, "Scenario '%s' not found at %s", name, p);
    if (rc != ALC_OK) {
        free(p);
        return rc;
    }
    *path = p;
    return ALC_OK;
}

/* Checks a git URL; returns new normalised form ("https://" added to host.tld/path). */
static int git_url(const char *url, char **out, char *err, size_t errlen) {
    *out = NULL;
    size_t n = strlen(url);
    static const char *const schemes[] = {"https://", "http://", "ssh://", "git://", "file://", NULL};
    bool bad = n == 0 || n > 2048 || url[0] == '-';
    for (size_t i = 0; i < n && !bad; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f || url[i] == '\\') bad = true;
    for (int i = 0; !bad && schemes[i]; i++) {
        size_t sl = strlen(schemes[i]);
        if (strncmp(url, schemes[i], sl) != 0) continue;
        if (n == sl || (i == 4 && url[sl] != '/')) break; /* file:// needs an absolute path */
        return (*out = strdup(url)) ? ALC_OK : ALC_E_NOMEM;
    }
    if (!bad && strncmp(url, "git@", 4) == 0) {
        const char *colon = strchr(url + 4, ':');
        if (colon && colon != url + 4 && colon[1]) return (*out = strdup(url)) ? ALC_OK : ALC_E_NOMEM;
    } else if (!bad && !strstr(url, "://") && url[0] != '.') {
        size_t seg = strcspn(url, "/");
        if (seg < n && memchr(url, '.', seg) && !memchr(url, ':', seg) && url[seg + 1]) {
            char *r = malloc(n + 9);
            if (!r) return ALC_E_NOMEM;
            snprintf(r, n + 9, "https://%s", url);
            *out = r;
            return ALC_OK;
        }
    }
    set_err(err, errlen,
            "invalid url '%.200s': give an absolute path (a directory or a .lua file) or a git URL (https://, http://, "
            "ssh://, git://, file:///..., git@host:path, or host.tld/owner/repo)",
            url);
    return ALC_E_INVAL;
}

static bool push_name(cJSON *arr, const char *name) {
    cJSON *s = cJSON_CreateString(name);
    if (!s || !cJSON_AddItemToArray(arr, s)) {
        cJSON_Delete(s);
        return false;
    }
    return true;
}

/* Copies one <src_dir>/<file> (a *.lua name) into dst_dir unless present; records the outcome
 * in installed / skipped / failures. Returns ALC_E_NOMEM only. */
static int install_one(const char *src_dir, const char *file, const char *dst_dir, cJSON *installed,
                       cJSON *skipped, cJSON *failures) {
    char name[PATH_MAX];
    stem(file, name, sizeof name);
    char *src = alc_fs_join(src_dir, file), *dst = alc_fs_join(dst_dir, file), *text = NULL;
    char problem[600] = "";
    int rc = ALC_OK;
    if (!src || !dst) { rc = ALC_E_NOMEM; goto done; }
    struct stat st;
    if (!alc_eval_store_valid_scenario_name(name)) {
        snprintf(problem, sizeof problem, "not a valid scenario name (letters, digits, '_', '-', '.')");
    } else if (lstat(src, &st) != 0) {
        snprintf(problem, sizeof problem, "cannot read %s: %s", src, strerror(errno));
    } else if (S_ISLNK(st.st_mode)) {
        snprintf(problem, sizeof problem, "a symbolic link; not copied");
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(problem, sizeof problem, "not a regular file");
    } else if (lstat(dst, &st) == 0) {
        if (!push_name(skipped, name)) rc = ALC_E_NOMEM;
        goto done;
    } else {
        size_t len = 0;
        char ferr[512];
        int r = alc_fs_read_file(src, ALC_EVAL_SCENARIO_MAX_BYTES, &text, &len, ferr, sizeof ferr);
        if (r == ALC_E_NOMEM) { rc = r; goto done; }
        if (r == ALC_OK) r = alc_fs_write_atomic(dst, text, len, 0600, ferr, sizeof ferr);
        if (r != ALC_OK) snprintf(problem, sizeof problem, "%s", ferr);
        else if (!push_name(installed, name)) rc = ALC_E_NOMEM;
    }
    if (problem[0]) {
        cJSON *f = cJSON_CreateObject();
        if (!f || !cJSON_AddStringToObject(f, "name", name) || !cJSON_AddStringToObject(f, "error", problem) ||
            !cJSON_AddItemToArray(failures, f)) {
            cJSON_Delete(f);
            rc = ALC_E_NOMEM;
        }
    }
done:
    free(text);
    free(src);
    free(dst);
    return rc;
}

/* Removes <tmproot>/<base> recursively (best effort). */
static void remove_tmp(const char *tmproot, const char *tmpdir) {
    int fd = open(tmproot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    char ignored[256];
    (void)alc__pkg_remove_at(fd, strrchr(tmpdir, '/') + 1, ignored, sizeof ignored);
    close(fd);
}

/*
 * Installs scenario files from url (see the header). home, url: borrowed. *report returns new
 * on ALC_OK. Blocks on disk I/O and on git (bounded); forks when url is a git URL. Any thread.
 */
int alc_eval_store_scenario_install(const char *home, const char *url, cJSON **report, char *err,
                                    size_t errlen) {
    *report = NULL;
    int rc = ALC_OK;
    char *git = NULL, *tmproot = NULL, *dst = NULL, *src_dir = NULL, *single = NULL;
    char tmpdir[PATH_MAX] = "", clone[PATH_MAX + 8];
    char **names = NULL;
    size_t n = 0;
    cJSON *rep = NULL;
    if (!url || !*url) {
        set_err(err, errlen, "url is empty");
        return ALC_E_INVAL;
    }
    if (url[0] == '/') {
        struct stat st;
        if (stat(url, &st) != 0) {
            rc = errno == ENOENT ? ALC_E_NOT_FOUND : ALC_E_IO;
            set_err(err, errlen, "cannot read %s: %s", url, strerror(errno));
            goto fail;
        }
        if (S_ISREG(st.st_mode) && ends_with(url, ".lua")) {
            const char *slash = strrchr(url, '/');
            src_dir = slash == url ? strdup("/") : strndup(url, (size_t)(slash - url));
            single = strdup(slash + 1);
            if (!src_dir || !single) goto oom;
        } else if (S_ISDIR(st.st_mode)) {
            if (!(src_dir = strdup(url))) goto oom;
        } else {
            rc = ALC_E_INVAL;
            set_err(err, errlen, "%s is neither a directory nor a .lua file", url);
            goto fail;
        }
    } else {
        if ((rc = git_url(url, &git, err, errlen)) != ALC_OK) goto fail;
        if (!(tmproot = subdir(home, "tmp", true, &rc, err, errlen))) goto fail;
        snprintf(tmpdir, sizeof tmpdir, "%s/scenarios-XXXXXX", tmproot);
        if (!mkdtemp(tmpdir)) {
            rc = ALC_E_IO;
            set_err(err, errlen, "cannot create a temporary directory in %s: %s", tmproot, strerror(errno));
            tmpdir[0] = '\0';
            goto fail;
        }
        snprintf(clone, sizeof clone, "%s/repo", tmpdir);
        if ((rc = alc__pkg_git_clone(git, clone, ALC_EVAL_GIT_TIMEOUT_MS, err, errlen)) != ALC_OK) goto fail;
        if (!(src_dir = strdup(clone))) goto oom;
    }
    if (!single) {
        char *sub = alc_fs_join(src_dir, "scenarios");
        if (!sub) goto oom;
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            free(src_dir);
            src_dir = sub;
        } else {
            free(sub);
        }
        if ((rc = lua_names(src_dir, &names, &n, err, errlen)) != ALC_OK) goto fail;
    } else {
        if (!(names = malloc(sizeof *names))) goto oom;
        names[0] = single;
        single = NULL;
        n = 1;
    }
    if (n == 0) {
        rc = ALC_E_NOT_FOUND;
        set_err(err, errlen, "No .lua scenario files found in source.");
        goto fail;
    }
    if (!(dst = subdir(home, "scenarios", true, &rc, err, errlen))) goto fail;
    rep = cJSON_CreateObject();
    cJSON *installed = rep ? cJSON_AddArrayToObject(rep, "installed") : NULL;
    cJSON *skipped = rep ? cJSON_AddArrayToObject(rep, "skipped") : NULL;
    cJSON *failures = rep ? cJSON_AddArrayToObject(rep, "failures") : NULL;
    if (!installed || !skipped || !failures || !cJSON_AddStringToObject(rep, "source", url) ||
        !cJSON_AddStringToObject(rep, "scenarios_dir", dst))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (install_one(src_dir, names[i], dst, installed, skipped, failures) != ALC_OK) goto oom;
    *report = rep;
    rep = NULL;
    goto done;
oom:
    rc = ALC_E_NOMEM;
    set_err(err, errlen, "out of memory");
fail:
done:
    if (tmpdir[0]) remove_tmp(tmproot, tmpdir);
    cJSON_Delete(rep);
    free_names(names, n);
    free(single);
    free(src_dir);
    free(dst);
    free(tmproot);
    free(git);
    return rc;
}
