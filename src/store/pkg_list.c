/*
 * pkg_list.c — the read-only side of the package store and the two file generators:
 * alc_pkg_list (what require would find, in resolution order), alc_pkg_meta_version (reads
 * M.meta.version from source text without running it), alc_pkg_scaffold (a runnable template)
 * and alc_pkg_project_init (alc.toml + .gitignore).
 *
 * No global state; any thread; blocks on disk I/O. Listing takes no lock: it may observe an
 * install half-way (a package appears or not), never a torn file.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "alc/pkg.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/project.h"
#include "pkg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- meta.version ------------------------------------------------------------------- */

static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

/* At s[i] == '[': if a long bracket [==[ opens here, returns the index after its closing
 * ]==] (or n when unterminated); else returns i. */
static size_t skip_long_bracket(const char *s, size_t n, size_t i) {
    size_t j = i + 1, level = 0;
    while (j < n && s[j] == '=') { level++; j++; }
    if (j >= n || s[j] != '[') return i;
    for (j++; j < n; j++) {
        if (s[j] != ']') continue;
        size_t k = j + 1, l = 0;
        while (k < n && s[k] == '=') { l++; k++; }
        if (l == level && k < n && s[k] == ']') return k + 1;
    }
    return n;
}

/* Skips a comment or a string literal starting at s[i]; returns i when none starts there. */
static size_t skip_trivia(const char *s, size_t n, size_t i) {
    if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
        size_t j = i + 2;
        if (j < n && s[j] == '[') {
            size_t k = skip_long_bracket(s, n, j);
            if (k != j) return k;
        }
        while (j < n && s[j] != '\n') j++;
        return j;
    }
    if (s[i] == '"' || s[i] == '\'') {
        size_t j = i + 1;
        while (j < n && s[j] != s[i] && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
        return j < n ? j + 1 : n;
    }
    if (s[i] == '[') return skip_long_bracket(s, n, i);
    return i;
}

/* Skips whitespace and comments (not strings). */
static size_t skip_space(const char *s, size_t n, size_t i) {
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') { i = skip_trivia(s, n, i); continue; }
        return i;
    }
}

/* Inside "meta = {" (i just after the brace): the version string at depth 1, or NULL. */
static char *scan_meta(const char *s, size_t n, size_t i) {
    int depth = 1;
    while (i < n && depth > 0) {
        if (ident_start(s[i]) && (i == 0 || !ident_char(s[i - 1]))) {
            size_t e = i;
            while (e < n && ident_char(s[e])) e++;
            if (depth == 1 && e - i == 7 && memcmp(s + i, "version", 7) == 0) {
                size_t k = skip_space(s, n, e);
                if (k < n && s[k] == '=' && (k + 1 >= n || s[k + 1] != '=')) {
                    k = skip_space(s, n, k + 1);
                    if (k < n && (s[k] == '"' || s[k] == '\'')) {
                        size_t a = k + 1, b = a;
                        while (b < n && s[b] != s[k] && s[b] != '\n' && s[b] != '\\') b++;
                        if (b >= n || s[b] != s[k] || b == a || b - a > 64) return NULL;
                        return strndup(s + a, b - a);
                    }
                    return NULL;
                }
            }
            i = e;
            continue;
        }
        size_t j = skip_trivia(s, n, i);
        if (j != i) { i = j; continue; }
        if (s[i] == '{') depth++;
        else if (s[i] == '}') depth--;
        i++;
    }
    return NULL;
}

/* M.meta.version from source text; see pkg.h. */
char *alc_pkg_meta_version(const char *s, size_t n) {
    if (!s) return NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = skip_trivia(s, n, i);
        if (j != i) { i = j; continue; }
        if (ident_start(s[i]) && (i == 0 || !ident_char(s[i - 1]))) {
            size_t e = i;
            while (e < n && ident_char(s[e])) e++;
            if (e - i == 4 && memcmp(s + i, "meta", 4) == 0) {
                size_t k = skip_space(s, n, e);
                if (k < n && s[k] == '=' && (k + 1 >= n || s[k + 1] != '=')) {
                    k = skip_space(s, n, k + 1);
                    if (k < n && s[k] == '{') {
                        char *v = scan_meta(s, n, k + 1);
                        if (v) return v;
                    }
                }
            }
            i = e;
            continue;
        }
        i++;
    }
    return NULL;
}

/* ---- listing ------------------------------------------------------------------------ */

