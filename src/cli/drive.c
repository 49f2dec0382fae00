/*
 * drive.c — the driver of `alc run` / `alc advice`: runs one session on the engine (a
 * registry of its own, the same sessions, budgets, logs and cancellation as the server),
 * answers its pauses through a responder, prints the result, draws the progress line, and
 * turns SIGINT / SIGTERM / SIGHUP into a cooperative cancel. On Linux the death of the parent
 * process is delivered as SIGHUP (PR_SET_PDEATHSIG, armed by alc__cli_watch_parent), so an
 * orphaned run cancels its session instead of spinning on.
 *
 * Threads:
 *  - the main thread (the driver) starts the session, waits for each outcome, calls the
 *    responder, delivers the answers and draws the progress line;
 *  - the session thread calls on_outcome / on_event: they copy what they need into the
 *    driver struct under d->mu and signal d->cv (log lines with --verbose are written to
 *    stderr there, under d->out_mu);
 *  - signal handlers (any thread) only bump an atomic counter and write a byte to a
 *    self-pipe, whose read end is the responders' cancel fd.
 * Lock order: d->mu and d->out_mu are leaves, never held together or across engine calls.
 */
#include "cli_internal.h"

#include "alc/error.h"
#include "alc/jbuf.h"
#include "alc/thread.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define TICK_NS (100 * 1000000LL)

/* ---- signals -------------------------------------------------------------------------- */

static atomic_int g_sig_count;
static volatile sig_atomic_t g_sig_last;
static int g_sig_pipe[2] = {-1, -1};
static pid_t g_parent;          /* getppid() when the command started; 0 = not watched */

/*
 * Called first thing by `alc run` / `alc advice` (main thread, before any thread starts):
 * remembers getppid() and, on Linux, asks the kernel to send SIGHUP when the parent dies
 * (prctl PR_SET_PDEATHSIG). The driver installs its SIGHUP handler later and then compares
 * getppid() with the remembered pid, which catches a parent that died in between. Until the
 * handler is installed the default action of SIGHUP ends the process, which is fine: no
 * session runs yet. Does nothing when SIGHUP is ignored (e.g. under nohup(1)): the caller
 * asked the run to outlive its terminal and parent.
 */
void alc__cli_watch_parent(void) {
    struct sigaction cur;
    if (sigaction(SIGHUP, NULL, &cur) != 0 || cur.sa_handler == SIG_IGN) return;
    g_parent = getppid();
#ifdef __linux__
    (void)prctl(PR_SET_PDEATHSIG, SIGHUP);
#endif
}

