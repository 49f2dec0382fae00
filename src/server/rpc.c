/*
 * rpc.c — JSON-RPC 2.0 validation and line building (see rpc.h).
 * Stateless; any thread.
 */
#include "alc/rpc.h"

#include "alc/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAFE_INT 9007199254740991.0

/* True iff id is a string or a safe integer. */
bool alc_rpc_valid_id(const cJSON *id) {
    if (!id) return false;
    if (cJSON_IsString(id)) return true;
    if (!cJSON_IsNumber(id)) return false;
    double v = id->valuedouble;
    return isfinite(v) && v == floor(v) && fabs(v) <= MAX_SAFE_INT;
}

/* Appends id as received. */
void alc_rpc_put_id(alc_jbuf *b, const cJSON *id) {
    if (cJSON_IsString(id)) alc_jbuf_json_str(b, id->valuestring, strlen(id->valuestring));
    else alc_jbuf_printf(b, "%lld", (long long)id->valuedouble);
}

static char *error_reply(const cJSON *id, int code, const char *msg, size_t *len) {
    return alc_rpc_error_line(alc_rpc_valid_id(id) ? id : NULL, code, msg, NULL, len);
}

/* Checks that every top-level member name is in allowed[] and appears once. */
static const char *check_members(const cJSON *root, const char *const *allowed) {
    for (const cJSON *c = root->child; c; c = c->next) {
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++) if (strcmp(c->string, allowed[i]) == 0) ok = true;
        if (!ok) return "Invalid Request: unexpected top-level member";
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0) return "Invalid Request: duplicate top-level member";
    }
    return NULL;
}

/* The value of the 4 hex digits at s, or -1. */
static long hex4(const char *s) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Walks the backslash escapes of a line. Only strings may hold a backslash in valid JSON, so
 * no string tracking is needed: outside a string the parser refuses the line anyway. Reports a
 * \u0000 escape (cJSON's strings end at NUL, so such a value would be cut short silently) and a
 * UTF-16 surrogate escape that is not half of a pair, which cJSON refuses. With fix != NULL
 * (a copy of s) every such lone surrogate is rewritten there as \ufffd, of the same length. */
static void scan_escapes(const char *s, size_t n, bool *nul, bool *lone, char *fix) {
    const char *p = s, *end = s + n;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p < 2) return;
        if (p[1] != 'u' || end - p < 6) { p += 2; continue; }
        long v = hex4(p + 2);
        if (v == 0) *nul = true;
        if (v >= 0xD800 && v <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
            long w = hex4(p + 8);
            if (w >= 0xDC00 && w <= 0xDFFF) { p += 12; continue; } /* a pair */
        }
        if (v >= 0xD800 && v <= 0xDFFF) {
            *lone = true;
            if (fix) memcpy(fix + (p - s), "\\ufffd", 6);
        }
        p += 6;
    }
}

