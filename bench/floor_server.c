/*
 * floor_server.c — the benchmark floor: the least work a thread-per-session MCP stdio server
 * with alc's reply shapes can do. alc's figures are reported as ratios to this program.
 *
 * What it does per message: read a line, parse it with cJSON, dispatch on the method. A
 * tools/call of alc_run starts one real thread per session (1 MiB stack, like alc) that writes
 * a needs_response reply and parks on its condvar. alc_continue hands the parsed request to
 * that thread through its mutex + condvar; the thread wakes, writes the next reply (with the
 * same text fields as alc's needs_response / completed) and parks again or exits. alc_cancel
 * sets the session's cancel flag under its mutex and broadcasts; the reader answers the cancel
 * call. ping, alc_info and initialize are answered by the reader. No Lua, no metrics, no ring.
 *
 * Session behaviour is chosen by the first line of the `code` argument, which the benchmark's
 * Lua scripts also carry as a comment: "--loop" pauses again after every answer, "--busy"
 * pauses once and, answered, spins (checking its cancel flag) until cancelled, then answers the
 * waiting call "cancelled"; anything else pauses once and completes.
 *
 * Threads: the main thread reads, parses and dispatches; one detached thread per session. Lock
 * order: registry (reg_mu) → session (s->mu); the output lock (out_mu) is a leaf held around one
 * write of a complete line. A cJSON request tree is owned by one thread at a time and crosses
 * to a session thread only under s->mu.
 *
 * Stdin EOF: every session is cancelled, the reader waits (≤ 3 s) for the threads to end, exit 0.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum kind { KIND_ONCE, KIND_LOOP, KIND_BUSY };

typedef struct fsess {
    uint64_t num;             /* index in the registry table; immutable */
    char id[24];              /* "s-" + 16 hex digits; immutable */
    enum kind kind;           /* immutable */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    cJSON *req;               /* guarded by mu: a handed-over alc_continue request, owned */
    cJSON *run_id;            /* session thread only: id of the alc_run call, owned */
    bool parked;              /* guarded by mu */
    atomic_bool cancel;       /* set under mu, read anywhere */
} fsess;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static fsess **table;         /* guarded by reg_mu: sessions by num, NULL once ended */
static size_t table_len, table_cap; /* guarded by reg_mu */
static size_t live;           /* guarded by reg_mu */
static uint64_t id_salt;      /* set once before any thread starts */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = 1;

static void die(const char *what) {
    fprintf(stderr, "floor_server: %s: %s\n", what, strerror(errno));
    abort();
}

/* Writes one complete line (without '\n') under the output lock. */
static void out_line(const char *s, size_t n) {
    pthread_mutex_lock(&out_mu);
    char *line = malloc(n + 1);
    if (!line) die("malloc");
    memcpy(line, s, n);
    line[n] = '\n';
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(out_fd, line + off, n + 1 - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            break; /* client gone */
        }
        off += (size_t)w;
    }
    pthread_mutex_unlock(&out_mu);
    free(line);
}

/* ---- reply building ------------------------------------------------------------------- */

typedef struct buf { char *p; size_t n, cap; } buf;

static void b_put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) die("realloc");
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void b_puts(buf *b, const char *s) { b_put(b, s, strlen(s)); }

/* Appends text as a JSON string (quotes and backslashes escaped; our texts hold no controls). */
static void b_str(buf *b, const char *s) {
    b_put(b, "\"", 1);
    for (const char *run = s;; s++) {
        if (*s == '"' || *s == '\\' || *s == '\0') {
            b_put(b, run, (size_t)(s - run));
            if (*s == '\0') break;
            b_put(b, "\\", 1);
            run = s;
        }
    }
    b_put(b, "\"", 1);
}

static void b_id(buf *b, const cJSON *id) {
    char *s = id ? cJSON_PrintUnformatted(id) : NULL;
    if (!s) { b_puts(b, "null"); return; }
    b_puts(b, s);
    cJSON_free(s);
}

/* Writes {"jsonrpc":"2.0","id":ID,"result":RESULT}. */
static void reply_result(const cJSON *id, const char *result) {
    buf b = {0};
    b_puts(&b, "{\"jsonrpc\":\"2.0\",\"id\":");
    b_id(&b, id);
    b_puts(&b, ",\"result\":");
    b_puts(&b, result);
    b_puts(&b, "}");
    out_line(b.p, b.n);
    free(b.p);
}