static void on_signal(int sig) {
    int saved = errno;
    g_sig_last = sig;
    atomic_fetch_add(&g_sig_count, 1);
    if (g_sig_pipe[1] >= 0) {
        ssize_t w = write(g_sig_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

typedef struct sig_saved {
    struct sigaction old_int, old_term, old_hup;
    bool hup;                   /* SIGHUP was handled too (it was not ignored) */
    bool installed;
} sig_saved;

static int signals_install(sig_saved *sv) {
    memset(sv, 0, sizeof *sv);
    if (pipe(g_sig_pipe) != 0) return ALC_E_IO;
    for (int i = 0; i < 2; i++) fcntl(g_sig_pipe[i], F_SETFD, FD_CLOEXEC);
    fcntl(g_sig_pipe[1], F_SETFL, fcntl(g_sig_pipe[1], F_GETFL) | O_NONBLOCK);
    atomic_store(&g_sig_count, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &sv->old_int);
    sigaction(SIGTERM, &sa, &sv->old_term);
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN) {  // nohup keeps running
        sigaction(SIGHUP, &sa, &sv->old_hup);
        sv->hup = true;
        // the parent may have died before the death signal was armed or handled
        if (g_parent > 0 && getppid() != g_parent) raise(SIGHUP);
    }
    sv->installed = true;
    return ALC_OK;
}

static void signals_restore(sig_saved *sv) {
    if (!sv->installed) return;
    sigaction(SIGINT, &sv->old_int, NULL);
    sigaction(SIGTERM, &sv->old_term, NULL);
    if (sv->hup) sigaction(SIGHUP, &sv->old_hup, NULL);
    int r = g_sig_pipe[0], w = g_sig_pipe[1];
    g_sig_pipe[0] = g_sig_pipe[1] = -1;
    close(r);
    close(w);
    sv->installed = false;
}

/* ---- the driver ----------------------------------------------------------------------- */

typedef struct driver {
    alc_mutex mu;
    alc_cond cv;                 /* signalled when an outcome arrives */
    bool has_outcome;            /* guarded by mu */
    bool copy_failed;            /* guarded by mu: out of memory while copying an outcome */
    alc_outcome_kind kind;       /* guarded by mu, as are the copies below */
    alc_query *queries;
    size_t n_queries;
    char *result_json, *error, *fail_kind, *cancel_code, *cancel_detail;
    char *log_warning;           /* the session log could not be written; NULL normally */
    bool has_progress;           /* guarded by mu */
    long long step, total;
    char *progress_msg;

    alc_mutex out_mu;            /* serialises writes to stderr */
    bool line_shown;             /* guarded by out_mu: a progress line is on screen */

    /* driver thread only */
    bool show_progress;          /* stderr is a terminal and not --quiet */
    bool progress_paused;        /* the interactive responder owns the terminal */
    bool verbose;
    bool cancel_sent;
    long long llm_calls;
    size_t answering;            /* prompts handed to the responder right now */
    int64_t t0_ms;
    int64_t last_draw_ms;
} driver;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void free_outcome_copy(driver *d) {
    alc_queries_free(d->queries, d->n_queries);
    d->queries = NULL;
    d->n_queries = 0;
    free(d->result_json);
    free(d->error);
    free(d->fail_kind);
    free(d->cancel_code);
    free(d->cancel_detail);
    free(d->log_warning);
    d->result_json = d->error = d->fail_kind = d->cancel_code = d->cancel_detail = d->log_warning = NULL;
}

static alc_query *copy_queries(const alc_query *q, size_t n) {
    alc_query *c = calloc(n ? n : 1, sizeof *c);
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i] = q[i];
        c[i].id = strdup(q[i].id);
        c[i].system = dup_or_null(q[i].system);
        c[i].prompt = malloc(q[i].prompt_len + 1);
        if (!c[i].id || !c[i].prompt || (q[i].system && !c[i].system)) {
            alc_queries_free(c, i + 1);
            return NULL;
        }
        memcpy(c[i].prompt, q[i].prompt, q[i].prompt_len);
        c[i].prompt[q[i].prompt_len] = '\0';
    }
    return c;
}

/* Waiter callback (session thread, no engine lock held): copies the outcome for the driver. */
static void on_outcome(void *ud, const alc_outcome *out) {
    driver *d = ud;
    alc_mutex_lock(&d->mu);
    free_outcome_copy(d);
    d->kind = out->kind;
    bool ok = true;
    switch (out->kind) {
    case ALC_OUT_PAUSED:
        d->queries = copy_queries(out->queries, out->n_queries);
        d->n_queries = d->queries ? out->n_queries : 0;
        ok = d->queries != NULL;
        break;
    case ALC_OUT_DONE:
        d->result_json = strdup(out->result_json ? out->result_json : "null");
        ok = d->result_json != NULL;
        break;
    case ALC_OUT_FAILED:
        d->error = strdup(out->error ? out->error : "unknown error");
        d->fail_kind = strdup(out->fail_kind ? out->fail_kind : "lua_error");
        ok = d->error && d->fail_kind;
        break;
    case ALC_OUT_CANCELLED:
        d->cancel_code = strdup(out->cancel_code ? out->cancel_code : "user");
        d->cancel_detail = dup_or_null(out->cancel_detail);
        ok = d->cancel_code != NULL;
        break;
    }
    if (out->kind != ALC_OUT_PAUSED && out->transcript_warning) d->log_warning = strdup(out->transcript_warning);
    d->copy_failed = !ok;
    d->has_outcome = true;
    alc_cond_broadcast(&d->cv);
    alc_mutex_unlock(&d->mu);
}

static void clear_line_locked(driver *d) {
    if (!d->line_shown) return;
    static const char clr[] = "\r\033[K";
    ssize_t w = write(STDERR_FILENO, clr, sizeof clr - 1);
    (void)w;
    d->line_shown = false;
}

static void clear_line(driver *d) {
    alc_mutex_lock(&d->out_mu);
    clear_line_locked(d);
    alc_mutex_unlock(&d->out_mu);
}

