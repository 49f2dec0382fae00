/*
 * project.h — the package layers a project adds in front of the global package roots
 * (reference §4.3), read from the project's files:
 *
 *   alc.local.toml  [packages.NAME] path = "DIR"   variant package NAME → DIR/init.lua, and
 *                                                   DIR as an extra search root
 *   alc.lock        [[package]] source = {type = "path", path = "DIR"}   DIR as a search root
 *   packages/                                       <project_root>/packages as a search root
 *
 * Relative paths are resolved against the project root. Entries whose directory does not
 * exist are skipped with a warning (kept in the result for the caller to log or show).
 *
 * Which project a call uses: alc_project_resolve_root (reference §4.3). The files are written
 * by project_write.c (alc_project_toml_render and the alc_pkg_* project operations in pkg.h).
 *
 * File formats written (and read back by alc_project_load / alc_toml_parse):
 *   alc.toml        [packages] NAME = "*" | "VERSION" | {path = "DIR", version?} | {git = "URL", rev?}
 *   alc.lock        version = 1, then [[package]] name, version?, source = {type = "installed" |
 *                   "path" (path = "DIR") | "git" (url, rev?)}
 *   alc.local.toml  [packages.NAME] path = "ABS_DIR"
 *
 * Threads: pure functions of the files they read; any thread. Blocks on disk I/O.
 */
#ifndef ALC_PROJECT_H
#define ALC_PROJECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* How long alc_project_resolve_root keeps its implicit result (ALC_PROJECT_ROOT / cwd walk). */
#define ALC_PROJECT_RESOLVE_CACHE_MS 1000

typedef struct alc_project_variant {
    char *name;                 /* package name (one path component) */
    char *dir;                  /* its directory: require(name) loads dir/init.lua */
} alc_project_variant;

typedef struct alc_project {
    char *root;                 /* the project root as given */
    alc_project_variant *variants;
    size_t n_variants;
    char **roots;               /* extra search roots, in search order */
    const char **root_sources;  /* "alc.local.toml", "alc.lock" or "project" per root */
    size_t n_roots;
    char **warnings;            /* one line each, e.g. "alc.lock: path 'x' ... does not exist" */
    size_t n_warnings;
} alc_project;

/*
 * Reads the project files under project_root (borrowed, non-NULL). *out returns new
 * (alc_project_free). A missing file contributes nothing; a project_root that is not a
 * directory gives no layers and one warning. Returns ALC_OK; ALC_E_PARSE with
 * "<file>:<line>: <what>" or ALC_E_INVAL ("alc.lock: version 2 is not supported") in err when a
 * file is malformed (then *out is NULL); ALC_E_IO / ALC_E_NOMEM.
 */
int alc_project_load(const char *project_root, alc_project **out, char *err, size_t errlen);

/* Frees p and everything in it. NULL is a no-op. */
void alc_project_free(alc_project *p);

/* The variant directory for the first dotted part of module name (e.g. "cot" for "cot.sub"),
 * or NULL. p may be NULL. */
const alc_project_variant *alc_project_variant_for(const alc_project *p, const char *module);

/*
 * True if the real path of path (all symlinks resolved) is root's real path or inside it.
 * False when either cannot be resolved. Used for ALC_PKG_STRICT and for refusing to copy a
 * directory into itself. Pure apart from the file-system lookups; any thread.
 */
bool alc_project_path_inside(const char *path, const char *root);

/*
 * The project root of a call (reference §4.3), first match wins:
 *   1. explicit_root (borrowed, may be NULL) when it is a directory — returned as given;
 *   2. $ALC_PROJECT_ROOT when it names a directory (its real path);
 *   3. the first directory holding an alc.toml, walking up from the process's cwd;
 *   4. none: *out = NULL.
 * An explicit_root that is not a directory falls through to 2 (callers for which that is an
 * error check it first). Steps 2-3 are cached for ALC_PROJECT_RESOLVE_CACHE_MS (1 s, keyed by
 * the value of $ALC_PROJECT_ROOT), so a new alc.toml or a chdir is seen up to 1 s late; the
 * cached path costs a mutex and a clock read (alc_run calls this on the reader thread).
 * When a root is found and its alc.toml and alc.lock list different package names, one warning
 * line goes to stderr (checked at most once a second per root, and again only after either file
 * changes). *out returns new (free()). Returns ALC_OK, or ALC_E_NOMEM with a message in err.
 * Thread-safe (one process-wide mutex).
 */
int alc_project_resolve_root(const char *explicit_root, char **out, char *err, size_t errlen);

/*
 * Renders doc (borrowed; a cJSON object as alc_toml_parse returns) as TOML text that
 * alc_toml_parse reads back to an equal tree. Tables nested less than header_depth levels deep
 * become [section] headers and arrays of tables [[section]]s; deeper tables are inline
 * ({k = v, ...}). 1 suits alc.toml and alc.lock, 2 alc.local.toml ([packages.NAME]). Keys are
 * bare when they can be, else quoted. Comments are not kept (the tree has none). *out returns
 * new (free()), *len (may be NULL) its length. ALC_OK; ALC_E_INVAL (null values, non-finite
 * numbers, invalid UTF-8, doc not an object, nesting deeper than 32) with err; ALC_E_NOMEM.
 * Pure; any thread.
 */
int alc_project_toml_render(const cJSON *doc, int header_depth, char **out, size_t *len, char *err, size_t errlen);

#endif
