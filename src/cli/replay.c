/*
 * replay.c — `alc replay FILE [--update] [--verbose]` (see alc/replay.h, DESIGN §10).
 *
 * Loads a transcript recorded with `alc --record` (format in src/server/record.h), starts a
 * fresh server for each recorded server start (this executable via /proc/self/exe, no
 * sub-command, inherited ALC_* variables dropped, ALC_HOME a new temporary directory shared by
 * the runs of one replay and removed afterwards), feeds it the recorded input lines in order
 * and collects what it writes. Before each input line it waits (up to 10 s) until every reply
 * and notification that the recording shows before that line has arrived, so the live run
 * follows the recorded causal order; session ids in input lines are rewritten to the live ids
 * learned from the replies seen so far. A "draft" run (input records only, e.g. written by
 * hand) instead waits for the reply to each request (unless the record has "nowait":true),
 * and "<session-N>" in its input lines stands for the N-th session id the live server
 * reported; `--update` turns a draft into a full transcript. Replies are matched by request id (and
 * occurrence), notifications by their order, everything is normalised (replay_norm.c) and a
 * diff is printed on mismatch. --update rewrites FILE atomically from the live run (and leaves
 * it alone when only volatile values differ, so re-recording does not churn version control).
 *
 * Threads: runs entirely on the main thread of the `alc replay` process; the server is a
 * child process talked to over two pipes with poll(2), so neither side can block the other.
 */
#include "alc/replay.h"

#include "replay_internal.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"
#include "alc/pkg.h"
#include "alc/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WAIT_MS 10000          /* per wait for expected replies, and for the server's exit */
#define SID_LEN 34

typedef alc__replay_entry entry;
typedef alc__replay_key_count key_count;

typedef struct live_msg {
    int run;
    char *text;                /* the line as received (owned) */
    cJSON *msg;                /* parsed, or NULL if not JSON (owned) */
    char *key;                 /* match key within the run (owned) */
    bool matched;
} live_msg;

typedef struct replay {
    const char *file;
    bool update, verbose;
    alc__replay_file tf;       /* the transcript */
    live_msg *live;
    size_t n_live, cap_live;
    char (*map_rec)[SID_LEN], (*map_live)[SID_LEN]; /* recorded -> live session ids */
    size_t n_map, cap_map;
    char *tmpdir, *home, *errlog;
    char *bundled, *bindir;    /* what the live server will find (see record.h), or NULL */
    alc_jbuf out;              /* --update: the new transcript */
    /* the current run */
    int run;
    pid_t pid;
    int to_child, from_child;
    bool eof, send_failed;
    char *rbuf;
    size_t rlen, rcap;
    key_count *counts;         /* response ids seen in this run, for occurrence numbers */
    size_t n_counts;
    size_t n_notes;            /* notifications seen in this run */
    key_count *req_counts;     /* draft runs: request ids sent in this run */
    size_t n_req_counts;
    char (*live_ids)[SID_LEN]; /* session ids in order of first appearance in the live output */
    size_t n_live_ids, cap_live_ids;
    bool crashed;
    char crash_msg[200];
    int timeouts;              /* waits that gave up; after the first, waits are short */
} replay;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *to) {
    fputs("usage: alc replay FILE [--update] [--verbose]\n"
          "\n"
          "Replays a transcript recorded with `alc --record FILE` (or ALC_RECORD=FILE) against a\n"
          "fresh server in a temporary ALC_HOME and compares the replies, ignoring session ids,\n"
          "timestamps, elapsed times and the home path. Prints a diff and exits 1 on a mismatch.\n"
          "\n"
          "  --update    rewrite FILE from the live run (after an intended change); a file\n"
          "              that only differs in volatile values is left untouched. Input records\n"
          "              alone (a hand-written draft, \"<session-N>\" for the N-th session id)\n"
          "              are turned into a full transcript\n"
          "  --verbose   show the traffic and the server's stderr while replaying\n",
          to);
}

/* ---- keys and session ids ----------------------------------------------------------------- */