/* Waiter event callback (session thread): progress for the line, log lines for -v. */
static void on_event(void *ud, const alc_event *ev) {
    driver *d = ud;
    if (!ev->json) return;
    if (ev->kind == ALC_EV_PROGRESS) {
        cJSON *j = cJSON_Parse(ev->json);
        if (!j) return;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "step");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(j, "total");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        char *msg = cJSON_IsString(m) ? strdup(m->valuestring) : NULL;
        alc_mutex_lock(&d->mu);
        d->has_progress = true;
        d->step = d->total = 0;
        if (cJSON_IsNumber(st)) (void)alc_double_to_ll(st->valuedouble, &d->step);
        if (cJSON_IsNumber(to)) (void)alc_double_to_ll(to->valuedouble, &d->total);
        free(d->progress_msg);
        d->progress_msg = msg;
        alc_mutex_unlock(&d->mu);
        cJSON_Delete(j);
    } else if (ev->kind == ALC_EV_LOG && d->verbose) {
        cJSON *j = cJSON_Parse(ev->json);
        if (!j) return;
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        alc_jbuf b;
        alc_jbuf_init(&b);
        alc_jbuf_printf(&b, "alc [%s] %s\n", cJSON_IsString(lv) ? lv->valuestring : "info",
                        cJSON_IsString(m) ? m->valuestring : "");
        cJSON_Delete(j);
        alc_mutex_lock(&d->out_mu);
        clear_line_locked(d);
        if (!b.oom) {
            ssize_t w = write(STDERR_FILENO, b.data, b.len);
            (void)w;
        }
        alc_mutex_unlock(&d->out_mu);
        alc_jbuf_deinit(&b);
    }
}

static int term_width(void) {
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
    return 80;
}

/* Redraws the progress line (driver thread). */
static void tick(void *ud) {
    driver *d = ud;
    if (!d->show_progress || d->progress_paused) return;
    int64_t now = alc_now_ms();
    if (now - d->last_draw_ms < 90) return;
    d->last_draw_ms = now;
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "\r\033[Kalc: ");
    alc_mutex_lock(&d->mu);
    if (d->has_progress) {
        alc_jbuf_printf(&b, "step %lld/%lld", d->step, d->total);
        if (d->progress_msg) alc_jbuf_printf(&b, " %s", d->progress_msg);
    } else {
        alc_jbuf_puts(&b, "running");
    }
    alc_mutex_unlock(&d->mu);
    alc_jbuf_printf(&b, " | %lld LLM call%s", d->llm_calls, d->llm_calls == 1 ? "" : "s");
    if (d->answering) alc_jbuf_printf(&b, " | answering %zu prompt%s", d->answering, d->answering == 1 ? "" : "s");
    int64_t el = now - d->t0_ms;
    alc_jbuf_printf(&b, " | %lld.%llds", (long long)(el / 1000), (long long)(el % 1000 / 100));
    if (b.oom) { alc_jbuf_deinit(&b); return; }
    /* keep it on one row: cut at the terminal width (bytes; good enough for ASCII) */
    size_t max = (size_t)term_width() - 1 + 4;   /* + the "\r\033[K" prefix */
    size_t len = b.len < max ? b.len : max;
    for (size_t i = 4; i < len; i++) if (b.data[i] == '\n' || b.data[i] == '\r' || b.data[i] == '\t') b.data[i] = ' ';
    alc_mutex_lock(&d->out_mu);
    ssize_t w = write(STDERR_FILENO, b.data, len);
    (void)w;
    d->line_shown = true;
    alc_mutex_unlock(&d->out_mu);
    alc_jbuf_deinit(&b);
}

