/*
 * error.h — the single table of status codes used across alc.
 *
 * Every function that can fail returns int: ALC_OK (0) or a negative ALC_E_* code.
 * The X-macro below generates the enum, the symbolic names, the human messages and the
 * JSON-RPC error code that a failure of that kind maps to when it reaches a client.
 * Thread-safety: all functions here are pure and may be called from any thread.
 */
#ifndef ALC_ERROR_H
#define ALC_ERROR_H

#include <stddef.h>

/*      name              json-rpc  message */
#define ALC_ERR_MAP(XX)                                                        \
    XX(NOMEM,            -32603, "out of memory")                              \
    XX(INVAL,            -32602, "invalid argument")                           \
    XX(NOT_FOUND,        -32602, "not found")                                  \
    XX(PARSE,            -32700, "parse error")                                \
    XX(INVALID_REQUEST,  -32600, "invalid request")                            \
    XX(METHOD_NOT_FOUND, -32601, "method not found")                           \
    XX(INTERNAL,         -32603, "internal error")                             \
    XX(TOO_LARGE,        -32600, "message too large")                          \
    XX(EOF,              -32603, "end of input")                               \
    XX(CLOSED,           -32603, "closed")                                     \
    XX(IO,               -32603, "input/output error")                         \
    XX(BUSY,             -32603, "busy")                                       \
    XX(NOT_PAUSED,       -32603, "session is not paused")                      \
    XX(CANCELLED,        -32603, "cancelled")                                  \
    XX(TERMINAL,         -32603, "session has finished")                       \
    XX(LIMIT,            -32603, "limit reached")                              \
    XX(LAGGED,           -32603, "subscriber lagged")                          \
    XX(TIMEOUT,          -32603, "timed out")                                  \
    XX(EXISTS,           -32603, "already exists")

/* Position of each code in the table, starting at 1 (internal). */
enum alc__err_index {
    ALC__ERR_INDEX_ZERO = 0,
#define ALC__XX_INDEX(name, rpc, msg) ALC__ERR_INDEX_##name,
    ALC_ERR_MAP(ALC__XX_INDEX)
#undef ALC__XX_INDEX
    ALC__ERR_INDEX_COUNT
};

/* ALC_OK is 0; ALC_E_NOMEM is -1, ALC_E_INVAL is -2, ... in table order. */
enum alc_err {
    ALC_OK = 0,
#define ALC__XX_CODE(name, rpc, msg) ALC_E_##name = -ALC__ERR_INDEX_##name,
    ALC_ERR_MAP(ALC__XX_CODE)
#undef ALC__XX_CODE
};

/* Returns the symbolic name ("ALC_E_NOMEM", "ALC_OK") of rc; "ALC_E_UNKNOWN" otherwise. */
const char *alc_err_name(int rc);
/* Returns a short human message for rc ("out of memory"). Never NULL. */
const char *alc_err_message(int rc);
/* Returns the JSON-RPC error code a failure rc maps to (-32603 for unknown codes). */
int alc_err_rpc_code(int rc);

/* Writes a formatted message into err (errlen bytes) when err is not NULL. */
void alc_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