static bool hexch(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* True iff s[i..] is a session id "s-" + 32 hex digits standing alone (same rule as the
 * normaliser). */
static bool sid_at(const char *s, size_t len, size_t i) {
    if (i + SID_LEN > len || s[i] != 's' || s[i + 1] != '-') return false;
    if (i > 0 && (alnum(s[i - 1]) || s[i - 1] == '_')) return false;
    for (size_t k = 2; k < SID_LEN; k++)
        if (!hexch(s[i + k])) return false;
    return i + SID_LEN == len || !alnum(s[i + SID_LEN]);
}

/* Collects up to max session id positions of s in order. */
static size_t find_sids(const char *s, size_t len, const char **pos, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i + SID_LEN <= len && n < max; i++)
        if (sid_at(s, len, i)) { pos[n++] = s + i; i += SID_LEN - 1; }
    return n;
}

/* True iff the NUL-terminated needle occurs in s[0..len). */
static bool memmem_safe(const char *s, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0) return true;
    return false;
}

/* Pairs the session ids of a recorded message with those of its live counterpart. */
static void learn_ids(replay *rp, const char *rec, const char *live) {
    const char *a[64], *b[64];
    size_t na = find_sids(rec, strlen(rec), a, 64), nb = find_sids(live, strlen(live), b, 64);
    for (size_t i = 0; i < na && i < nb; i++) {
        bool known = false;
        for (size_t k = 0; k < rp->n_map && !known; k++) known = memcmp(rp->map_rec[k], a[i], SID_LEN) == 0;
        if (known) continue;
        if (rp->n_map == rp->cap_map) {
            size_t cap = rp->cap_map ? rp->cap_map * 2 : 16;
            char (*r)[SID_LEN] = realloc(rp->map_rec, cap * sizeof *r);
            if (!r) return;
            rp->map_rec = r;
            char (*l)[SID_LEN] = realloc(rp->map_live, cap * sizeof *l);
            if (!l) return;
            rp->map_live = l;
            rp->cap_map = cap;
        }
        memcpy(rp->map_rec[rp->n_map], a[i], SID_LEN);
        memcpy(rp->map_live[rp->n_map], b[i], SID_LEN);
        rp->n_map++;
    }
}

/* Rewrites the recorded session ids of an input line to the live ones, in place. */
static void map_ids(replay *rp, char *s, size_t len) {
    for (size_t i = 0; i + SID_LEN <= len; i++) {
        if (!sid_at(s, len, i)) continue;
        for (size_t k = 0; k < rp->n_map; k++)
            if (memcmp(rp->map_rec[k], s + i, SID_LEN) == 0) { memcpy(s + i, rp->map_live[k], SID_LEN); break; }
        i += SID_LEN - 1;
    }
}

/* ---- the temporary home ------------------------------------------------------------------- */

static void rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
                char *sub = alc_fs_join(path, de->d_name);
                if (sub) rmtree(sub);
                free(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int make_tmp(replay *rp) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/alc-replay-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "alc replay: cannot create a temporary directory in %s: %s\n", base && *base ? base : "/tmp", strerror(errno));
        return ALC_E_IO;
    }
    rp->tmpdir = strdup(tmpl);
    rp->home = alc_fs_join(tmpl, "home");
    rp->errlog = alc_fs_join(tmpl, "server-stderr.log");
    if (!rp->tmpdir || !rp->home || !rp->errlog) return ALC_E_NOMEM;
    if (mkdir(rp->home, 0700) != 0) {
        fprintf(stderr, "alc replay: cannot create %s: %s\n", rp->home, strerror(errno));
        return ALC_E_IO;
    }
    return ALC_OK;
}

/* Finds the bundled package collection and the executable's directory as the server will
 * (its environment has no ALC_* variables but ALC_HOME). Leaves NULL where there is none. */
static void find_dirs(replay *rp) {
    char err[512], exe[PATH_MAX];
    unsetenv("ALC_BUNDLED_DIR");
    if (alc_pkg_bundled_dir(&rp->bundled, err, sizeof err) != ALC_OK) rp->bundled = NULL;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash && slash != exe) {
        *slash = '\0';
        rp->bindir = strdup(exe);
    }
}