/* The version a package file declares; see pkg_internal.h. */
char *alc__pkg_file_version(const char *path) {
    char *text = NULL;
    size_t len = 0;
    if (alc_fs_read_file(path, 1 << 20, &text, &len, NULL, 0) != ALC_OK) return NULL;
    char *v = alc_pkg_meta_version(text, len);
    free(text);
    return v;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct lister {
    cJSON *packages;          /* array being filled */
    cJSON *seen;              /* object used as a set of names already active */
    const cJSON *installed;   /* installed.json "packages" object, may be NULL */
} lister;

static cJSON *add_entry(lister *l, const char *name, const char *path, const char *version_file,
                        const char *scope, const char *source) {
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "name", name);
    char *v = version_file ? alc__pkg_file_version(version_file) : NULL;
    if (v) cJSON_AddStringToObject(e, "version", v);
    else cJSON_AddNullToObject(e, "version");
    free(v);
    cJSON_AddStringToObject(e, "scope", scope);
    cJSON_AddStringToObject(e, "source", source);
    bool active = !cJSON_GetObjectItemCaseSensitive(l->seen, name);
    cJSON_AddBoolToObject(e, "active", active);
    if (active) cJSON_AddTrueToObject(l->seen, name);
    cJSON_AddStringToObject(e, "path", path);
    if (!cJSON_AddItemToArray(l->packages, e)) { cJSON_Delete(e); return NULL; }
    return e;
}

/* Adds the packages of one root: <root>/<name>/init.lua and <root>/<name>.lua (but not
 * <root>/init.lua, which belongs to the root's own package when the root is a package dir). */
