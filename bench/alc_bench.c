/*
 * alc_bench.c — the benchmark driver of the issue "Performance". It drives the real alc binary
 * over pipes, and runs every figure side by side with its baseline in the same process, so the
 * result is a ratio rather than a noisy absolute:
 *
 *   pause       alc_continue sent → next needs_response received, p50/p99, interleaved sample by
 *               sample with the floor server (bench/floor_server.c); same CPU and split CPUs
 *   spawn       alc_run of a script that pauses at once → first needs_response, same floor
 *   concurrency 1,000 and 10,000 simultaneously paused sessions: RSS per session, time to create
 *               them all, time to resume them all, all completed and a clean exit
 *   throughput  100 paused sessions answered in a pipelined loop (100 calls in flight): completed
 *               pause/resume cycles per second, vs the floor and vs the TypeScript SDK echo server
 *   cancel      alc_cancel → cancelled, for a parked script and for a busy-looping one
 *   peer        front end alone (ping, alc_info) vs the TypeScript SDK echo round trip
 *   startup     exec → initialize answered
 *
 * Latencies are measured twice: client and server on CPU 0 ("same CPU"), and client on CPU 0 /
 * server on CPU 1 ("split CPUs"); pinning is the sched_setaffinity call that taskset makes.
 *
 * Output: one tab-separated row per figure on stdout (figure, value, baseline, ratio, target,
 * pass), which scripts/bench turns into bench/RESULTS.md; progress and details on stderr.
 *
 * Threads: the main thread does everything, except that the concurrency figure uses one writer
 * thread per batch so that requests and replies can flow at the same time.
 */
#include "bench_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMEOUT_MS 20000

/* The benchmark scripts. The first line is a Lua comment that tells the floor server how to
 * behave (see floor_server.c); alc runs them as ordinary Lua. JSON-escaped. */
#define CODE_LOOP "--loop\\nwhile true do alc.llm(\\\"q\\\") end"
#define CODE_ONCE "--once\\nreturn alc.llm(\\\"q\\\")"
#define CODE_BUSY "--busy\\nalc.llm(\\\"q\\\")\\nwhile true do end"

static const char *opt_alc, *opt_floor, *opt_peer, *opt_node = "node", *opt_home = "/tmp/alc-bench-home";
static const char *opt_server_log;
static const char *opt_alc_env = "ALC_BENCH=1"; /* --alc-env KEY=VALUE: one more variable for every alc server */
static int opt_quick;
static int opt_floor_is_alc;            /* --baseline-alc: the baseline is another alc build */
static const char *floor_label = "floor";
static long opt_big = 10000;

/* ---- servers ------------------------------------------------------------------------- */

enum srv_kind { SRV_ALC, SRV_FLOOR, SRV_PEER };

typedef struct server {
    enum srv_kind kind;
    const char *name;
    alc_bench_proc *p;
    long long next_id;
    long base_threads;       /* thread count when no session exists */
} server;

/* Starts a server pinned to cpu (< 0: any) and does the MCP handshake. alc gets a fresh
 * ALC_HOME, real-deployment TTL/retention, ALC_MAX_SESSIONS=max_sessions, and alc_extra
 * ("KEY=VALUE" or NULL) on top. */
static void server_start_env2(server *s, enum srv_kind kind, int cpu, long max_sessions, const char *alc_extra,
                              const char *alc_extra2) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->next_id = 1;
    char home[600], maxs[64];
    snprintf(home, sizeof home, "ALC_HOME=%s", opt_home);
    snprintf(maxs, sizeof maxs, "ALC_MAX_SESSIONS=%ld", max_sessions);
    /* TTL and retention set explicitly: real-deployment values (3 h, 10 min) */
    const char *alc_env[] = {home, maxs, "ALC_SESSION_TTL=10800", "ALC_SESSION_RETENTION=600",
                             "ALC_HEARTBEAT_MS=10000", opt_alc_env, alc_extra, alc_extra2, NULL};
    const char *argv_alc[] = {opt_alc, NULL};
    const char *argv_floor[] = {opt_floor, NULL};
    const char *argv_peer[] = {opt_node, opt_peer, NULL};
    switch (kind) {
    case SRV_ALC: s->name = "alc"; s->p = alc_bench_spawn(argv_alc, alc_env, cpu, opt_server_log); break;
    case SRV_FLOOR:
        s->name = floor_label;
        s->p = alc_bench_spawn(argv_floor, opt_floor_is_alc ? alc_env : NULL, cpu, opt_server_log);
        break;
    case SRV_PEER: s->name = "ts-sdk"; s->p = alc_bench_spawn(argv_peer, NULL, cpu, opt_server_log); break;
    }
    if (!s->p) alc_bench_die("cannot start %s: %s", s->name, strerror(errno));
    if (alc_bench_initialize(s->p, TIMEOUT_MS) != 0) alc_bench_die("%s: initialize failed", s->name);
    alc_bench_sleep_ms(kind == SRV_PEER ? 100 : 20);
    s->base_threads = alc_bench_threads(alc_bench_pid(s->p));
}

static void server_start_env(server *s, enum srv_kind kind, int cpu, long max_sessions, const char *alc_extra) {
    server_start_env2(s, kind, cpu, max_sessions, alc_extra, NULL);
}

static void server_start(server *s, enum srv_kind kind, int cpu, long max_sessions) {
    server_start_env(s, kind, cpu, max_sessions, NULL);
}