/* ---- the server process ------------------------------------------------------------------- */

static int cloexec_pipe(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Starts the server for the current run. ALC_OK or ALC_E_IO (message on stderr). */
static int spawn_server(replay *rp) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errfd = -1, rc = ALC_E_IO;
    char **env = NULL;
    char *home_var = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_ok = false, attr_ok = false;
    size_t n = 0;
    while (environ[n]) n++;
    env = calloc(n + 2, sizeof *env);
    home_var = malloc(strlen(rp->home) + 10);
    if (!env || !home_var) { rc = ALC_E_NOMEM; goto fail; }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "ALC_", 4) != 0) env[k++] = environ[i]; /* the replay defines the limits */
    sprintf(home_var, "ALC_HOME=%s", rp->home);
    env[k++] = home_var;
    env[k] = NULL;
    if (cloexec_pipe(in) != 0 || cloexec_pipe(out) != 0) goto fail;
    if (!rp->verbose) {
        errfd = open(rp->errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (errfd < 0) goto fail;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) goto fail;
    fa_ok = true;
    if (posix_spawnattr_init(&attr) != 0) goto fail;
    attr_ok = true;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    if (errfd >= 0) posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
    char *argv[] = {"alc", NULL};
    int e = posix_spawn(&rp->pid, "/proc/self/exe", &fa, &attr, argv, env);
    if (e != 0) {
        fprintf(stderr, "alc replay: cannot start the server (/proc/self/exe): %s\n", strerror(e));
        rp->pid = -1;
        goto fail;
    }
    close(in[0]);
    close(out[1]);
    in[0] = out[1] = -1;
    rp->to_child = in[1];
    rp->from_child = out[0];
    fcntl(rp->to_child, F_SETFL, fcntl(rp->to_child, F_GETFL) | O_NONBLOCK);
    fcntl(rp->from_child, F_SETFL, fcntl(rp->from_child, F_GETFL) | O_NONBLOCK);
    in[1] = out[0] = -1;
    rc = ALC_OK;
fail:
    if (rc != ALC_OK && rp->pid == 0) fprintf(stderr, "alc replay: cannot start the server: %s\n", strerror(errno));
    if (fa_ok) posix_spawn_file_actions_destroy(&fa);
    if (attr_ok) posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0) close(in[i]);
        if (out[i] >= 0) close(out[i]);
    }
    if (errfd >= 0) close(errfd);
    free(env);
    free(home_var);
    return rc;
}

/* Handles one complete line from the server. */
static void on_line(replay *rp, const char *line, size_t len) {
    if (rp->verbose) fprintf(stderr, "< %.*s\n", (int)len, line);
    if (rp->n_live == rp->cap_live) {
        size_t cap = rp->cap_live ? rp->cap_live * 2 : 32;
        live_msg *p = realloc(rp->live, cap * sizeof *p);
        if (!p) return;
        rp->live = p;
        rp->cap_live = cap;
    }
    live_msg *m = &rp->live[rp->n_live];
    memset(m, 0, sizeof *m);
    m->run = rp->run;
    m->text = malloc(len + 1);
    if (!m->text) return;
    memcpy(m->text, line, len);
    m->text[len] = '\0';
    m->msg = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
    m->key = m->msg ? alc__replay_message_key(m->msg, &rp->counts, &rp->n_counts, &rp->n_notes) : NULL;
    rp->n_live++;
    if (rp->update) alc__replay_encode_line(&rp->out, false, line, len);
    const char *pos[64];
    size_t np = find_sids(m->text, len, pos, 64);
    for (size_t i = 0; i < np; i++) {
        bool seen = false;
        for (size_t k = 0; k < rp->n_live_ids && !seen; k++) seen = memcmp(rp->live_ids[k], pos[i], SID_LEN) == 0;
        if (seen) continue;
        if (rp->n_live_ids == rp->cap_live_ids) {
            size_t cap = rp->cap_live_ids ? rp->cap_live_ids * 2 : 16;
            char (*p)[SID_LEN] = realloc(rp->live_ids, cap * sizeof *p);
            if (!p) break;
            rp->live_ids = p;
            rp->cap_live_ids = cap;
        }
        memcpy(rp->live_ids[rp->n_live_ids++], pos[i], SID_LEN);
    }
    if (!m->key) return;
    for (size_t i = 0; i < rp->tf.n_ents; i++) {
        entry *e = &rp->tf.ents[i];
        if (e->kind == ENT_OUT && e->run == rp->run && e->matched < 0 && strcmp(e->key, m->key) == 0) {
            e->matched = (long)(rp->n_live - 1);
            m->matched = true;
            learn_ids(rp, e->text, m->text);
            break;
        }
    }
}

