/*
 * rpc.h — JSON-RPC 2.0 envelopes for MCP over stdio: parse and validate one input line,
 * and build output lines (results, errors, tool results, notifications).
 *
 * Pure functions over their arguments; any thread may call them. Output lines are built
 * with alc_jbuf (no cJSON re-printing of payloads) and never contain a raw newline.
 */
#ifndef ALC_RPC_H
#define ALC_RPC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "alc/jbuf.h"

#define ALC_RPC_PARSE_ERROR -32700
#define ALC_RPC_INVALID_REQUEST -32600
#define ALC_RPC_METHOD_NOT_FOUND -32601
#define ALC_RPC_INVALID_PARAMS -32602
#define ALC_RPC_INTERNAL_ERROR -32603
#define ALC_RPC_RESOURCE_NOT_FOUND -32002

typedef enum { ALC_MSG_REQUEST, ALC_MSG_NOTIFICATION, ALC_MSG_RESPONSE } alc_msg_kind;

typedef struct alc_rpc_msg {
    alc_msg_kind kind;
    cJSON *root;          /* owned parse tree; free with alc_rpc_msg_deinit */
    const cJSON *id;      /* request / response id (string or integer), inside root */
    const char *method;   /* request / notification */
    const cJSON *params;  /* object or NULL */
    const cJSON *result;  /* response */
    const cJSON *error;   /* response */
} alc_rpc_msg;

/*
 * Parses and validates one line. On success returns ALC_OK and fills msg. On failure
 * returns ALC_E_PARSE or ALC_E_INVALID_REQUEST and sets *err_line to the error response to
 * send (returns new, free()), or NULL when nothing must be sent. Invalid UTF-8 and NUL bytes
 * are parse errors; arrays (batches) are invalid requests.
 */
int alc_rpc_parse(const char *line, size_t len, alc_rpc_msg *msg, char **err_line, size_t *err_len);
void alc_rpc_msg_deinit(alc_rpc_msg *msg);

/* True iff id is a valid JSON-RPC id for MCP: a string or an integer with |v| <= 2^53-1. */
bool alc_rpc_valid_id(const cJSON *id);
/* Appends id exactly as received (integer ids without exponent or fraction). */
void alc_rpc_put_id(alc_jbuf *b, const cJSON *id);

/* {"jsonrpc":"2.0","id":ID,"result":RESULT}; result_json is a JSON fragment. Returns new. */
char *alc_rpc_result_line(const cJSON *id, const char *result_json, size_t *len);
/* {"jsonrpc":"2.0","id":ID,"error":{"code":..,"message":..,"data":..}}; id NULL omits the
 * member; data_json NULL omits data. Returns new. */
char *alc_rpc_error_line(const cJSON *id, int code, const char *message, const char *data_json, size_t *len);
/* A tools/call result with one text block: {"content":[{"type":"text","text":TEXT}],"isError":B}. */
char *alc_rpc_tool_result_line(const cJSON *id, const char *text, size_t text_len, bool is_error, size_t *len);
/* {"jsonrpc":"2.0","method":METHOD,"params":PARAMS}. Returns new. */
char *alc_rpc_notification_line(const char *method, const char *params_json, size_t *len);

#endif
