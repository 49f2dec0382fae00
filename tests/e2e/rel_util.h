/*
 * rel_util.h — helpers shared by the reliability end-to-end suites (test_e2e_badinput.c,
 * test_e2e_faults.c, test_e2e_limits.c, test_e2e_sandbox.c). Test-only code; every function is
 * static inline so that a suite that does not use one gets no unused-function warning.
 *
 * A rel_srv is one spawned alc server ($ALC_BIN) with its own temporary ALC_HOME and an arrival
 * log: every stdout line is read by rel_pump, which requires it to be one JSON-RPC 2.0 object
 * (a notification, or a response with an id and exactly one of result/error) and never a second
 * answer to one request id. Responses are then looked up by id, so replies may arrive in any
 * order. rel_teardown (the suites' .fini) prints each server's stderr tail, kills what is still
 * running and removes the homes.
 *
 * Threads: Criterion runs each test in its own process. Only the test thread uses a rel_srv,
 * except that rel_send_bulk runs one helper thread that only sends (proc.h allows that split).
 */
#ifndef ALC_TEST_REL_UTIL_H
#define ALC_TEST_REL_UTIL_H

#include "harness/proc.h"
#include "helpers.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#define REL_RECV_MS 30000   /* generous: only reached when something is wrong (ASan is slow) */
#define REL_EXIT_MS 5000
#define REL_MAX_SRV 6

typedef struct rel_srv {
    alc_proc *p;
    char *home;         /* owned unless borrowed_home */
    bool borrowed_home;
    cJSON **log;        /* responses and notifications, in arrival order (owned) */
    size_t n, cap;
    size_t notes;       /* notifications seen */
    int next_id;
    bool exited;
} rel_srv;

static rel_srv g_rel[REL_MAX_SRV];
static int g_nrel;

