/*
 * pkg.h — installation and management of strategy packages under $ALC_HOME/packages: the
 * bundled collection (`alc init`, first alc_advice), installs from a local path or a git URL,
 * removal, links, the scaffold template, listings, and `alc.toml` creation for a project.
 * The server's alc_pkg_* tools and the CLI are thin front ends over these functions.
 *
 * Safety rules every function keeps:
 * - package names are checked (alc_pkg_valid_name): one path component, no "..", '/', '\\', NUL;
 * - path arguments must be absolute; nothing is written or deleted outside $ALC_HOME, except
 *   the files alc_pkg_scaffold and alc_pkg_project_init create in the directory they are given;
 * - deletion only ever happens inside $ALC_HOME/packages, through directory file descriptors and
 *   without following symlinks (a symlinked package is unlinked, never its target);
 * - an install copies into a hidden staging directory and renames it into place, so a failed
 *   install leaves the previous state; a failure before the first change changes nothing.
 * Mutations of $ALC_HOME/packages hold an exclusive flock on that directory, so two processes
 * (a server and `alc init`) never interleave their changes or installed.json updates.
 *
 * Reports are cJSON objects (returns new, cJSON_Delete); messages in err are single lines.
 * Threads: any thread, but the functions block on disk I/O (and alc_pkg_install on git for up
 * to ALC_PKG_GIT_TIMEOUT_MS): never call them with an engine lock held. alc_pkg_install forks.
 */
#ifndef ALC_PKG_H
#define ALC_PKG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "alc/config.h"

#define ALC_PKG_NAME_MAX 128
#define ALC_PKG_SCAFFOLD_NAME_MAX 64
#define ALC_PKG_GIT_TIMEOUT_MS 60000

/* True if name can be a package directory name: 1..ALC_PKG_NAME_MAX bytes of letters, digits,
 * '_' and '-', not starting with '-'. (So no '.', '/', '\\', NUL and no hidden names.) */
bool alc_pkg_valid_name(const char *name);
/* True if name matches ^[a-z][a-z0-9_]*$ and has at most ALC_PKG_SCAFFOLD_NAME_MAX bytes. */
bool alc_pkg_valid_scaffold_name(const char *name);

/*
 * Finds the bundled collection. Order (the first that is a directory wins):
 *   1. $ALC_BUNDLED_DIR when set and non-empty — the only candidate then;
 *   2. the source tree's packages/ when the running binary sits in a Meson build directory
 *      (<dir of /proc/self/exe>/meson-info/meson-info.json names the source directory);
 *   3. <dir of /proc/self/exe>/../share/alc/packages (an installed, relocatable prefix);
 *   4. ALC_INSTALL_DATADIR/alc/packages (the configured prefix, compiled in).
 * *dir_out returns new (free()). ALC_OK, or ALC_E_NOT_FOUND with err listing what was tried.
 * The type stubs are looked for next to it, at <dir>/../types/alc.d.lua.
 */
int alc_pkg_bundled_dir(char **dir_out, char *err, size_t errlen);

/*
 * Installs the bundled collection into $ALC_HOME/packages (skipping packages that exist unless
 * force) and copies the type stubs to $ALC_HOME/types/alc.d.lua when they are found.
 * only_if_empty: do nothing (ALC_OK, *report = NULL) unless $ALC_HOME/packages is missing or
 * holds no visible entry. Report: {installed, skipped, skipped_symlinks, mode, source_dir,
 * packages_dir, installed_json, types_path | types_warning, warnings?}.
 * ALC_OK; ALC_E_NOT_FOUND (no bundled collection; err lists where it looked); ALC_E_IO ...
 */
int alc_pkg_install_bundled(const alc_config *cfg, bool force, bool only_if_empty, cJSON **report,
                            char *err, size_t errlen);

/*
 * Installs from url: an absolute local directory (copied) or a git URL (https://, http://,
 * ssh://, git://, file://, git@host:path, or host.tld/path which gets https:// in front),
 * cloned with `git clone --depth 1` (fork/exec, no shell, ALC_PKG_GIT_TIMEOUT_MS) into
 * $ALC_HOME/tmp. A source with init.lua at its root is one package named name (default: the
 * last path or URL segment without ".git"); otherwise every sub-directory with an init.lua is
 * a package of a collection. A single package that exists is an error (ALC_E_EXISTS) unless
 * force; collection members that exist are skipped unless force. Records installed.json.
 * Report: {installed, skipped, skipped_symlinks, mode: single|collection|local_single|
 * local_collection, source, packages_dir, installed_json, types_path?, warnings?}.
 * Errors: ALC_E_INVAL (bad url or name), ALC_E_NOT_FOUND (no such directory, nothing to
 * install, git missing), ALC_E_EXISTS, ALC_E_TIMEOUT, ALC_E_LIMIT (source too large), ALC_E_IO.
 */
int alc_pkg_install(const alc_config *cfg, const char *url, const char *name, bool force, cJSON **report,
                    char *err, size_t errlen);

/* Removes $ALC_HOME/packages/<name> (a symlink is only unlinked) and its installed.json entry.
 * Report {removed, path, deleted, was_link, installed_json}. ALC_E_INVAL (bad name),
 * ALC_E_NOT_FOUND (neither on disk nor recorded), ALC_E_IO. */
int alc_pkg_remove(const alc_config *cfg, const char *name, cJSON **report, char *err, size_t errlen);

