/*
 * project_write.c — writes a project's package files (alc.toml, alc.lock, alc.local.toml): a
 * small TOML writer for the subset toml.c parses, and the project halves of the package tools:
 * alc_pkg_link scope "variant", alc_pkg_remove scopes project/global/all, alc_update (alc.lock
 * from alc.toml) and alc_pkg_install with a project_root.
 *
 * Every change parses the files it edits first (a malformed file, a symlinked one or one holding
 * a value the writer cannot reproduce is an error and nothing is changed), edits the parsed
 * tree, renders every file it changes and parses the text back (pfile_render), and only then
 * replaces the files atomically (alc_fs_write_atomic). Rewriting drops the comments and the
 * formatting of the old file.
 *
 * Owns no global state. Threads: any thread; blocks on disk I/O. No lock is taken on the
 * project files: two writers at the same time may lose one update (the server's package tools
 * run on its single reader thread).
 */
#include "alc/project.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"
#include "alc/pkg.h"
#include "alc/toml.h"
#include "pkg_internal.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_HEADER "# alc.lock: written by alc (alc_update, alc_pkg_install, alc_pkg_remove); edits are overwritten.\n"

/* ---- the TOML writer ---------------------------------------------------------------- */

static bool bare_key(const char *k) {
    if (!k || !*k) return false;
    for (const char *p = k; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int put_string(alc_jbuf *b, const char *s, char *err, size_t errlen) {
    size_t n = strlen(s);
    if (!alc_utf8_valid(s, n)) { snprintf(err, errlen, "a string is not valid UTF-8"); return ALC_E_INVAL; }
    alc_jbuf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': alc_jbuf_puts(b, "\\\""); break;
        case '\\': alc_jbuf_puts(b, "\\\\"); break;
        case '\n': alc_jbuf_puts(b, "\\n"); break;
        case '\t': alc_jbuf_puts(b, "\\t"); break;
        case '\r': alc_jbuf_puts(b, "\\r"); break;
        case '\b': alc_jbuf_puts(b, "\\b"); break;
        case '\f': alc_jbuf_puts(b, "\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f) alc_jbuf_printf(b, "\\u%04X", c);
            else alc_jbuf_put(b, (const char *)&s[i], 1);
        }
    }
    alc_jbuf_puts(b, "\"");
    return ALC_OK;
}

static int put_key(alc_jbuf *b, const char *k, char *err, size_t errlen) {
    if (bare_key(k)) { alc_jbuf_puts(b, k); return ALC_OK; }
    return put_string(b, k ? k : "", err, errlen);
}

static int put_value(alc_jbuf *b, const cJSON *v, int depth, char *err, size_t errlen);

/* {a = 1, b = "x"} */
static int put_inline_table(alc_jbuf *b, const cJSON *o, int depth, char *err, size_t errlen) {
    alc_jbuf_puts(b, "{");
    for (const cJSON *e = o->child; e; e = e->next) {
        alc_jbuf_puts(b, e == o->child ? "" : ", ");
        int rc = put_key(b, e->string, err, errlen);
        if (rc == ALC_OK) { alc_jbuf_puts(b, " = "); rc = put_value(b, e, depth + 1, err, errlen); }
        if (rc != ALC_OK) return rc;
    }
    alc_jbuf_puts(b, "}");
    return ALC_OK;
}

static int put_value(alc_jbuf *b, const cJSON *v, int depth, char *err, size_t errlen) {
    if (depth > 32) { snprintf(err, errlen, "the value is nested too deeply"); return ALC_E_INVAL; }
    if (cJSON_IsString(v)) return put_string(b, v->valuestring, err, errlen);
    if (cJSON_IsBool(v)) { alc_jbuf_puts(b, cJSON_IsTrue(v) ? "true" : "false"); return ALC_OK; }
    if (cJSON_IsNumber(v)) {
        long long ll;
        /* the parser keeps numbers as doubles: a TOML integer (64-bit) beyond 2^53 may already
         * have lost digits, so it is not written back as if it were exact (a float that large
         * with no fraction is refused too: the two cannot be told apart here) */
        if (fabs(v->valuedouble) > 9007199254740992.0 && fabs(v->valuedouble) <= 9223372036854775808.0 &&
            v->valuedouble == floor(v->valuedouble)) {
            snprintf(err, errlen, "the number %.17g is too large to be kept exactly", v->valuedouble);
            return ALC_E_INVAL;
        }
        if (alc_double_to_ll(v->valuedouble, &ll)) { alc_jbuf_printf(b, "%lld", ll); return ALC_OK; }
        if (!isfinite(v->valuedouble)) { snprintf(err, errlen, "a number is not finite"); return ALC_E_INVAL; }
        char num[64];
        snprintf(num, sizeof num, "%.17g", v->valuedouble);
        alc_jbuf_puts(b, num);
        if (!strpbrk(num, ".eE")) alc_jbuf_puts(b, ".0");
        return ALC_OK;
    }
    if (cJSON_IsArray(v)) {
        alc_jbuf_puts(b, "[");
        for (const cJSON *e = v->child; e; e = e->next) {
            alc_jbuf_puts(b, e == v->child ? "" : ", ");
            int rc = put_value(b, e, depth + 1, err, errlen);
            if (rc != ALC_OK) return rc;
        }
        alc_jbuf_puts(b, "]");
        return ALC_OK;
    }
    if (cJSON_IsObject(v)) return put_inline_table(b, v, depth, err, errlen);
    snprintf(err, errlen, "%s has no TOML form (null)", v && v->string ? v->string : "a value");
    return ALC_E_INVAL;
}

static bool is_aot(const cJSON *v) {
    if (!cJSON_IsArray(v) || !v->child) return false;
    for (const cJSON *e = v->child; e; e = e->next)
        if (!cJSON_IsObject(e)) return false;
    return true;
}

/* Appends the dotted header path of key under prefix ("" at the root) to out. */
static int header_path(alc_jbuf *out, const char *prefix, const char *key, char *err, size_t errlen) {
    alc_jbuf_puts(out, prefix);
    if (*prefix) alc_jbuf_puts(out, ".");
    return put_key(out, key, err, errlen);
}

/* Writes the members of table o: plain key = value lines first, then (below header_depth)
 * sub-tables as [prefix.key] sections and arrays of tables as [[prefix.key]] sections. */
static int put_table(alc_jbuf *b, const cJSON *o, const char *prefix, int depth, int header_depth,
                     char *err, size_t errlen) {
    bool headers = depth < header_depth;
    int rc = ALC_OK;
    for (const cJSON *e = o->child; e && rc == ALC_OK; e = e->next) {
        if (headers && (cJSON_IsObject(e) || is_aot(e))) continue;
        if ((rc = put_key(b, e->string, err, errlen)) != ALC_OK) break;
        alc_jbuf_puts(b, " = ");
        if ((rc = put_value(b, e, 0, err, errlen)) != ALC_OK) break;
        alc_jbuf_puts(b, "\n");
    }
    for (const cJSON *e = headers ? o->child : NULL; e && rc == ALC_OK; e = e->next) {
        if (!cJSON_IsObject(e) && !is_aot(e)) continue;
        alc_jbuf path;
        alc_jbuf_init(&path);
        rc = header_path(&path, prefix, e->string, err, errlen);
        if (rc == ALC_OK && path.oom) rc = ALC_E_NOMEM;
        if (rc == ALC_OK && cJSON_IsObject(e)) {
            alc_jbuf_printf(b, "%s[%s]\n", b->len ? "\n" : "", path.data);
            rc = put_table(b, e, path.data, depth + 1, header_depth, err, errlen);
        } else if (rc == ALC_OK) {
            for (const cJSON *t = e->child; t && rc == ALC_OK; t = t->next) {
                alc_jbuf_printf(b, "%s[[%s]]\n", b->len ? "\n" : "", path.data);
                rc = put_table(b, t, path.data, header_depth, header_depth, err, errlen);  // members inline
            }
        }
        alc_jbuf_deinit(&path);
    }
    return rc;
}

/* Renders doc as TOML; see project.h. */
int alc_project_toml_render(const cJSON *doc, int header_depth, char **out, size_t *len, char *err, size_t errlen) {
    *out = NULL;
    if (len) *len = 0;
    if (!cJSON_IsObject(doc)) { snprintf(err, errlen, "a TOML document must be a table"); return ALC_E_INVAL; }
    alc_jbuf b;
    alc_jbuf_init(&b);
    int rc = put_table(&b, doc, "", 0, header_depth, err, errlen);
    if (rc == ALC_OK && b.oom) { rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory writing TOML"); }
    if (rc != ALC_OK) { alc_jbuf_deinit(&b); return rc; }
    size_t n = 0;
    char *s = b.len ? alc_jbuf_take(&b, &n) : strdup("");
    alc_jbuf_deinit(&b);
    if (!s) { snprintf(err, errlen, "out of memory writing TOML"); return ALC_E_NOMEM; }
    *out = s;
    if (len) *len = n;
    return ALC_OK;
}

/* ---- reading and writing the three files ----------------------------------------------- */

typedef struct pfile {
    char *path;
    cJSON *doc;      /* parsed tree, or an empty table when the file is missing */
    bool existed;
    int depth;       /* header depth for the writer: 2 for alc.local.toml, else 1 */
    const char *header;
    char *text;      /* the rendered new content (pfile_render), written by pfile_commit */
    size_t len;
} pfile;

static void pfile_free(pfile *f) {
    free(f->path);
    cJSON_Delete(f->doc);
    free(f->text);
    memset(f, 0, sizeof *f);
}

static int pfile_render(pfile *f, char *err, size_t errlen);

/* Opens root/name: parses it (a missing file is an empty table), then checks the shape alc
 * needs: alc.toml / alc.local.toml `packages` a table; alc.lock `version = 1` and `package` an
 * array of tables. A malformed file is an error naming the file. */
static int pfile_open(pfile *f, const char *root, const char *name, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->path = alc_fs_join(root, name);
    if (!f->path) { snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
    bool lock = strcmp(name, "alc.lock") == 0;
    f->depth = strcmp(name, "alc.local.toml") == 0 ? 2 : 1;
    f->header = lock ? LOCK_HEADER : NULL;
    /* a project file that is a symlink would be replaced by a regular file (rename), silently
     * forking whatever it pointed to: refuse it */
    struct stat lst;
    if (lstat(f->path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        snprintf(err, errlen, "%s is a symbolic link; alc edits only regular project files (nothing was changed)", f->path);
        return ALC_E_INVAL;
    }
    int rc = alc_toml_parse_file(f->path, &f->doc, err, errlen);
    if (rc == ALC_E_NOT_FOUND) {
        f->doc = cJSON_CreateObject();
        if (!f->doc) { snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
        if (err && errlen) err[0] = '\0';
        return ALC_OK;
    }
    if (rc != ALC_OK) return rc;
    f->existed = true;
    if (lock) {
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(f->doc, "version");
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(f->doc, "package");
        if (ver && !(cJSON_IsNumber(ver) && ver->valuedouble == 1)) {
            snprintf(err, errlen, "%s: lock file version is not supported (expected version = 1); nothing was changed", f->path);
            return ALC_E_INVAL;
        }
        if (arr && !cJSON_IsArray(arr)) {
            snprintf(err, errlen, "%s: 'package' is not an array of tables ([[package]]); nothing was changed", f->path);
            return ALC_E_INVAL;
        }
        for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next)
            if (!cJSON_IsObject(e)) {
                snprintf(err, errlen, "%s: 'package' is not an array of tables ([[package]]); nothing was changed", f->path);
                return ALC_E_INVAL;
            }
    } else {
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(f->doc, "packages");
        if (pk && !cJSON_IsObject(pk)) {
            snprintf(err, errlen, "%s: 'packages' is not a table; nothing was changed", f->path);
            return ALC_E_INVAL;
        }
    }
    /* what alc cannot write back (a string that is not UTF-8, say) is found now, before
     * anything is changed, not half-way through an operation */
    if ((rc = pfile_render(f, err, errlen)) != ALC_OK) return rc;
    free(f->text);
    f->text = NULL;
    return ALC_OK;
}

/* The `packages` table of an alc.toml / alc.local.toml tree, created when missing. */
static cJSON *packages_table(pfile *f) {
    cJSON *pk = cJSON_GetObjectItemCaseSensitive(f->doc, "packages");
    return pk ? pk : cJSON_AddObjectToObject(f->doc, "packages");
}

/* The `package` array of an alc.lock tree, created (after `version = 1`) when missing. */
static cJSON *lock_array(pfile *f) {
    if (!cJSON_GetObjectItemCaseSensitive(f->doc, "version")) {  // version = 1 goes first
        cJSON *nd = cJSON_CreateObject();
        if (!nd || !cJSON_AddNumberToObject(nd, "version", 1)) { cJSON_Delete(nd); return NULL; }
        while (f->doc->child) {
            cJSON *it = cJSON_DetachItemViaPointer(f->doc, f->doc->child);
            if (!cJSON_AddItemToObject(nd, it->string, it)) { cJSON_Delete(it); cJSON_Delete(nd); return NULL; }
        }
        cJSON_Delete(f->doc);
        f->doc = nd;
    }
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(f->doc, "package");
    return arr ? arr : cJSON_AddArrayToObject(f->doc, "package");
}

/* Renders f->doc into f->text (with the file's header) and checks that the parser reads it
 * back as the same tree. An empty `package` array of a lock is dropped (an empty inline array
 * would stop a hand-added [[package]] from parsing). Nothing is written. */
static int pfile_render(pfile *f, char *err, size_t errlen) {
    free(f->text);
    f->text = NULL;
    f->len = 0;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(f->doc, "package");
    if (f->header && cJSON_IsArray(arr) && !arr->child) cJSON_DeleteItemFromObjectCaseSensitive(f->doc, "package");
    char *text = NULL;
    size_t n = 0;
    char msg[512];
    int rc = alc_project_toml_render(f->doc, f->depth, &text, &n, msg, sizeof msg);
    if (rc != ALC_OK) {
        snprintf(err, errlen, "%s cannot be rewritten: %s; nothing was changed", f->path, msg);
        return rc;
    }
    /* the writer must produce what the parser reads back: check it before replacing the file */
    cJSON *back = NULL;
    if (alc_toml_parse(text, n, &back, NULL, msg, sizeof msg) != ALC_OK || !cJSON_Compare(back, f->doc, true)) {
        snprintf(err, errlen, "internal error: the TOML written for %s does not read back (%s); nothing was changed", f->path,
                 back ? "different content" : msg);
        cJSON_Delete(back);
        free(text);
        return ALC_E_INVAL;
    }
    cJSON_Delete(back);
    alc_jbuf b;
    alc_jbuf_init(&b);
    if (f->header) alc_jbuf_puts(&b, f->header);
    alc_jbuf_put(&b, text, n);
    free(text);
    if (b.oom) { alc_jbuf_deinit(&b); snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
    f->text = alc_jbuf_take(&b, &f->len);
    if (!f->text) { snprintf(err, errlen, "out of memory"); return ALC_E_NOMEM; }
    return ALC_OK;
}

/* Replaces the file with f->text (pfile_render first), atomically. */
static int pfile_commit(pfile *f, char *err, size_t errlen) {
    return alc_fs_write_atomic(f->path, f->text, f->len, 0644, err, errlen);
}

/* Renders and writes one file. Operations that change two files render both first, then
 * commit both, so that a file that cannot be written stops them before either changes. */
static int pfile_write(pfile *f, char *err, size_t errlen) {
    int rc = pfile_render(f, err, errlen);
    return rc == ALC_OK ? pfile_commit(f, err, errlen) : rc;
}


static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The project root for a tool that changes project files: explicit_root (must be an absolute
 * existing directory) or the implicit resolution. *out returns new; NULL with ALC_OK when none
 * resolves and !required. */
static int strict_root(const char *explicit_root, bool required, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (explicit_root) {
        if (explicit_root[0] != '/') {
            snprintf(err, errlen, "'project_root' must be an absolute path, got '%.200s'", explicit_root);
            return ALC_E_INVAL;
        }
        if (!is_dir(explicit_root)) {
            snprintf(err, errlen, "project_root %.300s is not an existing directory", explicit_root);
            return ALC_E_NOT_FOUND;
        }
    }
    int rc = alc_project_resolve_root(explicit_root, out, err, errlen);
    if (rc != ALC_OK) return rc;
    if (!*out && required) {
        snprintf(err, errlen, "no project root: pass project_root, set ALC_PROJECT_ROOT, or start alc inside a "
                              "directory with an alc.toml (alc_init creates one)");
        return ALC_E_NOT_FOUND;
    }
    return ALC_OK;
}

/* Version of <dir>/init.lua (M.meta.version), returns new or NULL. */
static char *dir_version(const char *dir) {
    char path[PATH_MAX + 16];
    int n = snprintf(path, sizeof path, "%s/init.lua", dir);
    if (n < 0 || (size_t)n >= sizeof path) return NULL; /* too long to be a real path */
    return alc__pkg_file_version(path);
}

/* Index of the [[package]] entry named name in arr, or -1. */
static int lock_find(const cJSON *arr, const char *name, const char *version) {
    int i = 0;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next, i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0) continue;
        if (version) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "version");
            if (!cJSON_IsString(v) || strcmp(v->valuestring, version) != 0) continue;
        }
        return i;
    }
    return -1;
}

/* True if the alc.toml [packages] value e asks for version (a version string, or a table with
 * version = "..."). version NULL matches everything. */
static bool toml_version_matches(const cJSON *e, const char *version) {
    if (!version) return true;
    if (cJSON_IsString(e)) return strcmp(e->valuestring, version) == 0;
    const cJSON *v = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "version") : NULL;
    return cJSON_IsString(v) && strcmp(v->valuestring, version) == 0;
}