/* Closes stdin and expects a prompt exit with status 0. Returns true if so. */
static bool server_stop(server *s, int timeout_ms) {
    if (!s->p) return true;
    alc_bench_close_stdin(s->p);
    int st = -1;
    int killed = alc_bench_wait(s->p, timeout_ms, &st);
    alc_bench_free(s->p);
    s->p = NULL;
    if (killed != 0 || st != 0) {
        fprintf(stderr, "bench: %s did not exit cleanly (killed=%d status=%d)\n", s->name, killed, st);
        return false;
    }
    return true;
}

/* Waits (≤ 200 ms) until the server's thread count is back to its idle value, so that one
 * sample's teardown work does not land in the next sample (of either server). */
static void server_settle(server *s) {
    pid_t pid = alc_bench_pid(s->p);
    for (int i = 0; i < 2000; i++) {
        long t = alc_bench_threads(pid);
        if (t <= s->base_threads) return;
        struct timespec ts = {0, 100000L};
        nanosleep(&ts, NULL);
    }
}

static size_t fmt_call(char *buf, size_t cap, long long id, const char *tool, const char *args) {
    int n = snprintf(buf, cap, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
                     "\"arguments\":%s}}\n", id, tool, args);
    if (n < 0 || (size_t)n >= cap) alc_bench_die("request too long");
    return (size_t)n;
}

static size_t fmt_run(char *buf, size_t cap, long long id, const char *code) {
    char args[512];
    snprintf(args, sizeof args, "{\"code\":\"%s\"}", code);
    return fmt_call(buf, cap, id, "alc_run", args);
}

static size_t fmt_continue(char *buf, size_t cap, long long id, const char *sid) {
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\",\"response\":\"a\"}", sid);
    return fmt_call(buf, cap, id, "alc_continue", args);
}

static size_t fmt_cancel(char *buf, size_t cap, long long id, const char *sid) {
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", sid);
    return fmt_call(buf, cap, id, "alc_cancel", args);
}

static size_t fmt_ping(char *buf, size_t cap, long long id) {
    int n = snprintf(buf, cap, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}\n", id);
    return (size_t)n;
}

static void send_or_die(server *s, const char *line, size_t n) {
    if (alc_bench_send(s->p, line, n) != 0) alc_bench_die("%s: write failed: %s", s->name, strerror(errno));
}

static const char *recv_id_or_die(server *s, long long id, size_t *n) {
    const char *line = alc_bench_recv_id(s->p, id, TIMEOUT_MS, n);
    if (!line) alc_bench_die("%s: no reply to id %lld (%s)", s->name, id, errno ? strerror(errno) : "EOF");
    return line;
}

static void expect(server *s, const char *line, size_t n, const char *needle) {
    if (!alc_bench_line_has(line, n, needle))
        alc_bench_die("%s: expected %s in: %.400s", s->name, needle, line);
}

/* One request/reply; returns the elapsed ns; the reply must contain needle. */
static uint64_t call(server *s, const char *line, size_t len, long long id, const char *needle,
                     char *sid_out) {
    uint64_t t0 = alc_bench_now_ns();
    send_or_die(s, line, len);
    size_t n;
    const char *reply = recv_id_or_die(s, id, &n);
    uint64_t t1 = alc_bench_now_ns();
    expect(s, reply, n, needle);
    if (sid_out && !alc_bench_text_field(reply, n, "session_id", sid_out, 40))
        alc_bench_die("%s: no session_id in %.300s", s->name, reply);
    return t1 - t0;
}

static uint64_t run_session(server *s, const char *code, char *sid_out) {
    char line[1024];
    long long id = s->next_id++;
    size_t len = fmt_run(line, sizeof line, id, code);
    return call(s, line, len, id, "needs_response", sid_out);
}

static uint64_t continue_session(server *s, const char *sid, const char *needle) {
    char line[512];
    long long id = s->next_id++;
    size_t len = fmt_continue(line, sizeof line, id, sid);
    return call(s, line, len, id, needle, NULL);
}

static uint64_t cancel_session(server *s, const char *sid) {
    char line[512];
    long long id = s->next_id++;
    size_t len = fmt_cancel(line, sizeof line, id, sid);
    return call(s, line, len, id, "cancelled", NULL);
}

static uint64_t ping(server *s) {
    char line[128];
    long long id = s->next_id++;
    size_t len = fmt_ping(line, sizeof line, id);
    return call(s, line, len, id, "\"result\":{}", NULL);
}

static uint64_t info(server *s) {
    char line[256];
    long long id = s->next_id++;
    size_t len = fmt_call(line, sizeof line, id, "alc_info", "{}");
    return call(s, line, len, id, "max_sessions", NULL);
}

static uint64_t echo(server *s) {
    char line[256];
    long long id = s->next_id++;
    size_t len = fmt_call(line, sizeof line, id, "echo", "{\"text\":\"a\"}");
    return call(s, line, len, id, "\"text\":\"a\"", NULL);
}

/* ---- result rows --------------------------------------------------------------------- */

enum target { T_INFO, T_RATIO_LE, T_RATIO_GE, T_ABS_LE, T_BOOL };
enum unit { U_US, U_MS, U_KIB, U_RATE };

static int rows_pass, rows_fail;

static void fmt_value(char *out, size_t cap, double v, enum unit u) {
    if (v < 0) { snprintf(out, cap, "—"); return; }
    switch (u) {
    case U_US: snprintf(out, cap, "%.1f µs", v / 1e3); break;
    case U_MS: snprintf(out, cap, "%.2f ms", v / 1e6); break;
    case U_KIB: snprintf(out, cap, "%.1f KiB", v); break;
    case U_RATE: snprintf(out, cap, "%.0f /s", v); break;
    }
}