static inline long long rel_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void rel_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline const cJSON *rel_get(const cJSON *o, const char *k) {
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static inline const char *rel_str(const cJSON *o, const char *k) {
    const cJSON *v = rel_get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline bool rel_contains_ci(const char *hay, const char *needle) {
    if (!hay || !needle) return false;
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return true;
    }
    return false;
}

/* printf into new memory (free()). */
static inline char *rel_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *rel_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    cr_assert_geq(n, 0);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static inline void rel_teardown(void) {
    for (int i = 0; i < g_nrel; i++) {
        rel_srv *s = &g_rel[i];
        if (s->p) {
            size_t n = 0;
            char *err = alc_proc_stderr_text(s->p, &n);
            if (err && n > 0) {
                const char *tail = n > 6000 ? err + n - 6000 : err;
                fprintf(stderr, "---- alc stderr (server %d%s) ----\n%s\n---- end ----\n", i,
                        n > 6000 ? ", tail" : "", tail);
            }
            free(err);
            alc_proc_free(s->p);
        }
        if (s->home && !s->borrowed_home) {
            alc_test_rmtree(s->home);
            free(s->home);
        }
        for (size_t k = 0; k < s->n; k++) cJSON_Delete(s->log[k]);
        free(s->log);
        memset(s, 0, sizeof *s);
    }
    g_nrel = 0;
}

/* The last ~1.5 KB of what the server wrote to stderr (a sanitizer report, a crash message),
 * for assertion messages: Criterion shows those in the TAP log, where scripts/test's backstop
 * grep for sanitizer reports also looks. Returns a static buffer. */
static inline const char *rel_stderr_tail(rel_srv *s) {
    static char tail[1600];
    size_t n = 0;
    char *err = alc_proc_stderr_text(s->p, &n);
    tail[0] = '\0';
    if (err) {
        const char *from = n > sizeof tail - 1 ? err + n - (sizeof tail - 1) : err;
        snprintf(tail, sizeof tail, "%s", from);
        free(err);
    }
    return tail;
}

/* Spawns the server on home (NULL: a fresh temporary home) with extra env entries. With
 * initialize, does the MCP handshake. Returns the (borrowed) server. */
static inline rel_srv *rel_start_home(const char *home, const char *const *env, bool initialize) {
    const char *bin = getenv("ALC_BIN");
    cr_assert(bin && *bin, "ALC_BIN must name the alc binary under test");
    cr_assert_lt(g_nrel, REL_MAX_SRV, "too many servers in one test");
    rel_srv *s = &g_rel[g_nrel++];
    memset(s, 0, sizeof *s);
    s->next_id = 100;
    if (home) {
        s->home = (char *)home;
        s->borrowed_home = true;
    } else {
        s->home = alc_test_tmpdir();
    }
    s->p = alc_proc_spawn_alc(s->home, env, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(s->p, "could not spawn %s: %s", bin, strerror(errno));
    if (initialize) cr_assert_eq(alc_proc_initialize(s->p), 0, "initialize handshake failed");
    return s;
}

static inline rel_srv *rel_start(const char *const *env) { return rel_start_home(NULL, env, true); }

static inline void rel_validate(const cJSON *m, const char *raw) {
    cr_assert(cJSON_IsObject(m), "stdout line is not a JSON object: %.300s", raw);
    const char *v = rel_str(m, "jsonrpc");
    cr_assert(v && strcmp(v, "2.0") == 0, "no \"jsonrpc\":\"2.0\": %.300s", raw);
    const cJSON *method = rel_get(m, "method");
    if (method) {
        cr_assert(cJSON_IsString(method), "method is not a string: %.300s", raw);
        cr_assert_null(rel_get(m, "id"), "unexpected server-to-client request: %.300s", raw);
        return;
    }
    const cJSON *res = rel_get(m, "result"), *err = rel_get(m, "error");
    cr_assert((res != NULL) != (err != NULL), "response needs exactly one of result/error: %.300s", raw);
    for (const cJSON *c = m->child; c; c = c->next)
        cr_assert(strcmp(c->string, "jsonrpc") == 0 || strcmp(c->string, "id") == 0 ||
                      strcmp(c->string, "result") == 0 || strcmp(c->string, "error") == 0,
                  "extra member '%s' in response: %.300s", c->string, raw);
    if (err) {
        const cJSON *code = rel_get(err, "code"), *msg = rel_get(err, "message");
        cr_assert(cJSON_IsNumber(code) && cJSON_IsString(msg) && msg->valuestring[0],
                  "error needs an integer code and a message: %.300s", raw);
    }
}

/* Reads one stdout line within timeout_ms into the arrival log. Returns false on timeout, and
 * on EOF when eof_ok (else EOF fails the test). */
static inline bool rel_pump_eof(rel_srv *s, int timeout_ms, bool eof_ok) {
    int st;
    size_t n;
    char *raw = alc_proc_recv_n(s->p, timeout_ms, &st, &n);
    if (st == ALC_PROC_TIMEOUT) return false;
    if (st == ALC_PROC_EOF && eof_ok) return false;
    cr_assert_neq(st, ALC_PROC_EOF, "server closed stdout unexpectedly; its stderr ends with:\n%s", rel_stderr_tail(s));
    cr_assert_eq(st, ALC_PROC_LINE, "stdout read failed or unterminated line (status %d)", st);
    cr_assert_null(memchr(raw, '\0', n), "NUL byte on stdout");
    cJSON *m = cJSON_ParseWithLengthOpts(raw, n + 1, NULL, 1);
    cr_assert_not_null(m, "stdout line is not JSON (%zu bytes): %.300s", n, raw);
    rel_validate(m, raw);
    const cJSON *id = rel_get(m, "id");
    if (!rel_get(m, "method") && id) {
        for (size_t i = 0; i < s->n; i++)
            if (!rel_get(s->log[i], "method") && cJSON_Compare(rel_get(s->log[i], "id"), id, 1))
                cr_assert_fail("request id answered twice: %.300s", raw);
    } else if (rel_get(m, "method")) {
        s->notes++;
    }
    free(raw);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->log = realloc(s->log, s->cap * sizeof *s->log);
        cr_assert_not_null(s->log);
    }
    s->log[s->n++] = m;
    return true;
}

static inline bool rel_pump(rel_srv *s, int timeout_ms) { return rel_pump_eof(s, timeout_ms, false); }

static inline bool rel_id_is(const cJSON *m, int id) {
    const cJSON *v = rel_get(m, "id");
    return !rel_get(m, "method") && cJSON_IsNumber(v) && v->valuedouble == (double)id;
}

static inline const cJSON *rel_find(rel_srv *s, int id) {
    for (size_t i = 0; i < s->n; i++)
        if (rel_id_is(s->log[i], id)) return s->log[i];
    return NULL;
}

/* Waits for the response to request id (borrowed; lives until teardown). */
static inline const cJSON *rel_wait_within(rel_srv *s, int id, int timeout_ms) {
    long long deadline = rel_now_ms() + timeout_ms;
    for (;;) {
        const cJSON *m = rel_find(s, id);
        if (m) return m;
        long long left = deadline - rel_now_ms();
        cr_assert_gt(left, 0, "no response to request %d within %d ms", id, timeout_ms);
        rel_pump(s, (int)left);
    }
}

static inline const cJSON *rel_wait(rel_srv *s, int id) { return rel_wait_within(s, id, REL_RECV_MS); }

/* Drops every logged message (keeps memory small in long tests; ids must not be reused). */
static inline void rel_forget(rel_srv *s) {
    for (size_t i = 0; i < s->n; i++) cJSON_Delete(s->log[i]);
    s->n = 0;
}

static inline void rel_send(rel_srv *s, const char *line) {
    cr_assert_eq(alc_proc_send(s->p, line), 0, "send failed: %s", strerror(errno));
}

static inline void rel_send_raw(rel_srv *s, const void *b, size_t n) {
    cr_assert_eq(alc_proc_send_raw(s->p, b, n), 0, "send of %zu bytes failed: %s", n, strerror(errno));
}

/* tools/call line with id; args owned (NULL: {}). Returns new text. */
static inline char *rel_call_line(int id, const char *tool, cJSON *args) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", id);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", tool);
    cJSON_AddItemToObject(params, "arguments", args ? args : cJSON_CreateObject());
    char *line = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cr_assert_not_null(line);
    return line;
}