/* ---- alc_pkg_link scope "variant" --------------------------------------------------------- */

/* Writes [packages.NAME] path = DIR into alc.local.toml; see pkg.h. */
int alc_pkg_link_variant(const char *project_root, const char *path, const char *name, bool force, cJSON **report,
                         char *err, size_t errlen) {
    *report = NULL;
    char real[PATH_MAX];
    int lrc = alc__pkg_link_source(path, name, real, err, errlen);
    if (lrc != ALC_OK) return lrc;
    char init[PATH_MAX + 16];
    snprintf(init, sizeof init, "%s/init.lua", real);
    if (access(init, R_OK) != 0) {
        snprintf(err, errlen, "%s has no init.lua: scope \"variant\" links one package (link a collection with scope \"global\")", real);
        return ALC_E_INVAL;
    }
    const char *base = strrchr(real, '/') + 1;
    const char *nm = name ? name : base;
    if (alc__pkg_check_name(nm, err, errlen) != ALC_OK) {
        size_t l = strlen(err);
        snprintf(err + l, errlen > l ? errlen - l : 0, "; pass a name");
        return ALC_E_INVAL;
    }
    char *root = NULL;
    int rc = strict_root(project_root, true, &root, err, errlen);
    if (rc != ALC_OK) return rc;
    pfile f;
    cJSON *rep = NULL;
    if ((rc = pfile_open(&f, root, "alc.local.toml", err, errlen)) != ALC_OK) goto done;
    cJSON *pk = packages_table(&f);
    cJSON *entry = pk ? cJSON_GetObjectItemCaseSensitive(pk, nm) : NULL;
    if (entry && !force) {
        snprintf(err, errlen, "%s already has [packages.%s]; pass force: true to replace it", f.path, nm);
        rc = ALC_E_EXISTS;
        goto done;
    }
    if (!entry || !cJSON_IsObject(entry)) {
        if (entry) cJSON_DeleteItemFromObjectCaseSensitive(pk, nm);
        entry = pk ? cJSON_AddObjectToObject(pk, nm) : NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "path");
    if (!entry || !cJSON_AddStringToObject(entry, "path", real)) { snprintf(err, errlen, "out of memory"); rc = ALC_E_NOMEM; goto done; }
    if ((rc = pfile_write(&f, err, errlen)) != ALC_OK) goto done;
    rep = cJSON_CreateObject();
    cJSON *linked = cJSON_AddArrayToObject(rep, "linked");
    cJSON_AddItemToArray(linked, cJSON_CreateString(nm));
    cJSON_AddStringToObject(rep, "mode", "single");
    cJSON *targets = cJSON_AddObjectToObject(rep, "targets");
    cJSON_AddStringToObject(targets, nm, real);
    cJSON_AddStringToObject(rep, "scope", "variant");
    cJSON_AddStringToObject(rep, "alc_local_toml", f.path);
    cJSON_AddStringToObject(rep, "project_root", root);
    *report = rep;
done:
    pfile_free(&f);
    free(root);
    return rc;
}