/* Emits one row. value/base in ns (U_US, U_MS), KiB or per second; base < 0: no baseline.
 * limit: the ratio bound (T_RATIO_*) or the absolute bound in the value's raw unit (T_ABS_LE). */
static void row(const char *figure, double value, double base, const char *base_name, enum unit u,
                enum target t, double limit) {
    char v[64], b[160], r[32] = "—", tg[96] = "—", pass[8] = "—";
    fmt_value(v, sizeof v, value, u);
    if (base >= 0) {
        char bv[64];
        fmt_value(bv, sizeof bv, base, u);
        snprintf(b, sizeof b, "%s (%s)", bv, base_name);
        if (base > 0 && value >= 0) snprintf(r, sizeof r, value / base < 0.1 ? "%.3f×" : "%.2f×", value / base);
    } else {
        snprintf(b, sizeof b, "—");
    }
    bool ok = true;
    switch (t) {
    case T_INFO: break;
    case T_RATIO_LE:
        snprintf(tg, sizeof tg, "≤ %.2g×", limit);
        ok = base > 0 && value / base <= limit;
        break;
    case T_RATIO_GE:
        snprintf(tg, sizeof tg, "≥ %.2g×", limit);
        ok = base > 0 && value / base >= limit;
        break;
    case T_ABS_LE: {
        char lv[64];
        fmt_value(lv, sizeof lv, limit, u);
        snprintf(tg, sizeof tg, "≤ %s", lv);
        ok = value >= 0 && value <= limit;
        break;
    }
    case T_BOOL: break;
    }
    if (t != T_INFO) {
        snprintf(pass, sizeof pass, "%s", ok ? "yes" : "NO");
        if (ok) rows_pass++; else rows_fail++;
    }
    printf("%s\t%s\t%s\t%s\t%s\t%s\n", figure, v, b, r, tg, pass);
    fflush(stdout);
    fprintf(stderr, "  %-58s %14s  base %-24s ratio %-7s target %-10s %s\n", figure, v, b, r, tg, pass);
}

static void row_text(const char *figure, const char *value, const char *target, bool ok) {
    printf("%s\t%s\t—\t—\t%s\t%s\n", figure, value, target, ok ? "yes" : "NO");
    fflush(stdout);
    fprintf(stderr, "  %-58s %s  target %s %s\n", figure, value, target, ok ? "yes" : "NO");
    if (ok) rows_pass++; else rows_fail++;
}

/* ---- pinning --------------------------------------------------------------------------- */

typedef struct pinning { const char *label; int client_cpu, server_cpu; } pinning;

static int pinnings(pinning out[2]) {
    out[0] = (pinning){"same CPU", 0, 0};
    if (alc_bench_ncpus() < 2) return 1;
    out[1] = (pinning){"split CPUs", 0, 1};
    return 2;
}

static void pin_client(int cpu) {
    if (alc_bench_pin_self(cpu) != 0) alc_bench_die("sched_setaffinity(%d): %s", cpu, strerror(errno));
}

static int samples(int n) { return opt_quick ? n / 10 : n; }

/* ---- 1. pause round trip --------------------------------------------------------------- */

static void fig_pause(void) {
    pinning pins[2];
    int np = pinnings(pins);
    for (int k = 0; k < np; k++) {
        fprintf(stderr, "pause round trip (%s)\n", pins[k].label);
        pin_client(pins[k].client_cpu);
        server a, f;
        server_start(&a, SRV_ALC, pins[k].server_cpu, 10000);
        server_start(&f, SRV_FLOOR, pins[k].server_cpu, 10000);
        char sa[40], sf[40];
        run_session(&a, CODE_LOOP, sa);
        run_session(&f, CODE_LOOP, sf);
        for (int i = 0; i < 500; i++) {
            continue_session(&a, sa, "needs_response");
            continue_session(&f, sf, "needs_response");
        }
        alc_bench_samples xa = {0}, xf = {0};
        int n = samples(5000);
        for (int i = 0; i < n; i++) {
            alc_bench_samples_add(&xa, continue_session(&a, sa, "needs_response"));
            alc_bench_samples_add(&xf, continue_session(&f, sf, "needs_response"));
        }
        char fig[160];
        snprintf(fig, sizeof fig, "pause round trip p50, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 50), (double)alc_bench_samples_pct(&xf, 50), floor_label,
            U_US, T_RATIO_LE, 1.5);
        snprintf(fig, sizeof fig, "pause round trip p99, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 99), (double)alc_bench_samples_pct(&xf, 99), floor_label,
            U_US, T_INFO, 0);
        cancel_session(&a, sa);
        cancel_session(&f, sf);
        server_stop(&a, 5000);
        server_stop(&f, 5000);
        alc_bench_samples_free(&xa);
        alc_bench_samples_free(&xf);
    }
    pin_client(-1);
}

/* ---- 2. spawn to first pause ---------------------------------------------------------- */

static uint64_t spawn_once(server *s) {
    char sid[40];
    uint64_t t = run_session(s, CODE_ONCE, sid);
    continue_session(s, sid, "completed");
    server_settle(s);
    return t;
}