/* Sends tools/call; args owned (NULL: {}). Returns the request id. */
static inline int rel_send_call(rel_srv *s, const char *tool, cJSON *args) {
    int id = s->next_id++;
    char *line = rel_call_line(id, tool, args);
    rel_send(s, line);
    free(line);
    return id;
}

/* Same with arguments as JSON text. */
static inline int rel_send_call_json(rel_srv *s, const char *tool, const char *args_json) {
    cJSON *a = cJSON_Parse(args_json);
    cr_assert_not_null(a, "bad arguments JSON in the test: %s", args_json);
    return rel_send_call(s, tool, a);
}

/* Text and isError of a tools/call result (borrowed from m). Fails on a JSON-RPC error. */
static inline const char *rel_tool_text(const cJSON *m, bool *is_error) {
    const cJSON *res = rel_get(m, "result");
    if (!res) {
        char *raw = cJSON_PrintUnformatted(m);
        cr_assert_fail("expected a tool result, got: %.500s", raw);
    }
    const cJSON *content = rel_get(res, "content");
    cr_assert(cJSON_IsArray(content) && cJSON_GetArraySize(content) >= 1, "tool result without content");
    const cJSON *t = rel_get(cJSON_GetArrayItem(content, 0), "text");
    cr_assert(cJSON_IsString(t), "content[0].text missing");
    if (is_error) *is_error = cJSON_IsTrue(rel_get(res, "isError"));
    return t->valuestring;
}

/* Parses a successful tool result's text as JSON (new). */
static inline cJSON *rel_ok_json(const cJSON *m) {
    bool is_err;
    const char *t = rel_tool_text(m, &is_err);
    cr_assert(!is_err, "unexpected isError result: %.500s", t);
    cJSON *j = cJSON_Parse(t);
    cr_assert_not_null(j, "tool text is not JSON: %.500s", t);
    return j;
}

