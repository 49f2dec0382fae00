/*
 * responder_cmd.c — the command responder of `alc run` / `alc advice`: `/bin/sh -c CMD` once
 * per prompt, the prompt on stdin, ALC_SYSTEM, ALC_MAX_TOKENS, ALC_QUERY_ID and
 * ALC_SESSION_ID in the environment, stdout without trailing newlines as the answer. A
 * command that fails (non-zero exit, killed, cannot start) is run once more; a second failure
 * fails the batch with the command's stderr. Up to `parallel` prompts of a batch run at once,
 * each on a worker thread.
 *
 * Each command runs in a process group of its own with default signal dispositions and an
 * empty signal mask. When the driver's cancel fd (Ctrl-C) or the batch's stop pipe (another
 * prompt failed for good) becomes readable, the whole group gets SIGTERM, then SIGKILL after
 * 500 ms, so `sh -c 'llm ...'` and its children all stop.
 *
 * Threads: alc__cli_cmd_answer runs on the driver thread; it starts its workers and joins them
 * before returning. Workers share the job table under its mutex; each writes only its own
 * texts[i]/lens[i]. Children are spawned under a process-wide mutex (spawn_mu) that is also
 * held while pipes are created and marked close-on-exec, so no child inherits another
 * child's pipe ends (which would keep a pipe open and hang the reader).
 */
#include "cli_internal.h"

#include "alc/error.h"
#include "alc/jbuf.h"
#include "alc/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_COMMAND_OUTPUT (64u << 20) /* stdout of one command */
#define MAX_STDERR_KEPT 4096           /* stderr bytes quoted in an error message */

/* Writes all of s to fd, ignoring errors (a stop pipe). */
static void write_all(int fd, const char *s, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        len -= (size_t)w;
    }
}

static alc_mutex spawn_mu;
static pthread_once_t spawn_once = PTHREAD_ONCE_INIT;
static void spawn_mu_init(void) { alc_mutex_init(&spawn_mu); }

/* One run of the command. */
typedef struct cmd_result {
    char *out;           /* stdout; new */
    size_t out_len;
    char *err;           /* stderr, at most MAX_STDERR_KEPT bytes; new */
    size_t err_len;
    int status;          /* exit status, or 128 + signal; -1 when it could not start */
    char spawn_error[160];
} cmd_result;

static void result_deinit(cmd_result *res) {
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}

static void set_cloexec(int fd) { fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC); }
static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Builds the child's environment: ours without the ALC_ query variables, plus them. */
static char **build_env(const alc_query *q, const char *session_id) {
    static const char *const drop[] = {"ALC_SYSTEM=", "ALC_MAX_TOKENS=", "ALC_QUERY_ID=", "ALC_SESSION_ID="};
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **env = calloc(n + 5, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool skip = false;
        for (size_t d = 0; d < 4; d++) if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0) skip = true;
        if (!skip) env[k++] = environ[i];
    }
    /* the added entries are the last four; free_env frees exactly those */
    env[k++] = alc__cli_msgf("ALC_SYSTEM=%s", q->system ? q->system : "");
    env[k++] = alc__cli_msgf("ALC_MAX_TOKENS=%lld", q->max_tokens);
    env[k++] = alc__cli_msgf("ALC_QUERY_ID=%s", q->id);
    env[k++] = alc__cli_msgf("ALC_SESSION_ID=%s", session_id ? session_id : "");
    env[k] = NULL;
    for (size_t i = k - 4; i < k; i++) {
        if (!env[i]) {
            for (size_t j = k - 4; j < k; j++) free(env[j]);
            free(env);
            return NULL;
        }
    }
    return env;
}

static void free_env(char **env) {
    if (!env) return;
    size_t k = 0;
    while (env[k]) k++;
    for (size_t i = k - 4; i < k; i++) free(env[i]);
    free(env);
}

/* Stops the child's whole process group: TERM, up to 500 ms grace, then KILL; reaps it. */
static void kill_child(pid_t pid) {
    kill(-pid, SIGTERM);
    int st;
    for (int i = 0; i < 50; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) { kill(-pid, SIGKILL); return; }
        alc_sleep_ms(10);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
}

/* Appends up to the cap; returns false on OOM or when the cap is exceeded (stdout only). */
static bool grow_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n, size_t max, bool truncate) {
    if (*len + n > max) {
        if (!truncate) return false;
        n = max - *len;
    }
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < *len + n + 1) nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb) return false;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/*
 * Runs the command once for q. Returns ALC_OK (res filled, any exit status), ALC_E_CANCELLED
 * (a stop fd became readable; the child was killed) or ALC_E_NOMEM / ALC_E_TOO_LARGE.
 */
