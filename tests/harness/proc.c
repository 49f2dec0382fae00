/*
 * proc.c — test harness: spawn a child behind pipes, send lines to its stdin, read lines from its
 * stdout with timeouts, reap it with a deadline. See proc.h for the API.
 *
 * Owns: the child's pid, the parent ends of the stdin/stdout pipes (both O_NONBLOCK; waits are
 * done with poll), the stderr capture file and the stdout line buffer.
 *
 * Threads: the send side (in_fd) and the receive side (out_fd + buffer) share no state, so one
 * thread may send while another receives. Spawning is serialised by spawn_lock so that the
 * close-on-exec flags of freshly created fds are set before another thread's child can inherit
 * them (a leaked stdin write end would keep a child from ever seeing EOF).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct alc_proc {
    pid_t pid;
    int in_fd;            // parent's write end of the child's stdin, -1 once closed
    int out_fd;           // parent's read end of the child's stdout
    int err_fd;           // capture file (unlinked), -1 unless ALC_PROC_STDERR_CAPTURE
    int send_timeout_ms;  // < 0: none
    char *buf;            // stdout bytes not yet returned: buf[start, len)
    size_t start, len, cap;
    size_t scanned;       // bytes of buf[start, len) already known to hold no '\n'
    int eof;              // read() returned 0
    int reaped;           // waitpid done
    int exit_code;        // valid once reaped
    int killed;           // the harness sent SIGKILL in alc_proc_wait
};

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

// Remaining milliseconds until deadline for poll(): -1 = forever.
static int remaining_ms(int64_t deadline) {
    if (deadline < 0) return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

static int set_flag(int fd, int getcmd, int setcmd, int flag) {
    int fl = fcntl(fd, getcmd);
    if (fl < 0) return -1;
    return fcntl(fd, setcmd, fl | flag);
}

static int set_cloexec(int fd) { return set_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC); }
static int set_nonblock(int fd) { return set_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK); }

static void close_fd(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

// Length of the variable name in "NAME=value" (whole string if there is no '=').
static size_t name_len(const char *entry) {
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

// Builds the child's environment: inherited entries minus overridden/dropped ones, then extras.
// Returns a new array of borrowed strings (free only the array), or NULL on ENOMEM.
static char **build_env(const char *const *extra, const char *drop_prefix) {
    size_t n_env = 0, n_extra = 0;
    while (environ && environ[n_env]) n_env++;
    while (extra && extra[n_extra]) n_extra++;
    char **out = calloc(n_env + n_extra + 1, sizeof *out);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        const char *e = environ[i];
        size_t nl = name_len(e);
        if (drop_prefix && strncmp(e, drop_prefix, strlen(drop_prefix)) == 0) continue;
        int overridden = 0;
        for (size_t j = 0; j < n_extra && !overridden; j++)
            overridden = name_len(extra[j]) == nl && strncmp(extra[j], e, nl) == 0;
        if (!overridden) out[k++] = (char *)e;
    }
    for (size_t j = 0; j < n_extra; j++) out[k++] = (char *)extra[j];
    out[k] = NULL;
    return out;
}

static int make_capture_file(void) {
    const char *base = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/alc-proc-stderr-XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    if (set_cloexec(fd) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void ignore_sigpipe_once(void) {
    static int done;  // guarded by spawn_lock
    if (!done) {
        signal(SIGPIPE, SIG_IGN);
        done = 1;
    }
}

/*
 * Starts a child process; see proc.h. argv and opts are borrowed. Returns new alc_proc or NULL
 * (errno set). Takes spawn_lock for the duration of fd creation and posix_spawnp.
 */