static void fig_spawn(void) {
    pinning pins[2];
    int np = pinnings(pins);
    for (int k = 0; k < np; k++) {
        fprintf(stderr, "spawn to first pause (%s)\n", pins[k].label);
        pin_client(pins[k].client_cpu);
        server a, c, f;
        /* the session log is written when a session ends, outside the measured span; without it
         * the wait for each session's thread to end between samples stays short */
        server_start_env(&a, SRV_ALC, pins[k].server_cpu, 10000, "ALC_LOG_LEVEL=off");
        /* diagnostic: every session builds its own Lua state (no warm pool) */
        server_start_env2(&c, SRV_ALC, pins[k].server_cpu, 10000, "ALC_LOG_LEVEL=off", "ALC_WARM_STATES=0");
        c.name = "alc (no warm pool)";
        server_start_env(&f, SRV_FLOOR, pins[k].server_cpu, 10000, "ALC_LOG_LEVEL=off"); /* env: --baseline-alc only */
        for (int i = 0; i < 100; i++) {
            spawn_once(&a);
            spawn_once(&c);
            spawn_once(&f);
        }
        alc_bench_samples xa = {0}, xc = {0}, xf = {0};
        int n = samples(1000);
        for (int i = 0; i < n; i++) {
            alc_bench_samples_add(&xa, spawn_once(&a));
            alc_bench_samples_add(&xc, spawn_once(&c));
            alc_bench_samples_add(&xf, spawn_once(&f));
        }
        char fig[160];
        snprintf(fig, sizeof fig, "spawn → first pause p50, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 50), (double)alc_bench_samples_pct(&xf, 50), floor_label,
            U_US, T_RATIO_LE, 3.0);
        snprintf(fig, sizeof fig, "spawn → first pause p99, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 99), (double)alc_bench_samples_pct(&xf, 99), floor_label,
            U_US, T_INFO, 0);
        snprintf(fig, sizeof fig, "(diagnostic) spawn → first pause p50, %s, no warm pool [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xc, 50), (double)alc_bench_samples_pct(&xf, 50), floor_label,
            U_US, T_INFO, 0);
        server_stop(&a, 5000);
        server_stop(&c, 5000);
        server_stop(&f, 5000);
        alc_bench_samples_free(&xa);
        alc_bench_samples_free(&xc);
        alc_bench_samples_free(&xf);
    }
    pin_client(-1);
}

/* ---- 3. concurrency ------------------------------------------------------------------- */

typedef struct batch {
    server *s;
    long n;
    char (*sids)[40];   /* NULL: alc_run lines, else alc_continue for sids[i] */
    long long first_id;
} batch;

static void *batch_writer(void *arg) {
    batch *b = arg;
    char line[1024];
    for (long i = 0; i < b->n; i++) {
        size_t len = b->sids ? fmt_continue(line, sizeof line, b->first_id + i, b->sids[i])
                             : fmt_run(line, sizeof line, b->first_id + i, CODE_ONCE);
        if (alc_bench_send(b->s->p, line, len) != 0) {
            fprintf(stderr, "bench: %s: write failed after %ld requests: %s\n", b->s->name, i, strerror(errno));
            return NULL;
        }
    }
    return NULL;
}

/* Sends n requests from a writer thread while reading the n replies here; each reply must
 * contain needle; with sids_out, stores each session id by request order. Returns the elapsed
 * ns from the first send to the last reply, and the number of matching replies in *ok. */
static uint64_t run_batch(server *s, long n, char (*sids_in)[40], char (*sids_out)[40], const char *needle,
                          long *ok) {
    batch b = {.s = s, .n = n, .sids = sids_in, .first_id = s->next_id};
    s->next_id += n;
    pthread_t th;
    uint64_t t0 = alc_bench_now_ns();
    if (pthread_create(&th, NULL, batch_writer, &b) != 0) alc_bench_die("pthread_create");
    *ok = 0;
    long got = 0;
    while (got < n) {
        size_t len;
        const char *line = alc_bench_recv(s->p, TIMEOUT_MS, &len);
        if (!line) {
            fprintf(stderr, "bench: %s: %ld of %ld replies, then %s\n", s->name, got, n, errno ? strerror(errno) : "EOF");
            break;
        }
        long long id = alc_bench_line_id(line, len);
        if (id < b.first_id || id >= b.first_id + n) continue;
        got++;
        if (!alc_bench_line_has(line, len, needle)) {
            if (*ok == got - 1) fprintf(stderr, "bench: %s: unexpected reply: %.300s\n", s->name, line);
            continue;
        }
        if (sids_out && !alc_bench_text_field(line, len, "session_id", sids_out[id - b.first_id], 40)) continue;
        (*ok)++;
    }
    uint64_t t1 = alc_bench_now_ns();
    pthread_join(th, NULL);
    return t1 - t0;
}

typedef struct conc_result {
    double rss_per_kib, create_ns, resume_ns;
    long created, completed;
    bool clean;
} conc_result;

