/*
 * session.h — the execution engine: a registry of sessions, each running one Lua script on
 * its own thread, pausing at alc.llm until the host answers.
 *
 * The engine knows nothing of MCP or JSON-RPC. A caller that wants the next outcome of a
 * session (its first pause, the next pause after answers, or its end) passes an alc_waiter;
 * the session thread calls waiter.on_outcome exactly once, outside every engine lock.
 *
 * Threads: every function here may be called from any thread. Lock order:
 * registry → session → ring. No engine lock is held while Lua runs or a waiter is called.
 */
#ifndef ALC_SESSION_H
#define ALC_SESSION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alc/config.h"
#include "alc/lua_host.h"
#include "alc/ring.h"

typedef struct alc_registry alc_registry;
typedef struct alc_session alc_session;

typedef enum {
    ALC_STATE_RUNNING,
    ALC_STATE_PAUSED,
    ALC_STATE_DONE,
    ALC_STATE_FAILED,
    ALC_STATE_CANCELLED,
} alc_state;

/* "running", "paused", "done", "failed", "cancelled". */
const char *alc_state_name(alc_state st);
bool alc_state_is_terminal(alc_state st);

typedef enum { ALC_OUT_PAUSED, ALC_OUT_DONE, ALC_OUT_FAILED, ALC_OUT_CANCELLED } alc_outcome_kind;

/* What a waiter is told. Everything is borrowed and valid only during the callback. */
typedef struct alc_outcome {
    alc_outcome_kind kind;
    const char *session_id;
    const alc_query *queries;  /* PAUSED: the pending queries, in order */
    size_t n_queries;
    const char *result_json;   /* DONE: the script's first return value as JSON text */
    const char *error;         /* FAILED: message with traceback */
    const char *fail_kind;     /* FAILED: "lua_error" | "memory" | "engine_error" | "timeout" */
    const char *cancel_code;   /* CANCELLED: "user" | "timeout" | "system_shutdown" | ... */
    const char *cancel_detail; /* CANCELLED: may be NULL */
    int64_t cancel_requested_at; /* CANCELLED: Unix ms */
    const char *stats_json;    /* DONE / FAILED / CANCELLED: the stats object */
    const char *transcript_warning; /* DONE / FAILED / CANCELLED: why the session log could not
                                       be written, or NULL */
} alc_outcome;

typedef struct alc_waiter {
    /* Called exactly once with the next outcome, on the session thread, with no engine lock
     * held. Never called when alc_session_start or alc_session_continue returns an error. */
    void (*on_outcome)(void *ud, const alc_outcome *out);
    /* Optional: called for every event the session publishes while this waiter waits
     * (progress, log lines, transitions), on the session thread, no lock held. */
    void (*on_event)(void *ud, const alc_event *ev);
    void *ud;
} alc_waiter;

typedef struct alc_session_spec {
    const char *code;          /* the script: the body of a function */
    size_t code_len;
    const char *chunkname;     /* "=code", "@path/file.lua" ... */
    const cJSON *ctx;          /* borrowed; NULL means {} */
    const char *strategy;      /* advice/eval sessions; NULL for plain runs */
    const char *project_root;  /* NULL when none */
} alc_session_spec;

typedef struct alc_answer {
    const char *query_id;      /* NULL: the sole pending query */
    const char *response;
    size_t response_len;
    bool is_error;             /* the LLM call failed: response is the error message */
    bool has_usage;
    long long prompt_tokens;   /* < 0 when not given */
    long long completion_tokens;
} alc_answer;

/* Creates a registry (and its housekeeping thread). cfg is borrowed for the registry's life. */
int alc_registry_new(const alc_config *cfg, alc_registry **out);
/* Waits up to grace_ms until no session is running (each paused or finished). */
void alc_registry_drain(alc_registry *r, int64_t grace_ms);
/* Cancels every session (code "system_shutdown"), waits for their threads, frees. NULL ok. */
void alc_registry_free(alc_registry *r);
/*
 * Waits up to timeout_ms until the session logs being written after their sessions' replies
 * when this is called are on disk, so that a client that read a result and then asks for its
 * log finds it. Logs begun after the call are not waited for. Returns true when none of those
 * is pending any more. Any thread; takes r->mu (released while waiting).
 */
bool alc_registry_wait_logs(alc_registry *r, int64_t timeout_ms);
/* Number of sessions in the map (live and retained). */
size_t alc_registry_count(alc_registry *r);

/*
 * Starts a session. On ALC_OK, id_out (at least 40 bytes) holds the new session id and the
 * waiter will be called with the first outcome. On failure (ALC_E_LIMIT: too many sessions or
 * threads; ALC_E_NOMEM) the waiter is NOT called and err explains.
 */
int alc_session_start(alc_registry *r, const alc_session_spec *spec, const alc_waiter *w,
                      char *id_out, char *err, size_t errlen);

/* Looks a session up. Returns a new reference (alc_session_unref) or NULL. */
alc_session *alc_registry_find(alc_registry *r, const char *id);
void alc_session_unref(alc_session *s);
const char *alc_session_id(const alc_session *s);

/*
 * Delivers answers to a paused session. All answers are validated before any is applied:
 * unknown or already-answered query ids, a cancelled session (checkpoint C), a session that
 * is not paused, or a waiter already registered are errors and change nothing.
 * If queries remain unanswered, returns ALC_OK with *remaining > 0 and the waiter is not
 * used. Otherwise the session resumes and the waiter gets its next outcome.
 * Errors: ALC_E_NOT_FOUND (unknown query id), ALC_E_CANCELLED, ALC_E_TERMINAL,
 * ALC_E_NOT_PAUSED, ALC_E_BUSY, ALC_E_INVAL (ambiguous: several pending and no query id).
 */
int alc_session_continue(alc_session *s, const alc_answer *answers, size_t n,
                         const alc_waiter *w, size_t *remaining, char *err, size_t errlen);

/*
 * Attaches w to a paused session that has no waiter, so that w gets its next outcome (the
 * outcome after the answers, or its cancellation). Answers may then be delivered with
 * alc_session_continue(..., w = NULL). ALC_OK, ALC_E_CANCELLED, ALC_E_NOT_PAUSED, ALC_E_BUSY.
 */
int alc_session_attach(alc_session *s, const alc_waiter *w);

/*
 * Cancels a session: sets the flag and reason (first reason wins), wakes a parked session and
 * stops running Lua at its next instruction. Idempotent; a finished session is left as is.
 * Returns the state after the call in *state_out (optional).
 */
void alc_session_cancel(alc_session *s, const char *code, const char *detail, alc_state *state_out);

typedef struct alc_status_opts {
    bool include_history;
    int pending_mode;          /* 0 none, 1 meta, 2 preview, 3 full */
    size_t preview_chars;
} alc_status_opts;

/* Snapshot of one session for alc_status. Returns new (cJSON_Delete). */
cJSON *alc_session_snapshot(alc_session *s, const alc_status_opts *opts);
/* Snapshots of every session in the registry, newest first. Returns new array. */
cJSON *alc_registry_snapshot(alc_registry *r, const alc_status_opts *opts);
/* The session's event ring (borrowed; valid while the reference is held). */
alc_ring *alc_session_ring(alc_session *s);
alc_state alc_session_state(alc_session *s);

#endif