static void list_root(lister *l, const char *root, const char *scope, const char *source, bool is_home) {
    DIR *d = opendir(root);
    if (!d) return;
    size_t n = 0, cap = 32;
    char **names = malloc(cap * sizeof *names);
    struct dirent *de;
    while (names && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            char **nn = realloc(names, (cap *= 2) * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        if ((names[n] = strdup(de->d_name)) != NULL) n++;
    }
    closedir(d);
    if (!names) return;
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], init[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        struct stat lst, st;
        if (lstat(path, &lst) != 0) continue;
        bool link = S_ISLNK(lst.st_mode);
        bool ok = stat(path, &st) == 0;
        size_t nl = strlen(names[i]);
        if (ok && S_ISREG(st.st_mode) && nl > 4 && strcmp(names[i] + nl - 4, ".lua") == 0) {
            // <root>/init.lua is the entry file of a package whose directory is itself the root
            // (an alc.local.toml variant dir is always also a search root), not a package "init"
            if (strcmp(names[i], "init.lua") == 0) continue;
            char stem[256];
            snprintf(stem, sizeof stem, "%.*s", (int)(nl - 4), names[i]);
            if (alc_pkg_valid_name(stem)) add_entry(l, stem, path, path, scope, link ? "linked" : source);
            continue;
        }
        if (!alc_pkg_valid_name(names[i])) continue;
        snprintf(init, sizeof init, "%s/init.lua", path);
        bool has_init = ok && S_ISDIR(st.st_mode) && access(init, R_OK) == 0;
        if (!has_init && !(is_home && link && !ok)) continue;  // not a package (a broken link in home is shown)
        const cJSON *rec = is_home ? cJSON_GetObjectItemCaseSensitive(l->installed, names[i]) : NULL;
        const cJSON *rsrc = cJSON_GetObjectItemCaseSensitive(rec, "source");
        const cJSON *rtype = cJSON_GetObjectItemCaseSensitive(rsrc, "type");
        const char *src = source;
        if (is_home) src = link ? "linked" : cJSON_IsString(rtype) ? rtype->valuestring : "unmanaged";
        cJSON *e = add_entry(l, names[i], path, has_init ? init : NULL, scope, src);
        if (!e) continue;
        if (link) {
            char target[PATH_MAX];
            ssize_t tn = readlink(path, target, sizeof target - 1);
            target[tn > 0 ? tn : 0] = '\0';
            cJSON_AddBoolToObject(e, "linked", true);
            cJSON_AddStringToObject(e, "link_target", target);
            if (!ok) cJSON_AddTrueToObject(e, "broken");
        }
        if (is_home && rec) {
            const cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "installed_at");
            const cJSON *up = cJSON_GetObjectItemCaseSensitive(rec, "updated_at");
            const cJSON *url = cJSON_GetObjectItemCaseSensitive(rsrc, "url");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(rsrc, "path");
            if (cJSON_IsString(at)) cJSON_AddStringToObject(e, "installed_at", at->valuestring);
            if (cJSON_IsString(up)) cJSON_AddStringToObject(e, "updated_at", up->valuestring);
            if (cJSON_IsString(url)) cJSON_AddStringToObject(e, "origin", url->valuestring);
            else if (cJSON_IsString(p)) cJSON_AddStringToObject(e, "origin", p->valuestring);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static void add_search_path(cJSON *arr, const char *path, const char *source, const char *scope) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "path", path);
    cJSON_AddStringToObject(e, "source", source);
    cJSON_AddStringToObject(e, "scope", scope);
    struct stat st;
    cJSON_AddBoolToObject(e, "exists", stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    if (!cJSON_AddItemToArray(arr, e)) cJSON_Delete(e);
}

/* Lists packages in resolution order; see pkg.h. */
int alc_pkg_list(const alc_config *cfg, const char *project_root, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    alc_project *proj = NULL;
    if (project_root) {
        if (project_root[0] != '/') {
            snprintf(err, errlen, "'project_root' must be an absolute path, got '%.200s'", project_root);
            return ALC_E_INVAL;
        }
        int rc = alc_project_load(project_root, &proj, err, errlen);
        if (rc != ALC_OK) return rc;
    }
    cJSON *rep = cJSON_CreateObject();
    cJSON *warnings = cJSON_CreateArray();
    lister l = {.packages = cJSON_AddArrayToObject(rep, "packages"), .seen = cJSON_CreateObject()};
    cJSON *paths = cJSON_AddArrayToObject(rep, "search_paths");
    char *json_path = alc_fs_join(cfg->home, "installed.json");
    cJSON *installed = NULL;
    if (!rep || !warnings || !l.packages || !l.seen || !paths || !json_path) {
        cJSON_Delete(rep); cJSON_Delete(warnings); cJSON_Delete(l.seen); free(json_path); alc_project_free(proj);
        snprintf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    char *text = NULL;
    size_t len = 0;
    char msg[512];
    int rrc = alc_fs_read_file(json_path, 16u << 20, &text, &len, msg, sizeof msg);
    if (rrc == ALC_OK) {
        installed = cJSON_ParseWithLength(text, len);
        if (!cJSON_IsObject(installed)) {
            char w[700];
            snprintf(w, sizeof w, "%s is not valid JSON; install records are not shown", json_path);
            cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
        }
    } else if (rrc != ALC_E_NOT_FOUND) {
        cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
    }
    free(text);
    l.installed = cJSON_GetObjectItemCaseSensitive(installed, "packages");

    if (proj) {
        cJSON_AddStringToObject(rep, "project_root", project_root);
        for (size_t i = 0; i < proj->n_variants; i++) {
            char init[PATH_MAX + 16];
            snprintf(init, sizeof init, "%s/init.lua", proj->variants[i].dir);
            add_entry(&l, proj->variants[i].name, proj->variants[i].dir, init, "project", "variant");
        }
        for (size_t i = 0; i < proj->n_roots; i++) {
            add_search_path(paths, proj->roots[i], proj->root_sources[i], "project");
            list_root(&l, proj->roots[i], "project", proj->root_sources[i], false);
        }
        for (size_t i = 0; i < proj->n_warnings; i++) cJSON_AddItemToArray(warnings, cJSON_CreateString(proj->warnings[i]));
    }
    for (size_t i = 0; i < cfg->n_package_paths; i++) {
        bool home = i + 1 == cfg->n_package_paths;
        add_search_path(paths, cfg->package_paths[i], cfg->package_path_sources[i], "global");
        list_root(&l, cfg->package_paths[i], "global", home ? "installed" : cfg->package_path_sources[i], home);
    }
    cJSON_AddStringToObject(rep, "packages_dir", cfg->package_paths[cfg->n_package_paths - 1]);
    cJSON_AddStringToObject(rep, "installed_json", json_path);
    if (cJSON_GetArraySize(warnings) > 0) { cJSON_AddItemToObject(rep, "warnings", warnings); warnings = NULL; }
    cJSON_Delete(warnings);
    cJSON_Delete(installed);
    cJSON_Delete(l.seen);
    free(json_path);
    alc_project_free(proj);
    *report = rep;
    return ALC_OK;
}

/* ---- scaffold ----------------------------------------------------------------------- */

static const char scaffold_template[] =
    "--[[\n"
    "@NAME@ — describe the strategy here: the technique, where it comes from, what it returns.\n"
    "\n"
    "Options (ctx):\n"
    "  task        string, required: the problem\n"
    "  max_tokens  length limit of the answer (default 600)\n"
    "\n"
    "LLM calls: 1.\n"
    "\n"
    "Result (ctx.result):\n"
    "  answer  string  the model's answer\n"
    "]]\n"
    "\n"
    "local M = {}\n"
    "\n"
    "M.meta = {\n"
    "  name = \"@NAME@\",\n"
    "  version = \"0.1.0\",\n"
    "  description = \"@NAME@: describe in one line what this strategy does\",\n"
    "  category = \"custom\",\n"
    "}\n"
    "\n"
    "function M.run(ctx)\n"
    "  local task = ctx.task\n"
    "  if type(task) ~= \"string\" or task == \"\" then\n"
    "    error(\"@NAME@: ctx.task (a non-empty string) is required\", 0)\n"
    "  end\n"
    "  alc.log(\"info\", \"@NAME@: asking for an answer\")\n"
    "  local answer = alc.llm(\"Solve the following task. Think it through, then give the answer.\\n\\nTask: \" .. task, {\n"
    "    system = \"You are a careful, concise problem solver.\",\n"
    "    max_tokens = math.tointeger(tonumber(ctx.max_tokens)) or 600,\n"
    "  })\n"
    "  ctx.result = { answer = answer }\n"
    "  return ctx\n"
    "end\n"
    "\n"
    "return M\n";

/* Writes data to dir_fd/name, which must not exist. */
static int write_new(int dir_fd, const char *name, const char *data, size_t len, mode_t mode, const char *shown,
                     char *err, size_t errlen) {
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) { snprintf(err, errlen, "cannot create %s: %s", shown, strerror(errno)); return errno == EEXIST ? ALC_E_EXISTS : ALC_E_IO; }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) { snprintf(err, errlen, "cannot write %s: %s", shown, strerror(errno)); close(fd); return ALC_E_IO; }
        off += (size_t)w;
    }
    if (close(fd) != 0) { snprintf(err, errlen, "cannot write %s: %s", shown, strerror(errno)); return ALC_E_IO; }
    return ALC_OK;
}