alc_proc *alc_proc_spawn(const char *const argv[], const alc_proc_opts *opts) {
    alc_proc_opts defaults = {0};
    if (!opts) opts = &defaults;
    if (!argv || !argv[0]) {
        errno = EINVAL;
        return NULL;
    }
    alc_proc *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->pid = -1;
    p->in_fd = p->out_fd = p->err_fd = -1;
    p->send_timeout_ms = opts->send_timeout_ms == 0 ? 10000 : opts->send_timeout_ms;

    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, null_fd = -1, err = 0;
    char **envp = NULL;
    int have_fa = 0, have_attr = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;

    pthread_mutex_lock(&spawn_lock);
    ignore_sigpipe_once();
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) goto fail_errno;
    for (int i = 0; i < 2; i++)
        if (set_cloexec(in_pipe[i]) != 0 || set_cloexec(out_pipe[i]) != 0) goto fail_errno;
    if (set_nonblock(in_pipe[1]) != 0 || set_nonblock(out_pipe[0]) != 0) goto fail_errno;
    if (opts->stderr_mode == ALC_PROC_STDERR_CAPTURE) {
        if ((p->err_fd = make_capture_file()) < 0) goto fail_errno;
    } else if (opts->stderr_mode == ALC_PROC_STDERR_NULL) {
        if ((null_fd = open("/dev/null", O_WRONLY)) < 0 || set_cloexec(null_fd) != 0)
            goto fail_errno;
    }
    if (!(envp = build_env(opts->env, opts->drop_prefix))) goto fail_errno;

    if ((err = posix_spawn_file_actions_init(&fa)) != 0) goto fail;
    have_fa = 1;
    if ((err = posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO)) != 0 ||
        (err = posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO)) != 0)
        goto fail;
    int err_src = opts->stderr_mode == ALC_PROC_STDERR_CAPTURE ? p->err_fd
                  : opts->stderr_mode == ALC_PROC_STDERR_NULL  ? null_fd
                                                               : -1;
    if (err_src >= 0 && (err = posix_spawn_file_actions_adddup2(&fa, err_src, STDERR_FILENO)) != 0)
        goto fail;

    if ((err = posix_spawnattr_init(&attr)) != 0) goto fail;
    have_attr = 1;
    sigset_t none, defs;
    sigemptyset(&none);
    sigemptyset(&defs);
    sigaddset(&defs, SIGPIPE);  // ignored in the parent; the child gets the default back
    if ((err = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
        (err = posix_spawnattr_setsigdefault(&attr, &defs)) != 0 ||
        (err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0)
        goto fail;

    if ((err = posix_spawnp(&p->pid, argv[0], &fa, &attr, (char *const *)argv, envp)) != 0) {
        p->pid = -1;
        goto fail;
    }
    pthread_mutex_unlock(&spawn_lock);

    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    close(in_pipe[0]);
    close(out_pipe[1]);
    close_fd(&null_fd);
    p->in_fd = in_pipe[1];
    p->out_fd = out_pipe[0];
    return p;

fail_errno:
    err = errno;
fail:
    pthread_mutex_unlock(&spawn_lock);
    if (have_fa) posix_spawn_file_actions_destroy(&fa);
    if (have_attr) posix_spawnattr_destroy(&attr);
    free(envp);
    for (int i = 0; i < 2; i++) {
        close_fd(&in_pipe[i]);
        close_fd(&out_pipe[i]);
    }
    close_fd(&null_fd);
    close_fd(&p->err_fd);
    free(p);
    errno = err ? err : EIO;
    return NULL;
}

/*
 * Spawns $ALC_BIN with ALC_HOME and extra_env; see proc.h. All arguments borrowed.
 * Returns new alc_proc or NULL (errno ENOENT if ALC_BIN is unset or empty).
 */
alc_proc *alc_proc_spawn_alc(const char *alc_home, const char *const *extra_env, int stderr_mode) {
    const char *bin = getenv("ALC_BIN");
    if (!bin || !*bin) {
        errno = ENOENT;
        return NULL;
    }
    size_t n = 0;
    while (extra_env && extra_env[n]) n++;
    const char **env = calloc(n + 2, sizeof *env);
    char *home = NULL;
    if (!env) return NULL;
    size_t k = 0;
    if (alc_home) {
        size_t hl = strlen(alc_home) + sizeof "ALC_HOME=";
        if (!(home = malloc(hl))) {
            free(env);
            return NULL;
        }
        snprintf(home, hl, "ALC_HOME=%s", alc_home);
        env[k++] = home;
    }
    for (size_t i = 0; i < n; i++) env[k++] = extra_env[i];
    env[k] = NULL;
    const char *argv[] = {bin, NULL};
    alc_proc_opts o = {.env = env, .drop_prefix = "ALC_", .stderr_mode = stderr_mode};
    alc_proc *p = alc_proc_spawn(argv, &o);
    int saved = errno;
    free(home);
    free(env);
    errno = saved;
    return p;
}

/* Returns the child's pid (borrowed p). */
pid_t alc_proc_pid(const alc_proc *p) { return p->pid; }

/*
 * Writes len bytes to the child's stdin, waiting with poll while the pipe is full, for at most the
 * send timeout in total. Borrows bytes. Returns 0 or -1 (errno EPIPE/ETIMEDOUT/EBADF/...).
 * Call from at most one thread at a time per alc_proc.
 */
int alc_proc_send_raw(alc_proc *p, const void *bytes, size_t len) {
    if (p->in_fd < 0) {
        errno = EBADF;
        return -1;
    }
    const char *b = bytes;
    int64_t deadline = p->send_timeout_ms < 0 ? -1 : now_ms() + p->send_timeout_ms;
    while (len > 0) {
        ssize_t n = write(p->in_fd, b, len);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        struct pollfd pfd = {.fd = p->in_fd, .events = POLLOUT};
        int to = remaining_ms(deadline);
        if (to == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int r = poll(&pfd, 1, to);
        if (r < 0 && errno != EINTR) return -1;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

/* Writes line plus '\n' unless it already ends with one. Borrows line. Returns 0 or -1. */
int alc_proc_send(alc_proc *p, const char *line) {
    size_t n = strlen(line);
    if (alc_proc_send_raw(p, line, n) != 0) return -1;
    if (n > 0 && line[n - 1] == '\n') return 0;
    return alc_proc_send_raw(p, "\n", 1);
}

/* Closes the child's stdin. Idempotent. Returns 0, or -1 if close failed. */
int alc_proc_close_stdin(alc_proc *p) {
    if (p->in_fd < 0) return 0;
    int r = close(p->in_fd);
    p->in_fd = -1;
    return r == 0 || errno == EINTR ? 0 : -1;
}

// Makes room for at least `want` more bytes after buf[len]. Returns 0 or -1 (ENOMEM).
static int reserve(alc_proc *p, size_t want) {
    if (p->start > 0 && (p->start == p->len || p->cap - p->len < want)) {
        memmove(p->buf, p->buf + p->start, p->len - p->start);
        p->len -= p->start;
        p->start = 0;
    }
    if (p->cap - p->len >= want) return 0;
    size_t cap = p->cap ? p->cap : 65536;
    while (cap - p->len < want) cap *= 2;
    char *nb = realloc(p->buf, cap);
    if (!nb) {
        errno = ENOMEM;
        return -1;
    }
    p->buf = nb;
    p->cap = cap;
    return 0;
}

// Detaches buf[start, start+n) as a new string and advances past `skip` further bytes.
static char *take(alc_proc *p, size_t n, size_t skip, size_t *len) {
    char *line = malloc(n + 1);
    if (!line) return NULL;
    memcpy(line, p->buf + p->start, n);
    line[n] = '\0';
    p->start += n + skip;
    p->scanned = 0;
    if (p->start == p->len) p->start = p->len = 0;
    if (len) *len = n;
    return line;
}

/*
 * Returns the next stdout line (new memory, free()) or NULL; see proc.h for statuses.
 * Call from at most one thread at a time per alc_proc.
 */
char *alc_proc_recv_n(alc_proc *p, int timeout_ms, int *status, size_t *len) {
    int dummy;
    if (!status) status = &dummy;
    if (len) *len = 0;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        size_t avail = p->len - p->start;
        if (p->scanned < avail) {
            char *nl = memchr(p->buf + p->start + p->scanned, '\n', avail - p->scanned);
            if (nl) {
                char *line = take(p, (size_t)(nl - (p->buf + p->start)), 1, len);
                *status = line ? ALC_PROC_LINE : ALC_PROC_ERROR;
                return line;
            }
            p->scanned = avail;
        }
        if (p->eof) {
            if (avail == 0) {
                *status = ALC_PROC_EOF;
                return NULL;
            }
            char *line = take(p, avail, 0, len);
            *status = line ? ALC_PROC_PARTIAL : ALC_PROC_ERROR;
            return line;
        }
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int r = poll(&pfd, 1, remaining_ms(deadline));
        if (r < 0) {
            if (errno == EINTR) continue;
            *status = ALC_PROC_ERROR;
            return NULL;
        }
        if (r == 0) {
            *status = ALC_PROC_TIMEOUT;
            return NULL;
        }
        if (reserve(p, 65536) != 0) {
            *status = ALC_PROC_ERROR;
            return NULL;
        }
        ssize_t n = read(p->out_fd, p->buf + p->len, p->cap - p->len);
        if (n > 0) {
            p->len += (size_t)n;
        } else if (n == 0) {
            p->eof = 1;
        } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            *status = ALC_PROC_ERROR;
            return NULL;
        }
    }
}

/* Returns the next stdout line; see alc_proc_recv_n. */
char *alc_proc_recv(alc_proc *p, int timeout_ms, int *status) {
    return alc_proc_recv_n(p, timeout_ms, status, NULL);
}

/*
 * Sends line and parses the next stdout line. Borrows line. Returns new cJSON (cJSON_Delete) or
 * NULL on any failure.
 */
cJSON *alc_proc_request(alc_proc *p, const char *line, int timeout_ms) {
    if (alc_proc_send(p, line) != 0) return NULL;
    int st;
    size_t n;
    char *reply = alc_proc_recv_n(p, timeout_ms, &st, &n);
    if (!reply) return NULL;
    // length n + 1 includes the terminating NUL, which require_null_terminated checks for; a line
    // with an embedded NUL is not one JSON message
    cJSON *j = st == ALC_PROC_LINE && !memchr(reply, '\0', n)
                   ? cJSON_ParseWithLengthOpts(reply, n + 1, NULL, 1)
                   : NULL;
    free(reply);
    return j;
}

/*
 * Performs initialize (id 0, given protocol_version, borrowed) + notifications/initialized.
 * Returns 0 if the reply is {"jsonrpc":"2.0","id":0,"result":{...}}, else -1.
 */
int alc_proc_initialize_version(alc_proc *p, const char *protocol_version, int timeout_ms) {
    char req[512];
    int n = snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
                     "{\"protocolVersion\":\"%s\",\"capabilities\":{},"
                     "\"clientInfo\":{\"name\":\"alc-test-harness\",\"version\":\"0\"}}}",
                     protocol_version);
    if (n < 0 || (size_t)n >= sizeof req) return -1;
    cJSON *r = alc_proc_request(p, req, timeout_ms);
    cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
    int ok = r && cJSON_IsNumber(id) && id->valuedouble == 0 &&
             cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "result"));
    cJSON_Delete(r);
    if (!ok) return -1;
    return alc_proc_send(p, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}