/* Waits up to timeout_ms for the server's output (and, if pending, for room to write *w).
 * Handles every complete line that arrives. */
static void pump(replay *rp, int timeout_ms, const char **w, size_t *wlen) {
    struct pollfd p[2];
    nfds_t n = 0;
    if (!rp->eof) p[n++] = (struct pollfd){.fd = rp->from_child, .events = POLLIN};
    bool want_write = w && *wlen > 0 && rp->to_child >= 0;
    if (want_write) p[n++] = (struct pollfd){.fd = rp->to_child, .events = POLLOUT};
    if (n == 0) return;
    int r = poll(p, n, timeout_ms < 0 ? 0 : timeout_ms);
    if (r <= 0) return;
    for (nfds_t i = 0; i < n; i++) {
        if (p[i].fd == rp->from_child && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (rp->rcap - rp->rlen < 65536) {
                size_t cap = rp->rcap ? rp->rcap * 2 : 131072;
                char *b = realloc(rp->rbuf, cap);
                if (!b) { rp->eof = true; continue; }
                rp->rbuf = b;
                rp->rcap = cap;
            }
            ssize_t got = read(rp->from_child, rp->rbuf + rp->rlen, rp->rcap - rp->rlen);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
                rp->eof = true;
                if (rp->rlen) { on_line(rp, rp->rbuf, rp->rlen); rp->rlen = 0; } /* unterminated last line */
                continue;
            }
            if (got < 0) continue;
            rp->rlen += (size_t)got;
            size_t start = 0;
            for (;;) {
                char *nl = memchr(rp->rbuf + start, '\n', rp->rlen - start);
                if (!nl) break;
                on_line(rp, rp->rbuf + start, (size_t)(nl - (rp->rbuf + start)));
                start = (size_t)(nl - rp->rbuf) + 1;
            }
            memmove(rp->rbuf, rp->rbuf + start, rp->rlen - start);
            rp->rlen -= start;
        } else if (want_write && p[i].fd == rp->to_child && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t put = write(rp->to_child, *w, *wlen);
            if (put < 0 && errno != EAGAIN && errno != EINTR) { rp->send_failed = true; *wlen = 0; continue; }
            if (put > 0) { *w += put; *wlen -= (size_t)put; }
        }
    }
}

/* Sends one line (plus '\n'), reading the server's output meanwhile. */
static void send_line(replay *rp, const char *line, size_t len) {
    if (rp->verbose) fprintf(stderr, "> %.*s\n", (int)len, line);
    if (rp->update) alc__replay_encode_line(&rp->out, true, line, len);
    if (rp->send_failed) return;
    char *buf = malloc(len + 1);
    if (!buf) { rp->send_failed = true; return; }
    memcpy(buf, line, len);
    buf[len] = '\n';
    const char *w = buf;
    size_t wlen = len + 1;
    int64_t deadline = now_ms() + WAIT_MS;
    while (wlen > 0 && !rp->send_failed) {
        int64_t left = deadline - now_ms();
        if (left <= 0) { rp->send_failed = true; break; }
        pump(rp, (int)left, &w, &wlen);
    }
    free(buf);
    if (rp->send_failed && !rp->crashed)
        snprintf(rp->crash_msg, sizeof rp->crash_msg, "could not send line to the server (it stopped reading)");
}