/* Prints json (compact text) on fd, indented with two spaces unless compact. */
static void print_json(int fd, const char *json, bool compact) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    if (compact) {
        alc_jbuf_puts(&b, json);
    } else {
        int depth = 0;
        bool in_str = false, esc = false;
        for (const char *p = json; *p; p++) {
            char c = *p;
            if (in_str) {
                alc_jbuf_put(&b, p, 1);
                if (esc) esc = false;
                else if (c == '\\') esc = true;
                else if (c == '"') in_str = false;
                continue;
            }
            switch (c) {
            case '"': in_str = true; alc_jbuf_put(&b, p, 1); break;
            case '{': case '[': {
                const char *q = p + 1;
                while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') q++;
                if (*q == (c == '{' ? '}' : ']')) {   /* empty container stays "{}" / "[]" */
                    alc_jbuf_put(&b, p, 1);
                    alc_jbuf_put(&b, q, 1);
                    p = q;
                    break;
                }
                alc_jbuf_put(&b, p, 1);
                depth++;
                alc_jbuf_printf(&b, "\n%*s", depth * 2, "");
                break;
            }
            case '}': case ']':
                depth--;
                alc_jbuf_printf(&b, "\n%*s", depth * 2, "");
                alc_jbuf_put(&b, p, 1);
                break;
            case ',': alc_jbuf_printf(&b, ",\n%*s", depth * 2, ""); break;
            case ':': alc_jbuf_puts(&b, ": "); break;
            case ' ': case '\n': case '\t': case '\r': break;
            default: alc_jbuf_put(&b, p, 1);
            }
        }
    }
    alc_jbuf_puts(&b, "\n");
    if (!b.oom) {
        const char *s = b.data;
        size_t left = b.len;
        while (left > 0) {
            ssize_t w = write(fd, s, left);
            if (w < 0) { if (errno == EINTR) continue; break; }
            s += w;
            left -= (size_t)w;
        }
    }
    alc_jbuf_deinit(&b);
}

static int interrupt_status(void) { return g_sig_last == SIGTERM ? 143 : g_sig_last == SIGHUP ? 129 : 130; }

static const char *interrupt_detail(void) {
    if (g_sig_last == SIGHUP) return "hung up (SIGHUP: the parent process or the terminal went away)";
    return g_sig_last == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)";
}

/* Waits for the next outcome; turns signals into a cancel of s meanwhile. Driver thread. */
static void wait_outcome(driver *d, alc_session *s) {
    alc_mutex_lock(&d->mu);
    while (!d->has_outcome) {
        int sc = atomic_load(&g_sig_count);
        if (sc > 0 && !d->cancel_sent) {
            alc_mutex_unlock(&d->mu);
            if (s) alc_session_cancel(s, "user", interrupt_detail(), NULL);
            d->cancel_sent = true;
            alc_mutex_lock(&d->mu);
            continue;
        }
        if (sc > 1) {
            alc_mutex_unlock(&d->mu);
            clear_line(d);
            static const char m[] = "alc: interrupted again; exiting without waiting for the session\n";
            ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
            (void)w;
            _exit(interrupt_status());
        }
        alc_cond_timedwait_ns(&d->cv, &d->mu, TICK_NS);
        alc_mutex_unlock(&d->mu);
        tick(d);
        alc_mutex_lock(&d->mu);
    }
    d->has_outcome = false;
    alc_mutex_unlock(&d->mu);
}

/* First line of msg, for the cancel detail. */
static char *first_line(const char *msg) {
    size_t n = strcspn(msg, "\n");
    if (n > 200) n = 200;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, msg, n);
    s[n] = '\0';
    return s;
}

/* Answers one pause. Returns -1 to go on (answers delivered, a waiter registered) or the
 * exit status. */