/* Standard handshake with protocolVersion "2025-11-25" and a 10 s timeout. Returns 0 or -1. */
int alc_proc_initialize(alc_proc *p) { return alc_proc_initialize_version(p, "2025-11-25", 10000); }

static void record_status(alc_proc *p, int st) {
    p->reaped = 1;
    if (WIFEXITED(st))
        p->exit_code = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        p->exit_code = 128 + WTERMSIG(st);
    else
        p->exit_code = 255;
}

/*
 * Waits for the child to exit, killing it with SIGKILL once timeout_ms passed; see proc.h.
 * Returns 0 (exited by itself), 1 (killed by the harness) or -1 (waitpid error).
 */
int alc_proc_wait(alc_proc *p, int timeout_ms, int *exit_status) {
    if (!p->reaped) {
        int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        int st = 0;
        for (;;) {
            pid_t r = waitpid(p->pid, &st, WNOHANG);
            if (r == p->pid) break;
            if (r < 0 && errno != EINTR) return -1;
            if (deadline >= 0 && now_ms() >= deadline) {
                kill(p->pid, SIGKILL);
                while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR) {
                }
                if (r < 0) return -1;
                p->killed = 1;
                break;
            }
            sleep_ms(1);
        }
        record_status(p, st);
    }
    if (exit_status) *exit_status = p->exit_code;
    return p->killed ? 1 : 0;
}

