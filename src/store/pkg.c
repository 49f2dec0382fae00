/*
 * pkg.c — the package store under $ALC_HOME/packages: installing (bundled collection, local
 * directory, git URL), removing, linking and unlinking, with installed.json bookkeeping.
 * See pkg.h for the rules; pkg_fs.c does the descriptor-based copying and deleting, pkg_git.c
 * the clone, pkg_list.c the read-only listing, the scaffold and project init.
 *
 * Each mutation opens the packages directory, takes an exclusive flock on it for the whole
 * operation (so a server and `alc init` in another process do not interleave), loads
 * installed.json, works through the directory fd, saves installed.json atomically, and closes
 * the fd (dropping the flock). Argument checks all happen before the first change.
 *
 * Threads: any thread; blocking (disk, git). Holds no lock between calls; the only process-wide
 * state is an atomic counter for staging names.
 */
#define _XOPEN_SOURCE 700 /* realpath, mkdtemp */
#include "alc/pkg.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/project.h"
#include "pkg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSTALLED_JSON_MAX ((size_t)16 << 20)

static atomic_ulong stage_seq = 0;

/* ---- names and paths ---------------------------------------------------------------- */

/* True for a package directory name; see pkg.h. */
bool alc_pkg_valid_name(const char *name) {
    if (!name || !*name || name[0] == '-') return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return n <= ALC_PKG_NAME_MAX;
}