/* Calls a tool and returns its response message (borrowed). */
static inline const cJSON *rel_call(rel_srv *s, const char *tool, cJSON *args) {
    return rel_wait(s, rel_send_call(s, tool, args));
}

static inline const cJSON *rel_call_json(rel_srv *s, const char *tool, const char *args_json) {
    return rel_wait(s, rel_send_call_json(s, tool, args_json));
}

/* Calls a tool with arguments given as a printf format (JSON text). */
static inline const cJSON *rel_call_fmt(rel_srv *s, const char *tool, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline const cJSON *rel_call_fmt(rel_srv *s, const char *tool, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *args = malloc((size_t)n + 1);
    cr_assert_not_null(args);
    va_start(ap, fmt);
    vsnprintf(args, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int id = rel_send_call_json(s, tool, args);
    free(args);
    return rel_wait(s, id);
}

/* Asserts an isError tool result mentioning needle (case-insensitive; NULL: any text);
 * returns the text (borrowed). */
static inline const char *rel_expect_tool_error(const cJSON *m, const char *needle, const char *what) {
    bool is_err;
    const char *t = rel_tool_text(m, &is_err);
    cr_assert(is_err, "%s: expected isError, got: %.500s", what, t);
    if (needle) cr_assert(rel_contains_ci(t, needle), "%s: error should mention '%s': %.500s", what, needle, t);
    return t;
}

/* alc_run arguments {code, ctx?}; ctx_json may be NULL. Returns new. */
static inline cJSON *rel_code_args(const char *code, const char *ctx_json) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "code", code);
    if (ctx_json) {
        cJSON *ctx = cJSON_Parse(ctx_json);
        cr_assert_not_null(ctx, "bad ctx JSON in the test: %s", ctx_json);
        cJSON_AddItemToObject(a, "ctx", ctx);
    }
    return a;
}

static inline int rel_send_run(rel_srv *s, const char *code, const char *ctx_json) {
    return rel_send_call(s, "alc_run", rel_code_args(code, ctx_json));
}

/* Runs code and returns the parsed payload of its first outcome (new; asserts no isError). */
static inline cJSON *rel_run_within(rel_srv *s, const char *code, const char *ctx_json, int timeout_ms) {
    return rel_ok_json(rel_wait_within(s, rel_send_run(s, code, ctx_json), timeout_ms));
}

static inline cJSON *rel_run(rel_srv *s, const char *code, const char *ctx_json) {
    return rel_run_within(s, code, ctx_json, REL_RECV_MS);
}

static inline const char *rel_status(const cJSON *payload) {
    const char *st = rel_str(payload, "status");
    cr_assert_not_null(st, "payload without status");
    return st;
}

/* Copies payload.session_id into sid (>= 64 bytes). */
static inline void rel_sid(const cJSON *payload, char *sid) {
    const char *v = rel_str(payload, "session_id");
    cr_assert(v && strlen(v) < 64, "payload without session_id");
    strcpy(sid, v);
}

/* Asserts payload is status "error" of kind (NULL: any) whose message mentions needle (NULL: any). */
static inline void rel_expect_failed(const cJSON *payload, const char *kind, const char *needle, const char *what) {
    char *raw = cJSON_PrintUnformatted(payload);
    const char *st = rel_str(payload, "status");
    cr_assert(st && strcmp(st, "error") == 0, "%s: expected status error, got: %.600s", what, raw);
    if (kind) cr_assert(rel_str(payload, "kind") && strcmp(rel_str(payload, "kind"), kind) == 0,
                        "%s: expected kind %s: %.600s", what, kind, raw);
    if (needle) cr_assert(rel_contains_ci(rel_str(payload, "error"), needle), "%s: error should mention '%s': %.600s",
                          what, needle, raw);
    free(raw);
}

