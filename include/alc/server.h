/*
 * server.h — the MCP stdio server: reads JSON-RPC lines from an fd, dispatches them, writes
 * replies to the protocol fd. Created and run by the main thread.
 */
#ifndef ALC_SERVER_H
#define ALC_SERVER_H

#include "alc/config.h"

typedef struct alc_server alc_server;

/*
 * Serves MCP on in_fd (borrowed) / out_fd (owned) until end of input or until the client
 * goes away. On return every session has been cancelled and joined. Returns ALC_OK, or an
 * error code when the server could not start. Blocks; call from the main thread.
 */
int alc_server_run(const alc_config *cfg, int in_fd, int out_fd);

/* Asks a running server to stop as at end of input (async-signal-safe: sets a flag and
 * the reader is woken by the signal interrupting read). */
void alc_server_request_stop(void);

#endif
