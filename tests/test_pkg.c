/*
 * test_pkg.c — the package store (src/store/pkg*.c, project.c) called directly: name rules,
 * reading meta.version without running a package, the bundled-collection lookup override,
 * install / remove / link / unlink / scaffold / project init on temporary directories, and the
 * project layers read from alc.local.toml and alc.lock. The same paths run through the server in
 * tests/e2e/test_e2e_pkg.c; here they also run under the leak check.
 */
#define _XOPEN_SOURCE 700 /* realpath, setenv */
#include "helpers.h"

#include "alc/config.h"
#include "alc/error.h"
#include "alc/pkg.h"
#include "alc/project.h"

#include <limits.h>
#include <sys/stat.h>

static char *g_dirs[8];
static int g_ndirs;

static void cleanup(void) {
    for (int i = 0; i < g_ndirs; i++) {
        alc_test_rmtree(g_dirs[i]);
        free(g_dirs[i]);
    }
    g_ndirs = 0;
}

TestSuite(pkg, .fini = cleanup);

static char *tmp(void) {
    char *d = alc_test_tmpdir();
    char real[PATH_MAX];
    cr_assert_not_null(realpath(d, real));
    free(d);
    g_dirs[g_ndirs++] = strdup(real);
    return g_dirs[g_ndirs - 1];
}