/* Writes a tools/call result with one text block. */
static void reply_text(const cJSON *id, const char *text, bool is_error) {
    buf b = {0};
    b_puts(&b, "{\"jsonrpc\":\"2.0\",\"id\":");
    b_id(&b, id);
    b_puts(&b, ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
    b_str(&b, text);
    b_puts(&b, is_error ? "}],\"isError\":true}}" : "}],\"isError\":false}}");
    out_line(b.p, b.n);
    free(b.p);
}

static void reply_error(const cJSON *id, int code, const char *msg) {
    buf b = {0};
    b_puts(&b, "{\"jsonrpc\":\"2.0\"");
    if (id) { b_puts(&b, ",\"id\":"); b_id(&b, id); }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ",\"error\":{\"code\":%d,\"message\":", code);
    b_puts(&b, tmp);
    b_str(&b, msg);
    b_puts(&b, "}}");
    out_line(b.p, b.n);
    free(b.p);
}

static void reply_needs_response(const cJSON *id, const fsess *s) {
    char text[256];
    snprintf(text, sizeof text,
             "{\"max_tokens\":1024,\"prompt\":\"q\",\"query_id\":\"q-0\",\"session_id\":\"%s\","
             "\"status\":\"needs_response\",\"system\":null}", s->id);
    reply_text(id, text, false);
}

static void reply_completed(const cJSON *id, const fsess *s, const char *result) {
    buf t = {0};
    b_puts(&t, "{\"result\":");
    b_str(&t, result);
    b_puts(&t, ",\"session_id\":\"");
    b_puts(&t, s->id);
    b_puts(&t, "\",\"stats\":{},\"status\":\"completed\"}");
    reply_text(id, t.p, false);
    free(t.p);
}

static void reply_cancelled(const cJSON *id, const fsess *s) {
    char text[256];
    snprintf(text, sizeof text, "{\"reason\":{\"code\":\"user\",\"detail\":null},\"session_id\":\"%s\","
             "\"stats\":{},\"status\":\"cancelled\"}", s->id);
    reply_text(id, text, false);
}

/* ---- sessions ------------------------------------------------------------------------- */

static void session_end(fsess *s) {
    pthread_mutex_lock(&reg_mu);
    table[s->num] = NULL;
    live--;
    pthread_cond_broadcast(&reg_cond);
    pthread_mutex_unlock(&reg_mu);
    cJSON_Delete(s->req);
    cJSON_Delete(s->run_id);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static const char *continue_response(const cJSON *req) {
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(args, "response");
    return cJSON_IsString(r) ? r->valuestring : "";
}

static void *session_main(void *arg) {
    fsess *s = arg;
    /* paused before the reply is written, so an immediate alc_continue finds it paused */
    pthread_mutex_lock(&s->mu);
    s->parked = true;
    pthread_mutex_unlock(&s->mu);
    reply_needs_response(s->run_id, s);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->req && !atomic_load(&s->cancel)) pthread_cond_wait(&s->cond, &s->mu);
        s->parked = false;
        cJSON *req = s->req;
        s->req = NULL;
        pthread_mutex_unlock(&s->mu);
        if (!req) break; /* cancelled while parked: nobody waits for a reply */
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
        if (s->kind == KIND_LOOP) {
            pthread_mutex_lock(&s->mu);
            s->parked = true;
            pthread_mutex_unlock(&s->mu);
            reply_needs_response(id, s);
            cJSON_Delete(req);
            continue;
        }
        if (s->kind == KIND_BUSY) {
            volatile unsigned long spin = 0;
            while (!atomic_load_explicit(&s->cancel, memory_order_relaxed)) spin++;
            reply_cancelled(id, s);
            cJSON_Delete(req);
            break;
        }
        reply_completed(id, s, continue_response(req));
        cJSON_Delete(req);
        break;
    }
    session_end(s);
    return NULL;
}

static fsess *find_locked(const char *sid) {
    if (!sid || strncmp(sid, "s-", 2) != 0 || strlen(sid) != 18) return NULL;
    unsigned long long v = strtoull(sid + 2, NULL, 16) ^ id_salt;
    if (v >= table_len) return NULL;
    return table[v];
}

static void tool_run(cJSON *req, const cJSON *args) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(args, "code");
    if (!cJSON_IsString(code)) { reply_text(id, "Invalid arguments: 'code' is required", true); return; }
    fsess *s = calloc(1, sizeof *s);
    if (!s) die("calloc");
    s->kind = strncmp(code->valuestring, "--loop", 6) == 0   ? KIND_LOOP
              : strncmp(code->valuestring, "--busy", 6) == 0 ? KIND_BUSY
                                                             : KIND_ONCE;
    s->run_id = cJSON_Duplicate(id, 1);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    atomic_init(&s->cancel, false);
    pthread_mutex_lock(&reg_mu);
    if (table_len == table_cap) {
        size_t cap = table_cap ? table_cap * 2 : 1024;
        fsess **t = realloc(table, cap * sizeof *t);
        if (!t) die("realloc");
        table = t;
        table_cap = cap;
    }
    s->num = table_len++;
    snprintf(s->id, sizeof s->id, "s-%016llx", (unsigned long long)(s->num ^ id_salt));
    table[s->num] = s;
    live++;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, session_main, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        table[s->num] = NULL;
        live--;
        pthread_mutex_unlock(&reg_mu);
        reply_text(id, "Session start failed: cannot start a thread", true);
        cJSON_Delete(s->run_id);
        free(s);
        return;
    }
    pthread_mutex_unlock(&reg_mu);
}