/* True for ^[a-z][a-z0-9_]*$ of at most ALC_PKG_SCAFFOLD_NAME_MAX bytes. */
bool alc_pkg_valid_scaffold_name(const char *name) {
    if (!name || !(name[0] >= 'a' && name[0] <= 'z')) return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
    return n <= ALC_PKG_SCAFFOLD_NAME_MAX;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists_at(int dir_fd, const char *name) {
    struct stat st;
    return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Appends "s" to a comma-separated list in buf. */
static void list_add(char *buf, size_t len, const char *s) {
    size_t n = strlen(buf), k = strlen(s);
    if (n + k + 3 >= len) return;  // keep what fits; the message stays readable
    if (n) { memcpy(buf + n, ", ", 2); n += 2; }
    memcpy(buf + n, s, k + 1);
}

/* Finds the bundled collection; see pkg.h for the order. */
int alc_pkg_bundled_dir(char **dir_out, char *err, size_t errlen) {
    *dir_out = NULL;
    const char *env = getenv("ALC_BUNDLED_DIR");
    if (env && *env) {
        if (is_dir(env)) return (*dir_out = strdup(env)) ? ALC_OK : ALC_E_NOMEM;
        snprintf(err, errlen, "ALC_BUNDLED_DIR=%s is not a directory", env);
        return ALC_E_NOT_FOUND;
    }
    char tried[2048] = "";
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        // a Meson build directory: the binary is next to meson-info/, which names the source
        char info[PATH_MAX + 40];
        snprintf(info, sizeof info, "%s/meson-info/meson-info.json", exe);
        char *text = NULL;
        if (alc_fs_read_file(info, 1 << 20, &text, NULL, NULL, 0) == ALC_OK) {
            cJSON *doc = cJSON_Parse(text);
            const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(doc, "directories");
            const cJSON *src = cJSON_GetObjectItemCaseSensitive(dirs, "source");
            if (cJSON_IsString(src)) {
                char cand[PATH_MAX + 16];
                snprintf(cand, sizeof cand, "%s/packages", src->valuestring);
                if (is_dir(cand)) {
                    cJSON_Delete(doc);
                    free(text);
                    return (*dir_out = strdup(cand)) ? ALC_OK : ALC_E_NOMEM;
                }
                list_add(tried, sizeof tried, cand);
            }
            cJSON_Delete(doc);
            free(text);
        }
        char cand[PATH_MAX + 32];
        snprintf(cand, sizeof cand, "%s/../share/alc/packages", exe);
        char real[PATH_MAX];
        if (realpath(cand, real) && is_dir(real)) return (*dir_out = strdup(real)) ? ALC_OK : ALC_E_NOMEM;
        list_add(tried, sizeof tried, cand);
    }
#ifdef ALC_INSTALL_DATADIR
    const char *fixed = ALC_INSTALL_DATADIR "/alc/packages";
    if (is_dir(fixed)) return (*dir_out = strdup(fixed)) ? ALC_OK : ALC_E_NOMEM;
    list_add(tried, sizeof tried, fixed);
#endif
    snprintf(err, errlen, "no bundled package collection found (looked in: %s); set ALC_BUNDLED_DIR to its directory",
             tried[0] ? tried : "nothing to look in");
    return ALC_E_NOT_FOUND;
}

/* ---- the store: packages dir fd + flock + installed.json ---------------------------- */

typedef struct store {
    char *pkgdir;       /* $ALC_HOME/packages */
    char *json_path;    /* $ALC_HOME/installed.json */
    int fd;             /* packages dir, flocked exclusively */
    cJSON *doc;         /* installed.json */
    cJSON *pkgs;        /* doc.packages (borrowed) */
    bool dirty;
} store;

static void store_close(store *s) {
    if (s->fd >= 0) close(s->fd);  // drops the flock
    cJSON_Delete(s->doc);
    free(s->pkgdir);
    free(s->json_path);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* Opens the store. create: make $ALC_HOME/packages when missing; else a missing one is
 * ALC_E_NOT_FOUND. A malformed installed.json is refused (ALC_E_INVAL) so it is never lost. */
static int store_open(store *s, const alc_config *cfg, bool create, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->pkgdir = alc_fs_join(cfg->home, "packages");
    s->json_path = alc_fs_join(cfg->home, "installed.json");
    if (!s->pkgdir || !s->json_path) { snprintf(err, errlen, "out of memory"); store_close(s); return ALC_E_NOMEM; }
    if (create && alc_fs_mkdirs(s->pkgdir, 0700) != ALC_OK) {
        snprintf(err, errlen, "cannot create %s: %s", s->pkgdir, strerror(errno));
        store_close(s);
        return ALC_E_IO;
    }
    s->fd = open(s->pkgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", s->pkgdir, strerror(e));
        store_close(s);
        return e == ENOENT ? ALC_E_NOT_FOUND : ALC_E_IO;
    }
    while (flock(s->fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        snprintf(err, errlen, "cannot lock %s: %s", s->pkgdir, strerror(errno));
        store_close(s);
        return ALC_E_IO;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    int rc = alc_fs_read_file(s->json_path, INSTALLED_JSON_MAX, &text, &len, msg, sizeof msg);
    if (rc == ALC_E_NOT_FOUND) {
        s->doc = cJSON_CreateObject();
    } else if (rc != ALC_OK) {
        snprintf(err, errlen, "%s", msg);
        store_close(s);
        return rc;
    } else {
        const char *end = NULL;
        s->doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);  // len + 1: the NUL is part of the input
        free(text);
        if (!cJSON_IsObject(s->doc) ||
            (cJSON_GetObjectItemCaseSensitive(s->doc, "packages") &&
             !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->doc, "packages")))) {
            snprintf(err, errlen, "%s is not a JSON object of the form {\"packages\": {...}}; fix or remove it (nothing was changed)", s->json_path);
            store_close(s);
            return ALC_E_INVAL;
        }
    }
    if (!s->doc) { snprintf(err, errlen, "out of memory"); store_close(s); return ALC_E_NOMEM; }
    s->pkgs = cJSON_GetObjectItemCaseSensitive(s->doc, "packages");
    if (!s->pkgs) s->pkgs = cJSON_AddObjectToObject(s->doc, "packages");
    if (!s->pkgs) { snprintf(err, errlen, "out of memory"); store_close(s); return ALC_E_NOMEM; }
    return ALC_OK;
}

static int store_save(store *s, char *err, size_t errlen) {
    if (!s->dirty) return ALC_OK;
    char *text = cJSON_Print(s->doc);
    if (!text) { snprintf(err, errlen, "out of memory writing installed.json"); return ALC_E_NOMEM; }
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (line) { text = line; text[n++] = '\n'; text[n] = '\0'; }
    int rc = alc_fs_write_atomic(s->json_path, text, n, 0600, err, errlen);
    cJSON_free(text);
    if (rc == ALC_OK) s->dirty = false;
    return rc;
}

/* Version from <pkgdir>/<name>/init.lua, or NULL. Returns new. */
static char *installed_version(const store *s, const char *name) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/init.lua", s->pkgdir, name);
    char *text = NULL;
    size_t len = 0;
    if (alc_fs_read_file(path, 1 << 20, &text, &len, NULL, 0) != ALC_OK) return NULL;
    char *v = alc_pkg_meta_version(text, len);
    free(text);
    return v;
}

/* installed.json entry for name (replaces an old one, keeping its installed_at). */
static void record(store *s, const char *name, const char *type, const char *key, const char *origin) {
    char now[32];
    alc__pkg_iso_now(now);
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(s->pkgs, name);
    const cJSON *old_at = cJSON_GetObjectItemCaseSensitive(old, "installed_at");
    cJSON *e = cJSON_CreateObject();
    char *ver = installed_version(s, name);
    if (ver) cJSON_AddStringToObject(e, "version", ver);
    free(ver);
    cJSON *src = cJSON_AddObjectToObject(e, "source");
    cJSON_AddStringToObject(src, "type", type);
    if (key && origin) cJSON_AddStringToObject(src, key, origin);
    cJSON_AddStringToObject(e, "installed_at", cJSON_IsString(old_at) ? old_at->valuestring : now);
    cJSON_AddStringToObject(e, "updated_at", now);
    cJSON_DeleteItemFromObjectCaseSensitive(s->pkgs, name);
    if (!cJSON_AddItemToObject(s->pkgs, name, e)) cJSON_Delete(e);
    s->dirty = true;
}

