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

#include <fcntl.h>
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

/* ---- project files: the TOML writer, root resolution, alc_update ------------------------ */

#include "alc/toml.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

/* Renders doc, parses the text back and requires an equal tree; returns the text (free()). */
static char *round_trip(const cJSON *doc, int depth) {
    char *text = NULL, err[256];
    size_t n = 0;
    cr_assert_eq(alc_project_toml_render(doc, depth, &text, &n, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(strlen(text), n);
    cJSON *back = NULL;
    cr_assert_eq(alc_toml_parse(text, n, &back, NULL, err, sizeof err), ALC_OK, "%s\n--- text:\n%s", err, text);
    cr_assert(cJSON_Compare(back, doc, true), "round trip differs:\n%s", text);
    cJSON_Delete(back);
    return text;
}

Test(pkg, toml_writer_output_parses_back_to_the_same_tree) {
    const char *json =
        "{\"version\":1,\"title\":\"q\\\"uo\\\\te\\n\\ttab \\u0001 é ✓\",\"neg\":-42,\"pi\":3.25,\"big\":1e300,"
        "\"on\":true,\"off\":false,\"list\":[1,\"two\",[3,4],{\"a\":1}],\"empty\":[],\"e\":{},"
        "\"packages\":{\"cot\":\"*\",\"pinned\":\"1.2.0\",\"local\":{\"path\":\"vendor/x\",\"version\":\"0.1\"},"
        "\"remote\":{\"git\":\"https://h/r.git\",\"rev\":\"abc\"},\"with space\":\"*\",\"a.b\":{\"path\":\"p\"}},"
        "\"package\":[{\"name\":\"cot\",\"source\":{\"type\":\"installed\"}},"
        "{\"name\":\"l\",\"version\":\"2\",\"source\":{\"type\":\"path\",\"path\":\"vendor\"}}]}";
    cJSON *doc = cJSON_Parse(json);
    cr_assert_not_null(doc);
    for (int depth = 0; depth <= 3; depth++) free(round_trip(doc, depth));
    char *t1 = round_trip(doc, 1);
    cr_assert(strncmp(t1, "version = 1\n", 12) == 0, "plain keys come first: %s", t1);
    cr_assert(strstr(t1, "\n[packages]\ncot = \"*\"\n"), "%s", t1);
    cr_assert(strstr(t1, "local = {path = \"vendor/x\", version = \"0.1\"}\n"), "%s", t1);
    cr_assert(strstr(t1, "\"with space\" = \"*\"\n"), "quoted key: %s", t1);
    cr_assert(strstr(t1, "\n[[package]]\nname = \"cot\"\nsource = {type = \"installed\"}\n"), "%s", t1);
    free(t1);
    cJSON_Delete(doc);

    doc = cJSON_Parse("{\"packages\":{\"v\":{\"path\":\"/abs/v\"},\"w\":{\"path\":\"rel\"}}}");
    char *t2 = round_trip(doc, 2);
    cr_assert_str_eq(t2, "[packages]\n\n[packages.v]\npath = \"/abs/v\"\n\n[packages.w]\npath = \"rel\"\n");
    free(t2);
    cJSON_Delete(doc);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, toml_writer_refuses_what_toml_cannot_hold) {
    char *text = NULL, err[256];
    cJSON *doc = cJSON_Parse("{\"a\":null}");
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(text);
    cr_assert(strstr(err, "null"), "%s", err);
    cJSON_Delete(doc);
    doc = cJSON_CreateArray();
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_E_INVAL);
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "x", NAN);
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_E_INVAL);
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "s", "bad \xff utf8");
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "UTF-8"), "%s", err);
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();  // 2^63 read as a double may have lost digits already
    cJSON_AddNumberToObject(doc, "big", 9223372036854775807.0);
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "too large"), "%s", err);
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();  // 2^53 itself is exact and written as an integer
    cJSON_AddNumberToObject(doc, "n", 9007199254740992.0);
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(text, "n = 9007199254740992\n");
    free(text);
    cJSON_Delete(doc);
    doc = cJSON_CreateObject();  // an empty document is an empty file
    cr_assert_eq(alc_project_toml_render(doc, 1, &text, NULL, err, sizeof err), ALC_OK);
    cr_assert_str_eq(text, "");
    free(text);
    cJSON_Delete(doc);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, project_root_is_explicit_then_env_then_the_cwd_walk_with_a_one_second_cache) {
    char *proj = tmp(), *other = tmp(), *outside = tmp();
    put(proj, "alc.toml", "[packages]\n");
    put(proj, "sub/deeper/keep", "");
    char sub[PATH_MAX], old[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/sub/deeper", proj);
    cr_assert_not_null(getcwd(old, sizeof old));
    unsetenv("ALC_PROJECT_ROOT");
    char *root = NULL, err[256];

    cr_assert_eq(chdir(sub), 0);
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(root, proj, "the walk finds the nearest alc.toml above the cwd");
    free(root);
    cr_assert_eq(alc_project_resolve_root(other, &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, other, "an explicit directory wins");
    free(root);
    cr_assert_eq(alc_project_resolve_root("/nonexistent/proj", &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, proj, "an explicit path that is not a directory falls through");
    free(root);

    cr_assert_eq(setenv("ALC_PROJECT_ROOT", other, 1), 0);
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, other, "ALC_PROJECT_ROOT comes before the walk (and a new value is seen at once)");
    free(root);
    cr_assert_eq(setenv("ALC_PROJECT_ROOT", "/nonexistent/env", 1), 0);
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, proj, "an ALC_PROJECT_ROOT that is not a directory falls through to the walk");
    free(root);
    unsetenv("ALC_PROJECT_ROOT");
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, proj);
    free(root);

    cr_assert_eq(chdir(outside), 0);
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK);
    cr_assert_str_eq(root, proj, "within a second the walk's result is cached");
    free(root);
    struct timespec nap = {1, 100000000};
    nanosleep(&nap, NULL);
    cr_assert_eq(alc_project_resolve_root(NULL, &root, err, sizeof err), ALC_OK);
    cr_assert_null(root, "no alc.toml above %s: no project", outside);
    cr_assert_eq(chdir(old), 0);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, update_writes_a_lock_that_the_project_loader_reads_back) {
    char *home = tmp(), *proj = tmp();
    alc_config cfg;
    cfg_for(&cfg, home);
    put(home, "packages/cot/init.lua", "local M = {}\nM.meta = { version = '1.5.0' }\nreturn M\n");
    put(proj, "vendor/lib/init.lua", "return {}\n");
    put(proj, "alc.toml", "# comment\n[packages]\ncot = \"*\"\nmissing = \"1.0\"\nlocal = { path = \"vendor\" }\n"
                          "gone = { path = \"nowhere\" }\nremote = { git = \"https://example.invalid/r.git\", rev = \"v1\" }\n"
                          "odd = 3\n");
    cJSON *rep = NULL;
    char err[1024];
    cr_assert_eq(alc_pkg_update(&cfg, proj, &rep, err, sizeof err), ALC_OK, "%s", err);
    char *shown = cJSON_PrintUnformatted(rep);
    cr_assert_eq(cJSON_GetObjectItem(rep, "resolved")->valueint, 3, "%s", shown);
    const cJSON *errors = cJSON_GetObjectItem(rep, "errors");
    cr_assert_eq(cJSON_GetArraySize(errors), 3, "%s", shown);
    cr_assert(strstr(shown, "\"missing\"") && strstr(shown, "not installed") && strstr(shown, "nowhere") &&
              strstr(shown, "unsupported"), "%s", shown);
    cJSON_free(shown);
    cJSON_Delete(rep);

    char lock[PATH_MAX];
    snprintf(lock, sizeof lock, "%s/alc.lock", proj);
    cJSON *doc = NULL;
    cr_assert_eq(alc_toml_parse_file(lock, &doc, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(cJSON_GetObjectItem(doc, "version")->valueint, 1);
    const cJSON *arr = cJSON_GetObjectItem(doc, "package");
    cr_assert_eq(cJSON_GetArraySize(arr), 3);
    const cJSON *cot = cJSON_GetArrayItem(arr, 0);
    cr_assert_str_eq(cJSON_GetObjectItem(cot, "name")->valuestring, "cot");
    cr_assert_str_eq(cJSON_GetObjectItem(cot, "version")->valuestring, "1.5.0");
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cot, "source"), "type")->valuestring, "installed");
    const cJSON *git = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "source");
    cr_assert_str_eq(cJSON_GetObjectItem(git, "type")->valuestring, "git");
    cr_assert_str_eq(cJSON_GetObjectItem(git, "rev")->valuestring, "v1");
    cJSON_Delete(doc);

    alc_project *p = NULL;
    cr_assert_eq(alc_project_load(proj, &p, err, sizeof err), ALC_OK, "%s", err);
    char vendor[PATH_MAX];
    snprintf(vendor, sizeof vendor, "%s/vendor", proj);
    cr_assert_eq(p->n_roots, 2, "alc.lock path root + <project>/packages");
    cr_assert_str_eq(p->roots[0], vendor);
    cr_assert_str_eq(p->root_sources[0], "alc.lock");
    alc_project_free(p);

    // malformed alc.toml: an error, and the lock is left as it is
    put(proj, "alc.toml", "[packages\n");
    cr_assert_eq(alc_pkg_update(&cfg, proj, &rep, err, sizeof err), ALC_E_PARSE);
    cr_assert(strstr(err, "alc.toml:1:"), "%s", err);
    cr_assert_eq(alc_toml_parse_file(lock, &doc, err, sizeof err), ALC_OK, "lock unchanged");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "package")), 3);
    cJSON_Delete(doc);
    cr_assert_eq(alc_pkg_update(&cfg, "relative", &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_pkg_update(&cfg, "/nonexistent/p", &rep, err, sizeof err), ALC_E_NOT_FOUND);
    alc_config_deinit(&cfg);
    ALC_ASSERT_NO_LEAKS();
}

