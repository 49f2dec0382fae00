/*
 * session_stress.c — 500 sessions driven by 4 threads against one registry through the engine's
 * C API (include/alc/session.h); plain main(), run under TSan by scripts/test (CONVENTIONS §4).
 *
 * Each driver thread owns 125 sessions and keeps up to 12 of them in flight. Scripts mix alc.llm,
 * alc.llm_batch of 2-3, short busy loops (pure VM loops and loops calling alc.time), pcall'd
 * calls, and errors. On every pause the owner answers (in one call, in two partial calls, or after
 * a rejected call with an unknown id), cancels, or lets another thread's cancel race with it; all
 * threads also cancel, snapshot and probe (continue with an id that can never match) random
 * sessions they do not own, and the registry's GC evicts finished sessions concurrently
 * (ALC_SESSION_RETENTION=1).
 *
 * Checked: every registration of a waiter (start, or a continue that returned ALC_OK with
 * remaining 0) gets exactly one on_outcome call and every other continue gets none; every return
 * code is one the API documents for the situation; every session ends in a terminal state with its
 * ring closed; results of deterministic scripts are right; nothing hangs (alarm(120)); and after
 * alc_registry_free nothing leaks (LeakSanitizer check when built with ASan). Prints
 * "N passed, N failed" last and exits non-zero on any failure.
 *
 * Threads: main starts 4 drivers and joins them; waiter callbacks run on session threads and touch
 * only the registration and the session record under that record's mutex.
 */
#include "alc/config.h"
#include "alc/error.h"
#include "alc/ring.h"
#include "alc/session.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#else
#define HAVE_LSAN 0
#endif

#define NTHREADS 4
#define NSESSIONS 500
#define PER_THREAD (NSESSIONS / NTHREADS)
#define IN_FLIGHT 12
#define MAX_REGS 16 /* waiter registrations per session, at most */
#define STUCK_MS 20000

static atomic_long g_passed, g_failed;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (cond) {                                                                         \
            atomic_fetch_add(&g_passed, 1);                                                 \
        } else {                                                                            \
            if (atomic_fetch_add(&g_failed, 1) < 30) {                                      \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                        \
                fprintf(stderr, __VA_ARGS__);                                               \
                fputc('\n', stderr);                                                        \
            }                                                                               \
        }                                                                                   \
    } while (0)

typedef enum {
    SC_SINGLE,     /* return alc.llm(...) .. '!'                         -> "<answer>!" */
    SC_BATCH2,     /* llm_batch of 2, returns the count                  -> 2 */
    SC_BATCH3,     /* llm_batch of 3, returns the answers joined          */
    SC_MIXED,      /* llm, busy loop, batch of 2                          */
    SC_BUSY_VM,    /* pure VM busy loop of a few ms, then return          -> "busy" */
    SC_BUSY_TIME,  /* busy loop calling alc.time for ~5 ms, then llm      */
    SC_ERROR_NOW,  /* error({code = 1})                                   -> failed */
    SC_ERROR_LATE, /* llm then error                                      -> failed */
    SC_PCALL_LLM,  /* three pcall'd llm calls                             -> "ok" */
    SC_SPIN,       /* endless loop (calling alc.time) under pcall: only a cancel ends it */
    SC_COUNT
} script_kind;

static const char *const SCRIPTS[SC_COUNT] = {
    [SC_SINGLE] = "return alc.llm('single ' .. ctx.n) .. '!'",
    [SC_BATCH2] = "local r = alc.llm_batch({{prompt = 'a'}, {prompt = 'b'}}) return #r",
    [SC_BATCH3] = "local r = alc.llm_batch({{prompt = 'a'}, {prompt = 'b'}, {prompt = 'c', max_tokens = 9}})\n"
                  "return r[1] .. r[2] .. r[3]",
    [SC_MIXED] = "local a = alc.llm('first')\n"
                 "local x = 0 for i = 1, 20000 + ctx.n * 10 do x = x + i end\n"
                 "local r = alc.llm_batch({{prompt = 'p'}, {prompt = 'q', system = 's'}})\n"
                 "return a .. r[1] .. r[2]",
    [SC_BUSY_VM] = "local x = 0 for i = 1, 300000 do x = x + i % 7 end alc.progress(1, 1, 'busy') return 'busy'",
    [SC_BUSY_TIME] = "local t = alc.time() while alc.time() - t < 0.005 do end return alc.llm('after busy')",
    [SC_ERROR_NOW] = "error({code = 1})",
    [SC_ERROR_LATE] = "alc.llm('before error') error('planned failure')",
    [SC_PCALL_LLM] = "for i = 1, 3 do pcall(alc.llm, 'round ' .. i) end return 'ok'",
    // alc.time() calls clock_gettime, so the cancel signal is delivered even under TSan, which
    // defers asynchronous signals until the thread enters an intercepted function
    [SC_SPIN] = "while true do pcall(function() while true do alc.time() end end) end",
};