static conc_result concurrency_one(enum srv_kind kind, long n, const char *alc_extra) {
    conc_result r = {0};
    server s;
    server_start_env(&s, kind, -1, n + 64, alc_extra);
    pid_t pid = alc_bench_pid(s.p);
    /* one session first, so that one-time set-up is not charged to the N sessions */
    char warm[40];
    run_session(&s, CODE_ONCE, warm);
    continue_session(&s, warm, "completed");
    server_settle(&s);
    alc_bench_sleep_ms(50);
    long rss0 = alc_bench_rss_kib(pid);
    char (*sids)[40] = calloc((size_t)n, sizeof *sids);
    if (!sids) alc_bench_die("out of memory");
    r.create_ns = (double)run_batch(&s, n, NULL, sids, "needs_response", &r.created);
    alc_bench_sleep_ms(200);
    long rss1 = alc_bench_rss_kib(pid);
    r.rss_per_kib = (double)(rss1 - rss0) / (double)n;
    fprintf(stderr, "  %s: %ld paused, RSS %ld → %ld KiB, %ld threads\n", s.name, r.created, rss0, rss1,
            alc_bench_threads(pid));
    if (r.created == n) r.resume_ns = (double)run_batch(&s, n, sids, NULL, "\\\"completed\\\"", &r.completed);
    else r.resume_ns = -1;
    r.clean = server_stop(&s, 15000);
    free(sids);
    return r;
}

static void fig_concurrency(void) {
    pin_client(-1);
    long sizes[2] = {1000, opt_big};
    for (int k = 0; k < 2; k++) {
        long n = sizes[k];
        if (n <= 0) continue;
        /* about 64 KiB RSS and 1 MiB of stack address space per session, twice over (alc, floor) */
        long avail = alc_bench_mem_available_kib();
        if (avail >= 0 && avail < n * 256) {
            fprintf(stderr, "concurrency: skipping %ld sessions: only %ld KiB available\n", n, avail);
            continue;
        }
        /* every session that made an LLM call writes its session log (two files, four fsyncs)
         * when it ends: the large step runs without it to stay within a few minutes, and says so */
        bool log_off = n > 1000;
        const char *note = log_off ? " [log off]" : "";
        fprintf(stderr, "concurrency: %ld paused sessions%s\n", n, note);
        conc_result a = concurrency_one(SRV_ALC, n, log_off ? "ALC_LOG_LEVEL=off" : NULL);
        conc_result f = concurrency_one(SRV_FLOOR, n, log_off ? "ALC_LOG_LEVEL=off" : NULL); /* env: --baseline-alc only */
        char fig[160];
        snprintf(fig, sizeof fig, "RSS per parked session, %ld sessions", n);
        row(fig, a.rss_per_kib, f.rss_per_kib, floor_label, U_KIB, n >= 10000 ? T_ABS_LE : T_INFO, 64.0);
        snprintf(fig, sizeof fig, "create %ld paused sessions (pipelined)", n);
        row(fig, a.create_ns, f.create_ns, floor_label, U_MS, T_INFO, 0);
        snprintf(fig, sizeof fig, "resume %ld sessions to completion (pipelined)%s", n, note);
        row(fig, a.resume_ns, f.resume_ns, floor_label, U_MS, T_INFO, 0);
        char v[160];
        snprintf(v, sizeof v, "%ld/%ld paused, %ld/%ld completed, exit %s", a.created, n, a.completed, n,
                 a.clean ? "0" : "not clean");
        snprintf(fig, sizeof fig, "%ld sessions ended cleanly%s", n, note);
        row_text(fig, v, "all", a.created == n && a.completed == n && a.clean);
    }
}

/* ---- 4. throughput -------------------------------------------------------------------- */

#define WINDOW 100

/* Keeps `width` calls in flight for window_ms: each reply is answered at once by the next call
 * for the same session (alc_continue) or, for the peer, the next echo. Returns the number of
 * replies received within the window. */
static long pump(server *s, int width, char (*sids)[40], int window_ms) {
    char line[512];
    /* request id = seq * 1000 + slot, so the reply's id names its slot */
    long long seq = s->next_id;
    long outstanding = 0, count = 0;
    for (int i = 0; i < width; i++) {
        long long id = seq * 1000 + i;
        size_t len = sids ? fmt_continue(line, sizeof line, id, sids[i]) : fmt_call(line, sizeof line, id, "echo", "{\"text\":\"a\"}");
        send_or_die(s, line, len);
        outstanding++;
    }
    seq++;
    uint64_t deadline = alc_bench_now_ns() + (uint64_t)window_ms * 1000000u;
    bool open = true;
    while (outstanding > 0) {
        size_t n;
        const char *reply = alc_bench_recv(s->p, TIMEOUT_MS, &n);
        if (!reply) alc_bench_die("%s: pipelined loop stalled", s->name);
        long long id = alc_bench_line_id(reply, n);
        if (id < 0) continue;
        outstanding--;
        if (!alc_bench_line_has(reply, n, sids ? "needs_response" : "\"text\":\"a\""))
            alc_bench_die("%s: unexpected reply in the loop: %.300s", s->name, reply);
        if (open && alc_bench_now_ns() >= deadline) open = false;
        if (!open) continue;
        count++;
        int slot = (int)(id % 1000);
        long long nid = seq++ * 1000 + slot;
        size_t len = sids ? fmt_continue(line, sizeof line, nid, sids[slot]) : fmt_call(line, sizeof line, nid, "echo", "{\"text\":\"a\"}");
        send_or_die(s, line, len);
        outstanding++;
    }
    s->next_id = seq + 1;
    return count;
}