/* Hands req over to its session (ownership moves on success). Returns false if req stays ours. */
static bool tool_continue(cJSON *req, const cJSON *args) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(args, "session_id");
    const char *why = NULL;
    pthread_mutex_lock(&reg_mu);
    fsess *s = find_locked(cJSON_IsString(sid) ? sid->valuestring : NULL);
    if (!s) why = "Continue failed: session not found";
    else {
        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->cancel)) why = "Continue failed: session is cancelled";
        else if (s->req || !s->parked) why = "Continue failed: session is not paused";
        else {
            s->req = req;
            pthread_cond_signal(&s->cond);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&reg_mu);
    if (why) reply_text(id, why, true);
    return why == NULL;
}

static void tool_cancel(cJSON *req, const cJSON *args) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(args, "session_id");
    pthread_mutex_lock(&reg_mu);
    fsess *s = find_locked(cJSON_IsString(sid) ? sid->valuestring : NULL);
    char text[128];
    if (s) {
        pthread_mutex_lock(&s->mu);
        atomic_store(&s->cancel, true);
        pthread_cond_broadcast(&s->cond);
        snprintf(text, sizeof text, "{\"session_id\":\"%s\",\"state\":\"cancelled\"}", s->id);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&reg_mu);
    if (s) reply_text(id, text, false);
    else reply_text(id, "session not found", true);
}

static void cancel_all_and_wait(void) {
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < table_len; i++) {
        fsess *s = table[i];
        if (!s) continue;
        pthread_mutex_lock(&s->mu);
        atomic_store(&s->cancel, true);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 3;
    while (live > 0) {
        if (pthread_cond_timedwait(&reg_cond, &reg_mu, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&reg_mu);
}

/* ---- dispatch ------------------------------------------------------------------------- */

/* Handles one parsed message; returns true when ownership of msg moved to a session. */
static bool dispatch(cJSON *msg) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    if (!cJSON_IsString(method)) { reply_error(id, -32600, "Invalid Request"); return false; }
    const char *m = method->valuestring;
    if (!id) return false; /* notifications: nothing to do */
    if (strcmp(m, "ping") == 0) { reply_result(id, "{}"); return false; }
    if (strcmp(m, "initialize") == 0) {
        reply_result(id, "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
                         "\"serverInfo\":{\"name\":\"floor\",\"version\":\"0.0.0\"}}");
        return false;
    }
    if (strcmp(m, "tools/call") != 0) { reply_error(id, -32601, "Method not found"); return false; }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    if (!cJSON_IsString(name)) { reply_error(id, -32602, "Invalid params"); return false; }
    const char *n = name->valuestring;
    if (strcmp(n, "alc_continue") == 0) return tool_continue(msg, args);
    if (strcmp(n, "alc_run") == 0) tool_run(msg, args);
    else if (strcmp(n, "alc_cancel") == 0) tool_cancel(msg, args);
    else if (strcmp(n, "alc_info") == 0)
        reply_text(id, "{\"limits\":{\"max_sessions\":1000000},\"version\":\"0.0.0\"}", false);
    else reply_error(id, -32602, "Unknown tool");
    return false;
}

int main(void) {
    id_salt = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
    size_t cap = 1 << 16, start = 0, end = 0, scan = 0;
    char *in = malloc(cap);
    if (!in) die("malloc");
    for (;;) {
        char *nl = memchr(in + start + scan, '\n', end - start - scan);
        if (nl) {
            size_t len = (size_t)(nl - (in + start));
            const char *endp = NULL;
            cJSON *msg = cJSON_ParseWithLengthOpts(in + start, len, &endp, 0);
            if (!msg) reply_error(NULL, -32700, "Parse error");
            else if (!dispatch(msg)) cJSON_Delete(msg);
            start += len + 1;
            scan = 0;
            if (start == end) start = end = 0;
            continue;
        }
        scan = end - start;
        if (start > 0) {
            memmove(in, in + start, end - start);
            end -= start;
            start = 0;
        }
        if (end == cap) {
            char *n = realloc(in, cap * 2);
            if (!n) die("realloc");
            in = n;
            cap *= 2;
        }
        ssize_t r = read(0, in + end, cap - end);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        end += (size_t)r;
    }
    cancel_all_and_wait();
    free(in);
    return 0;
}