static bool unrecord(store *s, const char *name) {
    if (!cJSON_GetObjectItemCaseSensitive(s->pkgs, name)) return false;
    cJSON_DeleteItemFromObjectCaseSensitive(s->pkgs, name);
    s->dirty = true;
    return true;
}

/* Installs the package whose directory is src_fd as <pkgdir>/<name>: copy into a hidden
 * staging directory, then rename into place (replacing an existing entry only when force). */
static int install_one(store *s, int src_fd, const char *name, bool force, alc__pkg_copy *copy,
                       char *err, size_t errlen) {
    char stage[ALC_PKG_NAME_MAX + 64], trash[ALC_PKG_NAME_MAX + 64];
    unsigned long seq = atomic_fetch_add(&stage_seq, 1);
    snprintf(stage, sizeof stage, ".stage-%s-%ld-%lu", name, (long)getpid(), seq);
    snprintf(trash, sizeof trash, ".trash-%s-%ld-%lu", name, (long)getpid(), seq);
    if (mkdirat(s->fd, stage, 0700) != 0) {
        snprintf(err, errlen, "cannot create a staging directory in %s: %s", s->pkgdir, strerror(errno));
        return ALC_E_IO;
    }
    int dst = openat(s->fd, stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = dst < 0 ? ALC_E_IO : alc__pkg_copy_tree(src_fd, dst, name, 0, copy, err, errlen);
    if (dst < 0) snprintf(err, errlen, "cannot open the staging directory: %s", strerror(errno));
    else close(dst);
    if (rc != ALC_OK) goto fail;
    if (exists_at(s->fd, name)) {
        if (!force) {
            snprintf(err, errlen, "package '%s' is already installed at %s/%s (pass force to replace it)", name, s->pkgdir, name);
            rc = ALC_E_EXISTS;
            goto fail;
        }
        if (renameat(s->fd, name, s->fd, trash) != 0) {
            snprintf(err, errlen, "cannot move the old %s/%s aside: %s", s->pkgdir, name, strerror(errno));
            rc = ALC_E_IO;
            goto fail;
        }
        if (renameat(s->fd, stage, s->fd, name) != 0) {
            snprintf(err, errlen, "cannot move the new %s into place: %s", name, strerror(errno));
            (void)renameat(s->fd, trash, s->fd, name);  // put the old one back
            rc = ALC_E_IO;
            goto fail;
        }
        char ignored[256];
        (void)alc__pkg_remove_at(s->fd, trash, ignored, sizeof ignored);
        return ALC_OK;
    }
    if (renameat(s->fd, stage, s->fd, name) != 0) {
        snprintf(err, errlen, "cannot move %s into place: %s", name, strerror(errno));
        rc = ALC_E_IO;
        goto fail;
    }
    return ALC_OK;
fail:;
    char ignored[256];
    (void)alc__pkg_remove_at(s->fd, stage, ignored, sizeof ignored);
    return rc;
}

/* ---- installing ------------------------------------------------------------------- */

typedef struct install_req {
    const char *src;            /* directory to install from */
    const char *name;           /* explicit name for a single package, or NULL */
    const char *default_name;   /* name derived from the path / URL */
    bool force;
    bool local;                 /* "local_" prefix on the mode */
    const char *type;           /* installed.json source.type: local | git | bundled */
    const char *origin_key;     /* "path" or "url" */
    const char *origin;
} install_req;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-directories of src_fd that hold an init.lua. Returns new array of
 * new strings (NULL-terminated) or NULL on OOM; symlinked entries go to skipped_symlinks and
 * directories with unusable names to warnings. */
static char **collection_members(int src_fd, cJSON *skipped_symlinks, cJSON *warnings, size_t *n_out) {
    *n_out = 0;
    int dfd = dup(src_fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) { if (dfd >= 0) close(dfd); return NULL; }
    rewinddir(d);
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (nm[0] == '.') continue;
        struct stat st;
        if (fstatat(src_fd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISLNK(st.st_mode)) { cJSON_AddItemToArray(skipped_symlinks, cJSON_CreateString(nm)); continue; }
        if (!S_ISDIR(st.st_mode) || !alc__pkg_has_init(src_fd, nm)) continue;
        if (!alc_pkg_valid_name(nm)) {
            char w[400];
            snprintf(w, sizeof w, "'%.200s' was not installed: not a valid package name (letters, digits, '_', '-')", nm);
            cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
            continue;
        }
        if (n + 1 >= cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *nv);
            if (!nv) { for (size_t i = 0; i < n; i++) free(v[i]); free(v); v = NULL; break; }
            v = nv;
        }
        if (!(v[n] = strdup(nm))) continue;
        n++;
    }
    closedir(d);
    if (!v) return NULL;
    v[n] = NULL;
    qsort(v, n, sizeof *v, cmp_str);
    *n_out = n;
    return v;
}