static int run_once(const char *cmd, const alc_query *q, const char *session_id, int cancel_fd,
                    int stop_fd, cmd_result *res) {
    memset(res, 0, sizeof *res);
    res->status = -1;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    char **env = build_env(q, session_id);
    if (!env) return ALC_E_NOMEM;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGHUP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    pid_t pid = -1;
    int rc = ALC_OK;
    pthread_once(&spawn_once, spawn_mu_init);
    alc_mutex_lock(&spawn_mu);
    /* every pipe end is close-on-exec before any child can be spawned (we hold spawn_mu) */
    if (pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0) {
        int fds[6] = {in[0], in[1], out[0], out[1], err[0], err[1]};
        for (int i = 0; i < 6; i++) set_cloexec(fds[i]);
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        char *argv[] = {"sh", "-c", (char *)cmd, NULL};
        int se = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
        if (se != 0) {
            pid = -1;
            snprintf(res->spawn_error, sizeof res->spawn_error, "cannot start /bin/sh: %s", strerror(se));
        }
    } else {
        snprintf(res->spawn_error, sizeof res->spawn_error, "cannot create pipes: %s", strerror(errno));
    }
    alc_mutex_unlock(&spawn_mu);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free_env(env);
    if (in[0] >= 0) close(in[0]);
    if (out[1] >= 0) close(out[1]);
    if (err[1] >= 0) close(err[1]);
    in[0] = out[1] = err[1] = -1;
    if (pid < 0) goto done;

    set_nonblock(in[1]);
    set_nonblock(out[0]);
    set_nonblock(err[0]);
    size_t written = 0, out_cap = 0, err_cap = 0;
    bool exited = false;
    int64_t exited_at = 0;
    int wst = 0;
    char chunk[16384];
    if (q->prompt_len == 0) { close(in[1]); in[1] = -1; }
    while (out[0] >= 0 || err[0] >= 0 || in[1] >= 0) {
        struct pollfd p[5];
        int np = 0, ii = -1, io = -1, ie = -1;
        if (in[1] >= 0) { ii = np; p[np++] = (struct pollfd){.fd = in[1], .events = POLLOUT}; }
        if (out[0] >= 0) { io = np; p[np++] = (struct pollfd){.fd = out[0], .events = POLLIN}; }
        if (err[0] >= 0) { ie = np; p[np++] = (struct pollfd){.fd = err[0], .events = POLLIN}; }
        int ic = np;
        p[np++] = (struct pollfd){.fd = cancel_fd, .events = POLLIN};
        int is = np;
        p[np++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        int pr = poll(p, (nfds_t)np, 100);
        if (pr < 0 && errno != EINTR) { rc = ALC_E_IO; break; }
        if (pr < 0) continue;
        if ((cancel_fd >= 0 && (p[ic].revents & (POLLIN | POLLHUP))) ||
            (stop_fd >= 0 && (p[is].revents & (POLLIN | POLLHUP)))) {
            rc = ALC_E_CANCELLED;
            break;
        }
        if (pr > 0 && ii >= 0 && p[ii].revents) {
            ssize_t w = write(in[1], q->prompt + written, q->prompt_len - written);
            if (w > 0) written += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == q->prompt_len) {
                close(in[1]);   /* done, or the command stopped reading (EPIPE): fine */
                in[1] = -1;
            }
        }
        if (pr > 0 && io >= 0 && p[io].revents) {
            ssize_t g = read(out[0], chunk, sizeof chunk);
            if (g > 0) {
                if (!grow_append(&res->out, &res->out_len, &out_cap, chunk, (size_t)g, MAX_COMMAND_OUTPUT, false)) {
                    rc = res->out_len + (size_t)g > MAX_COMMAND_OUTPUT ? ALC_E_TOO_LARGE : ALC_E_NOMEM;
                    break;
                }
            } else if (g == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(out[0]);
                out[0] = -1;
            }
        }
        if (pr > 0 && ie >= 0 && p[ie].revents) {
            ssize_t g = read(err[0], chunk, sizeof chunk);
            if (g > 0) {
                if (res->err_len < MAX_STDERR_KEPT)
                    grow_append(&res->err, &res->err_len, &err_cap, chunk, (size_t)g, MAX_STDERR_KEPT, true);
            } else if (g == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(err[0]);
                err[0] = -1;
            }
        }
        if (!exited && waitpid(pid, &wst, WNOHANG) == pid) {
            exited = true;
            exited_at = alc_now_ms();
        }
        /* a background grandchild may keep the pipes open: stop reading 1 s after exit */
        if (exited && alc_now_ms() - exited_at > 1000) break;
    }
    if (rc != ALC_OK) {
        if (!exited) kill_child(pid);
        else kill(-pid, SIGKILL);
    } else {
        while (!exited) {
            if (alc__cli_fd_ready(cancel_fd) || alc__cli_fd_ready(stop_fd)) { kill_child(pid); rc = ALC_E_CANCELLED; break; }
            pid_t w = waitpid(pid, &wst, WNOHANG);
            if (w == pid) exited = true;
            else if (w < 0 && errno != EINTR) break;
            else alc_sleep_ms(10);
        }
        if (exited) res->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : WIFSIGNALED(wst) ? 128 + WTERMSIG(wst) : -1;
    }
done:
    if (in[1] >= 0) close(in[1]);
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    return rc;
}