/* Writes <target_dir>/<name>/init.lua from the template; see pkg.h. */
int alc_pkg_scaffold(const alc_config *cfg, const char *name, const char *target_dir, cJSON **report,
                     char *err, size_t errlen) {
    *report = NULL;
    if (!alc_pkg_valid_scaffold_name(name)) {
        snprintf(err, errlen, "invalid name '%.100s': it must match ^[a-z][a-z0-9_]*$ and have at most %d characters",
                 name ? name : "", ALC_PKG_SCAFFOLD_NAME_MAX);
        return ALC_E_INVAL;
    }
    char dir[PATH_MAX];
    bool home = target_dir == NULL;
    if (home) {
        snprintf(dir, sizeof dir, "%s/packages", cfg->home);
        if (alc_fs_mkdirs(dir, 0700) != ALC_OK) { snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno)); return ALC_E_IO; }
    } else {
        if (target_dir[0] != '/') {
            snprintf(err, errlen, "'target_dir' must be an absolute path, got '%.200s'", target_dir);
            return ALC_E_INVAL;
        }
        if (!realpath(target_dir, dir)) {
            snprintf(err, errlen, "cannot use target_dir %.300s: %s", target_dir, strerror(errno));
            return errno == ENOENT ? ALC_E_NOT_FOUND : ALC_E_INVAL;
        }
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) { snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno)); return errno == ENOTDIR ? ALC_E_INVAL : ALC_E_IO; }
    char shown[PATH_MAX + 80];
    snprintf(shown, sizeof shown, "%s/%s", dir, name);
    if (mkdirat(dfd, name, home ? 0700 : 0755) != 0) {
        int e = errno;
        if (e == EEXIST) snprintf(err, errlen, "%s already exists; choose another name or remove it", shown);
        else snprintf(err, errlen, "cannot create %s: %s", shown, strerror(e));
        close(dfd);
        return e == EEXIST ? ALC_E_EXISTS : ALC_E_IO;
    }
    int pfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    char *text = NULL;
    int rc = ALC_E_IO;
    size_t cap = sizeof scaffold_template + 16 * strlen(name) + 1;
    if (pfd >= 0 && (text = malloc(cap)) != NULL) {
        // the template names the package at every @NAME@
        size_t n = 0;
        for (const char *t = scaffold_template; *t;) {
            if (strncmp(t, "@NAME@", 6) == 0) {
                n += (size_t)snprintf(text + n, cap - n, "%s", name);
                t += 6;
            } else {
                text[n++] = *t++;
            }
        }
        text[n] = '\0';
        char file[PATH_MAX + 100];
        snprintf(file, sizeof file, "%s/init.lua", shown);
        rc = write_new(pfd, "init.lua", text, n, home ? 0600 : 0644, file, err, errlen);
        if (rc == ALC_OK) {
            cJSON *rep = cJSON_CreateObject();
            cJSON_AddStringToObject(rep, "created", shown);
            cJSON_AddStringToObject(rep, "init_lua", file);
            cJSON_AddStringToObject(rep, "name", name);
            *report = rep;
        }
    } else {
        snprintf(err, errlen, "cannot write into %s: %s", shown, strerror(errno));
    }
    free(text);
    if (pfd >= 0) close(pfd);
    if (rc != ALC_OK) unlinkat(dfd, name, AT_REMOVEDIR);  // only succeeds while it is empty
    close(dfd);
    return rc;
}