/* True when every expected output of the current run before entry index upto has arrived. */
static bool caught_up(const replay *rp, size_t upto) {
    for (size_t i = 0; i < upto; i++) {
        const entry *e = &rp->tf.ents[i];
        if (e->kind == ENT_OUT && e->run == rp->run && e->matched < 0) return false;
    }
    return true;
}

/* How long the next wait for an expected reply may take: WAIT_MS until one wait gave up (the
 * server is not answering as recorded), then 1 s, so that a broken run ends in bounded time. */
static int64_t wait_budget(const replay *rp) { return rp->timeouts ? 1000 : WAIT_MS; }

static void wait_for(replay *rp, size_t upto) {
    int64_t deadline = now_ms() + wait_budget(rp);
    while (!rp->eof && !caught_up(rp, upto)) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            if (rp->verbose) fprintf(stderr, "alc replay: (gave up waiting for an expected reply)\n");
            rp->timeouts++;
            break;
        }
        pump(rp, (int)left, NULL, NULL);
    }
}

/* Replaces "<session-N>" placeholders (draft transcripts) by the N-th live session id.
 * Returns new bytes (free()) with *len updated, or NULL if there is nothing to replace. */
static char *fill_placeholders(const replay *rp, const char *s, size_t *len) {
    static const char pre[] = "<session-";
    if (!rp->n_live_ids || !memmem_safe(s, *len, pre)) return NULL;
    alc_jbuf b;
    alc_jbuf_init(&b);
    for (size_t i = 0; i < *len;) {
        size_t n = 0, j = i + sizeof pre - 1;
        if (*len - i > sizeof pre && memcmp(s + i, pre, sizeof pre - 1) == 0) {
            while (j < *len && s[j] >= '0' && s[j] <= '9' && n < 1000000) n = n * 10 + (size_t)(s[j++] - '0');
            if (j < *len && s[j] == '>' && j > i + sizeof pre - 1 && n >= 1 && n <= rp->n_live_ids) {
                alc_jbuf_put(&b, rp->live_ids[n - 1], SID_LEN);
                i = j + 1;
                continue;
            }
        }
        alc_jbuf_put(&b, s + i, 1);
        i++;
    }
    return alc_jbuf_take(&b, len);
}

/* Waits until the live server answered the request with compact id req_id (its k-th use in
 * this run), for draft runs; since: the number of live messages before the request was sent. */
static void wait_reply(replay *rp, const char *req_id, size_t since) {
    size_t k;
    for (k = 0; k < rp->n_req_counts; k++)
        if (strcmp(rp->req_counts[k].id, req_id) == 0) break;
    if (k == rp->n_req_counts) {
        key_count *p = realloc(rp->req_counts, (k + 1) * sizeof *p);
        if (!p) return;
        rp->req_counts = p;
        if (!(p[k].id = strdup(req_id))) return;
        p[k].n = 0;
        rp->n_req_counts++;
    }
    size_t need = strlen(req_id) + 32;
    char *key = malloc(need);
    if (!key) return;
    snprintf(key, need, "R%s#%zu", req_id, ++rp->req_counts[k].n);
    int64_t deadline = now_ms() + wait_budget(rp);
    for (;;) {
        /* the reply with that id, or an error reply without id (the request was invalid) */
        bool got = false;
        for (size_t i = 0; i < rp->n_live && !got; i++)
            got = rp->live[i].run == rp->run && rp->live[i].key &&
                  (strcmp(rp->live[i].key, key) == 0 || (i >= since && strncmp(rp->live[i].key, "Rnone#", 6) == 0));
        int64_t left = deadline - now_ms();
        if (!got && left <= 0) rp->timeouts++;
        if (got || rp->eof || left <= 0) break;
        pump(rp, (int)left, NULL, NULL);
    }
    free(key);
}