static int answer_pause(driver *d, alc_session *s, alc_cli_responder *resp, const char *sid,
                        const alc_cli_out *o) {
    size_t n = d->n_queries;
    const alc_query *q = d->queries;
    d->llm_calls += (long long)n;
    char **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens);
    alc_answer *ans = calloc(n, sizeof *ans);
    char *errmsg = NULL;
    int status = 1;
    if (!texts || !lens || !ans) {
        fprintf(stderr, "alc %s: out of memory\n", o->cmd);
        goto out;
    }
    alc_cli_ctl ctl = {.cancel_fd = g_sig_pipe[0], .tick = tick, .tick_ud = d, .session_id = sid};
    bool terminal = alc__cli_resp_kind(resp) == ALC_CLI_RESP_INTERACTIVE;
    if (terminal) {
        clear_line(d);
        d->progress_paused = true;
    }
    d->answering = n;
    tick(d);
    int rc = alc__cli_resp_answer(resp, &ctl, q, n, texts, lens, &errmsg);
    d->answering = 0;
    d->progress_paused = false;
    if (rc == ALC_E_CANCELLED || atomic_load(&g_sig_count) > 0) {
        alc_session_cancel(s, "user", interrupt_detail(), NULL);
        d->cancel_sent = true;
        clear_line(d);
        fprintf(stderr, "alc: %s; session cancelled\n", interrupt_detail());
        status = interrupt_status();
        goto out;
    }
    if (rc != ALC_OK) {
        char *detail = first_line(errmsg ? errmsg : "responder failed");
        alc_session_cancel(s, "responder", detail, NULL);
        free(detail);
        clear_line(d);
        fprintf(stderr, "alc %s: %s\n", o->cmd, errmsg ? errmsg : "the responder failed");
        status = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ans[i].query_id = q[i].id;
        ans[i].response = texts[i];
        ans[i].response_len = lens[i];
        ans[i].prompt_tokens = ans[i].completion_tokens = -1;
    }
    alc_waiter w = {.on_outcome = on_outcome, .on_event = on_event, .ud = d};
    size_t remaining = 0;
    char err[512];
    rc = alc_session_continue(s, ans, n, &w, &remaining, err, sizeof err);
    if (rc != ALC_OK || remaining > 0) {
        clear_line(d);
        if (atomic_load(&g_sig_count) > 0) {
            fprintf(stderr, "alc: %s; session cancelled\n", interrupt_detail());
            status = interrupt_status();
        } else {
            fprintf(stderr, "alc %s: cannot deliver the answers: %s\n", o->cmd,
                    rc != ALC_OK ? err : "some prompts are still unanswered");
            if (rc == ALC_OK) alc_session_cancel(s, "responder", "answers incomplete", NULL);
        }
        goto out;
    }
    status = -1;
out:
    if (texts) for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    free(ans);
    free(errmsg);
    return status;
}

/*
 * Runs the session described by spec (borrowed) on a new registry built from cfg (borrowed)
 * to its end: waits for each outcome, answers pauses through resp (borrowed), prints the
 * result on result_fd (borrowed) and messages on stderr, draws the progress line when stderr
 * is a terminal and o->quiet is false, and turns SIGINT / SIGTERM / SIGHUP (also the parent's
 * death, see alc__cli_watch_parent) into a cooperative cancel (handlers installed for the
 * duration; an ignored SIGHUP stays ignored). Returns the exit status: 0 completed, 1 script
 * error / responder failure / other cancel, 3 budget exceeded, 129 SIGHUP, 130 SIGINT,
 * 143 SIGTERM.
 * Frees the registry before returning, which waits for the session thread (and its log).
 * Main thread only.
 */