/* The server answers a ping and a trivial script (it is healthy for the next call). */
static inline void rel_alive(rel_srv *s) {
    int id = s->next_id++;
    char line[128];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}", id);
    rel_send(s, line);
    const cJSON *m = rel_wait_within(s, id, 10000);
    cr_assert(cJSON_IsObject(rel_get(m, "result")), "ping did not get a result");
    cJSON *r = rel_run(s, "return 6 * 7", NULL);
    cr_assert_str_eq(rel_status(r), "completed", "a trivial script must complete on a healthy server");
    cr_assert_eq(rel_get(r, "result")->valuedouble, 42);
    cJSON_Delete(r);
}

/* Closes stdin, reads what is left, and requires exit status 0 within ms. */
static inline void rel_finish_within(rel_srv *s, int ms) {
    alc_proc_close_stdin(s->p);
    long long deadline = rel_now_ms() + ms;
    for (;;) {
        long long left = deadline - rel_now_ms();
        if (left <= 0) break;
        if (!rel_pump_eof(s, (int)left, true)) break;
    }
    int es = -1;
    long long left = deadline - rel_now_ms();
    int r = alc_proc_wait(s->p, left > 0 ? (int)left : 0, &es);
    cr_assert_eq(r, 0, "server did not exit within %d ms of stdin EOF", ms);
    cr_assert_eq(es, 0, "server exit status %d after stdin EOF; its stderr ends with:\n%s", es, rel_stderr_tail(s));
    s->exited = true;
}

static inline void rel_finish(rel_srv *s) { rel_finish_within(s, REL_EXIT_MS); }

/* True when the server process maps a sanitizer runtime (then memory figures are not the
 * program's own and ceilings are not asserted). */
static inline bool rel_sanitized(rel_srv *s) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)alc_proc_pid(s->p));
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, "libasan") || strstr(line, "libtsan");
    fclose(f);
    return found;
}

/* A "Vm..." or "Threads" field of /proc/<pid>/status in kB (or the count), -1 if unreadable. */
static inline long rel_proc_status_field(rel_srv *s, const char *field) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)alc_proc_pid(s->p));
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Reads a whole file (new, NUL-terminated) or NULL. */
static inline char *rel_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) b = realloc(b, cap *= 2);
        size_t k = fread(b + n, 1, cap - n - 1, f);
        if (k == 0) break;
        n += k;
    }
    fclose(f);
    b[n] = '\0';
    if (len) *len = n;
    return b;
}

static inline void rel_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static inline void rel_mkdirs(const char *path) {
    char *p = strdup(path);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            mkdir(p, 0700);
            *c = '/';
        }
    mkdir(p, 0700);
    free(p);
}

/* Sender thread for large pipelined writes while the test thread keeps reading replies. */
typedef struct rel_bulk {
    rel_srv *s;
    const char *buf;
    size_t len;
    int rc;
    int err;
    pthread_t th;
} rel_bulk;

static inline void *rel_bulk_main(void *ud) {
    rel_bulk *b = ud;
    size_t off = 0;
    b->rc = 0;
    while (off < b->len) {
        size_t k = b->len - off < 65536 ? b->len - off : 65536;
        if (alc_proc_send_raw(b->s->p, b->buf + off, k) != 0) {
            b->rc = -1;
            b->err = errno;
            break;
        }
        off += k;
    }
    return NULL;
}

/* Starts sending buf (borrowed until rel_bulk_join) on a helper thread. */
static inline void rel_bulk_start(rel_bulk *b, rel_srv *s, const char *buf, size_t len) {
    memset(b, 0, sizeof *b);
    b->s = s;
    b->buf = buf;
    b->len = len;
    cr_assert_eq(pthread_create(&b->th, NULL, rel_bulk_main, b), 0);
}

static inline void rel_bulk_join(rel_bulk *b) {
    pthread_join(b->th, NULL);
    cr_assert_eq(b->rc, 0, "bulk send failed: %s", strerror(b->err));
}

#endif