/* Closes the server's input, reads to EOF and reaps it; notes a crash or a hang. */
static void finish_server(replay *rp) {
    if (rp->to_child >= 0) close(rp->to_child);
    rp->to_child = -1;
    int64_t deadline = now_ms() + WAIT_MS;
    while (!rp->eof && now_ms() < deadline) pump(rp, (int)(deadline - now_ms()), NULL, NULL);
    int status = 0;
    pid_t r = 0;
    while ((r = waitpid(rp->pid, &status, WNOHANG)) == 0 && now_ms() < deadline + 5000) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        kill(rp->pid, SIGKILL);
        waitpid(rp->pid, &status, 0);
        rp->crashed = true;
        snprintf(rp->crash_msg, sizeof rp->crash_msg, "the server did not exit within %d s after end of input (killed)", WAIT_MS / 1000 + 5);
    } else if (r > 0 && WIFSIGNALED(status)) {
        rp->crashed = true;
        snprintf(rp->crash_msg, sizeof rp->crash_msg, "the server died from signal %d", WTERMSIG(status));
    } else if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        rp->crashed = true;
        snprintf(rp->crash_msg, sizeof rp->crash_msg, "the server exited with status %d", WEXITSTATUS(status));
    }
    if (rp->from_child >= 0) close(rp->from_child);
    rp->from_child = -1;
    rp->pid = -1;
}

/* Replays run number run. Returns ALC_OK, or ALC_E_IO if the server could not be started. */
static int replay_run(replay *rp, int run) {
    rp->run = run;
    rp->eof = rp->send_failed = false;
    rp->rlen = 0;
    alc__replay_counts_free(rp->counts, rp->n_counts);
    rp->counts = NULL;
    rp->n_counts = rp->n_notes = 0;
    alc__replay_counts_free(rp->req_counts, rp->n_req_counts);
    rp->req_counts = NULL;
    rp->n_req_counts = 0;
    rp->pid = 0;
    if (spawn_server(rp) != ALC_OK) return ALC_E_IO;
    if (rp->update) {
        alc_jbuf_puts(&rp->out, "{\"dir\":\"start\",\"alc_home\":");
        alc_jbuf_json_str(&rp->out, rp->home, strlen(rp->home));
        if (rp->bundled) {
            alc_jbuf_puts(&rp->out, ",\"bundled_dir\":");
            alc_jbuf_json_str(&rp->out, rp->bundled, strlen(rp->bundled));
        }
        if (rp->bindir) {
            alc_jbuf_puts(&rp->out, ",\"bin_dir\":");
            alc_jbuf_json_str(&rp->out, rp->bindir, strlen(rp->bindir));
        }
        alc_jbuf_puts(&rp->out, ",\"version\":");
        alc_jbuf_json_str(&rp->out, ALC_VERSION, strlen(ALC_VERSION));
        alc_jbuf_puts(&rp->out, "}\n");
    }
    bool draft = true; /* no recorded output in this run: wait for each reply instead */
    for (size_t i = 0; i < rp->tf.n_ents && draft; i++)
        if (rp->tf.ents[i].run == run && rp->tf.ents[i].kind == ENT_OUT) draft = false;
    for (size_t i = 0; i < rp->tf.n_ents; i++) {
        entry *e = &rp->tf.ents[i];
        if (e->run != run || e->kind != ENT_IN) continue;
        wait_for(rp, i);
        map_ids(rp, e->bytes, e->len);
        size_t len = e->len, since = rp->n_live;
        char *filled = draft ? fill_placeholders(rp, e->bytes, &len) : NULL;
        send_line(rp, filled ? filled : e->bytes, filled ? len : e->len);
        free(filled);
        if (draft && e->req_id && !e->nowait) wait_reply(rp, e->req_id, since);
    }
    wait_for(rp, rp->tf.n_ents);
    finish_server(rp);
    return ALC_OK;
}

/* ---- comparison --------------------------------------------------------------------------- */

typedef struct strlist { char **v; size_t n, cap; } strlist;

static int push(strlist *l, char *s) {
    if (!s) return ALC_E_NOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **p = realloc(l->v, cap * sizeof *p);
        if (!p) { free(s); return ALC_E_NOMEM; }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return ALC_OK;
}