/* The jobs of one batch, shared by the worker threads. */
typedef struct job_table {
    alc_mutex mu;
    alc_cond cv;               /* signalled when a job finishes */
    const char *cmd;           /* the shell command */
    const alc_cli_ctl *ctl;
    const alc_query *q;
    size_t n;
    size_t next;               /* guarded by mu: next job to take */
    size_t finished;           /* guarded by mu */
    bool failed;               /* guarded by mu: a job failed for good; take no more */
    bool cancelled;            /* guarded by mu */
    char **texts;              /* texts[i] / lens[i] written by the worker of job i */
    size_t *lens;
    char *error;               /* guarded by mu: the first failure message */
    int stop_pipe[2];          /* written once on failure: other workers stop their commands */
} job_table;

static char *failure_message(const char *cmd, const alc_query *q, const cmd_result *res) {
    alc_jbuf m;
    alc_jbuf_init(&m);
    alc_jbuf_printf(&m, "the responder command failed for %s twice (", q->id);
    if (res->status < 0) alc_jbuf_puts(&m, res->spawn_error[0] ? res->spawn_error : "it could not be run");
    else if (res->status > 128) alc_jbuf_printf(&m, "killed by signal %d", res->status - 128);
    else alc_jbuf_printf(&m, "exit status %d", res->status);
    alc_jbuf_puts(&m, "): ");
    alc_jbuf_puts(&m, cmd);
    size_t el = res->err_len;
    while (el > 0 && (res->err[el - 1] == '\n' || res->err[el - 1] == '\r' || res->err[el - 1] == ' ')) el--;
    if (el) {
        alc_jbuf_puts(&m, "\nits stderr:\n");
        alc_jbuf_put(&m, res->err, el);
        if (res->err_len >= MAX_STDERR_KEPT) alc_jbuf_puts(&m, "\n[... stderr cut]");
    } else {
        alc_jbuf_puts(&m, "\n(it wrote nothing on stderr)");
    }
    return alc_jbuf_take(&m, NULL);
}

static void *worker_main(void *arg) {
    job_table *t = arg;
    for (;;) {
        alc_mutex_lock(&t->mu);
        if (t->failed || t->cancelled || t->next >= t->n) { alc_mutex_unlock(&t->mu); break; }
        size_t i = t->next++;
        alc_mutex_unlock(&t->mu);

        const alc_query *q = &t->q[i];
        cmd_result res;
        int rc = ALC_OK;
        bool ok = false;
        for (int attempt = 0; attempt < 2 && !ok; attempt++) {
            if (attempt) result_deinit(&res);
            rc = run_once(t->cmd, q, t->ctl->session_id, t->ctl->cancel_fd, t->stop_pipe[0], &res);
            if (rc != ALC_OK) break;
            ok = res.status == 0;
        }
        char *msg = NULL;
        if (ok) {
            while (res.out_len > 0 && (res.out[res.out_len - 1] == '\n' || res.out[res.out_len - 1] == '\r')) res.out_len--;
            t->texts[i] = res.out ? res.out : strdup("");
            if (res.out) res.out[res.out_len] = '\0';
            res.out = NULL;
            t->lens[i] = t->texts[i] ? res.out_len : 0;
            if (!t->texts[i]) { ok = false; msg = alc__cli_msgf("out of memory"); }
        } else if (rc == ALC_OK) {
            msg = failure_message(t->cmd, q, &res);
        } else if (rc == ALC_E_TOO_LARGE) {
            msg = alc__cli_msgf("the responder command wrote more than %u bytes for %s", MAX_COMMAND_OUTPUT, q->id);
        } else if (rc != ALC_E_CANCELLED) {
            msg = alc__cli_msgf("cannot run the responder command for %s: %s", q->id, alc_err_message(rc));
        }
        result_deinit(&res);

        alc_mutex_lock(&t->mu);
        t->finished++;
        bool stop_others = false;
        if (!ok) {
            if (rc == ALC_E_CANCELLED && !msg) {
                t->cancelled = true;
            } else {
                if (!t->error) { t->error = msg ? msg : alc__cli_msgf("out of memory"); msg = NULL; stop_others = !t->failed; }
                t->failed = true;
            }
        }
        alc_cond_broadcast(&t->cv);
        alc_mutex_unlock(&t->mu);
        free(msg);
        if (stop_others) write_all(t->stop_pipe[1], "x", 1);
    }
    alc_mutex_lock(&t->mu);
    alc_cond_broadcast(&t->cv);
    alc_mutex_unlock(&t->mu);
    return NULL;
}