/* ---- alc_pkg_remove scopes --------------------------------------------------------------- */

/* Removes name from root's alc.toml and alc.lock. ALC_E_NOT_FOUND (note in err) when neither
 * lists it. Both files are parsed before either is written. */
static int remove_project(const char *root, const char *name, const char *version, cJSON *rep, char *err, size_t errlen) {
    pfile t, l;
    memset(&l, 0, sizeof l);
    int rc = pfile_open(&t, root, "alc.toml", err, errlen);
    if (rc == ALC_OK) rc = pfile_open(&l, root, "alc.lock", err, errlen);
    if (rc != ALC_OK) goto done;
    cJSON *pk = cJSON_GetObjectItemCaseSensitive(t.doc, "packages");
    cJSON *te = pk ? cJSON_GetObjectItemCaseSensitive(pk, name) : NULL;
    bool in_toml = te && toml_version_matches(te, version);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(l.doc, "package");
    bool in_lock = lock_find(arr, name, version) >= 0;
    if (!in_toml && !in_lock) {
        snprintf(err, errlen, "'%s'%s%s is not listed in %s/alc.toml or %s/alc.lock", name, version ? " version " : "",
                 version ? version : "", root, root);
        rc = ALC_E_NOT_FOUND;
        goto done;
    }
    /* both files are rendered before either is replaced */
    if (in_toml) {
        cJSON_DeleteItemFromObjectCaseSensitive(pk, name);
        if ((rc = pfile_render(&t, err, errlen)) != ALC_OK) goto done;
    }
    if (in_lock) {
        int i;
        while ((i = lock_find(arr, name, version)) >= 0) cJSON_DeleteItemFromArray(arr, i);
        if ((rc = pfile_render(&l, err, errlen)) != ALC_OK) goto done;
    }
    if (in_toml && (rc = pfile_commit(&t, err, errlen)) != ALC_OK) goto done;
    if (in_lock && (rc = pfile_commit(&l, err, errlen)) != ALC_OK) {
        if (in_toml) {
            size_t n = strlen(err);
            snprintf(err + n, errlen > n ? errlen - n : 0, " (alc.toml was already updated)");
        }
        goto done;
    }
    cJSON_AddStringToObject(rep, "alc_toml", t.path);
    cJSON_AddStringToObject(rep, "alc_lock", l.path);
    cJSON_AddBoolToObject(rep, "alc_toml_updated", in_toml);
    cJSON_AddBoolToObject(rep, "alc_lock_updated", in_lock);
done:
    pfile_free(&t);
    pfile_free(&l);
    return rc;
}

