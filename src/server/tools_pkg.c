/*
 * tools_pkg.c — the package and project tools: alc_pkg_list, alc_pkg_install, alc_pkg_remove,
 * alc_pkg_link, alc_pkg_unlink, alc_pkg_scaffold, alc_init and alc_update. Each handler checks
 * its argument types and hands the work to the package store (include/alc/pkg.h), which validates
 * names and paths and confines every change to $ALC_HOME (or the project / target dir).
 * The project of a call is resolved as in reference §4.3 (alc_project_resolve_root): explicit
 * project_root, $ALC_PROJECT_ROOT, the first ancestor of the server's cwd with an alc.toml.
 *
 * Handlers run on the reader thread and answer synchronously. They block on disk I/O, and
 * alc_pkg_install with a git URL blocks for up to the clone timeout (60 s); no engine lock is
 * held meanwhile.
 */
#include "server_internal.h"

#include "alc/error.h"
#include "alc/pkg.h"
#include "alc/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RO "{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"
#define WRITE_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":false,\"openWorldHint\":false}"
#define DESTRUCTIVE "{\"readOnlyHint\":false,\"destructiveHint\":true,\"idempotentHint\":false,\"openWorldHint\":false}"
#define INSTALL_ANN "{\"readOnlyHint\":false,\"destructiveHint\":true,\"idempotentHint\":false,\"openWorldHint\":true}"

/* Answers c with the report, or with an isError result "<what> failed: <err>". */
static void finish(alc_call *c, int rc, cJSON *report, const char *what, const char *err) {
    if (rc == ALC_OK && report) {
        alc_call_reply_json(c, report);
        return;
    }
    cJSON_Delete(report);
    alc_call_fail(c, "%s failed: %s", what, err[0] ? err : alc_err_message(rc));
}