/* Symlinks $ALC_HOME/packages/<name> → path (absolute directory with init.lua), or one link per
 * package sub-directory when path is a collection (name must then be NULL). Existing entries
 * are an error unless force (then replaced). Report {linked, targets, mode, packages_dir}. */
int alc_pkg_link(const alc_config *cfg, const char *path, const char *name, bool force, cJSON **report,
                 char *err, size_t errlen);

/* Removes the symlink $ALC_HOME/packages/<name> (refuses anything that is not a symlink).
 * Report {unlinked, target}. */
int alc_pkg_unlink(const alc_config *cfg, const char *name, cJSON **report, char *err, size_t errlen);

/* Writes a runnable template <target_dir>/<name>/init.lua (target_dir: absolute existing
 * directory, NULL = $ALC_HOME/packages). ALC_E_EXISTS if <target_dir>/<name> exists.
 * Report {created, init_lua, name}. */
int alc_pkg_scaffold(const alc_config *cfg, const char *name, const char *target_dir, cJSON **report,
                     char *err, size_t errlen);

/* Lists the packages visible to require, in resolution order: project layers (when
 * project_root is given), ALC_PACKAGES_PATH roots, $ALC_HOME/packages. Report {packages:
 * [{name, version, scope, source, active, path, ...}], search_paths: [{path, source, scope,
 * exists}], packages_dir, project_root?, warnings?}. */
int alc_pkg_list(const alc_config *cfg, const char *project_root, cJSON **report, char *err, size_t errlen);

/* Creates <project_root>/alc.toml with an empty [packages] table and makes sure .gitignore
 * lists alc.local.toml. project_root NULL → $ALC_PROJECT_ROOT, and when that is unset or empty
 * the process's cwd (no walk up). ALC_E_EXISTS if alc.toml exists. Report {created,
 * gitignore_path, gitignore_updated}. */
int alc_pkg_project_init(const char *project_root, cJSON **report, char *err, size_t errlen);

/*
 * Project operations (src/store/project_write.c). They edit alc.toml, alc.lock and
 * alc.local.toml of a project (see project.h for the formats): each file is parsed first (a
 * malformed file is an error and nothing changes) and rewritten atomically, which drops its
 * comments. project_root (borrowed, may be NULL): when given it must be an absolute existing
 * directory (ALC_E_INVAL / ALC_E_NOT_FOUND), else alc_project_resolve_root decides.
 */

/* alc_pkg_link scope "variant": writes [packages.<name>] path = "<real path>" into
 * <project>/alc.local.toml (created when missing; other entries kept). path: absolute
 * directory with init.lua; name defaults to its last segment. An existing [packages.<name>]
 * is ALC_E_EXISTS unless force. No project root → ALC_E_NOT_FOUND. Report {linked: [name],
 * mode: "single", targets: {name: dir}, scope: "variant", alc_local_toml, project_root}. */
int alc_pkg_link_variant(const char *project_root, const char *path, const char *name, bool force, cJSON **report,
                         char *err, size_t errlen);

/* alc_pkg_remove with a scope: "project" (name out of alc.toml [packages] and alc.lock →
 * {removed, scope, alc_toml, alc_lock, alc_toml_updated, alc_lock_updated}), "global"
 * (alc_pkg_remove's report plus scope), "all" (both; {removed, scope, project_removed,
 * global_removed, project_note, global_note, alc_toml?, alc_lock?}, ALC_E_NOT_FOUND only when
 * neither had it). scope NULL: "project" when a project root resolves and its alc.toml lists
 * name, else "global" (so callers that pass only a name keep the old behaviour). version (may
 * be NULL): only an entry of that version is removed (alc.toml value or version key, alc.lock
 * version, installed.json / init.lua version). ALC_E_INVAL for a bad name or scope. */
int alc_pkg_remove_scoped(const alc_config *cfg, const char *name, const char *scope, const char *project_root,
                          const char *version, cJSON **report, char *err, size_t errlen);

/* alc_update: rewrites <project>/alc.lock from alc.toml [packages]: "*" / a version string →
 * source {type = "installed"} (an error entry when $ALC_HOME/packages/NAME is missing);
 * {path, version?} → {type = "path", path} (error entry when the directory is missing);
 * {git, rev?} → {type = "git", url, rev?} (recorded, not fetched). Entries in error are left
 * out of the lock. Report {resolved: N, errors: [{name, error}], alc_lock, alc_toml,
 * project_root}. No alc.toml → ALC_E_NOT_FOUND. */
int alc_pkg_update(const alc_config *cfg, const char *project_root, cJSON **report, char *err, size_t errlen);

/* alc_pkg_install, then (project_root not NULL) NAME = "<version or *>" in alc.toml [packages]
 * and a [[package]] {name, version?, source = {type = "installed"}} in alc.lock for every
 * installed package (files created when missing). Both files are checked before the install.
 * The report adds project_added, project_root, alc_toml, alc_lock. project_root NULL: exactly
 * alc_pkg_install (no implicit project). */
int alc_pkg_install_project(const alc_config *cfg, const char *url, const char *name, bool force,
                            const char *project_root, cJSON **report, char *err, size_t errlen);

/* The value of `version = "..."` inside the `meta = { ... }` table of a package's init.lua
 * source, found without running it (comments and other strings are skipped). Returns new
 * (free()) or NULL when absent or not a plain short string. */
char *alc_pkg_meta_version(const char *src, size_t len);

#endif