struct sess;

typedef struct regn {
    struct sess *s;
    atomic_int calls;
    bool expect_call;         /* set by the owner after the API call returned */
    alc_outcome_kind kind;    /* guarded by s->mu: kind of the (first) outcome */
} regn;

typedef struct sess {
    int index;
    script_kind script;
    char id[40];
    alc_session *h;           /* owner's reference */
    pthread_mutex_t mu;       /* guards the fields below */
    regn regs[MAX_REGS];
    int nregs;                /* owner only */
    regn *outstanding;        /* registration still waiting for its outcome */
    bool have_new;            /* an outcome arrived that the owner has not processed */
    alc_outcome_kind kind;
    char qids[4][8];
    size_t nq;
    char result[128];
    bool result_trunc;
    bool saw_failed, saw_done, saw_cancelled_outcome;
    char answers[3][16];      /* what the owner answered in the last pause */
    long long started_ms;
    bool finished;            /* owner: verified and removed from the active set */
    atomic_bool cancel_requested; /* someone called alc_session_cancel */
} sess;

static sess g_sess[NSESSIONS];
static alc_registry *g_reg;
static alc_config g_cfg;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ waiter */

static void on_outcome(void *ud, const alc_outcome *o) {
    regn *r = ud;
    sess *s = r->s;
    int n = atomic_fetch_add(&r->calls, 1) + 1;
    CHECK(n == 1, "session %d: waiter called %d times", s->index, n);
    pthread_mutex_lock(&s->mu);
    CHECK(o->session_id && strcmp(o->session_id, s->id) == 0, "session %d: outcome for the wrong session id",
          s->index);
    r->kind = o->kind;
    s->kind = o->kind;
    s->have_new = true;
    if (s->outstanding == r) s->outstanding = NULL;
    s->nq = 0;
    if (o->kind == ALC_OUT_PAUSED) {
        for (size_t i = 0; i < o->n_queries && i < 4; i++) snprintf(s->qids[i], sizeof s->qids[i], "%s", o->queries[i].id);
        s->nq = o->n_queries;
    } else if (o->kind == ALC_OUT_DONE) {
        s->saw_done = true;
        size_t len = o->result_json ? strlen(o->result_json) : 0;
        s->result_trunc = len >= sizeof s->result;
        snprintf(s->result, sizeof s->result, "%s", o->result_json ? o->result_json : "(null)");
    } else if (o->kind == ALC_OUT_FAILED) {
        s->saw_failed = true;
    } else {
        s->saw_cancelled_outcome = true;
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_event(void *ud, const alc_event *ev) {
    (void)ud;
    (void)ev; /* only exercised: it must be safe to be called */
}

/* New registration (owner thread). */
static regn *new_reg(sess *s) {
    if (s->nregs >= MAX_REGS) return NULL;
    regn *r = &s->regs[s->nregs++];
    r->s = s;
    atomic_init(&r->calls, 0);
    r->expect_call = false;
    return r;
}

static alc_waiter waiter_for(regn *r) {
    alc_waiter w = {.on_outcome = on_outcome, .on_event = on_event, .ud = r};
    return w;
}

/* ------------------------------------------------------------------ random helpers */

static unsigned rnd(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

static bool chance(unsigned *seed, int percent) { return (int)(rnd(seed) % 100) < percent; }

/* ------------------------------------------------------------------ operations */

static void do_cancel(sess *s, const char *why) {
    atomic_store(&s->cancel_requested, true);
    alc_state st;
    alc_session_cancel(s->h, "user", why, &st);
    CHECK(alc_state_is_terminal(st), "session %d: state %s after cancel", s->index, alc_state_name(st));
}

/* A continue that can never succeed: an id no pause ever has. */
static void probe(alc_session *h, int index) {
    alc_answer a = {.query_id = "zz-9", .response = "nope", .response_len = 4, .prompt_tokens = -1,
                    .completion_tokens = -1};
    size_t rem = 12345;
    char err[256];
    int rc = alc_session_continue(h, &a, 1, NULL, &rem, err, sizeof err);
    CHECK(rc == ALC_E_NOT_FOUND || rc == ALC_E_NOT_PAUSED || rc == ALC_E_CANCELLED || rc == ALC_E_TERMINAL,
          "session %d: probe continue returned %s (%s)", index, alc_err_name(rc), err);
}

static void snapshot(alc_session *h, unsigned *seed) {
    alc_status_opts o = {.include_history = chance(seed, 50), .pending_mode = (int)(rnd(seed) % 4), .preview_chars = 3};
    cJSON *j = alc_session_snapshot(h, &o);
    CHECK(j != NULL, "snapshot returned NULL");
    cJSON_Delete(j);
    alc_event ev[8];
    size_t n = alc_ring_recent(alc_session_ring(h), ev, 8);
    for (size_t i = 0; i < n; i++) alc_event_deinit(&ev[i]);
}

/* Answers the pause of s (owner thread). */
static void answer_pause(sess *s, unsigned *seed, const char (*qids)[8], size_t nq) {
    char err[256];
    size_t rem;
    int rc;
    for (size_t i = 0; i < nq && i < 3; i++) snprintf(s->answers[i], sizeof s->answers[i], "A%d_%zu", s->index, i);
    int mode = (int)(rnd(seed) % 100);
    if (mode < 15) {
        // a call with one valid and one unknown id: rejected, nothing applied
        alc_answer bad[2] = {
            {.query_id = qids[0], .response = "X", .response_len = 1, .prompt_tokens = -1, .completion_tokens = -1},
            {.query_id = "q-77", .response = "Y", .response_len = 1, .prompt_tokens = -1, .completion_tokens = -1},
        };
        regn *r = new_reg(s);
        if (!r) return;
        alc_waiter w = waiter_for(r);
        rc = alc_session_continue(s->h, bad, 2, &w, &rem, err, sizeof err);
        CHECK(rc == ALC_E_NOT_FOUND || (rc == ALC_E_CANCELLED && atomic_load(&s->cancel_requested)),
              "session %d: unknown id accepted? %s (%s)", s->index, alc_err_name(rc), err);
        if (rc == ALC_E_CANCELLED) return;
    } else if (mode < 35 && nq > 1) {
        // partial answer first
        alc_answer one = {.query_id = qids[nq - 1], .response = s->answers[nq - 1],
                          .response_len = strlen(s->answers[nq - 1]), .prompt_tokens = -1, .completion_tokens = -1};
        regn *r = new_reg(s);
        if (!r) return;
        alc_waiter w = waiter_for(r);
        rc = alc_session_continue(s->h, &one, 1, &w, &rem, err, sizeof err);
        if (rc == ALC_E_CANCELLED && atomic_load(&s->cancel_requested)) return;
        CHECK(rc == ALC_OK && rem == nq - 1, "session %d: partial answer: %s rem %zu (%s)", s->index,
              alc_err_name(rc), rem, err);
        if (rc != ALC_OK) return;
        nq--; // the last one is answered
        if (chance(seed, 30)) {
            // answering it again is rejected
            rc = alc_session_continue(s->h, &one, 1, &w, &rem, err, sizeof err);
            CHECK(rc == ALC_E_INVAL || (rc == ALC_E_CANCELLED && atomic_load(&s->cancel_requested)),
                  "session %d: duplicate answer: %s (%s)", s->index, alc_err_name(rc), err);
            if (rc == ALC_E_CANCELLED) return;
        }
    } else if (mode < 45) {
        do_cancel(s, "owner cancels a pause");
        return;
    }
    alc_answer all[3];
    size_t n = 0;
    for (size_t i = 0; i < nq && n < 3; i++, n++) {
        all[n] = (alc_answer){.query_id = chance(seed, 20) && nq == 1 ? NULL : qids[i], .response = s->answers[i],
                              .response_len = strlen(s->answers[i]), .has_usage = chance(seed, 30),
                              .prompt_tokens = 3, .completion_tokens = 4};
        if (!all[n].has_usage) all[n].prompt_tokens = all[n].completion_tokens = -1;
    }
    regn *r = new_reg(s);
    if (!r) {
        do_cancel(s, "too many registrations");
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->outstanding = r;
    pthread_mutex_unlock(&s->mu);
    alc_waiter w = waiter_for(r);
    rc = alc_session_continue(s->h, all, n, &w, &rem, err, sizeof err);
    if (rc == ALC_OK && rem == 0) {
        r->expect_call = true;
    } else {
        pthread_mutex_lock(&s->mu);
        if (s->outstanding == r) s->outstanding = NULL;
        pthread_mutex_unlock(&s->mu);
        CHECK(rc == ALC_E_CANCELLED && atomic_load(&s->cancel_requested), "session %d: final answer: %s rem %zu (%s)",
              s->index, alc_err_name(rc), rem, err);
    }
}

/* Expected result JSON for scripts whose result is determined by the answers. */
static bool expected_result(sess *s, char *buf, size_t len) {
    switch (s->script) {
    case SC_SINGLE: snprintf(buf, len, "\"%s!\"", s->answers[0]); return true;
    case SC_BATCH2: snprintf(buf, len, "2"); return true;
    case SC_BATCH3: snprintf(buf, len, "\"%s%s%s\"", s->answers[0], s->answers[1], s->answers[2]); return true;
    case SC_BUSY_VM: snprintf(buf, len, "\"busy\""); return true;
    case SC_BUSY_TIME: snprintf(buf, len, "\"%s\"", s->answers[0]); return true;
    case SC_PCALL_LLM: snprintf(buf, len, "\"ok\""); return true;
    default: return false;
    }
}

/* Final checks for a session that reached its end (owner thread). */
static void verify_finished(sess *s) {
    alc_state st = alc_session_state(s->h);
    CHECK(alc_state_is_terminal(st), "session %d ended in state %s", s->index, alc_state_name(st));
    CHECK(alc_ring_is_closed(alc_session_ring(s->h)), "session %d: ring not closed at the end", s->index);
    bool cancelled = atomic_load(&s->cancel_requested);
    if (s->script == SC_SPIN) CHECK(st == ALC_STATE_CANCELLED, "session %d: endless loop ended %s", s->index, alc_state_name(st));
    if (!cancelled) {
        bool is_error_script = s->script == SC_ERROR_NOW || s->script == SC_ERROR_LATE;
        CHECK(st == (is_error_script ? ALC_STATE_FAILED : ALC_STATE_DONE), "session %d (script %d): state %s",
              s->index, (int)s->script, alc_state_name(st));
        char want[160];
        if (st == ALC_STATE_DONE && expected_result(s, want, sizeof want))
            CHECK(s->result_trunc || strcmp(s->result, want) == 0, "session %d (script %d): result %s, want %s",
                  s->index, (int)s->script, s->result, want);
    } else {
        CHECK(st == ALC_STATE_CANCELLED || st == ALC_STATE_DONE || st == ALC_STATE_FAILED,
              "session %d: state %s after cancel", s->index, alc_state_name(st));
    }
    for (int i = 0; i < s->nregs; i++) {
        int calls = atomic_load(&s->regs[i].calls);
        CHECK(calls == (s->regs[i].expect_call ? 1 : 0), "session %d registration %d: %d calls, expected %d",
              s->index, i, calls, s->regs[i].expect_call ? 1 : 0);
    }
}

/* ------------------------------------------------------------------ driver thread */

typedef struct driver {
    int id;
    unsigned seed;
} driver;

static void start_session(sess *s, unsigned *seed) {
    s->script = (script_kind)(rnd(seed) % SC_COUNT);
    char ctxbuf[64];
    snprintf(ctxbuf, sizeof ctxbuf, "{\"n\":%d}", s->index);
    cJSON *ctx = cJSON_Parse(ctxbuf);
    alc_session_spec spec = {.code = SCRIPTS[s->script], .code_len = strlen(SCRIPTS[s->script]),
                             .chunkname = "=stress", .ctx = ctx};
    regn *r = new_reg(s);
    alc_waiter w = waiter_for(r);
    char err[256];
    // s->mu is held across the start so that s->id is written before the waiter (which takes
    // s->mu) or another thread can read it; the engine never calls the waiter inside start
    pthread_mutex_lock(&s->mu);
    s->outstanding = r;
    int rc = alc_session_start(g_reg, &spec, &w, s->id, err, sizeof err);
    pthread_mutex_unlock(&s->mu);
    cJSON_Delete(ctx);
    CHECK(rc == ALC_OK, "session %d: start failed: %s (%s)", s->index, alc_err_name(rc), err);
    if (rc != ALC_OK) {
        pthread_mutex_lock(&s->mu);
        s->outstanding = NULL;
        pthread_mutex_unlock(&s->mu);
        s->finished = true;
        return;
    }
    r->expect_call = true;
    s->h = alc_registry_find(g_reg, s->id);
    CHECK(s->h != NULL, "session %d: not found right after start", s->index);
    s->started_ms = now_ms();
}

/* Random operations on a session owned by another thread (cancel rarely). */
static void poke_foreign(unsigned *seed) {
    sess *o = &g_sess[rnd(seed) % NSESSIONS];
    char id[40];
    pthread_mutex_lock(&o->mu);
    snprintf(id, sizeof id, "%s", o->id);
    pthread_mutex_unlock(&o->mu);
    if (!id[0]) return;
    alc_session *h = alc_registry_find(g_reg, id); // may be NULL once the GC evicted it
    if (!h) return;
    int op = (int)(rnd(seed) % 100);
    if (op < 4) {
        atomic_store(&o->cancel_requested, true);
        alc_session_cancel(h, "user", "foreign cancel", NULL);
    } else if (op < 50) {
        probe(h, o->index);
    } else {
        snapshot(h, seed);
    }
    alc_session_unref(h);
}

static void *driver_main(void *arg) {
    driver *d = arg;
    unsigned *seed = &d->seed;
    int first = d->id * PER_THREAD, next = first, end = first + PER_THREAD;
    int active[IN_FLIGHT];
    int nactive = 0;
    while (next < end || nactive > 0) {
        while (nactive < IN_FLIGHT && next < end) {
            sess *s = &g_sess[next++];
            start_session(s, seed);
            if (!s->finished) active[nactive++] = s->index;
        }
        bool progressed = false;
        for (int k = 0; k < nactive; k++) {
            sess *s = &g_sess[active[k]];
            pthread_mutex_lock(&s->mu);
            bool fresh = s->have_new;
            alc_outcome_kind kind = s->kind;
            char qids[4][8];
            size_t nq = s->nq;
            memcpy(qids, s->qids, sizeof qids);
            s->have_new = false;
            bool waiting = s->outstanding != NULL;
            pthread_mutex_unlock(&s->mu);
            if (fresh) {
                progressed = true;
                if (kind == ALC_OUT_PAUSED) {
                    CHECK(nq >= 1 && nq <= 3, "session %d: pause with %zu queries", s->index, nq);
                    if (nq >= 1 && nq <= 3) answer_pause(s, seed, (const char(*)[8])qids, nq);
                }
            } else {
                int op = (int)(rnd(seed) % 1000);
                if (op < 8) do_cancel(s, "owner cancels at random");
                else if (op < 30) probe(s->h, s->index);
                else if (op < 40) snapshot(s->h, seed);
            }
            // finished? (terminal, thread done, no registration waiting)
            alc_state st = alc_session_state(s->h);
            if (!waiting && alc_state_is_terminal(st) && alc_ring_is_closed(alc_session_ring(s->h))) {
                pthread_mutex_lock(&s->mu);
                bool still = s->outstanding != NULL || s->have_new;
                pthread_mutex_unlock(&s->mu);
                if (!still) {
                    verify_finished(s);
                    s->finished = true;
                    active[k] = active[--nactive];
                    k--;
                    progressed = true;
                    continue;
                }
            }
            if (s->script == SC_SPIN && !atomic_load(&s->cancel_requested) && now_ms() - s->started_ms > 5)
                do_cancel(s, "stop the endless loop");
            if (now_ms() - s->started_ms > STUCK_MS) {
                CHECK(0, "session %d (script %d) stuck for %d ms in state %s (waiting=%d)", s->index,
                      (int)s->script, STUCK_MS, alc_state_name(st), (int)waiting);
                do_cancel(s, "stuck");
                s->started_ms = now_ms();
            }
        }
        if (chance(seed, 20)) poke_foreign(seed);
        if (!progressed) sleep_us(300);
    }
    return NULL;
}

/* ------------------------------------------------------------------ main */

/* SIGALRM: the run deadlocked or a session ignored its cancel; report and fail. */
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: session_stress did not finish within 120 s (deadlock or unstoppable session)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    char line[64];
    int n = snprintf(line, sizeof line, "%ld passed, %ld failed\n", (long)atomic_load(&g_passed),
                     (long)atomic_load(&g_failed) + 1);
    if (n > 0 && write(1, line, (size_t)n) < 0) _exit(3);
    _exit(1);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(120);
    char home[] = "/tmp/alc-session-stress-XXXXXX";
    if (!mkdtemp(home)) {
        perror("mkdtemp");
        return 2;
    }
    setenv("ALC_HOME", home, 1);
    setenv("ALC_SESSION_RETENTION", "1", 1);
    setenv("ALC_MAX_MEMORY", "32M", 1);
    unsetenv("ALC_MAX_SESSIONS");
    unsetenv("ALC_SESSION_TTL");
    char err[256];
    if (alc_config_load(&g_cfg, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "config: %s\n", err);
        return 2;
    }
    if (alc_registry_new(&g_cfg, &g_reg) != ALC_OK) {
        fprintf(stderr, "registry_new failed\n");
        return 2;
    }
    for (int i = 0; i < NSESSIONS; i++) {
        g_sess[i].index = i;
        pthread_mutex_init(&g_sess[i].mu, NULL);
        atomic_init(&g_sess[i].cancel_requested, false);
    }
    long long t0 = now_ms();
    pthread_t th[NTHREADS];
    driver d[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        d[i] = (driver){.id = i, .seed = 0x9e3779b9u * (unsigned)(i + 1)};
        if (pthread_create(&th[i], NULL, driver_main, &d[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    long long t1 = now_ms();

    int done = 0, failed = 0, cancelled = 0;
    for (int i = 0; i < NSESSIONS; i++) {
        sess *s = &g_sess[i];
        CHECK(s->finished, "session %d never finished", i);
        if (!s->h) continue;
        alc_state st = alc_session_state(s->h);
        done += st == ALC_STATE_DONE;
        failed += st == ALC_STATE_FAILED;
        cancelled += st == ALC_STATE_CANCELLED;
        alc_session_unref(s->h);
        s->h = NULL;
    }
    alc_registry_free(g_reg);
    g_reg = NULL;
    // no waiter may be called after the registry is gone, and none twice
    for (int i = 0; i < NSESSIONS; i++)
        for (int k = 0; k < g_sess[i].nregs; k++) {
            int calls = atomic_load(&g_sess[i].regs[k].calls);
            CHECK(calls == (g_sess[i].regs[k].expect_call ? 1 : 0), "after free: session %d registration %d: %d calls",
                  i, k, calls);
        }
    alc_config_deinit(&g_cfg);
    for (int i = 0; i < NSESSIONS; i++) pthread_mutex_destroy(&g_sess[i].mu);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", home);
#if HAVE_LSAN
    CHECK(__lsan_do_recoverable_leak_check() == 0, "LeakSanitizer found leaks after alc_registry_free");
#endif
    fprintf(stderr, "session_stress: %d sessions in %lld ms: %d done, %d failed, %d cancelled\n", NSESSIONS, t1 - t0,
            done, failed, cancelled);
    long p = atomic_load(&g_passed), f = atomic_load(&g_failed);
    printf("%ld passed, %ld failed\n", p, f);
    return f == 0 ? 0 : 1;
}