static void put(const char *dir, const char *rel, const char *text) {
    char p[PATH_MAX], cmd[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", p);
    cr_assert_eq(system(cmd), 0);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *dir, const char *rel) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

/* A configuration whose ALC_HOME is home (only the fields the store uses). */
static void cfg_for(alc_config *c, const char *home) {
    cr_assert_eq(setenv("ALC_HOME", home, 1), 0);
    unsetenv("ALC_PACKAGES_PATH");
    char err[256];
    cr_assert_eq(alc_config_load(c, err, sizeof err), ALC_OK, "%s", err);
}

static char *ver(const char *src) { return alc_pkg_meta_version(src, strlen(src)); }

Test(pkg, package_names_are_single_safe_components) {
    const char *good[] = {"cot", "alc_shapes", "My-Pkg2", "x", NULL};
    const char *bad[] = {"", "..", "../x", "a/b", "a\\b", "a.b", ".hidden", "-rf", "sp ace", "é", NULL};
    for (int i = 0; good[i]; i++) cr_assert(alc_pkg_valid_name(good[i]), "%s", good[i]);
    for (int i = 0; bad[i]; i++) cr_assert(!alc_pkg_valid_name(bad[i]), "%s", bad[i]);
    cr_assert(!alc_pkg_valid_name(NULL));
    char longname[ALC_PKG_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert(!alc_pkg_valid_name(longname));
    longname[ALC_PKG_NAME_MAX] = '\0';
    cr_assert(alc_pkg_valid_name(longname));
}

Test(pkg, scaffold_names_follow_the_lowercase_rule) {
    cr_assert(alc_pkg_valid_scaffold_name("my_strategy2"));
    const char *bad[] = {"", "My", "2x", "_x", "a-b", "a.b", "a/b", NULL};
    for (int i = 0; bad[i]; i++) cr_assert(!alc_pkg_valid_scaffold_name(bad[i]), "%s", bad[i]);
    char n[80];
    memset(n, 'a', 64);
    n[64] = '\0';
    cr_assert(alc_pkg_valid_scaffold_name(n));
    n[64] = 'a';
    n[65] = '\0';
    cr_assert(!alc_pkg_valid_scaffold_name(n));
}

Test(pkg, meta_version_is_read_without_running_the_package) {
    char *v;
    cr_assert_str_eq(v = ver("local M = {}\nM.meta = { name = 'x', version = \"1.2.3\" }\nreturn M\n"), "1.2.3");
    free(v);
    cr_assert_str_eq(v = ver("M.meta = {\n  deps = { version = '9' },\n  version = '0.4.0',\n}\n"), "0.4.0",
                     "a nested table's version is not the package's");
    free(v);
    cr_assert_str_eq(v = ver("-- meta = { version = 'comment' }\n--[[ meta = { version = 'long' } ]]\n"
                             "local s = \"meta = { version = 'string' }\"\nlocal t = [==[ meta = {version='ls'} ]==]\n"
                             "M.meta = { version = 'real' }\n"),
                     "real");
    free(v);
    cr_assert_str_eq(v = ver("M.meta={version='x' --[[ c ]] }"), "x");
    free(v);
    cr_assert_null(ver("return { run = function() end }"));
    cr_assert_null(ver("M.meta = { version = 2 }"), "only strings");
    cr_assert_null(ver("M.meta = { version = 'a\\'b' }"), "escapes are not interpreted");
    cr_assert_null(ver("M.meta = { version = '' }"));
    cr_assert_null(ver("if M.meta == { version = '1' } then end"), "a comparison is not the definition");
    cr_assert_null(ver("M.meta = { version = 'unterminated"));
    cr_assert_null(alc_pkg_meta_version(NULL, 0));
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, bundled_dir_env_override_is_exclusive) {
    char *d = tmp();
    cr_assert_eq(setenv("ALC_BUNDLED_DIR", d, 1), 0);
    char *out = NULL, err[512];
    cr_assert_eq(alc_pkg_bundled_dir(&out, err, sizeof err), ALC_OK);
    cr_assert_str_eq(out, d);
    free(out);
    cr_assert_eq(setenv("ALC_BUNDLED_DIR", "/nonexistent/bundle", 1), 0);
    cr_assert_eq(alc_pkg_bundled_dir(&out, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_null(out);
    cr_assert(strstr(err, "ALC_BUNDLED_DIR=/nonexistent/bundle"), "%s", err);
    unsetenv("ALC_BUNDLED_DIR");
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, install_remove_link_unlink_round_trip) {
    char *home = tmp(), *src = tmp();
    alc_config cfg;
    cfg_for(&cfg, home);
    put(src, "coll/a/init.lua", "M.meta = { version = '1.0' }\nreturn M\n");
    put(src, "coll/a/sub/x.lua", "return 1\n");
    put(src, "coll/b/init.lua", "return {}\n");
    put(src, "coll/notes/readme", "x\n");
    char path[PATH_MAX + 16], err[1024];
    snprintf(path, sizeof path, "%s/coll", src);
    cJSON *rep = NULL;
    cr_assert_eq(alc_pkg_install(&cfg, path, NULL, false, &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(cJSON_GetObjectItem(rep, "mode")->valuestring, "local_collection");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "installed")), 2);
    cJSON_Delete(rep);
    cr_assert(exists(home, "packages/a/sub/x.lua"));
    cr_assert(!exists(home, "packages/notes"));

    cr_assert_eq(alc_pkg_remove(&cfg, "a", &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert(!exists(home, "packages/a"));
    cr_assert_eq(alc_pkg_remove(&cfg, "a", &rep, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_null(rep);

    snprintf(path, sizeof path, "%s/coll/a", src);
    cr_assert_eq(alc_pkg_link(&cfg, path, "a_link", false, &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_link(&cfg, path, "a_link", false, &rep, err, sizeof err), ALC_E_EXISTS);
    cr_assert_eq(alc_pkg_unlink(&cfg, "b", &rep, err, sizeof err), ALC_E_INVAL, "an installed copy is not a link");
    cr_assert_eq(alc_pkg_unlink(&cfg, "a_link", &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert(exists(src, "coll/a/init.lua"), "unlink leaves the target");

    cr_assert_eq(alc_pkg_install(&cfg, "relative/x", NULL, false, &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_pkg_install(&cfg, path, "../evil", false, &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(rep);
    alc_config_deinit(&cfg);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, list_scaffold_and_project_init) {
    char *home = tmp(), *proj = tmp();
    alc_config cfg;
    cfg_for(&cfg, home);
    cJSON *rep = NULL;
    char err[1024];
    cr_assert_eq(alc_pkg_scaffold(&cfg, "tmpl", NULL, &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_scaffold(&cfg, "tmpl", NULL, &rep, err, sizeof err), ALC_E_EXISTS);
    cr_assert_eq(alc_pkg_list(&cfg, NULL, &rep, err, sizeof err), ALC_OK, "%s", err);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "packages"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(first, "name")->valuestring, "tmpl");
    cr_assert_str_eq(cJSON_GetObjectItem(first, "version")->valuestring, "0.1.0");
    cr_assert_str_eq(cJSON_GetObjectItem(first, "source")->valuestring, "unmanaged");
    cJSON_Delete(rep);

    cr_assert_eq(alc_pkg_project_init(proj, &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert(exists(proj, "alc.toml") && exists(proj, ".gitignore"));
    cr_assert_eq(alc_pkg_project_init(proj, &rep, err, sizeof err), ALC_E_EXISTS);
    cr_assert_eq(alc_pkg_project_init("rel", &rep, err, sizeof err), ALC_E_INVAL);
    alc_config_deinit(&cfg);
    ALC_ASSERT_NO_LEAKS();
}

/* How many entries of rep's "packages" are named name. */
static int count_named(const cJSON *rep, const char *name) {
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(rep, "packages")) {
        const cJSON *nm = cJSON_GetObjectItem(e, "name");
        if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0) n++;
    }
    return n;
}

Test(pkg, variant_dir_that_is_also_a_search_root_is_listed_once_under_its_name) {
    // alc.local.toml makes vdir both the variant package "v" and a search root; the root's own
    // init.lua is v's entry file, not a package called "init".
    char *home = tmp(), *proj = tmp();
    alc_config cfg;
    cfg_for(&cfg, home);
    put(proj, "alc.local.toml", "[packages.v]\npath = \"vdir\"\n");
    put(proj, "vdir/init.lua", "local M = {}\nM.meta = { name = 'v', version = '2.0.0' }\nreturn M\n");
    put(proj, "vendor/init.lua", "return {}\n");  // an alc.lock path root pointing at a package dir
    put(proj, "vendor/l/init.lua", "return {}\n");
    put(proj, "alc.lock", "version = 1\n[[package]]\nname = \"l\"\nsource = { type = \"path\", path = \"vendor\" }\n");
    cJSON *rep = NULL;
    char err[1024];
    cr_assert_eq(alc_pkg_list(&cfg, proj, &rep, err, sizeof err), ALC_OK, "%s", err);
    char *shown = cJSON_PrintUnformatted(rep);
    cr_assert_eq(count_named(rep, "init"), 0, "no package 'init': %s", shown);
    cr_assert_eq(count_named(rep, "v"), 1, "%s", shown);
    cr_assert_eq(count_named(rep, "l"), 1, "%s", shown);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "packages"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(first, "name")->valuestring, "v");
    cr_assert_str_eq(cJSON_GetObjectItem(first, "source")->valuestring, "variant");
    cr_assert_str_eq(cJSON_GetObjectItem(first, "version")->valuestring, "2.0.0");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(first, "active")));
    cJSON_free(shown);
    cJSON_Delete(rep);

    // a real top-level module file next to it is still listed
    put(proj, "vdir/other.lua", "return {}\n");
    cr_assert_eq(alc_pkg_list(&cfg, proj, &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(count_named(rep, "other"), 1);
    cr_assert_eq(count_named(rep, "init"), 0);
    cJSON_Delete(rep);
    alc_config_deinit(&cfg);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, project_layers_from_local_toml_and_lock) {
    char *proj = tmp();
    put(proj, "alc.local.toml", "[packages.v]\npath = \"vdir\"\n[packages.gone]\npath = \"/nonexistent/x\"\n"
                                "[packages.\"bad.name\"]\npath = \"vdir\"\n");
    put(proj, "vdir/init.lua", "return {}\n");
    put(proj, "alc.lock", "version = 1\n[[package]]\nname = \"l\"\nsource = { type = \"path\", path = \"vendor\" }\n");
    put(proj, "vendor/l/init.lua", "return {}\n");
    alc_project *p = NULL;
    char err[512];
    cr_assert_eq(alc_project_load(proj, &p, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(p->n_variants, 1);
    cr_assert_str_eq(p->variants[0].name, "v");
    const alc_project_variant *v = alc_project_variant_for(p, "v.sub.mod");
    cr_assert(v && strstr(v->dir, "/vdir"));
    cr_assert_null(alc_project_variant_for(p, "vv"));
    cr_assert_eq(p->n_roots, 3, "variant dir, lock path, packages/");
    cr_assert_str_eq(p->root_sources[0], "alc.local.toml");
    cr_assert_str_eq(p->root_sources[1], "alc.lock");
    cr_assert_str_eq(p->root_sources[2], "project");
    cr_assert_eq(p->n_warnings, 2, "the missing dir and the bad name are reported");
    alc_project_free(p);

    put(proj, "alc.lock", "version = 7\n");
    cr_assert_eq(alc_project_load(proj, &p, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(p);
    cr_assert(strstr(err, "expected version = 1"), "%s", err);

    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/vdir/init.lua", proj);
    cr_assert(alc_project_path_inside(file, proj));
    cr_assert(!alc_project_path_inside("/etc/passwd", proj));
    char link[PATH_MAX];
    snprintf(link, sizeof link, "%s/escape", proj);
    cr_assert_eq(symlink("/etc/passwd", link), 0);
    cr_assert(!alc_project_path_inside(link, proj), "a symlink out of the root is outside");
    ALC_ASSERT_NO_LEAKS();
}
