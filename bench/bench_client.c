/*
 * bench_client.c — the pipe client shared by the benchmark programs (see bench_client.h).
 *
 * Owns: spawning a server behind pipes (pinned to a CPU if asked, the same thing `taskset`
 * does), line I/O with an internal read buffer, cheap reply scanning without a JSON parser (the
 * client must cost the same for every server it drives and as little as possible), monotonic
 * timestamps and percentiles.
 *
 * Threads: see the header. No global state except the SIGPIPE disposition set on first spawn.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include "bench_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct alc_bench_proc {
    pid_t pid;
    int in_fd;     /* we write the child's stdin */
    int out_fd;    /* we read the child's stdout */
    char *buf;     /* read buffer: [start, end) holds unread bytes */
    size_t start, end, cap;
    size_t scan;   /* bytes of [start, end) already known to hold no '\n' */
    bool reaped;
    int status;
};

/* ---- clocks, CPUs, memory ------------------------------------------------------------- */

/* Returns CLOCK_MONOTONIC in nanoseconds. Any thread. */
uint64_t alc_bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps ms milliseconds (restarted on EINTR). Any thread. */
void alc_bench_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int set_affinity(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu >= 0) {
        CPU_SET(cpu, &set);
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET((int)i, &set);
    }
    return sched_setaffinity(0, sizeof set, &set);
}

/* Pins the calling process (its main thread; threads started later inherit it) to cpu, or
 * allows every online CPU when cpu < 0. Returns 0 or -1 with errno set. */
int alc_bench_pin_self(int cpu) { return set_affinity(cpu); }

/* Returns the number of online CPUs (at least 1). */
int alc_bench_ncpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* Returns the number after key in a /proc "Key:  value" file, or -1. */
static long status_kib(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0) { v = strtol(line + kl, NULL, 10); break; }
    }
    fclose(f);
    return v;
}

/* Returns VmRSS of process pid in KiB, or -1 if it cannot be read. */
long alc_bench_rss_kib(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    return status_kib(path, "VmRSS:");
}

/* Returns the number of threads of process pid, or -1 if it cannot be read. */
long alc_bench_threads(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    return status_kib(path, "Threads:");
}

/* Returns MemAvailable of the machine in KiB, or -1. */
long alc_bench_mem_available_kib(void) { return status_kib("/proc/meminfo", "MemAvailable:"); }

/* Prints "bench: fatal: <message>" on stderr and exits with status 1. Never returns. */
void alc_bench_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- processes ------------------------------------------------------------------------ */

static char *find_in_path(const char *name) {
    if (strchr(name, '/')) return strdup(name);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t dl = colon ? (size_t)(colon - path) : strlen(path);
        size_t need = dl + 1 + strlen(name) + 1;
        char *full = malloc(need);
        if (!full) return NULL;
        snprintf(full, need, "%.*s/%s", (int)dl, path, name);
        if (access(full, X_OK) == 0) return full;
        free(full);
        if (!colon) break;
        path = colon + 1;
    }
    return NULL;
}

/* Builds environ with env_extra ("KEY=VALUE") entries replacing same-named ones. Returns a new
 * NULL-terminated array whose strings are borrowed; free the array only. */
static char **build_env(const char *const *extra) {
    size_t ne = 0, nx = 0;
    while (environ[ne]) ne++;
    while (extra && extra[nx]) nx++;
    char **env = calloc(ne + nx + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        bool replaced = false;
        for (size_t j = 0; j < nx && !replaced; j++) {
            const char *eq = strchr(extra[j], '=');
            size_t kl = eq ? (size_t)(eq - extra[j]) : strlen(extra[j]);
            if (strncmp(environ[i], extra[j], kl) == 0 && environ[i][kl] == '=') replaced = true;
        }
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < nx; j++) env[k++] = (char *)extra[j];
    env[k] = NULL;
    return env;
}

static int cloexec_pipe(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Starts argv[0] (PATH-searched when it has no '/') with its stdin and stdout on pipes.
 * argv: borrows, NULL-terminated. env_extra: borrows, NULL-terminated "KEY=VALUE" list that
 * replaces or adds variables, may be NULL. cpu: pin the child (and so all its threads) to this
 * CPU before exec, or < 0 for every CPU. stderr_path: the child's stderr is appended to this
 * file, or inherited when NULL.
 * Returns new alc_bench_proc (free with alc_bench_free), or NULL with errno set.
 * Call only while no other thread of this process is running (the child is forked). */
alc_bench_proc *alc_bench_spawn(const char *const argv[], const char *const *env_extra, int cpu,
                                const char *stderr_path) {
    static bool sigpipe_ignored;
    if (!sigpipe_ignored) { signal(SIGPIPE, SIG_IGN); sigpipe_ignored = true; }
    alc_bench_proc *p = calloc(1, sizeof *p);
    char *exe = find_in_path(argv[0]);
    char **env = build_env(env_extra);
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (!p || !exe || !env) { errno = ENOMEM; goto fail; }
    if (access(exe, X_OK) != 0) goto fail;
    p->cap = 1 << 16;
    p->buf = malloc(p->cap);
    if (!p->buf) goto fail;
    if (cloexec_pipe(in) != 0 || cloexec_pipe(out) != 0) goto fail;
    int errfd = -1;
    if (stderr_path) {
        errfd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (errfd < 0) goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) { if (errfd >= 0) close(errfd); goto fail; }
    if (pid == 0) {
        if (set_affinity(cpu) != 0) _exit(126);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(126);
        if (errfd >= 0 && dup2(errfd, 2) < 0) _exit(126);
        signal(SIGPIPE, SIG_DFL);
        execve(exe, (char *const *)argv, env);
        _exit(127);
    }
    if (errfd >= 0) close(errfd);
    close(in[0]);
    close(out[1]);
    p->pid = pid;
    p->in_fd = in[1];
    p->out_fd = out[0];
    free(exe);
    free(env);
    return p;
fail:;
    int e = errno;
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0) close(in[i]);
        if (out[i] >= 0) close(out[i]);
    }
    if (p) free(p->buf);
    free(p);
    free(exe);
    free(env);
    errno = e;
    return NULL;
}