/* The installed version of name (installed.json, else its init.lua), returns new or NULL. */
static char *global_version(const alc_config *cfg, const char *name) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/installed.json", cfg->home);
    char *text = NULL, *v = NULL;
    size_t len = 0;
    if (alc_fs_read_file(path, 16u << 20, &text, &len, NULL, 0) == ALC_OK) {
        cJSON *doc = cJSON_ParseWithLength(text, len);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "packages"), name);
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(e, "version");
        if (cJSON_IsString(ver)) v = strdup(ver->valuestring);
        cJSON_Delete(doc);
    }
    free(text);
    if (v) return v;
    snprintf(path, sizeof path, "%s/packages/%s", cfg->home, name);
    return dir_version(path);
}

/* Global removal, with the version check. */
static int remove_global(const alc_config *cfg, const char *name, const char *version, cJSON **rep, char *err, size_t errlen) {
    if (version) {
        char *have = global_version(cfg, name);
        bool ok = have && strcmp(have, version) == 0;
        if (!ok) {
            char pkg[PATH_MAX + 64];
            snprintf(pkg, sizeof pkg, "%s/packages/%s", cfg->home, name);
            struct stat st;
            if (lstat(pkg, &st) != 0) snprintf(err, errlen, "package '%s' is not installed in %s/packages", name, cfg->home);
            else snprintf(err, errlen, "the installed '%s' has version %s, not %s; nothing was removed", name, have ? have : "(unknown)", version);
            free(have);
            return ALC_E_NOT_FOUND;
        }
        free(have);
    }
    return alc_pkg_remove(cfg, name, rep, err, errlen);
}

