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
 * Threads: pure functions of the files they read; any thread. Blocks on disk I/O.
 */
#ifndef ALC_PROJECT_H
#define ALC_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
