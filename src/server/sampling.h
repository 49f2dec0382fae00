/*
 * sampling.h — MCP sampling: a session's LLM queries sent to the client as
 * sampling/createMessage requests instead of being returned to the caller as a pause.
 *
 * Threads: dispatch runs on a session thread (from the engine's waiter callback); responses
 * arrive on the reader thread; timeouts are checked by the heartbeat thread. The table's
 * mutex guards the list of outstanding groups only and is never held while writing or
 * calling the engine.
 */
#ifndef ALC_SAMPLING_H
#define ALC_SAMPLING_H

#include "inflight.h"

int alc_sampling_new(alc_server *srv, alc_sampling_table **out);
/* Drops outstanding requests (their calls were already answered or closed). NULL ok. */
void alc_sampling_free(alc_sampling_table *t);
/* A sampling call's session paused with o: re-attaches the call to the session and sends one
 * request per query. Returns true when it took the outcome over (the call stays open). */
bool alc_sampling_dispatch(alc_sampling_table *t, alc_inflight *f, const alc_outcome *o);
/* A response from the client (reader thread): routes it to its query. Unknown ids ignored. */
void alc_sampling_on_response(alc_sampling_table *t, const alc_rpc_msg *m);
/* Times out requests older than ALC_SAMPLING_TIMEOUT (heartbeat thread). */
void alc_sampling_tick(alc_sampling_table *t);
/* The tool call of session_id was cancelled: abandon its outstanding requests. */
void alc_sampling_abandon(alc_sampling_table *t, const char *session_id);

#endif