/* ---- project init ------------------------------------------------------------------- */

static const char alc_toml_text[] =
    "# alc project file: the strategy packages this project uses.\n"
    "# Entries look like:  cot = \"*\"   or   my_pkg = { path = \"pkgs/my_pkg\" }\n"
    "[packages]\n";

/* True if text lists alc.local.toml on a line of its own. */
static bool gitignore_has(const char *text, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        size_t a = i, b = e;
        while (a < b && (text[a] == ' ' || text[a] == '\t')) a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r')) b--;
        if (a < b && text[a] == '/') a++;
        if (b - a == 14 && memcmp(text + a, "alc.local.toml", 14) == 0) return true;
        i = e + 1;
    }
    return false;
}

/* Creates alc.toml and updates .gitignore; see pkg.h. */
int alc_pkg_project_init(const char *project_root, cJSON **report, char *err, size_t errlen) {
    *report = NULL;
    char cwd[PATH_MAX];
    if (!project_root) project_root = getenv("ALC_PROJECT_ROOT");
    if (!project_root || !*project_root) {  // neither: the cwd itself (no walk: this creates the project)
        if (!getcwd(cwd, sizeof cwd)) {
            snprintf(err, errlen, "no project_root given, ALC_PROJECT_ROOT is not set and the current directory is unknown: %s",
                     strerror(errno));
            return ALC_E_INVAL;
        }
        project_root = cwd;
    }
    if (project_root[0] != '/') {
        snprintf(err, errlen, "'project_root' must be an absolute path, got '%.200s'", project_root);
        return ALC_E_INVAL;
    }
    char root[PATH_MAX];
    struct stat st;
    if (!realpath(project_root, root) || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "project_root %.300s is not an existing directory", project_root);
        return ALC_E_NOT_FOUND;
    }
    int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) { snprintf(err, errlen, "cannot open %s: %s", root, strerror(errno)); return ALC_E_IO; }
    char toml[PATH_MAX + 16], gi[PATH_MAX + 16];
    snprintf(toml, sizeof toml, "%s/alc.toml", root);
    snprintf(gi, sizeof gi, "%s/.gitignore", root);
    int rc = ALC_OK;
    char *text = NULL;
    size_t len = 0;
    bool has_gi = false;
    if (fstatat(dfd, "alc.toml", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        snprintf(err, errlen, "%s already exists; nothing was changed", toml);
        rc = ALC_E_EXISTS;
        goto done;
    }
    if (fstatat(dfd, ".gitignore", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s is not a regular file (a symlink?); refusing to edit it, nothing was changed", gi);
            rc = ALC_E_INVAL;
            goto done;
        }
        char msg[512];
        if ((rc = alc_fs_read_file(gi, 1 << 20, &text, &len, msg, sizeof msg)) != ALC_OK) {
            snprintf(err, errlen, "%s", msg);
            goto done;
        }
        has_gi = true;
    }
    if ((rc = write_new(dfd, "alc.toml", alc_toml_text, sizeof alc_toml_text - 1, 0644, toml, err, errlen)) != ALC_OK) goto done;
    bool update = !(has_gi && gitignore_has(text, len));
    if (update) {
        int fd = openat(dfd, ".gitignore", O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        const char *prefix = has_gi && len > 0 && text[len - 1] != '\n' ? "\n" : "";
        char line[64];
        int n = snprintf(line, sizeof line, "%salc.local.toml\n", prefix);
        if (fd < 0 || write(fd, line, (size_t)n) != n) {
            snprintf(err, errlen, "created %s, but cannot update %s: %s", toml, gi, strerror(errno));
            if (fd >= 0) close(fd);
            rc = ALC_E_IO;
            goto done;
        }
        close(fd);
    }
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "created", toml);
    cJSON_AddStringToObject(rep, "gitignore_path", gi);
    cJSON_AddBoolToObject(rep, "gitignore_updated", update);
    *report = rep;
done:
    free(text);
    close(dfd);
    return rc;
}