static void fig_throughput(void) {
    /* client on CPU 0, every server thread on CPU 1 (when there are two CPUs): unpinned, the
     * scheduler's placement of 100+ threads next to the client makes the figure bimodal */
    int scpu = alc_bench_ncpus() >= 2 ? 1 : 0;
    fprintf(stderr, "throughput: %d sessions, %d calls in flight, server on CPU %d\n", WINDOW, WINDOW, scpu);
    pin_client(0);
    server a, f, t;
    bool peer = opt_peer != NULL;
    server_start(&a, SRV_ALC, scpu, 10000);
    server_start(&f, SRV_FLOOR, scpu, 10000);
    if (peer) server_start(&t, SRV_PEER, scpu, 0);
    char (*sa)[40] = calloc(WINDOW, sizeof *sa), (*sf)[40] = calloc(WINDOW, sizeof *sf);
    if (!sa || !sf) alc_bench_die("out of memory");
    for (int i = 0; i < WINDOW; i++) {
        run_session(&a, CODE_LOOP, sa[i]);
        run_session(&f, CODE_LOOP, sf[i]);
    }
    /* warm-up (JIT for the peer) */
    pump(&a, WINDOW, sa, 300);
    pump(&f, WINDOW, sf, 300);
    if (peer) pump(&t, WINDOW, NULL, 1000);
    int rounds = opt_quick ? 1 : 8, ms = 250;
    long ca = 0, cf = 0, ct = 0;
    for (int r = 0; r < rounds; r++) {
        ca += pump(&a, WINDOW, sa, ms);
        cf += pump(&f, WINDOW, sf, ms);
        if (peer) ct += pump(&t, WINDOW, NULL, ms);
    }
    double secs = rounds * ms / 1000.0;
    row("throughput, 100 paused sessions (pause/resume cycles/s)", ca / secs, cf / secs, floor_label, U_RATE,
        T_RATIO_GE, 0.6);
    if (peer)
        row("throughput, 100 in flight, vs TS SDK echo (calls/s)", ca / secs, ct / secs, "TS SDK echo", U_RATE,
            T_RATIO_GE, 1.5);
    for (int i = 0; i < WINDOW; i++) {
        cancel_session(&a, sa[i]);
        cancel_session(&f, sf[i]);
    }
    server_stop(&a, 5000);
    server_stop(&f, 5000);
    if (peer) server_stop(&t, 5000);
    free(sa);
    free(sf);
    pin_client(-1);
}

/* ---- 5. cancel latency ---------------------------------------------------------------- */

static uint64_t cancel_parked(server *s) {
    char sid[40];
    run_session(s, CODE_ONCE, sid);
    uint64_t t = cancel_session(s, sid);
    server_settle(s);
    return t;
}

/* Starts a script that pauses once and then, answered, loops forever; lets the loop spin for
 * 2 ms; cancels it. *reply_ns: cancel sent → alc_cancel's reply. Returns cancel sent → the
 * waiting alc_continue call answered "cancelled" (the loop has really stopped). */
static uint64_t cancel_busy(server *s, uint64_t *reply_ns) {
    char sid[40], line[512];
    run_session(s, CODE_BUSY, sid);
    long long cid = s->next_id++;
    size_t len = fmt_continue(line, sizeof line, cid, sid);
    send_or_die(s, line, len);
    alc_bench_sleep_ms(2);
    long long xid = s->next_id++;
    len = fmt_cancel(line, sizeof line, xid, sid);
    uint64_t t0 = alc_bench_now_ns();
    send_or_die(s, line, len);
    uint64_t t_reply = 0, t_stopped = 0;
    while (!t_reply || !t_stopped) {
        size_t n;
        const char *reply = alc_bench_recv(s->p, TIMEOUT_MS, &n);
        uint64_t t = alc_bench_now_ns();
        if (!reply) alc_bench_die("%s: no reply after a cancel", s->name);
        long long id = alc_bench_line_id(reply, n);
        if (id == xid) {
            expect(s, reply, n, "cancelled");
            t_reply = t;
        } else if (id == cid) {
            expect(s, reply, n, "\\\"status\\\":\\\"cancelled\\\"");
            t_stopped = t;
        } else if (id >= 0) {
            alc_bench_die("%s: unexpected reply: %.300s", s->name, reply);
        }
    }
    server_settle(s);
    *reply_ns = t_reply - t0;
    return t_stopped - t0;
}

