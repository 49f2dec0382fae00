/*
 * tools_pkg.c — the package and project tools: alc_pkg_list, alc_pkg_install, alc_pkg_remove,
 * alc_pkg_link, alc_pkg_unlink, alc_pkg_scaffold and alc_init. Each handler checks its
 * argument types and hands the work to the package store (include/alc/pkg.h), which validates
 * names and paths and confines every change to $ALC_HOME (or the named project / target dir).
 *
 * Handlers run on the reader thread and answer synchronously. They block on disk I/O, and
 * alc_pkg_install with a git URL blocks for up to the clone timeout (60 s); no engine lock is
 * held meanwhile.
 */
#include "server_internal.h"

#include "alc/error.h"
#include "alc/pkg.h"

#include <stdio.h>

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
    int rc = alc_pkg_list(c->srv->cfg, project_root, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_list", err);
}

static void alc_tool_pkg_install(alc_call *c) {
    const char *url, *name;
    bool force = false;
    if (!alc_arg_string(c, "url", true, &url) || !alc_arg_string(c, "name", false, &name) ||
        !alc_arg_bool(c, "force", false, &force, NULL))
        return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_install(c->srv->cfg, url, name, force, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_install", err);
}

static void alc_tool_pkg_remove(alc_call *c) {
    const char *name;
    if (!alc_arg_string(c, "name", true, &name)) return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_remove(c->srv->cfg, name, &rep, err, sizeof err);
    finish(c, rc, rep, "alc_pkg_remove", err);
}

static void alc_tool_pkg_link(alc_call *c) {
    const char *path, *name;
    bool force = false;
    if (!alc_arg_string(c, "path", true, &path) || !alc_arg_string(c, "name", false, &name) ||
        !alc_arg_bool(c, "force", false, &force, NULL))
        return;
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_link(c->srv->cfg, path, name, force, &rep, err, sizeof err);
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

/* The package group of the tool table (tools.c lists the groups). */
const alc_tool_def alc_tools_pkg[] = {
    {"alc_pkg_list",
     "List the strategy packages require() can see, in resolution order: the project's layers "
     "(alc.local.toml variants and paths, alc.lock path entries, <project>/packages) when project_root is given, "
     "then ALC_PACKAGES_PATH roots, then $ALC_HOME/packages. Each entry: name, version (M.meta.version, read "
     "without running the package), scope (project|global), source (variant, alc.lock, bundled, local, git, linked, "
     "unmanaged, ...), active (false when shadowed by an earlier root), path.",
     "{\"type\":\"object\",\"properties\":{"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of a project directory whose alc.local.toml / alc.lock / packages/ are included.\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_pkg_list},
    {"alc_pkg_install",
     "Install packages into $ALC_HOME/packages from an absolute local directory (copied) or a git URL "
     "(https://, http://, ssh://, git://, file://, git@host:path, or host.tld/owner/repo; shallow clone, 60 s limit). "
     "A source with init.lua at its root is one package; otherwise each sub-directory with an init.lua is installed "
     "(a collection). An existing single package is an error unless force; existing collection members are skipped "
     "unless force. Records the install in $ALC_HOME/installed.json.",
     "{\"type\":\"object\",\"properties\":{"
     "\"url\":{\"type\":\"string\",\"description\":\"Absolute path of a local directory, or a git URL.\"},"
     "\"name\":{\"type\":\"string\",\"description\":\"Name for a single package (default: the last path/URL segment). Letters, digits, '_', '-'.\"},"
     "\"force\":{\"type\":\"boolean\",\"description\":\"Replace packages that are already installed (default false).\"}"
     "},\"required\":[\"url\"],\"additionalProperties\":false}",
     INSTALL_ANN, alc_tool_pkg_install},
    {"alc_pkg_remove",
     "Remove an installed package: deletes $ALC_HOME/packages/<name> (a linked package is only unlinked; its target "
     "is left alone) and its installed.json entry. Nothing outside $ALC_HOME/packages is touched.",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"description\":\"Package name.\"}"
     "},\"required\":[\"name\"],\"additionalProperties\":false}",
     DESTRUCTIVE, alc_tool_pkg_remove},
    {"alc_pkg_link",
     "Make a local package directory available without copying it: creates the symlink "
     "$ALC_HOME/packages/<name> -> path (path: a directory with init.lua), or one link per package when path is a "
     "collection. Edits to the directory take effect in the next session.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"Absolute path of the package (or collection) directory.\"},"
     "\"name\":{\"type\":\"string\",\"description\":\"Link name for a single package (default: the directory name).\"},"
     "\"force\":{\"type\":\"boolean\",\"description\":\"Replace an existing package or link of that name (default false).\"}"
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
     "\"project_root\":{\"type\":\"string\",\"description\":\"Absolute path of the project directory (default: $ALC_PROJECT_ROOT).\"}"
     "},\"additionalProperties\":false}",
     WRITE_ANN, alc_tool_init},
    {NULL, NULL, NULL, NULL, NULL},
};
