/*
 * inflight.h — tool calls that wait for a session (alc_run, alc_continue, ...): the table
 * that maps a JSON-RPC request id to its waiting call, progress notifications and heartbeats
 * for calls that carried a progressToken, and notifications/cancelled.
 *
 * Threads: begin/set_session/cancel_request are called by the reader thread; the waiter
 * callbacks run on session threads; the heartbeat thread walks the table. The table mutex
 * guards the hash chains only and is never held while writing or calling the engine.
 */
#ifndef ALC_INFLIGHT_H
#define ALC_INFLIGHT_H

#include "server_internal.h"

#include "alc/session.h"

typedef struct alc_inflight alc_inflight;

int alc_inflight_new(alc_server *srv, alc_inflight_table **out);
/* Stops the heartbeat thread and frees the table; every call must have been answered. */
void alc_inflight_free(alc_inflight_table *t);
/* Registers call c as waiting (takes its id and progress token; marks it answered).
 * Returns a reference the caller passes to the engine via alc_inflight_waiter, or NULL on OOM
 * (then c is untouched). */
alc_inflight *alc_inflight_begin(alc_inflight_table *t, alc_call *c);
/* Records which session answers this call (for notifications/cancelled). */
void alc_inflight_set_session(alc_inflight *f, const char *session_id);
/* The waiter to hand to alc_session_start / alc_session_continue. The engine's on_outcome
 * callback writes the reply and drops the reference. */
alc_waiter alc_inflight_waiter(alc_inflight *f);
/* The engine refused the call (start/continue error): answers it with an isError text
 * and drops the reference. */
void alc_inflight_fail(alc_inflight *f, const char *message);
/* Answers it with an already-built tool text (not an error) and drops the reference. */
void alc_inflight_reply_text(alc_inflight *f, const char *text, size_t len);
/* notifications/cancelled: closes the call without a response and cancels its session. */
void alc_inflight_cancel_request(alc_inflight_table *t, alc_registry *reg, const cJSON *request_id, const char *reason);
/* Sends a notifications/message {level, logger:"alc", data:{message, session_id?, source?}}
 * if the MCP log level allows, at most 100 per second per server (drops are reported by one
 * warning once the rate allows). session_id and source may be NULL. Any thread. */
void alc_server_log_message(alc_server *s, const char *level, const char *session_id,
                            const char *source, const char *message);

/* Formats an engine outcome as the tool result text (status needs_response / completed /
 * error / cancelled). Returns new (free()). */
char *alc_outcome_text(const alc_outcome *o, size_t *len);

#endif