/*
 * Answers q[0..n) (borrowed) by running cmd (borrowed) once per prompt, up to parallel at a
 * time. texts/lens as for alc__cli_resp_answer: on ALC_OK every texts[i] is new; otherwise
 * none is left and the result is ALC_E_CANCELLED (ctl->cancel_fd became readable; no
 * message) or another code with *errmsg new (free()). Calls ctl->tick about every 100 ms
 * while it waits. Driver thread only; blocks until every worker has been joined.
 */
int alc__cli_cmd_answer(const char *cmd, int parallel, const alc_cli_ctl *ctl, const alc_query *q,
                        size_t n, char **texts, size_t *lens, char **errmsg) {
    job_table t;
    memset(&t, 0, sizeof t);
    t.cmd = cmd;
    t.ctl = ctl;
    t.q = q;
    t.n = n;
    t.texts = texts;
    t.lens = lens;
    t.stop_pipe[0] = t.stop_pipe[1] = -1;
    if (parallel < 1) parallel = 1;
    size_t nw = n < (size_t)parallel ? n : (size_t)parallel;
    pthread_t *threads = calloc(nw, sizeof *threads);
    if (!threads) { *errmsg = alc__cli_msgf("out of memory"); return ALC_E_NOMEM; }
    pthread_once(&spawn_once, spawn_mu_init);
    alc_mutex_lock(&spawn_mu);
    int pr = pipe(t.stop_pipe);
    if (pr == 0) { set_cloexec(t.stop_pipe[0]); set_cloexec(t.stop_pipe[1]); }
    alc_mutex_unlock(&spawn_mu);
    if (pr != 0) {
        free(threads);
        *errmsg = alc__cli_msgf("cannot create a pipe: %s", strerror(errno));
        return ALC_E_IO;
    }
    alc_mutex_init(&t.mu);
    alc_cond_init(&t.cv);
    size_t started = 0;
    for (; started < nw; started++)
        if (alc_thread_start(&threads[started], worker_main, &t, 256 * 1024, "alc-responder", false) != ALC_OK) break;
    if (started == 0) {
        /* no thread available: do the work here */
        worker_main(&t);
    }
    alc_mutex_lock(&t.mu);
    while (t.finished < n && !t.failed && !t.cancelled) {
        /* all workers may have exited early (failure); the loop condition covers it */
        alc_cond_timedwait_ns(&t.cv, &t.mu, 100 * 1000000LL);
        if (ctl->tick) {
            alc_mutex_unlock(&t.mu);
            ctl->tick(ctl->tick_ud);
            alc_mutex_lock(&t.mu);
        }
    }
    alc_mutex_unlock(&t.mu);
    for (size_t i = 0; i < started; i++) alc_thread_join(threads[i]);
    free(threads);
    int rc = ALC_OK;
    if (t.failed) {
        rc = ALC_E_INVAL;
        *errmsg = t.error;
        t.error = NULL;
    } else if (t.cancelled || t.finished < n) {
        rc = ALC_E_CANCELLED;
    }
    if (rc != ALC_OK)
        for (size_t i = 0; i < n; i++) { free(texts[i]); texts[i] = NULL; }
    free(t.error);
    close(t.stop_pipe[0]);
    close(t.stop_pipe[1]);
    alc_cond_deinit(&t.cv);
    alc_mutex_deinit(&t.mu);
    return rc;
}

