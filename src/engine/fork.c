/*
 * fork.c — alc.fork: child strategies, each in its own Lua state on its own thread, whose
 * LLM queries are multiplexed into the parent session's pauses (ids "f-<child>-<seq>").
 *
 * Threads: the parent session thread runs alc__host_fork (the multiplexer); each child runs
 * child_main on its own thread. fork->mu guards every child's pending queries, answers and
 * status; children park on fork->cond. The parent never holds fork->mu while pausing the
 * session (alc__host_ask) or joining threads. A child busy in Lua is stopped like a session:
 * SIGUSR2 to its thread installs the stop hook (see session.c).
 *
 * Decisions: children share the parent's budget, state namespace, log and custom stats;
 * each child has its own memory limit equal to the session's; nested forks are refused.
 */
#include "session_internal.h"

#include "alc/error.h"
#include "alc/warm_pool.h"
#include "alc/json_conv.h"
#include "alc/lua_runtime.h"

#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHILDREN 64

typedef enum { CHILD_RUNNING, CHILD_WAITING, CHILD_DONE } child_status;

typedef struct fork_group fork_group;

typedef struct fork_child {
    fork_group *group;
    int index;
    char *name;
    pthread_t thread;
    bool started;
    child_status status;       /* guarded by group->mu */
    alc_query *pending;        /* guarded: queries the child waits on */
    size_t n_pending;
    bool forwarded;            /* guarded: pending queries were sent to the host */
    char **answers;            /* guarded: filled by the parent */
    size_t *answer_lens;
    bool *answer_errors;
    bool answered;
    atomic_bool cancel;
    bool in_lua;               /* guarded */
    int seq;                   /* next query sequence number (child-local) */
    bool ok;                   /* result, valid when DONE */
    char *result_json;
    char *error;
    alc_lua_mem mem;            /* child thread only */
} fork_child;

struct fork_group {
    alc_session *parent;
    alc_mutex mu;
    alc_cond cond;             /* children wait for answers; the parent waits for progress */
    fork_child children[MAX_CHILDREN];
    size_t n;
    const char *ctx_json;
};

/* ---- the child's alc_lua_host ---------------------------------------------------- */

static int child_ask(void *ud, alc_query *q, size_t n, alc_lua_answers *out) {
    fork_child *c = ud;
    fork_group *g = c->group;
    alc_mutex_lock(&g->mu);
    if (atomic_load(&c->cancel)) {
        alc_mutex_unlock(&g->mu);
        alc_queries_free(q, n);
        return ALC_E_CANCELLED;
    }
    c->pending = q;
    c->n_pending = n;
    c->forwarded = false;
    c->answered = false;
    c->status = CHILD_WAITING;
    alc_cond_broadcast(&g->cond);
    while (!c->answered && !atomic_load(&c->cancel)) alc_cond_wait(&g->cond, &g->mu);
    int rc = ALC_OK;
    if (c->answered && !atomic_load(&c->cancel)) {
        out->texts = c->answers;
        out->lens = c->answer_lens;
        out->errors = c->answer_errors;
        out->n = c->n_pending;
    } else {
        rc = ALC_E_CANCELLED;
        if (c->answers) for (size_t i = 0; i < c->n_pending; i++) free(c->answers[i]);
        free(c->answers);
        free(c->answer_lens);
        free(c->answer_errors);
    }
    c->answers = NULL;
    c->answer_lens = NULL;
    c->answer_errors = NULL;
    alc_queries_free(c->pending, c->n_pending);
    c->pending = NULL;
    c->n_pending = 0;
    c->status = CHILD_RUNNING;
    alc_mutex_unlock(&g->mu);
    return rc;
}