int alc__cli_drive(const alc_config *cfg, const alc_cli_out *o, alc_cli_responder *resp,
                 const alc_session_spec *spec, int result_fd) {
    driver d;
    memset(&d, 0, sizeof d);
    alc_mutex_init(&d.mu);
    alc_cond_init(&d.cv);
    alc_mutex_init(&d.out_mu);
    d.show_progress = !o->quiet && isatty(STDERR_FILENO);
    d.verbose = o->verbose;
    d.t0_ms = alc_now_ms();
    d.last_draw_ms = d.t0_ms - 1000;
    alc_registry *reg = NULL;
    alc_session *s = NULL;
    sig_saved sv = {0};
    int status = 1;

    if (signals_install(&sv) != ALC_OK) {
        fprintf(stderr, "alc %s: cannot create a pipe: %s\n", o->cmd, strerror(errno));
        goto out;
    }
    /* one session per run: Lua states prepared ahead would only cost start-up time */
    alc_config one_shot = *cfg; /* shallow: shares cfg's strings, lives as long as reg */
    one_shot.warm_states = 0;
    int rc = alc_registry_new(&one_shot, &reg);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc %s: cannot start the engine: %s\n", o->cmd, alc_err_message(rc));
        goto out;
    }
    alc_waiter w = {.on_outcome = on_outcome, .on_event = on_event, .ud = &d};
    char sid[40], err[512];
    rc = alc_session_start(reg, spec, &w, sid, err, sizeof err);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc %s: cannot start the session: %s\n", o->cmd, err);
        goto out;
    }
    s = alc_registry_find(reg, sid);
    for (;;) {
        wait_outcome(&d, s);
        alc_mutex_lock(&d.mu);
        bool copy_failed = d.copy_failed;
        alc_outcome_kind kind = d.kind;
        alc_mutex_unlock(&d.mu);
        if (copy_failed) {
            if (s) alc_session_cancel(s, "system_shutdown", "out of memory", NULL);
            clear_line(&d);
            fprintf(stderr, "alc %s: out of memory\n", o->cmd);
            status = 1;
            break;
        }
        if (kind == ALC_OUT_PAUSED) {
            if (atomic_load(&g_sig_count) > 0 || !s) {
                if (s) alc_session_cancel(s, "user", interrupt_detail(), NULL);
                clear_line(&d);
                fprintf(stderr, "alc: %s; session cancelled\n", interrupt_detail());
                status = interrupt_status();
                break;
            }
            status = answer_pause(&d, s, resp, sid, o);
            if (status >= 0) break;
            continue;
        }
        clear_line(&d);
        if (d.log_warning) fprintf(stderr, "alc %s: warning: %s\n", o->cmd, d.log_warning);
        if (o->verbose) fprintf(stderr, "alc %s: session %s ended\n", o->cmd, sid);
        if (kind == ALC_OUT_DONE) {
            print_json(result_fd, d.result_json, o->json);
            status = 0;
        } else if (kind == ALC_OUT_FAILED) {
            bool budget = strstr(d.error, "budget_exceeded") != NULL;
            fprintf(stderr, "alc %s: %s (%s):\n%s\n", o->cmd, budget ? "budget exceeded" : "script failed",
                    d.fail_kind, d.error);
            status = budget ? 3 : 1;
        } else if (d.cancel_sent) {
            fprintf(stderr, "alc: %s; session cancelled\n", interrupt_detail());
            status = interrupt_status();
        } else {
            fprintf(stderr, "alc %s: the session was cancelled (%s%s%s)\n", o->cmd, d.cancel_code,
                    d.cancel_detail ? ": " : "", d.cancel_detail ? d.cancel_detail : "");
            status = 1;
        }
        break;
    }
out:
    clear_line(&d);
    alc_session_unref(s);
    /* from here on a Ctrl-C kills at once: the outcome is known, only clean-up is left */
    signals_restore(&sv);
    /* cancels whatever still runs and waits for every session thread (logs get written) */
    alc_registry_free(reg);
    free_outcome_copy(&d);
    free(d.progress_msg);
    alc_mutex_deinit(&d.out_mu);
    alc_cond_deinit(&d.cv);
    alc_mutex_deinit(&d.mu);
    return status;
}

/*
 * Like the server (CONVENTIONS 27): the real stdout is kept for the result and fd 1 points
 * at stderr, so that nothing the script (io.write) or a library prints can mix into the
 * result; the real stdin is kept for the answers and fd 0 becomes /dev/null, so that a
 * script calling io.read() cannot eat them. g receives both saved fds (close-on-exec).
 * Returns ALC_OK, or 1 (exit status) after printing why. Main thread, before threads start.
 */
int alc__cli_stdio_protect(const char *cmd, alc_cli_stdio *g) {
    g->in_fd = g->out_fd = -1;
    fflush(stdout);
    g->out_fd = dup(STDOUT_FILENO);
    g->in_fd = dup(STDIN_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    bool ok = g->out_fd >= 0 && g->in_fd >= 0 && devnull >= 0 &&
              dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 && dup2(devnull, STDIN_FILENO) >= 0;
    if (devnull >= 0) close(devnull);
    if (!ok) {
        fprintf(stderr, "alc %s: cannot set up stdin/stdout: %s\n", cmd, strerror(errno));
        return 1;
    }
    fcntl(g->out_fd, F_SETFD, FD_CLOEXEC);
    fcntl(g->in_fd, F_SETFD, FD_CLOEXEC);
    return ALC_OK;
}

/* Puts the real stdin and stdout back (no-op for fds that were not saved). Main thread. */
void alc__cli_stdio_restore(alc_cli_stdio *g) {
    fflush(stdout);   /* what the script buffered in stdout belongs to stderr (fd 1 now) */
    if (g->out_fd >= 0) {
        dup2(g->out_fd, STDOUT_FILENO);
        close(g->out_fd);
    }
    if (g->in_fd >= 0) {
        dup2(g->in_fd, STDIN_FILENO);
        close(g->in_fd);
    }
    g->in_fd = g->out_fd = -1;
}