static void fig_cancel(void) {
    pinning pins[2];
    int np = pinnings(pins);
    for (int k = 0; k < np; k++) {
        fprintf(stderr, "cancel latency (%s)\n", pins[k].label);
        pin_client(pins[k].client_cpu);
        server a, q, f;
        server_start(&a, SRV_ALC, pins[k].server_cpu, 10000);
        /* diagnostic: the same engine without the session log that a finished session with an
         * LLM call writes (and fsyncs) before its waiting call is answered */
        server_start_env(&q, SRV_ALC, pins[k].server_cpu, 10000, "ALC_LOG_LEVEL=off");
        q.name = "alc (log off)";
        server_start(&f, SRV_FLOOR, pins[k].server_cpu, 10000);
        /* the parked rows compare log-off servers: with --baseline-alc the baseline needs the
         * same setting (the floor server ignores it) */
        server fq;
        server_start_env(&fq, SRV_FLOOR, pins[k].server_cpu, 10000, "ALC_LOG_LEVEL=off");
        alc_bench_samples pa = {0}, pf = {0}, ba = {0}, bf = {0}, ra = {0}, rf = {0}, bq = {0};
        for (int i = 0; i < 20; i++) {
            uint64_t r;
            cancel_parked(&q);
            cancel_parked(&fq);
            cancel_busy(&a, &r);
            cancel_busy(&q, &r);
            cancel_busy(&f, &r);
        }
        /* parked: the alc_cancel reply comes from the reader thread, before the session thread
         * writes its log, so the log is off there (only the wait between samples would grow) */
        int n = samples(1000), nb = samples(500);
        for (int i = 0; i < n; i++) {
            alc_bench_samples_add(&pa, cancel_parked(&q));
            alc_bench_samples_add(&pf, cancel_parked(&fq));
        }
        for (int i = 0; i < nb; i++) {
            uint64_t r;
            alc_bench_samples_add(&ba, cancel_busy(&a, &r));
            alc_bench_samples_add(&ra, r);
            alc_bench_samples_add(&bq, cancel_busy(&q, &r));
            alc_bench_samples_add(&bf, cancel_busy(&f, &r));
            alc_bench_samples_add(&rf, r);
        }
        char fig[160];
        snprintf(fig, sizeof fig, "cancel → cancelled, parked script, p50, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&pa, 50), (double)alc_bench_samples_pct(&pf, 50), floor_label, U_US, T_INFO, 0);
        snprintf(fig, sizeof fig, "cancel → cancelled, parked script, p99, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&pa, 99), (double)alc_bench_samples_pct(&pf, 99), floor_label, U_US,
            T_ABS_LE, 1e6);
        snprintf(fig, sizeof fig, "cancel → alc_cancel reply, busy loop, p99, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&ra, 99), (double)alc_bench_samples_pct(&rf, 99), floor_label, U_US, T_INFO, 0);
        snprintf(fig, sizeof fig, "cancel → loop stopped, call answered, p50, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&ba, 50), (double)alc_bench_samples_pct(&bf, 50), floor_label, U_US, T_INFO, 0);
        snprintf(fig, sizeof fig, "cancel → loop stopped, call answered, p99, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&ba, 99), (double)alc_bench_samples_pct(&bf, 99), floor_label, U_US,
            T_ABS_LE, 1e6);
        snprintf(fig, sizeof fig, "(diagnostic) loop stopped, call answered, p50, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&bq, 50), (double)alc_bench_samples_pct(&bf, 50), floor_label, U_US, T_INFO, 0);
        snprintf(fig, sizeof fig, "(diagnostic) loop stopped, call answered, p99, %s [log off]", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&bq, 99), (double)alc_bench_samples_pct(&bf, 99), floor_label, U_US, T_INFO, 0);
        server_stop(&a, 5000);
        server_stop(&q, 5000);
        alc_bench_samples_free(&bq);
        server_stop(&f, 5000);
        server_stop(&fq, 5000);
        alc_bench_samples_free(&pa);
        alc_bench_samples_free(&pf);
        alc_bench_samples_free(&ba);
        alc_bench_samples_free(&bf);
        alc_bench_samples_free(&ra);
        alc_bench_samples_free(&rf);
    }
    pin_client(-1);
}

/* ---- 6. peer round trip --------------------------------------------------------------- */

static void fig_peer(void) {
    if (!opt_peer) {
        fprintf(stderr, "peer: skipped (no --peer)\n");
        return;
    }
    pinning pins[2];
    int np = pinnings(pins);
    for (int k = 0; k < np; k++) {
        fprintf(stderr, "front end vs TypeScript SDK echo (%s)\n", pins[k].label);
        pin_client(pins[k].client_cpu);
        server a, t;
        server_start(&a, SRV_ALC, pins[k].server_cpu, 10000);
        server_start(&t, SRV_PEER, pins[k].server_cpu, 0);
        for (int i = 0; i < 3000; i++) {
            echo(&t);
            if (i % 3 == 0) { ping(&a); info(&a); }
        }
        alc_bench_samples xp = {0}, xi = {0}, xe = {0};
        int n = samples(3000);
        for (int i = 0; i < n; i++) {
            alc_bench_samples_add(&xp, ping(&a));
            alc_bench_samples_add(&xe, echo(&t));
            alc_bench_samples_add(&xi, info(&a));
        }
        bool same = pins[k].client_cpu == pins[k].server_cpu;
        char fig[160];
        double e50 = (double)alc_bench_samples_pct(&xe, 50), e99 = (double)alc_bench_samples_pct(&xe, 99);
        snprintf(fig, sizeof fig, "ping round trip p50 vs TS SDK echo, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xp, 50), e50, "TS SDK echo", U_US, same ? T_RATIO_LE : T_INFO, 0.75);
        snprintf(fig, sizeof fig, "alc_info round trip p50 vs TS SDK echo, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xi, 50), e50, "TS SDK echo", U_US, same ? T_RATIO_LE : T_INFO, 0.75);
        snprintf(fig, sizeof fig, "alc_info round trip p99 vs TS SDK echo, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xi, 99), e99, "TS SDK echo", U_US, T_INFO, 0);
        server_stop(&a, 5000);
        server_stop(&t, 5000);
        alc_bench_samples_free(&xp);
        alc_bench_samples_free(&xi);
        alc_bench_samples_free(&xe);
    }
    pin_client(-1);
}

/* ---- 7. startup ----------------------------------------------------------------------- */

static uint64_t startup_once(enum srv_kind kind, int cpu) {
    uint64_t t0 = alc_bench_now_ns();
    server s = {0};
    s.kind = kind;
    char home[600];
    snprintf(home, sizeof home, "ALC_HOME=%s", opt_home);
    const char *alc_env[] = {home, "ALC_SESSION_TTL=10800", "ALC_SESSION_RETENTION=600", NULL};
    const char *argv_alc[] = {opt_alc, NULL}, *argv_floor[] = {opt_floor, NULL}, *argv_peer[] = {opt_node, opt_peer, NULL};
    s.name = kind == SRV_ALC ? "alc" : kind == SRV_FLOOR ? floor_label : "ts-sdk";
    bool alc_like = kind == SRV_ALC || (kind == SRV_FLOOR && opt_floor_is_alc);
    s.p = alc_bench_spawn(kind == SRV_ALC ? argv_alc : kind == SRV_FLOOR ? argv_floor : argv_peer,
                          alc_like ? alc_env : NULL, cpu, opt_server_log);
    if (!s.p) alc_bench_die("cannot start %s", s.name);
    if (alc_bench_initialize(s.p, TIMEOUT_MS) != 0) alc_bench_die("%s: initialize failed", s.name);
    uint64_t t = alc_bench_now_ns() - t0;
    if (!server_stop(&s, 5000)) alc_bench_die("%s did not exit cleanly after initialize", s.name);
    return t;
}

static void fig_startup(void) {
    pinning pins[2];
    int np = pinnings(pins);
    for (int k = 0; k < np; k++) {
        fprintf(stderr, "startup: exec → initialize answered (%s)\n", pins[k].label);
        pin_client(pins[k].client_cpu);
        for (int i = 0; i < 20; i++) {
            startup_once(SRV_ALC, pins[k].server_cpu);
            startup_once(SRV_FLOOR, pins[k].server_cpu);
        }
        alc_bench_samples xa = {0}, xf = {0}, xt = {0};
        int n = samples(500);
        for (int i = 0; i < n; i++) {
            alc_bench_samples_add(&xa, startup_once(SRV_ALC, pins[k].server_cpu));
            alc_bench_samples_add(&xf, startup_once(SRV_FLOOR, pins[k].server_cpu));
        }
        char fig[160];
        snprintf(fig, sizeof fig, "exec → initialize answered p50, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 50), (double)alc_bench_samples_pct(&xf, 50), floor_label, U_MS,
            T_ABS_LE, 5e6);
        snprintf(fig, sizeof fig, "exec → initialize answered p99, %s", pins[k].label);
        row(fig, (double)alc_bench_samples_pct(&xa, 99), (double)alc_bench_samples_pct(&xf, 99), floor_label, U_MS,
            T_ABS_LE, 5e6);
        if (opt_peer) {
            for (int i = 0; i < (opt_quick ? 3 : 15); i++) alc_bench_samples_add(&xt, startup_once(SRV_PEER, pins[k].server_cpu));
            snprintf(fig, sizeof fig, "exec → initialize answered p50 vs TS SDK, %s", pins[k].label);
            row(fig, (double)alc_bench_samples_pct(&xa, 50), (double)alc_bench_samples_pct(&xt, 50), "TS SDK echo",
                U_MS, T_INFO, 0);
        }
        alc_bench_samples_free(&xa);
        alc_bench_samples_free(&xf);
        alc_bench_samples_free(&xt);
    }
    pin_client(-1);
}

/* ---- main ----------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: alc_bench --alc PATH (--floor PATH | --baseline-alc PATH) [--peer echo_server.mjs]\n"
            "                 [--node PATH] [--home DIR] [--server-log FILE] [--alc-env KEY=VALUE] [--big N] [--quick] [FIGURE...]\n"
            "--baseline-alc: measure against another alc build (same settings) instead of the floor server\n"
            "FIGURE: pause spawn concurrency throughput cancel peer startup (default: all)\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *figs[16];
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) opt_quick = 1;
        else if (i + 1 < argc && strcmp(a, "--alc") == 0) opt_alc = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--floor") == 0) opt_floor = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--baseline-alc") == 0) {
            opt_floor = argv[++i];
            opt_floor_is_alc = 1;
            floor_label = "baseline alc";
        }
        else if (i + 1 < argc && strcmp(a, "--peer") == 0) opt_peer = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--node") == 0) opt_node = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--home") == 0) opt_home = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--server-log") == 0) opt_server_log = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--alc-env") == 0) opt_alc_env = argv[++i];
        else if (i + 1 < argc && strcmp(a, "--big") == 0) opt_big = strtol(argv[++i], NULL, 10);
        else if (a[0] == '-') usage();
        else if (nf < 16) figs[nf++] = a;
    }
    if (!opt_alc || !opt_floor) usage();
    mkdir(opt_home, 0700);
    static const char *all[] = {"startup", "pause", "spawn", "cancel", "peer", "throughput", "concurrency"};
    if (nf == 0) {
        for (size_t i = 0; i < sizeof all / sizeof *all; i++) figs[nf++] = all[i];
    }
    for (int i = 0; i < nf; i++) {
        uint64_t t0 = alc_bench_now_ns();
        if (strcmp(figs[i], "pause") == 0) fig_pause();
        else if (strcmp(figs[i], "spawn") == 0) fig_spawn();
        else if (strcmp(figs[i], "concurrency") == 0) fig_concurrency();
        else if (strcmp(figs[i], "throughput") == 0) fig_throughput();
        else if (strcmp(figs[i], "cancel") == 0) fig_cancel();
        else if (strcmp(figs[i], "peer") == 0) fig_peer();
        else if (strcmp(figs[i], "startup") == 0) fig_startup();
        else usage();
        fprintf(stderr, "bench: %s took %.1f s\n", figs[i], (double)(alc_bench_now_ns() - t0) / 1e9);
    }
    fprintf(stderr, "bench: %d targets met, %d missed\n", rows_pass, rows_fail);
    return 0;
}
