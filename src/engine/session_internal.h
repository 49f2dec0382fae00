/*
 * session_internal.h — the session and registry structs, shared by session.c, registry.c
 * and status.c (internal to src/engine).
 *
 * Lock order: registry->mu → session->mu → ring (inside alc_ring). Field comments say which
 * lock guards what; "session thread" fields are touched only by that session's thread.
 */
#ifndef ALC_SESSION_INTERNAL_H
#define ALC_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "alc/lua_runtime.h"
#include "alc/session.h"
#include "alc/warm_pool.h"
#include "alc/thread.h"
#include "alc/jbuf.h"
#include "metrics.h"

#define ALC_LOG_RING 20

/* Stack of a thread that runs Lua (a session, an alc.fork child). 1 MiB holds Lua's C
 * recursion limit (LUAI_MAXCCALLS 200) and alc's JSON nesting limit (200 levels, about 100 KiB in a
 * release build). AddressSanitizer builds use about three times the stack per frame (measured:
 * the 200-level encoder overflowed 1 MiB at -O1), so they get 4 MiB. */
#if defined(__SANITIZE_ADDRESS__)
#define ALC_LUA_THREAD_STACK ((size_t)4 << 20)
#else
#define ALC_LUA_THREAD_STACK ((size_t)1 << 20)
#endif
#define ALC_REG_BUCKETS 1024

typedef struct alc_log_line {
    int64_t ts;
    char level[12];
    char source[16];
    char *message;
} alc_log_line;

struct alc_session {
    atomic_int refs;
    alc_registry *reg;
    char id[40];
    alc_session *next;              /* bucket chain; guarded by reg->mu */
    bool in_map;                    /* guarded by reg->mu */

    alc_mutex mu;                   /* guards every field below unless noted */
    alc_park park;                  /* the session thread parks here (its only waiter) */
    alc_state state;
    alc_state state_before_cancel;
    alc_waiter waiter;
    bool has_waiter;
    alc_query *queries;             /* pending queries of the current pause */
    size_t n_queries;
    char **answers;
    size_t *answer_lens;
    bool *answer_errors;
    size_t n_answered;
    atomic_bool cancel_flag;        /* also readable without mu */
    char *cancel_code;
    char *cancel_detail;
    int64_t cancel_at_ms;
    alc_metrics metrics;
    bool has_progress;
    long long progress_step, progress_total;
    char *progress_msg;
    alc_log_line logs[ALC_LOG_RING]; /* ring of recent log lines */
    size_t n_logs;                  /* total ever added */
    int64_t started_wall_ms;
    int64_t last_activity_wall_ms;
    int64_t last_active_mono_ms;
    int64_t ended_mono_ms;          /* 0 until terminal */
    char *error;                    /* FAILED: message */
    const char *fail_kind;
    bool thread_alive;              /* the thread may still receive the cancel signal */
    pthread_t thread;               /* valid while thread_alive */
    bool lua_running;               /* the thread is inside Lua (cancel hook needed) */
    bool closing;                   /* lua_close in progress: no more pauses */
    lua_State *lua;                 /* the session's main Lua state (session thread only) */
    bool in_ask;                    /* (mu) the thread is inside alc__host_ask: re-entry refused */

    /* immutable after start */
    char *code;
    size_t code_len;
    char *chunkname;
    cJSON *ctx;
    char *strategy;
    char *project_root;
    char *state_ns;
    alc_ring *ring;                 /* own lock */

    /* session thread only */
    alc_lua_mem mem;                /* Lua heap budget (session thread; limit set at start) */
};

struct alc_registry {
    const alc_config *cfg;
    alc_mutex mu;                   /* guards buckets, count, live, threads, stop, the log tickets */
    alc_cond cond;                  /* the GC thread sleeps here (tick or stop) */
    alc_cond live_cond;             /* broadcast when a session thread ends (threads--) */
    alc_cond logs_cond;             /* broadcast when a log written after its reply is done */
    uint64_t log_ticket;            /* (mu) the last ticket handed out (0: none yet) */
    uint64_t *log_pending;          /* (mu) tickets of logs being written after their reply */
    size_t n_log_pending, cap_log_pending;
    atomic_bool log_dir_ok;         /* the last session log write succeeded: write after replying */
    alc_session *buckets[ALC_REG_BUCKETS];
    size_t count;                   /* sessions in the map */
    size_t live;                    /* sessions not yet ended (ALC_MAX_SESSIONS counts these) */
    size_t threads;                 /* session threads not yet exited (shutdown waits for them) */
    bool stop;
    pthread_t gc_thread;
    char *state_root;               /* <home>/state */
    alc_warm_pool *warm;            /* prepared Lua states; NULL when off (ALC_WARM_STATES=0) */
};

/* registry.c */
unsigned alc__reg_hash(const char *id);
void alc__session_ref(alc_session *s);
/* Publishes an event on the session ring (session->mu may be held: ring is lower). */
void alc__session_publish(alc_session *s, alc_event_kind kind, const char *json);
/* Transition under s->mu; publishes state_transition. Terminal→terminal is a no-op.
 * Returns true if the state changed. */
bool alc__session_transition(alc_session *s, alc_state to);
/* Session-log bookkeeping: a log written after its session's reply holds a ticket from before
 * the reply until it is written, so that the log tools can wait for the logs of every result
 * already delivered (and only for those: a steady stream of new logs does not hold them up). */
/* begin returns the log's ticket (0 when out of memory: the log is then simply not waited
 * for); end takes it back. */
uint64_t alc__registry_log_begin(alc_registry *r);
void alc__registry_log_end(alc_registry *r, uint64_t ticket);
/* The session reached its end and its last reply is out: it stops counting against
 * ALC_MAX_SESSIONS (its thread may still write the log and top up the warm pool). Called
 * once per session, by finish(). */
void alc__registry_session_ended(alc_registry *r);
/* Thread-exit bookkeeping: called by the session thread as its last act. */
void alc__registry_thread_done(alc_registry *r);
/* session.c: the alc_lua_host callbacks of a session (ud = alc_session *), reused by fork.c */
int alc__host_ask(void *ud, alc_query *q, size_t n, alc_lua_answers *out);
bool alc__host_budget_ok(void *ud, char *msg, size_t msglen);
bool alc__host_budget_remaining(void *ud, long long *c, long long *ms, long long *t);
void alc__host_log(void *ud, const char *level, const char *source, const char *msg, size_t len);
void alc__host_stats_record(void *ud, const char *key, const char *value_json);
char *alc__host_stats_get(void *ud, const char *key);
long long alc__host_llm_calls(void *ud);
bool alc__host_cancelled(void *ud);
void alc__thread_set_lua(lua_State *L, atomic_bool *cancel_flag);
/* fork.c: runs child strategies for alc.fork (the session's host fork callback). */
int alc__host_fork(void *ud, const char *const *names, size_t n, const char *ctx_json, bool abort_on_error,
                   char **out, char *err, size_t errlen);

void alc__session_timeout(alc_session *s, const char *msg);
/* session.c: the thread body */
void *alc__session_main(void *arg);
void alc__session_free(alc_session *s);

#endif
