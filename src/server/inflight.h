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
/* Records which session answers this call (for notifications/cancelled and log messages)
 * and releases the caller's hold on f: do not touch f afterwards unless the engine refused
 * the call (then answer it with alc_inflight_fail / alc_inflight_reply_text). */
void alc_inflight_set_session(alc_inflight *f, const char *session_id);
/* A tool's hook on the final outcome of the session its call starts (alc_eval saves its
 * result here). Called once, on the session thread with no lock held, with the final outcome
 * (kind DONE, FAILED or CANCELLED; everything borrowed) and the tool-result text about to be
 * sent. Returns replacement text (returns new, free(); length in *out_len) or NULL to send
 * text unchanged. */
typedef char *(*alc_inflight_done_fn)(void *ud, const alc_outcome *o, const char *text, size_t len,
                                      size_t *out_len);
/* Attaches fn to f: call after alc_inflight_begin and before alc_session_start, at most once.
 * If the session pauses first, the hook moves with the session and runs on its final outcome,
 * whichever call (alc_continue) receives it. free_ud(ud) (free_ud may be NULL) runs exactly
 * once: after fn ran, when the call is refused (alc_inflight_fail), or, for a session that
 * ended while no call waited for it (cancelled while paused, expired), when the table is freed.
 * Returns ALC_OK, or ALC_E_NOMEM / ALC_E_INVAL with nothing attached (ud stays the caller's). */
int alc_inflight_set_done(alc_inflight *f, alc_inflight_done_fn fn, void *ud, void (*free_ud)(void *));
/* The waiter to hand to alc_session_start / alc_session_continue. The engine's on_outcome
 * callback writes the reply and drops the reference. */
alc_waiter alc_inflight_waiter(alc_inflight *f);
/* The engine refused the call (start/continue error): answers it with an isError text
 * and drops the reference. */
void alc_inflight_fail(alc_inflight *f, const char *message);
/* Answers it with an already-built tool text (not an error) and drops the reference. */
void alc_inflight_reply_text(alc_inflight *f, const char *text, size_t len);
/* Starts the session of spec for the waiting call f (tools_exec.c); answers f when the start
 * fails. Reader thread. */
void alc_inflight_start_session(alc_server *srv, alc_inflight *f, const alc_session_spec *spec);
/* References for holders other than the table, the engine and the caller (sampling.c). */
void alc_inflight_ref(alc_inflight *f);
void alc_inflight_unref(alc_inflight *f);
/* Answers f with text as its final reply and drops the waiter's reference (for a waiter
 * callback that will not be called again). */
void alc_inflight_finish_text(alc_inflight *f, const char *text, bool is_error);
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