static void strlist_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static char *norm_live(alc_replay_norm *n, const live_msg *m) {
    if (m->msg) return alc_replay_normalize_text(n, m->msg);
    cJSON *s = cJSON_CreateString(m->text); /* a line that is not JSON: compare it as text */
    char *t = s ? alc_replay_normalize_text(n, s) : NULL;
    cJSON_Delete(s);
    return t;
}

/* Builds the normalised expected and live lists (runs in order; within a run, expected order,
 * live messages placed opposite their match, unmatched live messages at the end of the run). */
static int build_lists(replay *rp, strlist *exp, strlist *got) {
    alc_replay_norm *ne = alc_replay_norm_new(), *nl = alc_replay_norm_new();
    int rc = ALC_E_NOMEM;
    if (!ne || !nl || alc_replay_norm_set_home(nl, rp->home) != ALC_OK ||
        alc_replay_norm_set_path(nl, "bundled", rp->bundled) != ALC_OK ||
        alc_replay_norm_set_path(nl, "bindir", rp->bindir) != ALC_OK)
        goto done;
    for (int run = 0; run < rp->tf.n_runs; run++) {
        for (size_t i = 0; i < rp->tf.n_ents; i++) {
            entry *e = &rp->tf.ents[i];
            if (e->run != run) continue;
            if (e->kind == ENT_START &&
                (alc_replay_norm_set_home(ne, e->home) != ALC_OK || alc_replay_norm_set_path(ne, "bundled", e->bundled) != ALC_OK ||
                 alc_replay_norm_set_path(ne, "bindir", e->bindir) != ALC_OK))
                goto done;
            if (e->kind != ENT_OUT) continue;
            if (push(exp, alc_replay_normalize_text(ne, e->msg)) != ALC_OK) goto done;
            if (e->matched >= 0 && push(got, norm_live(nl, &rp->live[e->matched])) != ALC_OK) goto done;
        }
        for (size_t i = 0; i < rp->n_live; i++)
            if (rp->live[i].run == run && !rp->live[i].matched && push(got, norm_live(nl, &rp->live[i])) != ALC_OK) goto done;
    }
    rc = ALC_OK;
done:
    alc_replay_norm_free(ne);
    alc_replay_norm_free(nl);
    return rc;
}

/* Prints the end of the server's captured stderr. */
static void show_server_stderr(replay *rp) {
    if (rp->verbose || !rp->errlog) return;
    char *text = NULL;
    size_t len = 0;
    if (alc_fs_read_file(rp->errlog, 64u << 20, &text, &len, NULL, 0) != ALC_OK || len == 0) { free(text); return; }
    size_t from = len > 4000 ? len - 4000 : 0;
    printf("--- server stderr%s ---\n%s%s", from ? " (last 4000 bytes)" : "", text + from, text[len - 1] == '\n' ? "" : "\n");
    free(text);
}

static int write_update(replay *rp) {
    size_t len = 0;
    char *data = alc_jbuf_take(&rp->out, &len);
    if (!data) { fprintf(stderr, "alc replay: out of memory\n"); return ALC_E_NOMEM; }
    struct stat st;
    mode_t mode = stat(rp->file, &st) == 0 ? (st.st_mode & 0777) : 0644;
    char err[512];
    int rc = alc_fs_write_atomic(rp->file, data, len, mode, err, sizeof err);
    if (rc != ALC_OK) fprintf(stderr, "alc replay: %s\n", err);
    free(data);
    return rc;
}

static void free_replay(replay *rp) {
    alc__replay_file_deinit(&rp->tf);
    for (size_t i = 0; i < rp->n_live; i++) {
        free(rp->live[i].text);
        cJSON_Delete(rp->live[i].msg);
        free(rp->live[i].key);
    }
    free(rp->live);
    free(rp->map_rec);
    free(rp->map_live);
    alc__replay_counts_free(rp->counts, rp->n_counts);
    alc__replay_counts_free(rp->req_counts, rp->n_req_counts);
    free(rp->live_ids);
    free(rp->rbuf);
    alc_jbuf_deinit(&rp->out);
    if (rp->tmpdir) rmtree(rp->tmpdir);
    free(rp->tmpdir);
    free(rp->home);
    free(rp->errlog);
    free(rp->bundled);
    free(rp->bindir);
}

