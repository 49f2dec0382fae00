/*
 * init.c — `alc init [--force]`: installs the bundled strategy collection into
 * $ALC_HOME/packages (skipping packages that are already there unless --force), records them in
 * $ALC_HOME/installed.json and writes the LuaCATS stubs to $ALC_HOME/types/alc.d.lua. Where the
 * collection comes from is decided by alc_pkg_bundled_dir (ALC_BUNDLED_DIR overrides).
 *
 * Runs on the main thread of the `alc` process; single-threaded.
 */
#include "alc/cli.h"

#include "alc/error.h"
#include "alc/pkg.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void print_names(FILE *to, const cJSON *arr) {
    size_t i = 0;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next, i++)
        if (cJSON_IsString(e)) fprintf(to, "%s%s", i ? ", " : "", e->valuestring);
    fputc('\n', to);
}

static void init_usage(FILE *to) {
    fputs("usage: alc init [--force]\n"
          "\n"
          "Installs the bundled strategy packages into $ALC_HOME/packages and the Lua type\n"
          "stubs into $ALC_HOME/types/alc.d.lua. Packages that are already installed are kept\n"
          "unless --force is given. The collection is read from $ALC_BUNDLED_DIR when set, else\n"
          "from the source tree (when run from a build directory) or <prefix>/share/alc/packages.\n",
          to);
}

/*
 * Entry point of `alc init`. cfg: borrowed, loaded configuration. argv[0] is "init".
 * Returns the exit status: 0 on success, 1 when the install failed, 2 on a usage error.
 * Prints a summary on stdout and errors on stderr.
 */
int alc_cli_init(const alc_config *cfg, int argc, char **argv) {
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) force = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { init_usage(stdout); return 0; }
        else {
            fprintf(stderr, "alc init: unknown argument '%s'\n", argv[i]);
            init_usage(stderr);
            return 2;
        }
    }
    cJSON *rep = NULL;
    char err[1024] = "";
    int rc = alc_pkg_install_bundled(cfg, force, false, &rep, err, sizeof err);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc init: %s\n", err[0] ? err : alc_err_message(rc));
        cJSON_Delete(rep);
        return 1;
    }
    const cJSON *installed = cJSON_GetObjectItemCaseSensitive(rep, "installed");
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(rep, "skipped");
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(rep, "skipped_symlinks");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(rep, "source_dir");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(rep, "packages_dir");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(rep, "types_path");
    const cJSON *tw = cJSON_GetObjectItemCaseSensitive(rep, "types_warning");
    printf("alc init: installed %d package(s) into %s from %s", cJSON_GetArraySize(installed),
           cJSON_IsString(dir) ? dir->valuestring : "?", cJSON_IsString(src) ? src->valuestring : "?");
    if (cJSON_GetArraySize(installed) > 0) { fputs(": ", stdout); print_names(stdout, installed); }
    else fputc('\n', stdout);
    if (cJSON_GetArraySize(skipped) > 0) {
        printf("alc init: kept %d already installed (use --force to replace): ", cJSON_GetArraySize(skipped));
        print_names(stdout, skipped);
    }
    if (cJSON_GetArraySize(links) > 0) {
        printf("alc init: did not copy %d symlink(s): ", cJSON_GetArraySize(links));
        print_names(stdout, links);
    }
    const cJSON *warnings = cJSON_GetObjectItemCaseSensitive(rep, "warnings");
    for (const cJSON *w = warnings ? warnings->child : NULL; w; w = w->next)
        if (cJSON_IsString(w)) fprintf(stderr, "alc init: warning: %s\n", w->valuestring);
    if (cJSON_IsString(types)) printf("alc init: wrote %s\n", types->valuestring);
    else if (cJSON_IsString(tw)) fprintf(stderr, "alc init: warning: %s\n", tw->valuestring);
    cJSON_Delete(rep);
    return 0;
}