static bool child_budget_ok(void *ud, char *m, size_t l) { return alc__host_budget_ok(((fork_child *)ud)->group->parent, m, l); }
static bool child_budget_remaining(void *ud, long long *a, long long *b, long long *c) {
    return alc__host_budget_remaining(((fork_child *)ud)->group->parent, a, b, c);
}
static void child_log(void *ud, const char *level, const char *source, const char *msg, size_t len) {
    (void)source;
    alc__host_log(((fork_child *)ud)->group->parent, level, "alc.fork", msg, len);
}
static void child_progress(void *ud, long long step, long long total, const char *msg) {
    char buf[300];
    int n = snprintf(buf, sizeof buf, "%s: progress %lld/%lld%s%.200s", ((fork_child *)ud)->name, step, total, msg ? " " : "", msg ? msg : "");
    child_log(ud, "debug", "alc.fork", buf, (size_t)(n < 0 ? 0 : n));
}
static void child_stats_record(void *ud, const char *k, const char *v) { alc__host_stats_record(((fork_child *)ud)->group->parent, k, v); }
static char *child_stats_get(void *ud, const char *k) { return alc__host_stats_get(((fork_child *)ud)->group->parent, k); }
static long long child_llm_calls(void *ud) { return alc__host_llm_calls(((fork_child *)ud)->group->parent); }
static bool child_cancelled(void *ud) {
    fork_child *c = ud;
    return atomic_load(&c->cancel) || alc__host_cancelled(c->group->parent);
}
static int child_fork(void *ud, const char *const *names, size_t n, const char *ctx_json, bool abort_on_error,
                      char **out, char *err, size_t errlen) {
    (void)ud; (void)names; (void)n; (void)ctx_json; (void)abort_on_error; (void)out;
    snprintf(err, errlen, "alc.fork: nested forks are not supported (a forked strategy called alc.fork)");
    return ALC_E_INVAL;
}

static void set_in_lua(fork_child *c, lua_State *L) {
    alc_mutex_lock(&c->group->mu);
    c->in_lua = L != NULL;
    alc__thread_set_lua(L, L ? &c->cancel : NULL);
    alc_mutex_unlock(&c->group->mu);
}

static int child_msgh(lua_State *L) {
    const char *m = lua_tostring(L, 1);
    luaL_traceback(L, L, m ? m : "(error object is not a string)", 1);
    return 1;
}

/* Runs the child's strategy; fills ok/result_json/error. */
static void child_run(fork_child *c) {
    alc_session *p = c->group->parent;
    char err[512];
    alc_lua_host host = {
        .ud = c, .ask = child_ask, .budget_ok = child_budget_ok, .budget_remaining = child_budget_remaining,
        .progress = child_progress, .log = child_log, .stats_record = child_stats_record,
        .stats_get = child_stats_get, .llm_calls = child_llm_calls, .cancelled = child_cancelled,
        .fork = child_fork, .state_root = p->reg->state_root, .state_ns = p->state_ns,
    };
    cJSON *ctx = cJSON_Parse(c->group->ctx_json);
    alc_lua_env env = {.cfg = p->reg->cfg, .project_root = p->project_root, .ctx = ctx};
    lua_State *L;
    int rc = alc_warm_pool_prepare(p->reg->warm, &c->mem, &host, &env, &L, err, sizeof err);
    cJSON_Delete(ctx);
    if (rc != ALC_OK) {
        c->error = strdup(err);
        return;
    }
    lua_pushcfunction(L, child_msgh);
    char code[400];
    int n = snprintf(code, sizeof code,
                     "local m = require(\"%s\")\n"
                     "if type(m) ~= \"table\" or type(m.run) ~= \"function\" then error(\"package '%s' has no run(ctx) function\", 0) end\n"
                     "return m.run(ctx)\n", c->name, c->name);
    char chunk[160];
    snprintf(chunk, sizeof chunk, "=fork:%s", c->name);
    int st = luaL_loadbufferx(L, code, (size_t)n, chunk, "t");
    if (st == LUA_OK) {
        set_in_lua(c, L);
        if (!child_cancelled(c)) st = lua_pcall(L, 0, 1, -2);
        set_in_lua(c, NULL);
    }
    lua_sethook(L, NULL, 0, 0);
    if (child_cancelled(c)) {
        c->error = strdup("cancelled");
    } else if (st != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        c->error = strdup(st == LUA_ERRMEM ? "not enough memory (the fork child's memory limit was reached)" : m ? m : "error");
    } else {
        size_t len;
        if (alc_json_encode_lua(L, -1, &c->result_json, &len, NULL, NULL, err, sizeof err) == ALC_OK) c->ok = true;
        else {
            char buf[640];
            snprintf(buf, sizeof buf, "result cannot be converted to JSON: %s", err);
            c->error = strdup(buf);
        }
    }
    alc_lua_prepare_close(L);
    lua_close(L);
}

static void *child_main(void *arg) {
    fork_child *c = arg;
    child_run(c);
    alc_mutex_lock(&c->group->mu);
    c->status = CHILD_DONE;
    alc_cond_broadcast(&c->group->cond);
    alc_mutex_unlock(&c->group->mu);
    return NULL;
}

/* ---- the parent side -------------------------------------------------------------- */