/*
 * `alc replay FILE [--update] [--verbose]`; see replay.h. argv[0] is "replay"; cfg unused.
 * Returns 0 (match / updated), 1 (mismatch or server failure), 2 (usage or I/O error).
 */
int alc_cli_replay(const alc_config *cfg, int argc, char **argv) {
    (void)cfg;
    replay rp;
    memset(&rp, 0, sizeof rp);
    rp.to_child = rp.from_child = -1;
    rp.pid = -1;
    alc_jbuf_init(&rp.out);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--update") == 0) rp.update = true;
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) rp.verbose = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        else if (argv[i][0] == '-' || rp.file) {
            fprintf(stderr, "alc replay: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else rp.file = argv[i];
    }
    if (!rp.file) { usage(stderr); return 2; }
    int status = 2;
    if (alc__replay_file_load(rp.file, &rp.tf) != ALC_OK || make_tmp(&rp) != ALC_OK) goto done;
    find_dirs(&rp);
    if (rp.tf.n_runs == 0) rp.tf.n_runs = 1; /* an empty transcript: the server must say nothing */
    for (int run = 0; run < rp.tf.n_runs; run++) {
        if (replay_run(&rp, run) != ALC_OK) goto done;
        if (rp.crashed) break;
    }
    strlist exp = {0}, got = {0};
    if (build_lists(&rp, &exp, &got) != ALC_OK) {
        fprintf(stderr, "alc replay: out of memory\n");
        strlist_free(&exp);
        strlist_free(&got);
        goto done;
    }
    fflush(stdout);
    size_t changed = 0;
    if (!rp.update || rp.verbose) {
        FILE *to = rp.update ? stderr : stdout;
        bool same = exp.n == got.n;
        for (size_t i = 0; same && i < exp.n; i++) same = strcmp(exp.v[i], got.v[i]) == 0;
        if (!same) {
            fprintf(to, "--- expected (%s)\n+++ live run\n", rp.file);
            changed = alc_replay_diff(to, (const char *const *)exp.v, exp.n, (const char *const *)got.v, got.n,
                                      rp.verbose ? 0 : 1000);
        }
    } else {
        for (size_t i = 0; i < exp.n && i < got.n; i++) changed += strcmp(exp.v[i], got.v[i]) != 0;
        changed += exp.n > got.n ? exp.n - got.n : got.n - exp.n;
    }
    if (rp.crashed) {
        printf("alc replay: %s: %s\n", rp.file, rp.crash_msg);
        show_server_stderr(&rp);
        status = 1;
    } else if (rp.update && !changed && exp.n > 0) {
        printf("%s: unchanged (%zu messages match; file left as it was)\n", rp.file, exp.n); /* no churn */
        status = 0;
    } else if (rp.update) {
        status = write_update(&rp) == ALC_OK ? 0 : 2;
        if (status == 0)
            printf("%s: updated (%zu messages%s)\n", rp.file, got.n,
                   exp.n == 0 ? ", recorded from a draft" : changed ? ", differed from the previous recording" : "");
    } else if (changed) {
        printf("%s: MISMATCH (%zu expected messages, %zu in the live run)\n", rp.file, exp.n, got.n);
        if (exp.n == 0) printf("(%s has no recorded replies; to record them run: alc replay --update %s)\n", rp.file, rp.file);
        if (rp.send_failed) printf("alc replay: %s\n", rp.crash_msg);
        show_server_stderr(&rp);
        status = 1;
    } else {
        printf("%s: ok (%zu messages)\n", rp.file, exp.n);
        status = 0;
    }
    strlist_free(&exp);
    strlist_free(&got);
done:
    fflush(stdout);
    if (rp.pid > 0) { kill(rp.pid, SIGKILL); waitpid(rp.pid, NULL, 0); }
    if (rp.to_child >= 0) close(rp.to_child);
    if (rp.from_child >= 0) close(rp.from_child);
    free_replay(&rp);
    return status;
}