/* Process id of the child. */
pid_t alc_bench_pid(const alc_bench_proc *p) { return p->pid; }

/* Writes exactly len bytes (the caller includes the '\n'). Blocks while the pipe is full.
 * line: borrows. Returns 0, or -1 with errno set (EPIPE when the child closed its stdin). */
int alc_bench_send(alc_bench_proc *p, const char *line, size_t len) {
    while (len > 0) {
        ssize_t n = write(p->in_fd, line, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        line += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Returns the next complete line of the child's stdout without its '\n', NUL-terminated, as
 * memory borrowed from p (valid until the next recv), and its length in *len (may be NULL).
 * timeout_ms < 0 waits forever. Returns NULL on timeout (errno ETIMEDOUT), EOF (errno 0) or
 * a read error. */
const char *alc_bench_recv(alc_bench_proc *p, int timeout_ms, size_t *len) {
    uint64_t deadline = timeout_ms < 0 ? 0 : alc_bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        char *nl = memchr(p->buf + p->start + p->scan, '\n', p->end - p->start - p->scan);
        if (nl) {
            char *line = p->buf + p->start;
            *nl = '\0';
            size_t n = (size_t)(nl - line);
            p->start += n + 1;
            p->scan = 0;
            if (p->start == p->end) p->start = p->end = 0;
            if (len) *len = n;
            return line;
        }
        p->scan = p->end - p->start;
        if (p->start > 0 && p->end == p->cap) {
            memmove(p->buf, p->buf + p->start, p->end - p->start);
            p->end -= p->start;
            p->start = 0;
        }
        if (p->end == p->cap) {
            char *nb = realloc(p->buf, p->cap * 2);
            if (!nb) { errno = ENOMEM; return NULL; }
            p->buf = nb;
            p->cap *= 2;
        }
        int wait_ms = -1;
        if (timeout_ms >= 0) {
            uint64_t now = alc_bench_now_ns();
            if (now >= deadline) { errno = ETIMEDOUT; return NULL; }
            wait_ms = (int)((deadline - now + 999999u) / 1000000u);
        }
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, wait_ms);
        if (pr < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        if (pr == 0) continue;
        ssize_t n = read(p->out_fd, p->buf + p->end, p->cap - p->end);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return NULL;
        }
        if (n == 0) { errno = 0; return NULL; }
        p->end += (size_t)n;
    }
}

/* Returns the next line whose top-level "id" is the integer id, skipping notifications (lines
 * without an id). A reply with another id is a protocol mix-up in a benchmark that waits for
 * one id at a time: it is fatal. Returns NULL on timeout/EOF (see alc_bench_recv). */
const char *alc_bench_recv_id(alc_bench_proc *p, long long id, int timeout_ms, size_t *len) {
    for (;;) {
        size_t n;
        const char *line = alc_bench_recv(p, timeout_ms, &n);
        if (!line) return NULL;
        long long got = alc_bench_line_id(line, n);
        if (got == id) {
            if (len) *len = n;
            return line;
        }
        if (got != -1) alc_bench_die("expected a reply to id %lld, got: %.300s", id, line);
    }
}

/* MCP handshake: initialize (id 0) + notifications/initialized. Returns 0 or -1. */
int alc_bench_initialize(alc_bench_proc *p, int timeout_ms) {
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
        "\"capabilities\":{},\"clientInfo\":{\"name\":\"alc-bench\",\"version\":\"0\"}}}\n";
    static const char done[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    if (alc_bench_send(p, init, sizeof init - 1) != 0) return -1;
    size_t n;
    const char *line = alc_bench_recv_id(p, 0, timeout_ms, &n);
    if (!line || !alc_bench_line_has(line, n, "\"protocolVersion\"")) return -1;
    return alc_bench_send(p, done, sizeof done - 1);
}

/* Closes the child's stdin (EOF for the server). Idempotent. Returns 0. */
int alc_bench_close_stdin(alc_bench_proc *p) {
    if (p->in_fd >= 0) close(p->in_fd);
    p->in_fd = -1;
    return 0;
}

/* Waits up to timeout_ms (< 0: forever) for the child to exit, then SIGKILLs and reaps it.
 * *exit_status (may be NULL): exit code, or 128 + signal. Returns 0 if it exited on its own,
 * 1 if it had to be killed, -1 on error. */
int alc_bench_wait(alc_bench_proc *p, int timeout_ms, int *exit_status) {
    int killed = 0;
    if (!p->reaped) {
        uint64_t deadline = alc_bench_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
        for (;;) {
            int st;
            pid_t r = waitpid(p->pid, &st, timeout_ms < 0 ? 0 : WNOHANG);
            if (r == p->pid) {
                p->reaped = true;
                p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                break;
            }
            if (r < 0 && errno != EINTR) return -1;
            if (timeout_ms >= 0 && alc_bench_now_ns() >= deadline) {
                kill(p->pid, SIGKILL);
                killed = 1;
                timeout_ms = -1;
                continue;
            }
            if (timeout_ms >= 0) {
                struct timespec ts = {0, 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    if (exit_status) *exit_status = p->status;
    return killed;
}

/* Kills and reaps the child if it still runs, closes the pipes, frees p. NULL is a no-op. */
void alc_bench_free(alc_bench_proc *p) {
    if (!p) return;
    alc_bench_close_stdin(p);
    if (!p->reaped) {
        kill(p->pid, SIGKILL);
        alc_bench_wait(p, -1, NULL);
    }
    close(p->out_fd);
    free(p->buf);
    free(p);
}

/* ---- reply scanning ------------------------------------------------------------------- */

/* Returns the integer value of the top-level "id" member of a JSON-RPC line, or -1 when the
 * line has none (a notification) or it is not a non-negative integer. Relies on the fact that
 * every string inside the line escapes its quotes, so the first unescaped `"id":` is the
 * envelope's. line: borrows. */
long long alc_bench_line_id(const char *line, size_t len) {
    const char *end = line + len;
    for (const char *q = line; q + 5 <= end; q++) {
        q = memchr(q, '"', (size_t)(end - q));
        if (!q || q + 5 > end) return -1;
        if (q > line && q[-1] == '\\') continue;
        if (memcmp(q, "\"id\":", 5) == 0) {
            const char *d = q + 5;
            while (d < end && *d == ' ') d++;
            if (d >= end || *d < '0' || *d > '9') return -1;
            long long v = 0;
            while (d < end && *d >= '0' && *d <= '9') v = v * 10 + (*d++ - '0');
            return v;
        }
    }
    return -1;
}

static const char *memmem_(const char *h, size_t hl, const char *n, size_t nl) {
    if (nl == 0) return h;
    while (hl >= nl) {
        const char *c = memchr(h, n[0], hl - nl + 1);
        if (!c) return NULL;
        if (memcmp(c, n, nl) == 0) return c;
        hl -= (size_t)(c - h) + 1;
        h = c + 1;
    }
    return NULL;
}

/* True when needle occurs in line. Both borrowed. */
bool alc_bench_line_has(const char *line, size_t len, const char *needle) {
    return memmem_(line, len, needle, strlen(needle)) != NULL;
}

/* Copies the string value of key from the JSON text block inside a tool result (where quotes
 * appear escaped: \"key\":\"value\"), or else from a plain "key":"value" member, into out
 * (NUL-terminated, truncated to outlen - 1). Returns false when the key is not found. */
bool alc_bench_text_field(const char *line, size_t len, const char *key, char *out, size_t outlen) {
    char pat[128];
    int pl = snprintf(pat, sizeof pat, "\\\"%s\\\":\\\"", key);
    const char *v = memmem_(line, len, pat, (size_t)pl);
    char stop = '\\';
    if (!v) {
        pl = snprintf(pat, sizeof pat, "\"%s\":\"", key);
        v = memmem_(line, len, pat, (size_t)pl);
        stop = '"';
    }
    if (!v) return false;
    v += pl;
    size_t i = 0;
    while (v < line + len && *v != stop && i + 1 < outlen) out[i++] = *v++;
    out[i] = '\0';
    return true;
}

/* ---- samples -------------------------------------------------------------------------- */

/* Appends one sample (nanoseconds). Allocation failure is fatal. */
void alc_bench_samples_add(alc_bench_samples *s, uint64_t ns) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) alc_bench_die("out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ns;
    s->sorted = false;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Returns the pct-th percentile (0 < pct <= 100, nearest rank) in nanoseconds; 0 when empty. */
uint64_t alc_bench_samples_pct(alc_bench_samples *s, double pct) {
    if (s->n == 0) return 0;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof *s->v, cmp_u64);
        s->sorted = true;
    }
    double rank = pct / 100.0 * (double)s->n;
    size_t k = (size_t)rank;
    if ((double)k < rank) k++;
    if (k < 1) k = 1;
    if (k > s->n) k = s->n;
    return s->v[k - 1];
}

/* Frees the samples' storage; the struct may be reused afterwards. */
void alc_bench_samples_free(alc_bench_samples *s) {
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
    s->sorted = false;
}