static void free_names(char **v) {
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

static int install_from_dir(const alc_config *cfg, const install_req *r, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    int rc = ALC_OK;
    char **members = NULL;
    size_t n_members = 0;
    store s = {.fd = -1};
    bool opened = false;
    cJSON *rep = cJSON_CreateObject();
    cJSON *installed = cJSON_AddArrayToObject(rep, "installed");
    cJSON *skipped = cJSON_AddArrayToObject(rep, "skipped");
    cJSON *links = cJSON_AddArrayToObject(rep, "skipped_symlinks");
    cJSON *warnings = cJSON_CreateArray();
    int src_fd = open(r->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!rep || !installed || !skipped || !links || !warnings) { snprintf(err, errlen, "out of memory"); rc = ALC_E_NOMEM; goto done; }
    if (src_fd < 0) {
        rc = errno == ENOENT ? ALC_E_NOT_FOUND : errno == ENOTDIR ? ALC_E_INVAL : ALC_E_IO;
        snprintf(err, errlen, "cannot open %s: %s", r->src, strerror(errno));
        goto done;
    }
    bool single = alc__pkg_has_init(src_fd, NULL);
    const char *name = r->name ? r->name : r->default_name;
    if (single) {
        if (!name || !alc_pkg_valid_name(name)) {
            snprintf(err, errlen, "cannot use '%.100s' as the package name (letters, digits, '_', '-'); pass a name", name ? name : "");
            rc = ALC_E_INVAL;
            goto done;
        }
    } else {
        members = collection_members(src_fd, links, warnings, &n_members);
        if (!members) { snprintf(err, errlen, "cannot list %s: %s", r->src, strerror(errno)); rc = ALC_E_IO; goto done; }
        if (n_members == 0) {
            snprintf(err, errlen, "%s is neither a package (no init.lua at its root) nor a collection (no sub-directory with an init.lua)",
                     r->origin ? r->origin : r->src);
            rc = ALC_E_NOT_FOUND;
            goto done;
        }
        if (r->name) cJSON_AddItemToArray(warnings, cJSON_CreateString("'name' is ignored when installing a collection"));
    }
    if ((rc = store_open(&s, cfg, true, err, errlen)) != ALC_OK) goto done;
    opened = true;
    alc__pkg_copy copy = {.skipped_symlinks = links};
    if (single) {
        if (exists_at(s.fd, name) && !r->force) {
            snprintf(err, errlen, "package '%s' is already installed at %s/%s; pass force: true to replace it", name, s.pkgdir, name);
            rc = ALC_E_EXISTS;
            goto done;
        }
        if ((rc = install_one(&s, src_fd, name, r->force, &copy, err, errlen)) != ALC_OK) goto done;
        record(&s, name, r->type, r->origin_key, r->origin);
        cJSON_AddItemToArray(installed, cJSON_CreateString(name));
    } else {
        for (size_t i = 0; i < n_members; i++) {
            if (exists_at(s.fd, members[i]) && !r->force) {
                cJSON_AddItemToArray(skipped, cJSON_CreateString(members[i]));
                continue;
            }
            int sub = openat(src_fd, members[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) { snprintf(err, errlen, "cannot open %s/%s: %s", r->src, members[i], strerror(errno)); rc = ALC_E_IO; }
            else {
                rc = install_one(&s, sub, members[i], r->force, &copy, err, errlen);
                close(sub);
            }
            if (rc != ALC_OK) break;
            char origin[PATH_MAX + 8];
            snprintf(origin, sizeof origin, "%s", r->origin ? r->origin : r->src);
            record(&s, members[i], r->type, r->origin_key, origin);
            cJSON_AddItemToArray(installed, cJSON_CreateString(members[i]));
        }
        if (rc != ALC_OK && cJSON_GetArraySize(installed) > 0) {
            size_t l = strlen(err);
            snprintf(err + l, errlen > l ? errlen - l : 0, " (installed before the failure: %d package(s), kept)", cJSON_GetArraySize(installed));
        }
    }
    char save_err[512];
    int save_rc = store_save(&s, save_err, sizeof save_err);  // also after a partial collection install
    if (rc == ALC_OK && save_rc != ALC_OK) {
        snprintf(err, errlen, "%s", save_err);
        rc = save_rc;
    }
    if (rc != ALC_OK) goto done;
    const char *mode = single ? (r->local ? "local_single" : "single") : (r->local ? "local_collection" : "collection");
    cJSON_AddStringToObject(rep, "mode", mode);
    cJSON_AddStringToObject(rep, "source", r->origin ? r->origin : r->src);
    cJSON_AddStringToObject(rep, "packages_dir", s.pkgdir);
    cJSON_AddStringToObject(rep, "installed_json", s.json_path);
    char types[PATH_MAX];
    snprintf(types, sizeof types, "%s/types/alc.d.lua", cfg->home);
    if (access(types, R_OK) == 0) cJSON_AddStringToObject(rep, "types_path", types);
    if (cJSON_GetArraySize(warnings) > 0) { cJSON_AddItemToObject(rep, "warnings", warnings); warnings = NULL; }
    *report = rep;
    rep = NULL;
done:
    if (opened) store_close(&s);
    if (src_fd >= 0) close(src_fd);
    free_names(members);
    cJSON_Delete(warnings);
    cJSON_Delete(rep);
    return rc;
}

/* Checks a git URL and returns new normalised form (https:// added to host.tld/path). */
static int git_url(const char *url, char **out, char *err, size_t errlen) {
    *out = NULL;
    size_t n = strlen(url);
    bool bad_char = false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f || url[i] == '\\') bad_char = true;
    static const char *const schemes[] = {"https://", "http://", "ssh://", "git://", "file://", NULL};
    if (n == 0 || n > 2048 || bad_char || url[0] == '-') goto bad;
    for (int i = 0; schemes[i]; i++) {
        size_t sl = strlen(schemes[i]);
        if (strncmp(url, schemes[i], sl) == 0) {
            if (n == sl || (i == 4 && url[sl] != '/')) goto bad;  // file:// needs an absolute path
            return (*out = strdup(url)) ? ALC_OK : ALC_E_NOMEM;
        }
    }
    if (strncmp(url, "git@", 4) == 0) {
        const char *colon = strchr(url + 4, ':');
        if (!colon || colon == url + 4 || !colon[1]) goto bad;
        return (*out = strdup(url)) ? ALC_OK : ALC_E_NOMEM;
    }
    if (!strstr(url, "://") && url[0] != '.') {
        size_t seg = strcspn(url, "/");
        if (seg < n && memchr(url, '.', seg) && !memchr(url, ':', seg) && url[seg + 1]) {
            char *r = malloc(n + 9);
            if (!r) return ALC_E_NOMEM;
            snprintf(r, n + 9, "https://%s", url);
            *out = r;
            return ALC_OK;
        }
    }
bad:
    snprintf(err, errlen,
             "invalid url '%.200s': give an absolute path to a local directory, or a git URL (https://, http://, ssh://, "
             "git://, file:///..., git@host:path, or host.tld/owner/repo); relative paths are not accepted",
             url);
    return ALC_E_INVAL;
}

/* Last path segment of a URL or path without a trailing "/" or ".git". Returns new. */
static char *last_segment(const char *s) {
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/') n--;
    size_t start = n;
    while (start > 0 && s[start - 1] != '/' && s[start - 1] != ':') start--;
    size_t len = n - start;
    if (len > 4 && strncmp(s + n - 4, ".git", 4) == 0) len -= 4;
    return strndup(s + start, len);
}

/* Installs from a local directory or git URL; see pkg.h. */
int alc_pkg_install(const alc_config *cfg, const char *url, const char *name, bool force, cJSON **report,
                    char *err, size_t errlen) {
    *report = NULL;
    if (!url || !*url) { snprintf(err, errlen, "'url' is empty"); return ALC_E_INVAL; }
    if (name && !alc_pkg_valid_name(name)) {
        snprintf(err, errlen, "invalid package name '%.100s': use letters, digits, '_' and '-' (no '/', '..' or leading '-')", name);
        return ALC_E_INVAL;
    }
    char *pkgdir = alc_fs_join(cfg->home, "packages");
    if (!pkgdir) return ALC_E_NOMEM;
    int rc;
    if (url[0] == '/') {
        char real[PATH_MAX];
        if (!realpath(url, real)) {
            rc = errno == ENOENT ? ALC_E_NOT_FOUND : ALC_E_INVAL;
            snprintf(err, errlen, "cannot use %.300s: %s", url, strerror(errno));
        } else if (!is_dir(real)) {
            snprintf(err, errlen, "%.300s is not a directory", url);
            rc = ALC_E_INVAL;
        } else if (alc_project_path_inside(real, pkgdir) || alc_project_path_inside(pkgdir, real) ||
                   alc_project_path_inside(cfg->home, real)) {
            snprintf(err, errlen, "refusing to install from %.300s: it is inside %s or contains ALC_HOME", real, pkgdir);
            rc = ALC_E_INVAL;
        } else {
            char *dflt = last_segment(real);
            install_req r = {.src = real, .name = name, .default_name = dflt, .force = force, .local = true,
                             .type = "local", .origin_key = "path", .origin = real};
            rc = dflt ? install_from_dir(cfg, &r, report, err, errlen) : ALC_E_NOMEM;
            free(dflt);
        }
        free(pkgdir);
        return rc;
    }
    free(pkgdir);
    char *norm = NULL, *dflt = NULL, *tmproot = NULL;
    char tmpdir[PATH_MAX] = "", dest[PATH_MAX + 8];
    if ((rc = git_url(url, &norm, err, errlen)) != ALC_OK) return rc;
    dflt = last_segment(norm);
    tmproot = alc_fs_join(cfg->home, "tmp");
    if (!dflt || !tmproot) { rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory"); goto done; }
    if (alc_fs_mkdirs(tmproot, 0700) != ALC_OK) {
        snprintf(err, errlen, "cannot create %s: %s", tmproot, strerror(errno));
        rc = ALC_E_IO;
        goto done;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/git-XXXXXX", tmproot);
    if (!mkdtemp(tmpdir)) {
        snprintf(err, errlen, "cannot create a temporary directory in %s: %s", tmproot, strerror(errno));
        tmpdir[0] = '\0';
        rc = ALC_E_IO;
        goto done;
    }
    snprintf(dest, sizeof dest, "%s/repo", tmpdir);
    if ((rc = alc__pkg_git_clone(norm, dest, ALC_PKG_GIT_TIMEOUT_MS, err, errlen)) != ALC_OK) goto done;
    install_req r = {.src = dest, .name = name, .default_name = dflt, .force = force, .local = false,
                     .type = "git", .origin_key = "url", .origin = norm};
    rc = install_from_dir(cfg, &r, report, err, errlen);
done:
    if (tmpdir[0]) {
        int fd = open(tmproot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            char ignored[256];
            (void)alc__pkg_remove_at(fd, strrchr(tmpdir, '/') + 1, ignored, sizeof ignored);
            close(fd);
        }
    }
    free(tmproot);
    free(dflt);
    free(norm);
    return rc;
}

/* Copies <bundled>/../types/alc.d.lua to $ALC_HOME/types/alc.d.lua; adds types_path or
 * types_warning to rep. */
static void write_types(const alc_config *cfg, const char *bundled, cJSON *rep) {
    char src[PATH_MAX + 32], dir[PATH_MAX], dst[PATH_MAX + 16], msg[600];
    snprintf(src, sizeof src, "%s/../types/alc.d.lua", bundled);
    snprintf(dir, sizeof dir, "%s/types", cfg->home);
    snprintf(dst, sizeof dst, "%s/alc.d.lua", dir);
    char *text = NULL;
    size_t len = 0;
    if (alc_fs_read_file(src, 16 << 20, &text, &len, msg, sizeof msg) != ALC_OK) {
        char w[800];
        snprintf(w, sizeof w, "no type stubs written: %s", msg);
        cJSON_AddStringToObject(rep, "types_warning", w);
        return;
    }
    if (alc_fs_mkdirs(dir, 0700) != ALC_OK || alc_fs_write_atomic(dst, text, len, 0600, msg, sizeof msg) != ALC_OK) {
        char w[800];
        snprintf(w, sizeof w, "cannot write %.300s: %.400s", dst, msg);
        cJSON_AddStringToObject(rep, "types_warning", w);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(rep, "types_path");
        cJSON_AddStringToObject(rep, "types_path", dst);
    }
    free(text);
}

/* Installs the bundled collection; see pkg.h. */
int alc_pkg_install_bundled(const alc_config *cfg, bool force, bool only_if_empty, cJSON **report,
                            char *err, size_t errlen) {
    *report = NULL;
    char *pkgdir = alc_fs_join(cfg->home, "packages");
    if (!pkgdir) return ALC_E_NOMEM;
    bool empty = alc__pkg_dir_visibly_empty(pkgdir);
    free(pkgdir);
    if (only_if_empty && !empty) return ALC_OK;
    char *dir = NULL;
    int rc = alc_pkg_bundled_dir(&dir, err, errlen);
    if (rc != ALC_OK) return rc;
    install_req r = {.src = dir, .force = force, .local = true, .type = "bundled", .origin_key = "path", .origin = dir};
    rc = install_from_dir(cfg, &r, report, err, errlen);
    if (rc == ALC_OK) {
        cJSON_AddStringToObject(*report, "source_dir", dir);
        write_types(cfg, dir, *report);
    }
    free(dir);
    return rc;
}

/* ---- remove, link, unlink --------------------------------------------------------- */

/* Checks a package name; see pkg_internal.h. */
int alc__pkg_check_name(const char *name, char *err, size_t errlen) {
    if (alc_pkg_valid_name(name)) return ALC_OK;
    snprintf(err, errlen, "invalid package name '%.100s': use letters, digits, '_' and '-' (no '/', '..' or leading '-')", name ? name : "");
    return ALC_E_INVAL;
}

/* The real directory behind a link's path; see pkg_internal.h. */
int alc__pkg_link_source(const char *path, const char *name, char *real, char *err, size_t errlen) {
    if (!path || path[0] != '/') {
        snprintf(err, errlen, "'path' must be an absolute path to a package directory, got '%.200s'", path ? path : "");
        return ALC_E_INVAL;
    }
    if (name && alc__pkg_check_name(name, err, errlen) != ALC_OK) return ALC_E_INVAL;
    if (!realpath(path, real)) {
        int e = errno;
        snprintf(err, errlen, "cannot link %.300s: %s", path, strerror(e));
        return e == ENOENT ? ALC_E_NOT_FOUND : ALC_E_INVAL;
    }
    if (!is_dir(real)) { snprintf(err, errlen, "%.300s is not a directory", path); return ALC_E_INVAL; }
    return ALC_OK;
}

/* Removes an installed package or link; see pkg.h. */
int alc_pkg_remove(const alc_config *cfg, const char *name, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    int rc = alc__pkg_check_name(name, err, errlen);
    if (rc != ALC_OK) return rc;
    store s;
    if ((rc = store_open(&s, cfg, false, err, errlen)) != ALC_OK) {
        if (rc == ALC_E_NOT_FOUND) snprintf(err, errlen, "package '%s' is not installed (there is no %s/packages)", name, cfg->home);
        return rc;
    }
    struct stat st;
    bool on_disk = fstatat(s.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool recorded = cJSON_GetObjectItemCaseSensitive(s.pkgs, name) != NULL;
    cJSON *rep = NULL;
    if (!on_disk && !recorded) {
        snprintf(err, errlen, "package '%s' is not installed in %s (alc_pkg_list shows what is)", name, s.pkgdir);
        rc = ALC_E_NOT_FOUND;
        goto done;
    }
    bool was_link = on_disk && S_ISLNK(st.st_mode);
    char target[PATH_MAX] = "";
    if (was_link) {
        ssize_t n = readlinkat(s.fd, name, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
    }
    if (on_disk && (rc = alc__pkg_remove_at(s.fd, name, err, errlen)) != ALC_OK) goto done;
    unrecord(&s, name);
    if ((rc = store_save(&s, err, errlen)) != ALC_OK) goto done;
    rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "removed", name);
    char path[PATH_MAX + 200];
    snprintf(path, sizeof path, "%s/%s", s.pkgdir, name);
    cJSON_AddStringToObject(rep, "path", path);
    cJSON_AddBoolToObject(rep, "deleted", on_disk);
    cJSON_AddBoolToObject(rep, "was_link", was_link);
    if (was_link) cJSON_AddStringToObject(rep, "link_target", target);
    cJSON_AddStringToObject(rep, "installed_json", s.json_path);
    *report = rep;
done:
    store_close(&s);
    return rc;
}

/* Links a package directory (or each package of a collection) into the packages dir. */
int alc_pkg_link(const alc_config *cfg, const char *path, const char *name, bool force, cJSON **report,
                 char *err, size_t errlen) {
    *report = NULL;
    char real[PATH_MAX];
    int lrc = alc__pkg_link_source(path, name, real, err, errlen);
    if (lrc != ALC_OK) return lrc;
    char *pkgdir = alc_fs_join(cfg->home, "packages");
    if (!pkgdir) return ALC_E_NOMEM;
    bool inside = alc_project_path_inside(real, pkgdir) || alc_project_path_inside(pkgdir, real);
    free(pkgdir);
    if (inside) {
        snprintf(err, errlen, "refusing to link %.300s: it is inside (or contains) %s/packages", real, cfg->home);
        return ALC_E_INVAL;
    }
    int src_fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src_fd < 0) { snprintf(err, errlen, "cannot open %s: %s", real, strerror(errno)); return ALC_E_IO; }
    int rc = ALC_OK;
    char **members = NULL;
    size_t n = 0;
    char *single_name = NULL;
    cJSON *rep = cJSON_CreateObject(), *linked = cJSON_AddArrayToObject(rep, "linked");
    cJSON *targets = cJSON_AddObjectToObject(rep, "targets");
    cJSON *ignored_links = cJSON_CreateArray(), *warnings = cJSON_CreateArray();
    store s = {.fd = -1};
    bool opened = false;
    bool single = alc__pkg_has_init(src_fd, NULL);
    if (single) {
        single_name = name ? strdup(name) : last_segment(real);
        if (!single_name || alc__pkg_check_name(single_name, err, errlen) != ALC_OK) {
            if (single_name) { size_t l = strlen(err); snprintf(err + l, errlen - l, "; pass a name"); }
            rc = ALC_E_INVAL;
            goto done;
        }
    } else {
        if (name) {
            snprintf(err, errlen, "%s is a collection (no init.lua at its root); 'name' can only be given for a single package", real);
            rc = ALC_E_INVAL;
            goto done;
        }
        members = collection_members(src_fd, ignored_links, warnings, &n);
        if (!members || n == 0) {
            snprintf(err, errlen, "%s has no init.lua and no sub-directory with an init.lua: nothing to link", real);
            rc = ALC_E_NOT_FOUND;
            goto done;
        }
    }
    if ((rc = store_open(&s, cfg, true, err, errlen)) != ALC_OK) goto done;
    opened = true;
    size_t count = single ? 1 : n;
    for (size_t i = 0; i < count; i++) {  // every collision is checked before the first change
        const char *nm = single ? single_name : members[i];
        if (exists_at(s.fd, nm) && !force) {
            snprintf(err, errlen, "'%s' already exists in %s; pass force: true to replace it", nm, s.pkgdir);
            rc = ALC_E_EXISTS;
            goto done;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const char *nm = single ? single_name : members[i];
        char target[PATH_MAX + 200];
        if (single) snprintf(target, sizeof target, "%s", real);
        else snprintf(target, sizeof target, "%s/%s", real, nm);
        if (exists_at(s.fd, nm)) {
            if ((rc = alc__pkg_remove_at(s.fd, nm, err, errlen)) != ALC_OK) goto done;
            unrecord(&s, nm);
        }
        if (symlinkat(target, s.fd, nm) != 0) {
            snprintf(err, errlen, "cannot create the link %s/%s: %s", s.pkgdir, nm, strerror(errno));
            rc = ALC_E_IO;
            goto done;
        }
        cJSON_AddItemToArray(linked, cJSON_CreateString(nm));
        cJSON_AddStringToObject(targets, nm, target);
    }
    if ((rc = store_save(&s, err, errlen)) != ALC_OK) goto done;
    cJSON_AddStringToObject(rep, "mode", single ? "single" : "collection");
    cJSON_AddStringToObject(rep, "scope", "global");
    cJSON_AddStringToObject(rep, "packages_dir", s.pkgdir);
    if (cJSON_GetArraySize(warnings) > 0) { cJSON_AddItemToObject(rep, "warnings", warnings); warnings = NULL; }
    *report = rep;
    rep = NULL;
done:
    if (opened) store_close(&s);
    close(src_fd);
    free_names(members);
    free(single_name);
    cJSON_Delete(rep);
    cJSON_Delete(ignored_links);
    cJSON_Delete(warnings);
    return rc;
}

/* Removes the symlink packages/<name>; see pkg.h. */
int alc_pkg_unlink(const alc_config *cfg, const char *name, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    int rc = alc__pkg_check_name(name, err, errlen);
    if (rc != ALC_OK) return rc;
    store s;
    if ((rc = store_open(&s, cfg, false, err, errlen)) != ALC_OK) {
        if (rc == ALC_E_NOT_FOUND) snprintf(err, errlen, "'%s' is not linked (there is no %s/packages)", name, cfg->home);
        return rc;
    }
    struct stat st;
    char target[PATH_MAX] = "";
    if (fstatat(s.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        snprintf(err, errlen, "'%s' is not linked in %s", name, s.pkgdir);
        rc = ALC_E_NOT_FOUND;
    } else if (!S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "%s/%s is an installed copy, not a link; use alc_pkg_remove to delete it", s.pkgdir, name);
        rc = ALC_E_INVAL;
    } else {
        ssize_t n = readlinkat(s.fd, name, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        if (unlinkat(s.fd, name, 0) != 0) {
            snprintf(err, errlen, "cannot remove the link %s/%s: %s", s.pkgdir, name, strerror(errno));
            rc = ALC_E_IO;
        }
    }
    if (rc == ALC_OK) {
        cJSON *rep = cJSON_CreateObject();
        cJSON_AddStringToObject(rep, "unlinked", name);
        cJSON_AddStringToObject(rep, "target", target);
        *report = rep;
    }
    store_close(&s);
    return rc;
}