/* Removes name from the project, the global store, or both; see pkg.h. */
int alc_pkg_remove_scoped(const alc_config *cfg, const char *name, const char *scope, const char *project_root,
                          const char *version, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    int rc = alc__pkg_check_name(name, err, errlen);
    if (rc != ALC_OK) return rc;
    if (scope && strcmp(scope, "project") != 0 && strcmp(scope, "global") != 0 && strcmp(scope, "all") != 0) {
        snprintf(err, errlen, "unknown scope '%.50s': use \"project\", \"global\" or \"all\"", scope);
        return ALC_E_INVAL;
    }
    if (version && !*version) { snprintf(err, errlen, "'version' is empty"); return ALC_E_INVAL; }
    char *root = NULL;
    bool need_root = scope && strcmp(scope, "project") == 0;
    if ((rc = strict_root(project_root, need_root, &root, err, errlen)) != ALC_OK) return rc;
    cJSON *rep = NULL;
    /* default, as in the reference: the project when one resolves (a name it does not list is
     * a not-found error, never a fall-through to the global copy), else the global store */
    if (!scope) scope = root ? "project" : "global";
    if (strcmp(scope, "global") == 0) {
        if ((rc = remove_global(cfg, name, version, &rep, err, errlen)) == ALC_OK) cJSON_AddStringToObject(rep, "scope", "global");
    } else if (strcmp(scope, "project") == 0) {
        rep = cJSON_CreateObject();
        if (!rep) { rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory"); goto done; }
        cJSON_AddStringToObject(rep, "removed", name);
        cJSON_AddStringToObject(rep, "scope", "project");
        rc = remove_project(root, name, version, rep, err, errlen);
    } else {  // all
        rep = cJSON_CreateObject();
        cJSON *proj = cJSON_CreateObject();
        if (!rep || !proj) { cJSON_Delete(proj); rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory"); goto done; }
        char pnote[1024], gnote[1024];
        bool p_ok = false, g_ok = false;
        if (!root) {
            snprintf(pnote, sizeof pnote, "no project root (pass project_root, set ALC_PROJECT_ROOT, or start alc inside a project)");
        } else {
            int prc = remove_project(root, name, version, proj, pnote, sizeof pnote);
            if (prc != ALC_OK && prc != ALC_E_NOT_FOUND) {
                snprintf(err, errlen, "%s", pnote);
                cJSON_Delete(proj);
                rc = prc;
                goto done;
            }
            p_ok = prc == ALC_OK;
            if (p_ok) snprintf(pnote, sizeof pnote, "removed from %s/alc.toml and alc.lock", root);
        }
        cJSON *grep = NULL;
        int grc = remove_global(cfg, name, version, &grep, gnote, sizeof gnote);
        if (grc != ALC_OK && grc != ALC_E_NOT_FOUND) {
            snprintf(err, errlen, "%s%s", gnote, p_ok ? " (the project entry was already removed)" : "");
            cJSON_Delete(proj);
            rc = grc;
            goto done;
        }
        g_ok = grc == ALC_OK;
        if (g_ok) {
            const cJSON *pth = cJSON_GetObjectItemCaseSensitive(grep, "path");
            snprintf(gnote, sizeof gnote, "removed %s and its installed.json entry", cJSON_IsString(pth) ? pth->valuestring : name);
        }
        cJSON_Delete(grep);
        if (!p_ok && !g_ok) {
            snprintf(err, errlen, "'%s' was found in neither scope: project: %s; global: %s", name, pnote, gnote);
            cJSON_Delete(proj);
            rc = ALC_E_NOT_FOUND;
            goto done;
        }
        cJSON_AddStringToObject(rep, "removed", name);
        cJSON_AddStringToObject(rep, "scope", "all");
        cJSON_AddBoolToObject(rep, "project_removed", p_ok);
        cJSON_AddBoolToObject(rep, "global_removed", g_ok);
        cJSON_AddStringToObject(rep, "project_note", pnote);
        cJSON_AddStringToObject(rep, "global_note", gnote);
        for (const char *k = "alc_toml"; k; k = strcmp(k, "alc_toml") == 0 ? "alc_lock" : NULL) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(proj, k);
            if (cJSON_IsString(v)) cJSON_AddStringToObject(rep, k, v->valuestring);
        }
        cJSON_Delete(proj);
        rc = ALC_OK;
    }
done:
    if (rc == ALC_OK) *report = rep;
    else cJSON_Delete(rep);
    free(root);
    return rc;
}

/* ---- alc_update ----------------------------------------------------------------------- */

static void add_error(cJSON *errors, const char *name, const char *msg) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "error", msg);
    if (!cJSON_AddItemToArray(errors, e)) cJSON_Delete(e);
}