static void alc_tool_pkg_list(alc_call *c) {
    const char *project_root;
    if (!alc_arg_string(c, "project_root", false, &project_root)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    char *root = NULL;
    int rc = ALC_OK;
    /* a relative explicit root stays an error (alc_pkg_list says so); others are resolved */
    if (!(project_root && project_root[0] != '/')) rc = alc_project_resolve_root(project_root, &root, err, sizeof err);
    if (rc == ALC_OK) rc = alc_pkg_list(c->srv->cfg, root ? root : project_root, &rep, err, sizeof err);
    free(root);
    finish(c, rc, rep, "alc_pkg_list", err);
}

static void alc_tool_pkg_install(alc_call *c) {
    const char *url, *name, *project_root;
    bool force = false;
    if (!alc_arg_string(c, "url", true, &url) || !alc_arg_string(c, "name", false, &name) ||
        !alc_arg_bool(c, "force", false, &force, NULL) || !alc_arg_string(c, "project_root", false, &project_root))
        return;
    cJSON *rep = NULL;
    char err[1024] = "";
    /* only an explicit project_root records the install in the project (no implicit project) */
    int rc = alc_pkg_install_project(c->srv->cfg, url, name, force, project_root, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_install", err);
}

static void alc_tool_pkg_remove(alc_call *c) {
    const char *name, *scope, *project_root, *version;
    if (!alc_arg_string(c, "name", true, &name) || !alc_arg_string(c, "scope", false, &scope) ||
        !alc_arg_string(c, "project_root", false, &project_root) || !alc_arg_string(c, "version", false, &version))
        return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_remove_scoped(c->srv->cfg, name, scope, project_root, version, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_remove", err);
}

static void alc_tool_pkg_link(alc_call *c) {
    const char *path, *name, *scope, *project_root;
    bool force = false;
    if (!alc_arg_string(c, "path", true, &path) || !alc_arg_string(c, "name", false, &name) ||
        !alc_arg_bool(c, "force", false, &force, NULL) || !alc_arg_string(c, "scope", false, &scope) ||
        !alc_arg_string(c, "project_root", false, &project_root))
        return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc;
    if (!scope || strcmp(scope, "global") == 0) {
        if (project_root) {
            alc_call_fail(c, "alc_pkg_link failed: 'project_root' is only used with scope \"variant\"");
            return;
        }
        rc = alc_pkg_link(c->srv->cfg, path, name, force, &rep, err, sizeof err);
    } else if (strcmp(scope, "variant") == 0) {
        rc = alc_pkg_link_variant(project_root, path, name, force, &rep, err, sizeof err);
    } else {
        alc_call_fail(c, "alc_pkg_link failed: unknown scope '%.50s': use \"global\" or \"variant\"", scope);
        return;
    }
    finish(c, rc, rep, "alc_pkg_link", err);
}

static void alc_tool_pkg_unlink(alc_call *c) {
    const char *name;
    if (!alc_arg_string(c, "name", true, &name)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_unlink(c->srv->cfg, name, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_unlink", err);
}

static void alc_tool_pkg_scaffold(alc_call *c) {
    const char *name, *target_dir;
    if (!alc_arg_string(c, "name", true, &name) || !alc_arg_string(c, "target_dir", false, &target_dir)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_scaffold(c->srv->cfg, name, target_dir, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_scaffold", err);
}

static void alc_tool_init(alc_call *c) {
    const char *project_root;
    if (!alc_arg_string(c, "project_root", false, &project_root)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_project_init(project_root, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_init", err);
}

static void alc_tool_update(alc_call *c) {
    const char *project_root;
    if (!alc_arg_string(c, "project_root", false, &project_root)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_update(c->srv->cfg, project_root, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_update", err);
}

/* The package group of the tool table (tools.c lists the groups). */
const alc_tool_def alc_tools_pkg[] = {
    {"alc_pkg_list",
     "List the strategy packages require() can see, in resolution order: the project's layers "
     "(alc.local.toml variants and paths, alc.lock path entries, <project>/packages) of the project (project_root, "
     "else $ALC_PROJECT_ROOT, else the nearest directory above the server's cwd with an alc.toml), "
     "then ALC_PACKAGES_PATH roots, then $ALC_HOME/packages. Each entry: name, version (M.meta.version, read "
     "without running the package), scope (project|global), source (variant, alc.lock, bundled, local, git, linked, "
     "unmanaged, ...), active (false when shadowed by an earlier root), path.",
     "{\"type\":\"object\",\"properties\":{"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of a project directory whose alc.local.toml / alc.lock / packages/ are included (default: $ALC_PROJECT_ROOT, else the cwd walk for alc.toml).\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_pkg_list},
    {"alc_pkg_install",
     "Install packages into $ALC_HOME/packages from an absolute local directory (copied) or a git URL "
     "(https://, http://, ssh://, git://, file://, git@host:path, or host.tld/owner/repo; shallow clone, 60 s limit). "
     "A source with init.lua at its root is one package; otherwise each sub-directory with an init.lua is installed "
     "(a collection). An existing single package is an error unless force; existing collection members are skipped "
     "unless force. Records the install in $ALC_HOME/installed.json. With project_root, also adds NAME = \"<version or *>\" "
     "to <project_root>/alc.toml [packages] and the matching alc.lock entry (files created when missing; rewriting drops "
     "their comments). Without project_root no project file is touched.",
     "{\"type\":\"object\",\"properties\":{"
     "\"url\":{\"type\":\"string\",\"description\":\"Absolute path of a local directory, or a git URL.\"},"
     "\"name\":{\"type\":\"string\",\"description\":\"Name for a single package (default: the last path/URL segment). Letters, digits, '_', '-'.\"},"
     "\"force\":{\"type\":\"boolean\",\"description\":\"Replace packages that are already installed (default false).\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of a project directory: record the installed packages in its alc.toml and alc.lock.\"}"
     "},\"required\":[\"url\"],\"additionalProperties\":false}",
     INSTALL_ANN, alc_tool_pkg_install},
    {"alc_pkg_remove",
     "Remove a package. scope \"project\": drop it from the project's alc.toml [packages] and alc.lock (files on disk "
     "stay; the files are rewritten without their comments). scope \"global\": delete $ALC_HOME/packages/<name> (a linked "
     "package is only unlinked; its target is left alone) and its installed.json entry. scope \"all\": both; an error only "
     "when neither had it. Default: \"project\" when a project resolves (project_root, $ALC_PROJECT_ROOT, cwd walk for "
     "alc.toml), else \"global\".",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"description\":\"Package name.\"},"
     "\"scope\":{\"type\":\"string\",\"enum\":[\"project\",\"global\",\"all\"],\"description\":\"Where to remove it from (default: see above).\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of the project directory (default: $ALC_PROJECT_ROOT, else the cwd walk).\"},"
     "\"version\":{\"type\":\"string\",\"description\":\"Only remove the entry / installed copy of this version.\"}"
     "},\"required\":[\"name\"],\"additionalProperties\":false}",
     DESTRUCTIVE, alc_tool_pkg_remove},
    {"alc_pkg_link",
     "Make a local package directory available without copying it: creates the symlink "
     "$ALC_HOME/packages/<name> -> path (path: a directory with init.lua), or one link per package when path is a "
     "collection (scope \"global\", the default). scope \"variant\": instead writes [packages.<name>] path = \"<dir>\" into "
     "the project's alc.local.toml (created when missing, other entries kept, comments dropped), so require(name) in that "
     "project loads <dir>/init.lua before any global package. Edits to the directory take effect in the next session.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"Absolute path of the package (or collection) directory.\"},"
     "\"name\":{\"type\":\"string\",\"description\":\"Link name for a single package (default: the directory name).\"},"
     "\"force\":{\"type\":\"boolean\",\"description\":\"Replace an existing package, link or variant entry of that name (default false).\"},"
     "\"scope\":{\"type\":\"string\",\"enum\":[\"global\",\"variant\"],\"description\":\"global (default): symlink into $ALC_HOME/packages; variant: entry in <project>/alc.local.toml.\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"scope variant only: absolute project directory (default: $ALC_PROJECT_ROOT, else the cwd walk for alc.toml).\"}"
     "},\"required\":[\"path\"],\"additionalProperties\":false}",
     DESTRUCTIVE, alc_tool_pkg_link},
    {"alc_pkg_unlink",
     "Remove a link created by alc_pkg_link ($ALC_HOME/packages/<name> must be a symlink; its target is not touched).",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"description\":\"Name of the linked package.\"}"
     "},\"required\":[\"name\"],\"additionalProperties\":false}",
     DESTRUCTIVE, alc_tool_pkg_unlink},
    {"alc_pkg_scaffold",
     "Create a new strategy package from a runnable template: <target_dir>/<name>/init.lua with M.meta and a "
     "run(ctx) that calls alc.llm once. Run it with alc_advice {strategy: name, task: ...}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"description\":\"Package name: ^[a-z][a-z0-9_]*$, at most 64 characters.\"},"
     "\"target_dir\":{\"type\":\"string\",\"description\":\"Absolute path of an existing directory (default $ALC_HOME/packages).\"}"
     "},\"required\":[\"name\"],\"additionalProperties\":false}",
     WRITE_ANN, alc_tool_pkg_scaffold},
    {"alc_init",
     "Set up a project for alc: creates <project_root>/alc.toml with an empty [packages] table and adds "
     "alc.local.toml to .gitignore. Fails if alc.toml already exists.",
     "{\"type\":\"object\",\"properties\":{"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of the project directory (default: $ALC_PROJECT_ROOT, else the server's cwd).\"}"
     "},\"additionalProperties\":false}",
     WRITE_ANN, alc_tool_init},
    {"alc_update",
     "Rewrite the project's alc.lock from its alc.toml [packages]: \"*\" or a version string -> an installed package "
     "(error entry when $ALC_HOME/packages/<name> is missing), {path = \"DIR\", version?} -> a path source (error entry when "
     "DIR is missing), {git = \"URL\", rev?} -> recorded as a git source (not fetched). Entries in error are left out. "
     "Returns {resolved, errors: [{name, error}], alc_lock}. The lock is written atomically; comments in it are not kept.",
     "{\"type\":\"object\",\"properties\":{"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of the project directory (default: $ALC_PROJECT_ROOT, else the cwd walk for alc.toml).\"}"
     "},\"additionalProperties\":false}",
     WRITE_ANN, alc_tool_update},
    {NULL, NULL, NULL, NULL, NULL},
};
