/*
 * fuzz_line.c — libFuzzer harness for the MCP line handler with a live engine: bytes in,
 * replies out. Built by scripts/fuzz with clang (-fsanitize=fuzzer,address,undefined); not part
 * of the Meson build.
 *
 * The input is split into lines as the reader would split stdin (a '\n' ends a line, a trailing
 * '\r' is dropped, empty lines and lines over ALC_MAX_LINE are skipped); the first byte chooses
 * whether the server starts initialized. Each line goes through server.c's own handle_line —
 * the file is compiled into this harness so that its static dispatch is reachable — against a
 * fresh session registry and in-flight table, so alc_run really starts Lua sessions, pauses
 * them, continues and cancels them. At the end of an input running scripts get 10 ms to reach a
 * pause or their end, then the registry is freed (every session cancelled and joined), so no
 * state leaks from one input to the next and LeakSanitizer sees real leaks only.
 *
 * Oracle: besides the sanitizers, every line the server writes must be one JSON object with
 * "jsonrpc":"2.0" (checked in the output tap); anything else aborts.
 *
 * Safety: the fuzzer must not touch the machine outside a temporary ALC_HOME. The tools that
 * write to caller-chosen places (package install/link/scaffold, alc_init, scenario install) are
 * hidden by wrapping alc_tools_find, lines that name a project_root are skipped, and Lua runs in
 * the strict sandbox (file access only under ALC_HOME and the package roots).
 *
 * Threads: libFuzzer calls LLVMFuzzerTestOneInput on one thread; session threads answer
 * through the output tap, which only reads the line it is given.
 */
#define alc_tools_find fuzz_tools_find
#include "../../src/server/server.c"
#undef alc_tools_find

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

const alc_tool_def *alc_tools_find(const char *name);

/* The real lookup, minus the tools that write where the caller says. */
const alc_tool_def *fuzz_tools_find(const char *name) {
    static const char *const hidden[] = {"alc_pkg_install", "alc_pkg_remove", "alc_pkg_link", "alc_pkg_unlink",
                                         "alc_pkg_scaffold", "alc_init", "alc_update", "alc_scenario_install", NULL};
    for (int i = 0; hidden[i]; i++)
        if (strcmp(name, hidden[i]) == 0) return NULL;
    return alc_tools_find(name);
}

static alc_config g_cfg;
static char *g_tools_json;
static char g_home[256];
static int g_devnull = -1;

static void rmtree_home(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_home);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_line: could not remove %s\n", g_home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *base = getenv("TMPDIR");
    snprintf(g_home, sizeof g_home, "%s/alc-fuzz-line-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(g_home)) {
        perror("fuzz_line: mkdtemp");
        abort();
    }
    atexit(rmtree_home);
    setenv("ALC_HOME", g_home, 1);
    setenv("ALC_SANDBOX", "strict", 1);
    setenv("ALC_MAX_MEMORY", "16M", 1);
    setenv("ALC_MAX_LINE", "1M", 1);
    setenv("ALC_MAX_SESSIONS", "64", 1);
    setenv("ALC_SESSION_TTL", "1", 1);
    setenv("ALC_SESSION_RETENTION", "0", 1);
    const char *pkgs = getenv("ALC_FUZZ_PACKAGES");  /* the bundled collection, read-only */
    if (pkgs && *pkgs) setenv("ALC_PACKAGES_PATH", pkgs, 1);
    char err[256];
    if (alc_config_load(&g_cfg, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "fuzz_line: config: %s\n", err);
        abort();
    }
    g_tools_json = alc_tools_list_json();
    g_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (!g_tools_json || g_devnull < 0) abort();
    return 0;
}

/* Output tap: every line written to the client must be a JSON-RPC 2.0 object. */
static void check_out(void *ud, const char *dir, const char *line, size_t len) {
    (void)ud;
    if (strcmp(dir, "out") != 0) return;
    if (memchr(line, '\n', len) || memchr(line, '\0', len)) {
        fprintf(stderr, "fuzz_line: output line contains a newline or NUL\n");
        abort();
    }
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "jsonrpc") : NULL;
    if (!cJSON_IsObject(j) || !cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
        fprintf(stderr, "fuzz_line: output is not a JSON-RPC object: %.*s\n", (int)(len > 500 ? 500 : len), line);
        abort();
    }
    cJSON_Delete(j);
}

static bool names_project_root(const char *line, size_t len) {
    static const char needle[] = "project_root";
    for (size_t i = 0; i + sizeof needle - 1 <= len; i++)
        if (memcmp(line + i, needle, sizeof needle - 1) == 0) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    alc_server srv;
    memset(&srv, 0, sizeof srv);
    srv.cfg = &g_cfg;
    atomic_init(&srv.log_level, -1);
    atomic_init(&srv.stopping, false);
    srv.initialized = (data[0] & 1) != 0;
    if (srv.initialized) strcpy(srv.protocol, "2025-11-25");
    srv.tools_list_json = g_tools_json;
    int fd = dup(g_devnull);
    srv.out = alc_out_new(fd);
    if (!srv.out) abort();
    alc_out_set_tap(srv.out, check_out, NULL);
    if (alc_registry_new(&g_cfg, &srv.reg) != ALC_OK) abort();
    if (alc_inflight_new(&srv, &srv.inflight) != ALC_OK) abort();

    /* a NUL-terminated copy, split like alc_reader does */
    char *buf = malloc(size);
    if (!buf) abort();
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    size_t n = size - 1, start = 0;
    while (start < n) {
        char *nl = memchr(buf + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - buf) : n;
        size_t len = end - start;
        if (len > 0 && buf[start + len - 1] == '\r') len--;
        char saved = buf[start + len];
        buf[start + len] = '\0';
        if (len > 0 && len <= g_cfg.max_line && !names_project_root(buf + start, len)) {
            alc_out_tap_in(srv.out, buf + start, len);
            handle_line(&srv, buf + start, len);
        }
        buf[start + len] = saved;
        start = end + 1;
    }
    free(buf);

    atomic_store(&srv.stopping, true);
    alc_registry_drain(srv.reg, 10);
    alc_registry_free(srv.reg);
    alc_inflight_free(srv.inflight);
    alc_out_free(srv.out);
    return 0;
}