/* The alc.lock entry for alc.toml's [packages] NAME = spec, or NULL with an entry in errors. */
static cJSON *lock_entry(const alc_config *cfg, const char *root, const char *name, const cJSON *spec, cJSON *errors) {
    char msg[2 * PATH_MAX + 512];
    if (!alc_pkg_valid_name(name)) {
        add_error(errors, name, "not a valid package name (letters, digits, '_', '-')");
        return NULL;
    }
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "name", name);
    if (cJSON_IsString(spec)) {  // "*" or a version: a package in a global root, as require finds it
        char dir[PATH_MAX + 200];
        bool found = false;
        for (size_t i = 0; i < cfg->n_package_paths && !found; i++) {
            snprintf(dir, sizeof dir, "%s/%s", cfg->package_paths[i], name);
            found = is_dir(dir);
        }
        if (!found) {
            snprintf(msg, sizeof msg, "not installed: no %s directory in the package roots (ALC_PACKAGES_PATH, "
                                      "%s/packages); alc_pkg_install it", name, cfg->home);
            add_error(errors, name, msg);
            cJSON_Delete(e);
            return NULL;
        }
        char *v = dir_version(dir);
        bool pinned = strcmp(spec->valuestring, "*") != 0;
        if (v && pinned && strcmp(v, spec->valuestring) != 0) {
            snprintf(msg, sizeof msg, "alc.toml asks for version %.100s, but %s has version %.100s", spec->valuestring, dir, v);
            add_error(errors, name, msg);
            free(v);
            cJSON_Delete(e);
            return NULL;
        }
        if (v) cJSON_AddStringToObject(e, "version", v);
        else if (pinned) cJSON_AddStringToObject(e, "version", spec->valuestring);
        free(v);
        cJSON *src = cJSON_AddObjectToObject(e, "source");
        cJSON_AddStringToObject(src, "type", "installed");
        return e;
    }
    const cJSON *path = cJSON_IsObject(spec) ? cJSON_GetObjectItemCaseSensitive(spec, "path") : NULL;
    const cJSON *git = cJSON_IsObject(spec) ? cJSON_GetObjectItemCaseSensitive(spec, "git") : NULL;
    const cJSON *ver = cJSON_IsObject(spec) ? cJSON_GetObjectItemCaseSensitive(spec, "version") : NULL;
    if (ver && !cJSON_IsString(ver)) {
        add_error(errors, name, "'version' must be a string");
        cJSON_Delete(e);
        return NULL;
    }
    if (cJSON_IsString(path) && path->valuestring[0] && !git) {
        char *dir = path->valuestring[0] == '/' ? strdup(path->valuestring) : alc_fs_join(root, path->valuestring);
        if (!dir) { cJSON_Delete(e); return NULL; }
        if (!is_dir(dir)) {
            snprintf(msg, sizeof msg, "path %s is not a directory", dir);
            add_error(errors, name, msg);
            free(dir);
            cJSON_Delete(e);
            return NULL;
        }
        char *v = ver ? NULL : dir_version(dir);
        free(dir);
        if (ver || v) cJSON_AddStringToObject(e, "version", ver ? ver->valuestring : v);
        free(v);
        cJSON *src = cJSON_AddObjectToObject(e, "source");
        cJSON_AddStringToObject(src, "type", "path");
        cJSON_AddStringToObject(src, "path", path->valuestring);
        return e;
    }
    const cJSON *rev = cJSON_IsObject(spec) ? cJSON_GetObjectItemCaseSensitive(spec, "rev") : NULL;
    if (cJSON_IsString(git) && git->valuestring[0] && !path && (!rev || cJSON_IsString(rev))) {
        if (ver) cJSON_AddStringToObject(e, "version", ver->valuestring);
        cJSON *src = cJSON_AddObjectToObject(e, "source");
        cJSON_AddStringToObject(src, "type", "git");
        cJSON_AddStringToObject(src, "url", git->valuestring);
        if (rev) cJSON_AddStringToObject(src, "rev", rev->valuestring);
        return e;
    }
    add_error(errors, name, "unsupported entry: use \"*\", a version string, {path = \"DIR\", version?} or {git = \"URL\", rev?}");
    cJSON_Delete(e);
    return NULL;
}