static void cancel_children(fork_group *g) {
    alc_mutex_lock(&g->mu);
    for (size_t i = 0; i < g->n; i++) {
        fork_child *c = &g->children[i];
        atomic_store(&c->cancel, true);
        if (c->started && c->status != CHILD_DONE && c->in_lua) pthread_kill(c->thread, SIGUSR2);
    }
    alc_cond_broadcast(&g->cond);
    alc_mutex_unlock(&g->mu);
}

static void cleanup(fork_group *g) {
    for (size_t i = 0; i < g->n; i++) {
        fork_child *c = &g->children[i];
        if (c->started) alc_thread_join(c->thread);
        free(c->name);
        free(c->result_json);
        free(c->error);
    }
    alc_cond_deinit(&g->cond);
    alc_mutex_deinit(&g->mu);
    free(g);
}

/* Collects the children's unforwarded queries as parent queries; g->mu held. */
static alc_query *collect(fork_group *g, size_t *n_out, int *owner, size_t *slot) {
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->children[i].status == CHILD_WAITING && !g->children[i].forwarded) n += g->children[i].n_pending;
    *n_out = n;
    if (n == 0) return NULL;
    alc_query *q = calloc(n, sizeof *q);
    if (!q) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        fork_child *c = &g->children[i];
        if (c->status != CHILD_WAITING || c->forwarded) continue;
        c->forwarded = true;
        for (size_t j = 0; j < c->n_pending; j++, k++) {
            const alc_query *src = &c->pending[j];
            char id[48];
            snprintf(id, sizeof id, "f-%d-%d", c->index, c->seq++);
            q[k].id = strdup(id);
            q[k].prompt = malloc(src->prompt_len + 1);
            if (q[k].prompt) { memcpy(q[k].prompt, src->prompt, src->prompt_len); q[k].prompt[src->prompt_len] = '\0'; }
            q[k].prompt_len = src->prompt_len;
            q[k].system = src->system ? strdup(src->system) : NULL;
            q[k].max_tokens = src->max_tokens;
            q[k].grounded = src->grounded;
            q[k].underspecified = src->underspecified;
            owner[k] = (int)i;
            slot[k] = j;
        }
    }
    return q;
}

static char *results_json(fork_group *g) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "[");
    for (size_t i = 0; i < g->n; i++) {
        fork_child *c = &g->children[i];
        if (i) alc_jbuf_puts(&b, ",");
        if (c->ok) {
            alc_jbuf_puts(&b, "{\"ok\":true,\"result\":");
            alc_jbuf_puts(&b, c->result_json);
        } else {
            alc_jbuf_puts(&b, "{\"error\":");
            const char *e = c->error ? c->error : "no result";
            alc_jbuf_json_str(&b, e, strlen(e));
            alc_jbuf_puts(&b, ",\"ok\":false");
        }
        alc_jbuf_puts(&b, ",\"strategy\":");
        alc_jbuf_json_str(&b, c->name, strlen(c->name));
        alc_jbuf_puts(&b, "}");
    }
    alc_jbuf_puts(&b, "]");
    return alc_jbuf_take(&b, NULL);
}