Test(pkg, variant_link_and_scoped_remove_edit_only_the_project_files) {
    char *home = tmp(), *proj = tmp(), *src = tmp();
    alc_config cfg;
    cfg_for(&cfg, home);
    unsetenv("ALC_PROJECT_ROOT");
    put(src, "v/init.lua", "return {}\n");
    put(proj, "alc.local.toml", "[packages.keep]\npath = \"k\"\n");
    char vdir[PATH_MAX];
    snprintf(vdir, sizeof vdir, "%s/v", src);
    cJSON *rep = NULL;
    char err[1024];
    cr_assert_eq(alc_pkg_link_variant(proj, vdir, NULL, false, &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(cJSON_GetObjectItem(rep, "scope")->valuestring, "variant");
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_link_variant(proj, vdir, NULL, false, &rep, err, sizeof err), ALC_E_EXISTS);
    cr_assert_eq(alc_pkg_link_variant(proj, vdir, "v2", false, &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_link_variant(proj, src, NULL, false, &rep, err, sizeof err), ALC_E_INVAL, "no init.lua");
    cr_assert_eq(alc_pkg_link_variant(proj, vdir, "../x", false, &rep, err, sizeof err), ALC_E_INVAL);
    alc_project *p = NULL;
    put(proj, "k/init.lua", "return {}\n");
    cr_assert_eq(alc_project_load(proj, &p, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(p->n_variants, 3, "keep, v and v2");
    cr_assert_str_eq(alc_project_variant_for(p, "v")->dir, vdir);
    alc_project_free(p);

    put(proj, "alc.toml", "[packages]\nv = \"*\"\nw = \"1.0\"\n");
    put(proj, "alc.lock", "version = 1\n[[package]]\nname = \"v\"\nsource = {type = \"installed\"}\n");
    cr_assert_eq(alc_pkg_remove_scoped(&cfg, "v", NULL, proj, NULL, &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(cJSON_GetObjectItem(rep, "scope")->valuestring, "project", "default: the project lists it");
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_remove_scoped(&cfg, "w", "project", proj, "2.0", &rep, err, sizeof err), ALC_E_NOT_FOUND,
                 "another version is not removed");
    cr_assert_eq(alc_pkg_remove_scoped(&cfg, "w", "everywhere", proj, NULL, &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_pkg_remove_scoped(&cfg, "w", "all", proj, "1.0", &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(rep, "project_removed")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(rep, "global_removed")));
    cJSON_Delete(rep);
    cr_assert_eq(alc_pkg_remove_scoped(&cfg, "w", "all", proj, NULL, &rep, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert(strstr(err, "neither"), "%s", err);
    cJSON *doc = NULL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/alc.toml", proj);
    cr_assert_eq(alc_toml_parse_file(path, &doc, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "packages")), 0);
    cJSON_Delete(doc);
    alc_config_deinit(&cfg);
    ALC_ASSERT_NO_LEAKS();
}

/* Writes text to dir/name. */
static void put_file(const char *dir, const char *name, const char *text) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

Test(pkg, the_mismatch_warning_comes_once_per_project_when_calls_alternate) {
    char *a = alc_test_tmpdir(), *b = alc_test_tmpdir(), *log = alc_test_tmpdir();
    for (int i = 0; i < 2; i++) {
        const char *d = i ? b : a;
        put_file(d, "alc.toml", "[packages]\nonly_in_toml = \"*\"\n");
        put_file(d, "alc.lock", "version = 1\n");
    }
    char logpath[PATH_MAX];
    snprintf(logpath, sizeof logpath, "%s/stderr.txt", log);
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    char err[256];
    for (int i = 0; i < 6; i++) {
        char *root = NULL;
        cr_assert_eq(alc_project_resolve_root(i % 2 ? b : a, &root, err, sizeof err), ALC_OK);
        free(root);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(logpath, "r");
    cr_assert_not_null(f);
    char line[1024];
    int warnings = 0, for_a = 0, for_b = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "alc.toml and alc.lock list different packages")) continue;
        warnings++;
        if (strstr(line, a)) for_a++;
        if (strstr(line, b)) for_b++;
    }
    fclose(f);
    cr_assert_eq(warnings, 2, "one warning per project, not one per call (got %d)", warnings);
    cr_assert(for_a == 1 && for_b == 1);
    alc_test_rmtree(a);
    alc_test_rmtree(b);
    alc_test_rmtree(log);
    free(a);
    free(b);
    free(log);
}