/* Rewrites alc.lock from alc.toml; see pkg.h. */
int alc_pkg_update(const alc_config *cfg, const char *project_root, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    char *root = NULL;
    int rc = strict_root(project_root, true, &root, err, errlen);
    if (rc != ALC_OK) return rc;
    pfile t, l;
    memset(&l, 0, sizeof l);
    cJSON *rep = cJSON_CreateObject(), *errors = cJSON_CreateArray();
    if (!rep || !errors) { rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory"); memset(&t, 0, sizeof t); goto done; }
    if ((rc = pfile_open(&t, root, "alc.toml", err, errlen)) != ALC_OK) goto done;
    if (!t.existed) {
        snprintf(err, errlen, "%s does not exist (alc_init creates it)", t.path);
        rc = ALC_E_NOT_FOUND;
        goto done;
    }
    if ((rc = pfile_open(&l, root, "alc.lock", err, errlen)) != ALC_OK) goto done;
    cJSON_Delete(l.doc);
    l.doc = cJSON_CreateObject();
    cJSON *arr = l.doc ? lock_array(&l) : NULL;
    if (!arr) { rc = ALC_E_NOMEM; snprintf(err, errlen, "out of memory"); goto done; }
    int n = 0;
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(t.doc, "packages");
    for (const cJSON *e = pk ? pk->child : NULL; e; e = e->next) {
        cJSON *entry = lock_entry(cfg, root, e->string, e, errors);
        if (!entry) continue;
        cJSON_AddItemToArray(arr, entry);
        n++;
    }
    if ((rc = pfile_write(&l, err, errlen)) != ALC_OK) goto done;
    cJSON_AddNumberToObject(rep, "resolved", n);
    cJSON_AddItemToObject(rep, "errors", errors);
    errors = NULL;
    cJSON_AddStringToObject(rep, "alc_lock", l.path);
    cJSON_AddStringToObject(rep, "alc_toml", t.path);
    cJSON_AddStringToObject(rep, "project_root", root);
    *report = rep;
    rep = NULL;
done:
    pfile_free(&t);
    pfile_free(&l);
    cJSON_Delete(rep);
    cJSON_Delete(errors);
    free(root);
    return rc;
}

/* ---- alc_pkg_install with a project_root ------------------------------------------------ */

/* Installs, then records the installed packages in the project; see pkg.h. */
int alc_pkg_install_project(const alc_config *cfg, const char *url, const char *name, bool force,
                            const char *project_root, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    if (!project_root) return alc_pkg_install(cfg, url, name, force, report, err, errlen);
    char *root = NULL;
    int rc = strict_root(project_root, true, &root, err, errlen);
    if (rc != ALC_OK) return rc;
    pfile t, l;
    memset(&l, 0, sizeof l);
    cJSON *rep = NULL;
    /* both files are checked before the install, so a malformed one changes nothing */
    if ((rc = pfile_open(&t, root, "alc.toml", err, errlen)) != ALC_OK) goto done;
    if ((rc = pfile_open(&l, root, "alc.lock", err, errlen)) != ALC_OK) goto done;
    if ((rc = alc_pkg_install(cfg, url, name, force, &rep, err, errlen)) != ALC_OK) goto done;
    cJSON *pk = packages_table(&t), *arr = lock_array(&l);
    cJSON *added = cJSON_CreateArray();
    if (!pk || !arr || !added) { cJSON_Delete(added); rc = ALC_E_NOMEM; snprintf(err, errlen, "installed, but out of memory updating the project"); goto done; }
    const cJSON *installed = cJSON_GetObjectItemCaseSensitive(rep, "installed");
    for (const cJSON *e = installed ? installed->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e)) continue;
        const char *nm = e->valuestring;
        char dir[PATH_MAX + 200];
        snprintf(dir, sizeof dir, "%s/packages/%s", cfg->home, nm);
        char *v = dir_version(dir);
        cJSON_DeleteItemFromObjectCaseSensitive(pk, nm);
        cJSON_AddStringToObject(pk, nm, v ? v : "*");
        int i;
        while ((i = lock_find(arr, nm, NULL)) >= 0) cJSON_DeleteItemFromArray(arr, i);
        cJSON *le = cJSON_CreateObject();
        cJSON_AddStringToObject(le, "name", nm);
        if (v) cJSON_AddStringToObject(le, "version", v);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(le, "source"), "type", "installed");
        cJSON_AddItemToArray(arr, le);
        cJSON_AddItemToArray(added, cJSON_CreateString(nm));
        free(v);
    }
    cJSON_AddItemToObject(rep, "project_added", added);
    char msg[768];
    if ((rc = pfile_render(&t, msg, sizeof msg)) != ALC_OK || (rc = pfile_render(&l, msg, sizeof msg)) != ALC_OK ||
        (rc = pfile_commit(&t, msg, sizeof msg)) != ALC_OK || (rc = pfile_commit(&l, msg, sizeof msg)) != ALC_OK) {
        snprintf(err, errlen, "the packages were installed, but the project files were not updated: %s", msg);
        goto done;
    }
    cJSON_AddStringToObject(rep, "project_root", root);
    cJSON_AddStringToObject(rep, "alc_toml", t.path);
    cJSON_AddStringToObject(rep, "alc_lock", l.path);
    *report = rep;
    rep = NULL;
done:
    cJSON_Delete(rep);
    pfile_free(&t);
    pfile_free(&l);
    free(root);
    return rc;
}
