/*
 * error.c — names, messages and JSON-RPC codes for the ALC_ERR_MAP table.
 * Pure functions; any thread.
 */
#include "alc/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static const struct {
    const char *name;
    const char *message;
    int rpc;
} err_table[] = {
    [0] = {"ALC_OK", "ok", 0},
#define XX(name, rpc, msg) [ALC__ERR_INDEX_##name] = {"ALC_E_" #name, msg, rpc},
    ALC_ERR_MAP(XX)
#undef XX
};

static int index_of(int rc) {
    if (rc > 0 || -rc >= ALC__ERR_INDEX_COUNT) return -1;
    return -rc;
}

/* Symbolic name of rc, or "ALC_E_UNKNOWN". */
const char *alc_err_name(int rc) {
    int i = index_of(rc);
    return i < 0 ? "ALC_E_UNKNOWN" : err_table[i].name;
}

/* Human message for rc; never NULL. */
const char *alc_err_message(int rc) {
    int i = index_of(rc);
    return i < 0 ? "unknown error" : err_table[i].message;
}

/* JSON-RPC code that rc maps to; -32603 (internal error) for unknown codes and for ALC_OK. */
int alc_err_rpc_code(int rc) {
    int i = index_of(rc);
    return (i <= 0) ? -32603 : err_table[i].rpc;
}

/* Writes a formatted message into err (errlen bytes) when err is not NULL. */
void alc_errf(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