/* Parses and validates a line; see rpc.h. */
int alc_rpc_parse(const char *line, size_t len, alc_rpc_msg *msg, char **err_line, size_t *err_len) {
    memset(msg, 0, sizeof *msg);
    *err_line = NULL;
    if (memchr(line, '\0', len)) {
        *err_line = alc_rpc_error_line(NULL, ALC_RPC_PARSE_ERROR, "Parse error: NUL byte in message", NULL, err_len);
        return ALC_E_PARSE;
    }
    if (!alc_utf8_valid(line, len)) {
        *err_line = alc_rpc_error_line(NULL, ALC_RPC_PARSE_ERROR, "Parse error: message is not valid UTF-8", NULL, err_len);
        return ALC_E_PARSE;
    }
    bool nul = false, lone = false;
    scan_escapes(line, len, &nul, &lone, NULL);
    /* a lone surrogate escape (a model's reply cut in the middle of an emoji, say) becomes
     * U+FFFD, as JSON.parse-based clients would show it, instead of losing the whole request */
    char *fixed = NULL;
    if (lone) {
        if (!(fixed = malloc(len))) {
            *err_line = alc_rpc_error_line(NULL, ALC_RPC_INTERNAL_ERROR, "Internal error: out of memory", NULL, err_len);
            return ALC_E_NOMEM;
        }
        memcpy(fixed, line, len);
        scan_escapes(line, len, &nul, &lone, fixed);
        line = fixed;
    }
    if (nul) {
        /* answered as invalid params with the id when it can be read (and as a parse error
         * when the line is not JSON at all) */
        cJSON *peek = cJSON_ParseWithLength(line, len);
        const cJSON *pid = cJSON_IsObject(peek) ? cJSON_GetObjectItemCaseSensitive(peek, "id") : NULL;
        if (peek)
            *err_line = alc_rpc_error_line(alc_rpc_valid_id(pid) ? pid : NULL, ALC_RPC_INVALID_PARAMS,
                                           "Invalid params: strings containing U+0000 (\\u0000) are not supported", NULL, err_len);
        else
            *err_line = alc_rpc_error_line(NULL, ALC_RPC_PARSE_ERROR, "Parse error: message is not valid JSON", NULL, err_len);
        int rc = peek ? ALC_E_INVAL : ALC_E_PARSE;
        cJSON_Delete(peek);
        free(fixed);
        return rc;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (root && end) {
        /* allow trailing whitespace only */
        const char *p = end, *stop = line + len;
        while (p < stop && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
        if (p != stop) { cJSON_Delete(root); root = NULL; }
    }
    free(fixed); /* the tree holds copies */
    if (!root) {
        *err_line = alc_rpc_error_line(NULL, ALC_RPC_PARSE_ERROR, "Parse error: message is not valid JSON", NULL, err_len);
        return ALC_E_PARSE;
    }
    if (cJSON_IsArray(root)) {
        cJSON_Delete(root);
        *err_line = alc_rpc_error_line(NULL, ALC_RPC_INVALID_REQUEST,
            "Invalid Request: JSON-RPC batches are not supported by this protocol version", NULL, err_len);
        return ALC_E_INVALID_REQUEST;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *err_line = alc_rpc_error_line(NULL, ALC_RPC_INVALID_REQUEST, "Invalid Request: message must be a JSON object", NULL, err_len);
        return ALC_E_INVALID_REQUEST;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const cJSON *jsonrpc = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *why = NULL;
    if (!cJSON_IsString(jsonrpc) || strcmp(jsonrpc->valuestring, "2.0") != 0)
        why = "Invalid Request: \"jsonrpc\" must be \"2.0\"";
    else if (id && !alc_rpc_valid_id(id))
        why = "Invalid Request: \"id\" must be a string or an integer";
    else if (lone && cJSON_IsString(id) && strstr(id->valuestring, "\xEF\xBF\xBD")) {
        /* the repaired id would not match the one the client waits for: say so at once */
        why = "Invalid Request: \"id\" holds an unpaired UTF-16 surrogate";
        id = NULL;
    } else if (method) {
        static const char *const req_members[] = {"jsonrpc", "id", "method", "params", NULL};
        if (!cJSON_IsString(method)) why = "Invalid Request: \"method\" must be a string";
        else if (params && !cJSON_IsObject(params)) why = "Invalid Request: \"params\" must be an object";
        else why = check_members(root, req_members);
        if (!why) {
            msg->kind = id ? ALC_MSG_REQUEST : ALC_MSG_NOTIFICATION;
            msg->method = method->valuestring;
            msg->params = params;
        }
    } else if (id && (result || error)) {
        static const char *const resp_members[] = {"jsonrpc", "id", "result", "error", NULL};
        if (result && error) why = "Invalid Request: response has both result and error";
        else why = check_members(root, resp_members);
        if (!why) {
            msg->kind = ALC_MSG_RESPONSE;
            msg->result = result;
            msg->error = error;
        }
    } else {
        why = "Invalid Request: missing \"method\"";
    }
    if (why) {
        /* the error carries the id when it was readable and valid, else no id */
        *err_line = error_reply(id, ALC_RPC_INVALID_REQUEST, why, err_len);
        cJSON_Delete(root);
        return ALC_E_INVALID_REQUEST;
    }
    msg->root = root;
    msg->id = id;
    return ALC_OK;
}

void alc_rpc_msg_deinit(alc_rpc_msg *msg) {
    cJSON_Delete(msg->root);
    memset(msg, 0, sizeof *msg);
}

static void put_head(alc_jbuf *b, const cJSON *id) {
    alc_jbuf_puts(b, "{\"jsonrpc\":\"2.0\"");
    if (id) {
        alc_jbuf_puts(b, ",\"id\":");
        alc_rpc_put_id(b, id);
    }
}

/* Builds a result response line. */
char *alc_rpc_result_line(const cJSON *id, const char *result_json, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    put_head(&b, id);
    alc_jbuf_puts(&b, ",\"result\":");
    alc_jbuf_puts(&b, result_json);
    alc_jbuf_puts(&b, "}");
    return alc_jbuf_take(&b, len);
}

/* Builds an error response line. */
char *alc_rpc_error_line(const cJSON *id, int code, const char *message, const char *data_json, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    put_head(&b, id);
    alc_jbuf_printf(&b, ",\"error\":{\"code\":%d,\"message\":", code);
    alc_jbuf_json_str(&b, message, strlen(message));
    if (data_json) {
        alc_jbuf_puts(&b, ",\"data\":");
        alc_jbuf_puts(&b, data_json);
    }
    alc_jbuf_puts(&b, "}}");
    return alc_jbuf_take(&b, len);
}

/* Builds a tools/call result line with one text block. */
char *alc_rpc_tool_result_line(const cJSON *id, const char *text, size_t text_len, bool is_error, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    put_head(&b, id);
    alc_jbuf_puts(&b, ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
    alc_jbuf_json_str(&b, text, text_len);
    alc_jbuf_puts(&b, is_error ? "}],\"isError\":true}}" : "}],\"isError\":false}}");
    return alc_jbuf_take(&b, len);
}

/* Builds a notification line. */
char *alc_rpc_notification_line(const char *method, const char *params_json, size_t *len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"jsonrpc\":\"2.0\",\"method\":");
    alc_jbuf_json_str(&b, method, strlen(method));
    if (params_json) {
        alc_jbuf_puts(&b, ",\"params\":");
        alc_jbuf_puts(&b, params_json);
    }
    alc_jbuf_puts(&b, "}");
    return alc_jbuf_take(&b, len);
}