/* Sends sig to the child unless it was already reaped. Returns 0 or -1 (errno). */
int alc_proc_kill(alc_proc *p, int sig) {
    if (p->reaped) {
        errno = ESRCH;
        return -1;
    }
    return kill(p->pid, sig);
}

/*
 * Returns the captured stderr so far as a new string (free()); "" when not capturing; NULL on
 * failure. Safe while the child runs (reads with pread from offset 0).
 */
char *alc_proc_stderr_text(alc_proc *p, size_t *len) {
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    if (p->err_fd >= 0) {
        for (;;) {
            if (cap - n < 4096) {
                char *nb = realloc(out, cap * 2);
                if (!nb) {
                    free(out);
                    return NULL;
                }
                out = nb;
                cap *= 2;
            }
            ssize_t r = pread(p->err_fd, out + n, cap - n - 1, (off_t)n);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                free(out);
                return NULL;
            }
            if (r == 0) break;
            n += (size_t)r;
        }
    }
    out[n] = '\0';
    if (len) *len = n;
    return out;
}

/* Kills and reaps a still-running child, closes fds, frees p (owns p). NULL is a no-op. */
void alc_proc_free(alc_proc *p) {
    if (!p) return;
    close_fd(&p->in_fd);
    if (p->pid > 0 && !p->reaped) alc_proc_wait(p, 0, NULL);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    free(p->buf);
    free(p);
}