/* The session's fork callback; see lua_host.h. Runs on the parent session thread. */
int alc__host_fork(void *ud, const char *const *names, size_t n, const char *ctx_json, bool abort_on_error,
                   char **out, char *err, size_t errlen) {
    alc_session *s = ud;
    if (n == 0 || n > MAX_CHILDREN) {
        snprintf(err, errlen, "alc.fork: between 1 and %d strategies are allowed, got %zu", MAX_CHILDREN, n);
        return ALC_E_INVAL;
    }
    fork_group *g = calloc(1, sizeof *g);
    if (!g) { snprintf(err, errlen, "alc.fork: out of memory"); return ALC_E_NOMEM; }
    g->parent = s;
    g->ctx_json = ctx_json;
    alc_mutex_init(&g->mu);
    alc_cond_init(&g->cond);
    int rc = ALC_OK;
    for (size_t i = 0; i < n; i++) {
        fork_child *c = &g->children[i];
        c->group = g;
        c->index = (int)i;
        c->mem.limit = s->mem.limit;
        atomic_init(&c->cancel, false);
        c->name = strdup(names[i]);
        g->n = i + 1;
        if (!c->name) { rc = ALC_E_NOMEM; snprintf(err, errlen, "alc.fork: out of memory"); break; }
        alc_mutex_lock(&g->mu);
        char tname[16];
        snprintf(tname, sizeof tname, "alc-fork%zu", i);
        if (alc_thread_start(&c->thread, child_main, c, ALC_LUA_THREAD_STACK, tname, false) == ALC_OK) c->started = true;
        alc_mutex_unlock(&g->mu);
        if (!c->started) { rc = ALC_E_LIMIT; snprintf(err, errlen, "alc.fork: cannot start a thread for '%s'", names[i]); break; }
    }
    if (rc != ALC_OK) { cancel_children(g); cleanup(g); return rc; }

    int owner[4096];
    size_t slot[4096];
    for (;;) {
        alc_mutex_lock(&g->mu);
        /* wait until every child is finished or waiting for an answer (so that queries
         * of different children share one pause), or the session is cancelled */
        for (;;) {
            bool quiet = true, any_live = false, failed = false;
            for (size_t i = 0; i < g->n; i++) {
                child_status st = g->children[i].status;
                if (st == CHILD_RUNNING) quiet = false;
                if (st != CHILD_DONE) any_live = true;
                if (st == CHILD_DONE && !g->children[i].ok) failed = true;
            }
            if (abort_on_error && failed) { rc = ALC_E_INVAL; break; }
            if (!any_live) break;
            if (quiet) break;
            if (alc__host_cancelled(s)) break;
            alc_cond_timedwait_ns(&g->cond, &g->mu, 20 * 1000000);
        }
        bool all_done = true;
        for (size_t i = 0; i < g->n; i++) if (g->children[i].status != CHILD_DONE) all_done = false;
        size_t nq = 0;
        alc_query *q = NULL;
        if (rc == ALC_OK && !all_done && !alc__host_cancelled(s)) {
            size_t waiting = 0;
            for (size_t i = 0; i < g->n; i++)
                if (g->children[i].status == CHILD_WAITING && !g->children[i].forwarded) waiting += g->children[i].n_pending;
            if (waiting > 4096) { rc = ALC_E_LIMIT; snprintf(err, errlen, "alc.fork: too many pending queries (%zu)", waiting); }
            else q = collect(g, &nq, owner, slot);
        }
        alc_mutex_unlock(&g->mu);
        if (rc != ALC_OK || alc__host_cancelled(s)) break;
        if (all_done) break;
        if (nq == 0) continue;
        if (!q) { rc = ALC_E_NOMEM; snprintf(err, errlen, "alc.fork: out of memory"); break; }
        alc_lua_answers ans = {0};
        int ask = alc__host_ask(s, q, nq, &ans); /* a normal pause of the parent session */
        if (ask != ALC_OK) { rc = ask; break; }
        /* route the answers to their children */
        alc_mutex_lock(&g->mu);
        for (size_t k = 0; k < nq; k++) {
            fork_child *c = &g->children[owner[k]];
            if (!c->answers) {
                c->answers = calloc(c->n_pending, sizeof *c->answers);
                c->answer_lens = calloc(c->n_pending, sizeof *c->answer_lens);
                c->answer_errors = calloc(c->n_pending, sizeof *c->answer_errors);
            }
            if (c->answers && c->answer_lens && c->answer_errors) {
                c->answers[slot[k]] = ans.texts[k];
                c->answer_lens[slot[k]] = ans.lens[k];
                c->answer_errors[slot[k]] = ans.errors && ans.errors[k];
                ans.texts[k] = NULL;
            }
        }
        for (size_t i = 0; i < g->n; i++) {
            fork_child *c = &g->children[i];
            if (c->status == CHILD_WAITING && c->forwarded && c->answers) {
                bool full = true;
                for (size_t j = 0; j < c->n_pending; j++) if (!c->answers[j]) full = false;
                if (full) c->answered = true;
            }
        }
        alc_cond_broadcast(&g->cond);
        alc_mutex_unlock(&g->mu);
        for (size_t k = 0; k < ans.n; k++) free(ans.texts[k]);
        free(ans.texts);
        free(ans.lens);
        free(ans.errors);
    }
    if (rc == ALC_OK && alc__host_cancelled(s)) rc = ALC_E_CANCELLED;
    if (rc != ALC_OK) {
        if (rc == ALC_E_INVAL) {
            for (size_t i = 0; i < g->n; i++) {
                fork_child *c = &g->children[i];
                alc_mutex_lock(&g->mu);
                bool failed = c->status == CHILD_DONE && !c->ok;
                alc_mutex_unlock(&g->mu);
                if (failed) {
                    snprintf(err, errlen, "alc.fork: strategy '%s' failed: %s", c->name, c->error ? c->error : "no result");
                    break;
                }
            }
        }
        cancel_children(g);
        cleanup(g);
        return rc;
    }
    *out = results_json(g);
    cleanup(g);
    if (!*out) { snprintf(err, errlen, "alc.fork: out of memory"); return ALC_E_NOMEM; }
    return ALC_OK;
}
