/*
 * json_conv.c — Lua <-> JSON conversion (spec §4.2): the null sentinel, the shared array
 * metatable, a strict JSON text decoder that builds Lua values directly, a cJSON -> Lua
 * converter for ctx, a non-raising Lua -> JSON text encoder, and the Lua C functions
 * alc.json_encode / alc.json_decode. The mapping rules are listed in include/alc/json_conv.h.
 *
 * Memory discipline (CONVENTIONS 12): the encoder runs only Lua API calls that cannot raise
 * (lua_rawgeti, lua_next, lua_rawlen, lua_tolstring on strings, lua_checkstack ...) while its
 * malloc'd output buffer is live; numbers are formatted here, never through lua_tolstring. The
 * decoder allocates nothing with malloc while calling into Lua, except a number's text copy,
 * which is freed before the number is pushed; strings go from the input buffer straight into
 * lua_pushlstring or a luaL_Buffer.
 *
 * Threads: every function works on the lua_State it is given and must run on the thread that
 * owns that state. There is no global mutable state; the registry keys are static addresses.
 */
#include "alc/json_conv.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "alc/error.h"

// Its address is the registry key of the shared array metatable.
static const char array_mt_key = 'A';

/* ------------------------------------------------------------------------------------------ */
/* Sentinel and array metatable                                                                */
/* ------------------------------------------------------------------------------------------ */

/*
 * Per-state setup: creates the shared array metatable and stores it in the registry (under a
 * private light-userdata key and under ALC_JSON_ARRAY_MT_FIELD). The null sentinel is a light
 * userdata NULL and needs no storage; callers publish it as alc.null via alc_json_push_null.
 * Call once per lua_State before any other function here. May raise (memory errors only).
 */
void alc_json_conv_open(lua_State *L) {
    lua_createtable(L, 0, 0);                                      // mt
    lua_pushvalue(L, -1);                                          // mt mt
    lua_setfield(L, LUA_REGISTRYINDEX, ALC_JSON_ARRAY_MT_FIELD);   // mt
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key);              // (empty)
}

/* Pushes the null sentinel (light userdata NULL). Never raises. */
void alc_json_push_null(lua_State *L) {
    lua_pushlightuserdata(L, NULL);
}

/* Returns true iff the value at idx is the null sentinel. Never raises. */
bool alc_json_is_null(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/*
 * Sets the shared array metatable on the table at idx (which must be a table), so that it
 * encodes as a JSON array even when empty. Requires alc_json_conv_open. Never raises
 * (needs one free stack slot, which every C function has).
 */
void alc_json_mark_array(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    assert(lua_type(L, idx) == LUA_TTABLE);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);   // ... mt
    assert(lua_type(L, -1) == LUA_TTABLE && "alc_json_conv_open not called");
    lua_setmetatable(L, idx);                           // ...
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                       */
/* ------------------------------------------------------------------------------------------ */

// Length (1-4) of the well-formed UTF-8 sequence at s (n bytes available), or 0 if the bytes
// there are not one (overlong forms, surrogates and code points above U+10FFFF are rejected).
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;    // overlong
        if (c == 0xED && s[1] >= 0xA0) return 0;   // UTF-16 surrogate
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;    // overlong
        if (c == 0xF4 && s[1] >= 0x90) return 0;   // above U+10FFFF
        return 4;
    }
    return 0;
}

// Writes code point cp (< 0x110000, not a surrogate) as UTF-8 into p; returns the byte count.
// True iff s[0..n) is well-formed UTF-8.
static bool utf8_ok(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

static size_t utf8_put(char *p, uint32_t cp) {
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | (cp >> 6));
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | (cp >> 12));
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (cp >> 18));
    p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------------------------------ */
/* Number formatting (shared by the encoder for values and keys)                               */
/* ------------------------------------------------------------------------------------------ */

// Shortest of %.15g/%.16g/%.17g that reads back as d; appends ".0" when the text would read
// as an integer. d must be finite. buf needs at least 32 bytes. Returns the length.
static size_t fmt_double(double d, char *buf, size_t n) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d) break;
    }
    size_t len = strlen(buf);
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ',') buf[i] = '.';   // defensive: a non-C LC_NUMERIC decimal comma
    if (!strpbrk(buf, ".eE") && len + 2 < n) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    return len;
}

/* ------------------------------------------------------------------------------------------ */
/* Encoder: Lua value -> JSON text                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;   // sticky: once set, nothing more is appended
} sbuf;

static bool sb_reserve(sbuf *b, size_t extra) {
    if (b->oom) return false;
    if (extra <= b->cap - b->len) return true;
    size_t need = b->len + extra;
    if (need < b->len) goto fail;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    char *np = realloc(b->p, ncap);
    if (!np) goto fail;
    b->p = np;
    b->cap = ncap;
    return true;
fail:
    b->oom = true;
    return false;
}

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (!sb_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_addc(sbuf *b, char c) {
    if (!sb_reserve(b, 1)) return;
    b->p[b->len++] = c;
}

// One step of the JSON path from the root to the value being encoded.
typedef struct {
    const char *key;      // object key (borrowed from a Lua string or an okey), or NULL
    size_t klen;
    lua_Integer index;    // 1-based array index when key is NULL
} pseg;

typedef struct {
    lua_State *L;
    sbuf out;
    alc_json_warn_fn warn;
    void *warn_ud;
    size_t nwarn;          // warnings raised so far (including suppressed ones)
    char *err;
    size_t errlen;
    int rc;
    int mtidx;             // stack index of the array metatable (or nil)
    int depth;             // number of tables currently open
    const void *open[ALC_JSON_MAX_DEPTH];     // tables currently open, for cycle detection
    pseg path[ALC_JSON_MAX_DEPTH + 1];
    int npath;
} enc;

// Writes the current JSON path ("$", "$.a[2]", "$[\"odd key\"]") into buf, truncating with
// "..." when it does not fit.
static void render_path(const enc *e, char *buf, size_t n) {
    sbuf b = {0};
    sb_addc(&b, '$');
    for (int i = 0; i < e->npath && b.len < n; i++) {
        const pseg *s = &e->path[i];
        if (!s->key) {
            char tmp[32];
            int k = snprintf(tmp, sizeof tmp, "[%lld]", (long long)s->index);
            sb_add(&b, tmp, (size_t)k);
            continue;
        }
        bool ident = s->klen > 0 && !(s->key[0] >= '0' && s->key[0] <= '9');
        for (size_t j = 0; j < s->klen && ident; j++) {
            unsigned char c = (unsigned char)s->key[j];
            ident = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
        }
        size_t shown = s->klen > 60 ? 60 : s->klen;
        if (ident) {
            sb_addc(&b, '.');
            sb_add(&b, s->key, shown);
            if (shown < s->klen) sb_add(&b, "...", 3);
            continue;
        }
        sb_add(&b, "[\"", 2);
        for (size_t j = 0; j < shown; j++) {
            unsigned char c = (unsigned char)s->key[j];
            if (c == '"' || c == '\\') sb_addc(&b, '\\');
            sb_addc(&b, c < 0x20 ? '?' : (char)c);
        }
        if (shown < s->klen) sb_add(&b, "...", 3);
        sb_add(&b, "\"]", 2);
    }
    if (b.oom || !b.p) {
        snprintf(buf, n, "$");
    } else if (b.len < n) {
        memcpy(buf, b.p, b.len);
        buf[b.len] = '\0';
    } else if (n > 0) {
        size_t keep = n > 4 ? n - 4 : 0;
        memcpy(buf, b.p, keep);
        snprintf(buf + keep, n - keep, "...");
    }
    free(b.p);
}

// Records the first error: rc plus "<message> at <path>". Returns -1.
static int enc_fail(enc *e, int rc, const char *what) {
    if (e->rc == ALC_OK) {
        char path[256];
        render_path(e, path, sizeof path);
        e->rc = rc;
        if (e->err && e->errlen) snprintf(e->err, e->errlen, "%s at %s", what, path);
    }
    return -1;
}

// True if the caller should format and send a warning (counts it either way).
static bool enc_want_warning(enc *e) {
    if (!e->warn) return false;
    return ++e->nwarn <= ALC_JSON_MAX_WARNINGS;
}

static void enc_warnf(enc *e, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->warn(e->warn_ud, msg);
}

// Appends s (n bytes) as a JSON string literal. Invalid UTF-8 bytes become U+FFFD.
static void enc_string(enc *e, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    sbuf *b = &e->out;
    size_t bad = 0, run = 0, i = 0;
    sb_reserve(b, n + 2);
    sb_addc(b, '"');
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = utf8_seq_len(s + i, n - i);
            if (l) {
                i += l;
                continue;
            }
        }
        sb_add(b, str + run, i - run);
        switch (c) {
        case '"': sb_add(b, "\\\"", 2); break;
        case '\\': sb_add(b, "\\\\", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\r': sb_add(b, "\\r", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        case '\b': sb_add(b, "\\b", 2); break;
        case '\f': sb_add(b, "\\f", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sb_add(b, u, 6);
            } else {   // an invalid UTF-8 byte
                sb_add(b, "\xEF\xBF\xBD", 3);
                bad++;
            }
        }
        i++;
        run = i;
    }
    sb_add(b, str + run, i - run);
    sb_addc(b, '"');
    if (bad && enc_want_warning(e)) {
        char path[256];
        render_path(e, path, sizeof path);
        enc_warnf(e, "invalid UTF-8 in string at %s: %zu byte%s replaced by U+FFFD", path, bad,
                  bad == 1 ? "" : "s");
    }
}

static int enc_value(enc *e, int idx);

static int enc_array(enc *e, int idx, lua_Unsigned n) {
    lua_State *L = e->L;
    sb_addc(&e->out, '[');
    for (lua_Unsigned i = 1; i <= n; i++) {
        if (i > 1) sb_addc(&e->out, ',');
        lua_rawgeti(L, idx, (lua_Integer)i);                       // ... elem
        e->path[e->npath++] = (pseg){NULL, 0, (lua_Integer)i};
        int rc = enc_value(e, lua_gettop(L));
        e->npath--;
        lua_pop(L, 1);                                             // ...
        if (rc < 0) return rc;
    }
    sb_addc(&e->out, ']');

    // Keys other than 1..n are dropped; count them so that the loss is reported.
    size_t extra = 0;
    lua_pushnil(L);                                                // ... nil
    while (lua_next(L, idx)) {                                     // ... k v
        lua_pop(L, 1);                                             // ... k
        if (lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k >= 1 && (lua_Unsigned)k <= n) continue;
        }
        extra++;
    }
    if (extra && enc_want_warning(e)) {
        char path[256];
        render_path(e, path, sizeof path);
        enc_warnf(e, "table at %s mixes array and non-array keys; %zu non-array key%s dropped",
                  path, extra, extra == 1 ? "" : "s");
    }
    return 0;
}

// One object member while an object is being encoded.
typedef struct {
    const char *k;     // string key (borrowed from the Lua string, which the table keeps alive)
    size_t klen;
    int vidx;          // stack index of the value
    bool numkey;       // key text lives in num instead of k
    bool owned;        // k is a malloc'd UTF-8 repair of the Lua key (freed after encoding)
    char num[40];
} okey;

// Copy of s[0..n) with every byte that is not part of well-formed UTF-8 replaced by U+FFFD.
static char *utf8_repair(const char *s, size_t n, size_t *outlen) {
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        if (k) { memcpy(out + o, s + i, k); o += k; i += k; }
        else { memcpy(out + o, "\xEF\xBF\xBD", 3); o += 3; i++; }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static const char *okey_text(const okey *o) {
    return o->numkey ? o->num : o->k;
}

static int okey_cmp(const void *a, const void *b) {
    const okey *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(okey_text(x), okey_text(y), n);
    if (c) return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

static int enc_object(enc *e, int idx) {
    lua_State *L = e->L;
    int base = lua_gettop(L);
    okey *keys = NULL;
    size_t nk = 0, cap = 0;
    int rc = -1;
    char msg[128];

    // Pass 1: collect the keys; each value stays on the stack below the iteration key.
    lua_pushnil(L);                                                // ... nil
    while (lua_next(L, idx)) {                                     // ... vals k v
        if (nk == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            okey *nkeys = realloc(keys, ncap * sizeof *keys);
            if (!nkeys) {
                enc_fail(e, ALC_E_NOMEM, "out of memory");
                goto fail;
            }
            keys = nkeys;
            cap = ncap;
        }
        okey *o = &keys[nk];
        o->numkey = false;
        o->owned = false;
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
            o->k = lua_tolstring(L, -2, &o->klen);   // a string: no conversion, no allocation
            o->owned = false;
            /* invalid UTF-8 in a key is repaired like in values; two keys that become equal
             * that way are caught by the duplicate check below */
            if (!utf8_ok(o->k, o->klen)) {
                size_t rl;
                char *rep = utf8_repair(o->k, o->klen, &rl);
                if (!rep) {
                    enc_fail(e, ALC_E_NOMEM, "out of memory");
                    goto fail;
                }
                o->k = rep;
                o->klen = rl;
                o->owned = true;
                if (enc_want_warning(e)) {
                    char path[256];
                    render_path(e, path, sizeof path);
                    enc_warnf(e, "invalid UTF-8 in an object key at %s replaced by U+FFFD", path);
                }
                nk++; /* counted now so that the clean-up frees it even if we fail below */
                lua_rotate(L, -2, 1);
                o->vidx = lua_gettop(L) - 1;
                if (!lua_checkstack(L, 3)) {
                    enc_fail(e, ALC_E_NOMEM, "table too large to encode (Lua stack exhausted)");
                    goto fail;
                }
                continue;
            }
        } else if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
            o->numkey = true;
            o->k = NULL;
            o->klen = (size_t)snprintf(o->num, sizeof o->num, LUA_INTEGER_FMT,
                                       (LUAI_UACINT)lua_tointeger(L, -2));
        } else if (kt == LUA_TNUMBER && isfinite((double)lua_tonumber(L, -2))) {
            o->numkey = true;
            o->k = NULL;
            o->klen = fmt_double((double)lua_tonumber(L, -2), o->num, sizeof o->num);
        } else {
            if (kt == LUA_TNUMBER)
                snprintf(msg, sizeof msg, "cannot encode non-finite number as object key");
            else
                snprintf(msg, sizeof msg, "cannot encode table key of type %s",
                         lua_typename(L, kt));
            enc_fail(e, ALC_E_INVAL, msg);
            goto fail;
        }
        lua_rotate(L, -2, 1);                                      // ... vals v k
        o->vidx = lua_gettop(L) - 1;
        nk++;
        if (!lua_checkstack(L, 3)) {
            enc_fail(e, ALC_E_NOMEM, "table too large to encode (Lua stack exhausted)");
            goto fail;
        }
    }                                                              // ... vals

    if (nk > 1) qsort(keys, nk, sizeof *keys, okey_cmp);
    for (size_t i = 1; i < nk; i++) {
        if (okey_cmp(&keys[i - 1], &keys[i]) == 0) {
            snprintf(msg, sizeof msg, "duplicate object key \"%.*s\" after number or UTF-8 conversion",
                     (int)(keys[i].klen > 40 ? 40 : keys[i].klen), okey_text(&keys[i]));
            enc_fail(e, ALC_E_INVAL, msg);
            goto fail;
        }
    }

    // Pass 2: emit in key order.
    sb_addc(&e->out, '{');
    for (size_t i = 0; i < nk; i++) {
        if (i) sb_addc(&e->out, ',');
        e->path[e->npath++] = (pseg){okey_text(&keys[i]), keys[i].klen, 0};
        enc_string(e, okey_text(&keys[i]), keys[i].klen);
        sb_addc(&e->out, ':');
        int vrc = enc_value(e, keys[i].vidx);
        e->npath--;
        if (vrc < 0) goto fail;
    }
    sb_addc(&e->out, '}');
    rc = 0;
fail:
    lua_settop(L, base);                                           // ...
    for (size_t i = 0; i < nk; i++) if (keys[i].owned) free((char *)keys[i].k);
    free(keys);
    return rc;
}

static int enc_table(enc *e, int idx) {
    lua_State *L = e->L;
    if (e->depth >= ALC_JSON_MAX_DEPTH) return enc_fail(e, ALC_E_LIMIT, "nesting too deep");
    const void *tp = lua_topointer(L, idx);
    for (int i = 0; i < e->depth; i++)
        if (e->open[i] == tp) return enc_fail(e, ALC_E_INVAL, "cannot encode cyclic table");
    if (!lua_checkstack(L, 4)) return enc_fail(e, ALC_E_NOMEM, "Lua stack exhausted");

    bool is_array = false;
    if (lua_getmetatable(L, idx)) {                                // ... mt
        is_array = lua_rawequal(L, -1, e->mtidx);
        lua_pop(L, 1);                                             // ...
    }
    lua_Unsigned n = lua_rawlen(L, idx);

    e->open[e->depth++] = tp;
    int rc = (is_array || n > 0) ? enc_array(e, idx, n) : enc_object(e, idx);
    e->depth--;
    return rc;
}

static int enc_value(enc *e, int idx) {
    lua_State *L = e->L;
    char msg[96];
    int t = lua_type(L, idx);
    switch (t) {
    case LUA_TNIL:
        sb_add(&e->out, "null", 4);
        break;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) sb_add(&e->out, "true", 4);
        else sb_add(&e->out, "false", 5);
        break;
    case LUA_TNUMBER: {
        char num[48];
        size_t n;
        if (lua_isinteger(L, idx)) {
            n = (size_t)snprintf(num, sizeof num, LUA_INTEGER_FMT,
                                 (LUAI_UACINT)lua_tointeger(L, idx));
        } else {
            double d = (double)lua_tonumber(L, idx);
            if (!isfinite(d)) {
                sb_add(&e->out, "null", 4);
                if (enc_want_warning(e)) {
                    char path[256];
                    render_path(e, path, sizeof path);
                    enc_warnf(e, "%s at %s cannot be represented in JSON; encoded as null",
                              isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity", path);
                }
                break;
            }
            n = fmt_double(d, num, sizeof num);
        }
        sb_add(&e->out, num, n);
        break;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);   // a string: no conversion, no allocation
        enc_string(e, s, n);
        break;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {
            sb_add(&e->out, "null", 4);
            break;
        }
        return enc_fail(e, ALC_E_INVAL, "cannot encode value of type userdata");
    case LUA_TTABLE:
        if (enc_table(e, idx) < 0) return -1;
        break;
    default:
        snprintf(msg, sizeof msg, "cannot encode value of type %s", lua_typename(L, t));
        return enc_fail(e, ALC_E_INVAL, msg);
    }
    if (e->out.oom) return enc_fail(e, ALC_E_NOMEM, "out of memory");
    return 0;
}

/*
 * Encodes the Lua value at idx as compact JSON text (rules in json_conv.h).
 * On success returns ALC_OK and sets *out (returns new, NUL-terminated, free with free()) and
 * *outlen (without the NUL). On failure returns ALC_E_INVAL (unsupported value, key or cycle),
 * ALC_E_LIMIT (nesting deeper than ALC_JSON_MAX_DEPTH) or ALC_E_NOMEM, leaves *out NULL and
 * writes "<what> at <path>" into err (borrowed, errlen bytes; may be NULL).
 * warn (may be NULL) is called with warn_ud for lossy-but-allowed conversions, at most
 * ALC_JSON_MAX_WARNINGS times plus one summary; the message is borrowed for the call and warn
 * must not call into L. Never raises; leaves the Lua stack as it found it. Requires
 * alc_json_conv_open for array-metatable detection.
 */
int alc_json_encode_lua(lua_State *L, int idx, char **out, size_t *outlen, alc_json_warn_fn warn,
                        void *warn_ud, char *err, size_t errlen) {
    *out = NULL;
    *outlen = 0;
    if (err && errlen) err[0] = '\0';
    enc *e = calloc(1, sizeof *e);   // about 7 KiB: keep it off the session thread's stack
    if (!e) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    int rc = ALC_OK;
    e->L = L;
    e->warn = warn;
    e->warn_ud = warn_ud;
    e->err = err;
    e->errlen = errlen;
    if (!lua_checkstack(L, 4)) {
        enc_fail(e, ALC_E_NOMEM, "Lua stack exhausted");
        rc = e->rc;
        goto fail;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);             // ... mt
    e->mtidx = lua_gettop(L);
    if (enc_value(e, idx) < 0 || !sb_reserve(&e->out, 1)) {
        if (e->rc == ALC_OK) enc_fail(e, ALC_E_NOMEM, "out of memory");
        rc = e->rc;
        goto fail;
    }
    e->out.p[e->out.len] = '\0';
    if (warn && e->nwarn > ALC_JSON_MAX_WARNINGS) {
        char msg[96];
        size_t more = e->nwarn - ALC_JSON_MAX_WARNINGS;
        snprintf(msg, sizeof msg, "%zu further warning%s suppressed", more, more == 1 ? "" : "s");
        warn(warn_ud, msg);
    }
    *out = e->out.p;
    *outlen = e->out.len;
    e->out.p = NULL;
fail:
    lua_settop(L, top);
    free(e->out.p);
    free(e);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoder: JSON text -> Lua value                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    lua_State *L;
    const unsigned char *s;
    size_t n, pos;
    int mtidx;          // stack index of the array metatable (or nil)
    char *err;
    size_t errlen;
    int rc;
} dec;

static int dec_fail_rc(dec *d, int rc, size_t at, const char *what) {
    d->rc = rc;
    if (d->err && d->errlen) snprintf(d->err, d->errlen, "JSON parse error at byte %zu: %s", at, what);
    return -1;
}

static int dec_fail(dec *d, size_t at, const char *what) {
    return dec_fail_rc(d, ALC_E_PARSE, at, what);
}

static void dec_ws(dec *d) {
    while (d->pos < d->n) {
        unsigned char c = d->s[d->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        d->pos++;
    }
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The 4 hex digits at p (already validated).
static uint32_t hex4(const unsigned char *p) {
    return (uint32_t)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

// Decodes the validated string body s[0..n) with escapes into out (room for n bytes).
static size_t unescape(const unsigned char *s, size_t n, char *out) {
    size_t i = 0, k = 0;
    while (i < n) {
        if (s[i] != '\\') {
            out[k++] = (char)s[i++];
            continue;
        }
        unsigned char c = s[i + 1];
        i += 2;
        switch (c) {
        case 'b': out[k++] = '\b'; break;
        case 'f': out[k++] = '\f'; break;
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case 'u': {
            uint32_t cp = hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
                uint32_t lo = hex4(s + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;   // lone surrogate
            k += utf8_put(out + k, cp);
            break;
        }
        default: out[k++] = (char)c; break;   // '"' '\\' '/'
        }
    }
    return k;
}

// d->pos is at the opening quote. Validates, then pushes the string. Returns 0 or -1.
static int dec_string(dec *d) {
    const unsigned char *s = d->s;
    size_t start = d->pos + 1, i = start;
    bool escaped = false;
    for (;;) {
        if (i >= d->n) return dec_fail(d, i, "unterminated string");
        unsigned char c = s[i];
        if (c == '"') break;
        if (c == '\\') {
            if (i + 1 >= d->n) return dec_fail(d, i + 1, "unterminated string");
            unsigned char x = s[i + 1];
            if (x == 'u') {
                for (size_t j = 2; j < 6; j++) {
                    if (i + j >= d->n) return dec_fail(d, i + j, "unterminated string");
                    if (hexval(s[i + j]) < 0) return dec_fail(d, i, "invalid \\u escape");
                }
                i += 6;
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                       x == 'r' || x == 't') {
                i += 2;
            } else {
                return dec_fail(d, i, "invalid escape");
            }
            escaped = true;
            continue;
        }
        if (c < 0x20) return dec_fail(d, i, "control character in string");
        if (c >= 0x80) {
            size_t l = utf8_seq_len(s + i, d->n - i);
            if (!l) return dec_fail(d, i, "invalid UTF-8 in string");
            i += l;
            continue;
        }
        i++;
    }
    d->pos = i + 1;
    if (!escaped) {
        lua_pushlstring(d->L, (const char *)s + start, i - start);       // ... str
    } else {
        luaL_Buffer b;
        char *p = luaL_buffinitsize(d->L, &b, i - start);                // ... box
        luaL_pushresultsize(&b, unescape(s + start, i - start, p));      // ... str
    }
    return 0;
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

// d->pos is at '-' or a digit. Validates the RFC 8259 grammar and pushes the number.
static int dec_number(dec *d) {
    const unsigned char *s = d->s;
    size_t st = d->pos, i = st, n = d->n;
    bool neg = false, integral = true;
    if (s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= n || !is_digit(s[i])) return dec_fail(d, i, "invalid number");
    size_t digits = i;
    if (s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i])) return dec_fail(d, i - 1, "leading zeros are not allowed");
    } else {
        while (i < n && is_digit(s[i])) i++;
    }
    size_t digits_end = i;
    if (i < n && s[i] == '.') {
        integral = false;
        i++;
        if (i >= n || !is_digit(s[i])) return dec_fail(d, i, "expected digit after '.'");
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        integral = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return dec_fail(d, i, "expected digit in exponent");
        while (i < n && is_digit(s[i])) i++;
    }
    d->pos = i;

    if (integral) {
        uint64_t mag = 0;
        bool overflow = false;
        for (size_t j = digits; j < digits_end && !overflow; j++) {
            unsigned dg = (unsigned)(s[j] - '0');
            if (mag > (UINT64_MAX - dg) / 10) overflow = true;
            else mag = mag * 10 + dg;
        }
        if (!overflow) {
            if (!neg && mag <= (uint64_t)INT64_MAX) {
                lua_pushinteger(d->L, (lua_Integer)mag);
                return 0;
            }
            if (neg && mag == 0) {   // "-0": keep the sign, as a float
                lua_pushnumber(d->L, -0.0);
                return 0;
            }
            if (neg && mag <= (uint64_t)INT64_MAX + 1) {
                lua_pushinteger(d->L, mag == (uint64_t)INT64_MAX + 1 ? (lua_Integer)INT64_MIN
                                                                      : -(lua_Integer)mag);
                return 0;
            }
        }
        // Too large for int64: falls through to a float.
    }

    char small[64], *text = small;
    size_t len = i - st;
    if (len >= sizeof small) {
        text = malloc(len + 1);
        if (!text) return dec_fail_rc(d, ALC_E_NOMEM, st, "out of memory");
    }
    memcpy(text, s + st, len);
    text[len] = '\0';
    double v = strtod(text, NULL);
    if (text != small) free(text);   // freed before any Lua call
    if (isinf(v)) return dec_fail(d, st, "number out of range");
    lua_pushnumber(d->L, (lua_Number)v);
    return 0;
}

static int dec_value(dec *d, int depth);

static int dec_array(dec *d, int depth) {
    lua_State *L = d->L;
    if (depth > ALC_JSON_MAX_DEPTH) return dec_fail(d, d->pos, "nesting too deep");
    if (!lua_checkstack(L, 4)) return dec_fail_rc(d, ALC_E_NOMEM, d->pos, "Lua stack exhausted");
    lua_createtable(L, 0, 0);                                     // ... arr
    lua_pushvalue(L, d->mtidx);                                   // ... arr mt
    lua_setmetatable(L, -2);                                      // ... arr
    d->pos++;
    dec_ws(d);
    if (d->pos < d->n && d->s[d->pos] == ']') {
        d->pos++;
        return 0;
    }
    for (lua_Integer i = 1;; i++) {
        if (dec_value(d, depth) < 0) return -1;                   // ... arr v
        lua_rawseti(L, -2, i);                                    // ... arr
        dec_ws(d);
        if (d->pos >= d->n) return dec_fail(d, d->pos, "unexpected end of input");
        unsigned char c = d->s[d->pos++];
        if (c == ']') return 0;
        if (c != ',') return dec_fail(d, d->pos - 1, "expected ',' or ']'");
    }
}

static int dec_object(dec *d, int depth) {
    lua_State *L = d->L;
    if (depth > ALC_JSON_MAX_DEPTH) return dec_fail(d, d->pos, "nesting too deep");
    if (!lua_checkstack(L, 5)) return dec_fail_rc(d, ALC_E_NOMEM, d->pos, "Lua stack exhausted");
    lua_createtable(L, 0, 0);                                     // ... obj
    d->pos++;
    dec_ws(d);
    if (d->pos < d->n && d->s[d->pos] == '}') {
        d->pos++;
        return 0;
    }
    for (;;) {
        dec_ws(d);
        if (d->pos >= d->n) return dec_fail(d, d->pos, "unexpected end of input");
        if (d->s[d->pos] != '"') return dec_fail(d, d->pos, "expected string key");
        if (dec_string(d) < 0) return -1;                         // ... obj k
        dec_ws(d);
        if (d->pos >= d->n) return dec_fail(d, d->pos, "unexpected end of input");
        if (d->s[d->pos] != ':') return dec_fail(d, d->pos, "expected ':'");
        d->pos++;
        if (dec_value(d, depth) < 0) return -1;                   // ... obj k v
        lua_rawset(L, -3);                                        // ... obj   (last key wins)
        dec_ws(d);
        if (d->pos >= d->n) return dec_fail(d, d->pos, "unexpected end of input");
        unsigned char c = d->s[d->pos++];
        if (c == '}') return 0;
        if (c != ',') return dec_fail(d, d->pos - 1, "expected ',' or '}'");
    }
}

static int dec_literal(dec *d, const char *word) {
    size_t wl = strlen(word), avail = d->n - d->pos;
    size_t cmp = avail < wl ? avail : wl;
    if (memcmp(d->s + d->pos, word, cmp) != 0) return dec_fail(d, d->pos, "expected value");
    if (avail < wl) return dec_fail(d, d->n, "unexpected end of input");
    d->pos += wl;
    return 0;
}

// Parses one value at d->pos (after whitespace) and pushes it. depth = containers open.
static int dec_value(dec *d, int depth) {
    dec_ws(d);
    if (d->pos >= d->n) return dec_fail(d, d->pos, "unexpected end of input");
    unsigned char c = d->s[d->pos];
    switch (c) {
    case '{': return dec_object(d, depth + 1);
    case '[': return dec_array(d, depth + 1);
    case '"': return dec_string(d);
    case 't':
        if (dec_literal(d, "true") < 0) return -1;
        lua_pushboolean(d->L, 1);
        return 0;
    case 'f':
        if (dec_literal(d, "false") < 0) return -1;
        lua_pushboolean(d->L, 0);
        return 0;
    case 'n':
        if (dec_literal(d, "null") < 0) return -1;
        alc_json_push_null(d->L);
        return 0;
    default:
        if (c == '-' || is_digit(c)) return dec_number(d);
        return dec_fail(d, d->pos, "expected value");
    }
}

/*
 * Parses JSON text (borrowed, len bytes, need not be NUL-terminated) and pushes one Lua value
 * (rules in json_conv.h). Returns ALC_OK; or ALC_E_PARSE (ALC_E_NOMEM if the Lua stack cannot
 * grow) with "JSON parse error at byte N: <what>" in err (borrowed, errlen bytes, may be NULL)
 * and nothing pushed. May raise only on Lua memory errors (no C allocation is live then).
 * Requires alc_json_conv_open.
 */
int alc_json_decode_push(lua_State *L, const char *text, size_t len, char *err, size_t errlen) {
    dec d = {L, (const unsigned char *)(text ? text : ""), text ? len : 0, 0, 0, err, errlen,
             ALC_OK};
    int base = lua_gettop(L);
    if (err && errlen) err[0] = '\0';
    if (!lua_checkstack(L, 4)) {
        dec_fail_rc(&d, ALC_E_NOMEM, 0, "Lua stack exhausted");
        return d.rc;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);           // ... mt
    d.mtidx = lua_gettop(L);
    if (dec_value(&d, 0) < 0) goto fail;                         // ... mt v
    dec_ws(&d);
    if (d.pos < d.n) {
        dec_fail(&d, d.pos, "unexpected characters after the value");
        goto fail;
    }
    lua_remove(L, d.mtidx);                                      // ... v
    assert(lua_gettop(L) == base + 1);
    return ALC_OK;
fail:
    lua_settop(L, base);                                         // ...
    return d.rc;
}

/* ------------------------------------------------------------------------------------------ */
/* cJSON -> Lua                                                                                */
/* ------------------------------------------------------------------------------------------ */

/*
 * Pushes the Lua value for the cJSON tree j (borrowed; NULL pushes the null sentinel), with
 * the mapping in json_conv.h. A cJSON_Raw item is decoded as JSON text, or pushed as a string
 * if it does not parse. Recursion follows the tree (cJSON's parser caps nesting at 1000).
 * May raise (memory errors, Lua stack overflow). Requires alc_json_conv_open.
 */
void alc_json_push_cjson(lua_State *L, const cJSON *j) {
    luaL_checkstack(L, 4, "alc_json_push_cjson");
    if (!j || cJSON_IsNull(j) || cJSON_IsInvalid(j)) {
        alc_json_push_null(L);
    } else if (cJSON_IsFalse(j)) {
        lua_pushboolean(L, 0);
    } else if (cJSON_IsTrue(j)) {
        lua_pushboolean(L, 1);
    } else if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        if (v == floor(v) && fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v)))
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, (lua_Number)v);
    } else if (cJSON_IsString(j)) {
        lua_pushstring(L, j->valuestring ? j->valuestring : "");
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);             // ... arr
        alc_json_mark_array(L, -1);
        lua_Integer i = 0;
        for (const cJSON *c = j->child; c; c = c->next) {
            alc_json_push_cjson(L, c);                            // ... arr v
            lua_rawseti(L, -2, ++i);                              // ... arr
        }
    } else if (cJSON_IsObject(j)) {
        lua_createtable(L, 0, cJSON_GetArraySize(j));             // ... obj
        for (const cJSON *c = j->child; c; c = c->next) {
            if (!c->string) continue;
            lua_pushstring(L, c->string);                         // ... obj k
            alc_json_push_cjson(L, c);                            // ... obj k v
            lua_rawset(L, -3);                                    // ... obj
        }
    } else if (cJSON_IsRaw(j) && j->valuestring) {
        if (alc_json_decode_push(L, j->valuestring, strlen(j->valuestring), NULL, 0) != ALC_OK)
            lua_pushstring(L, j->valuestring);
    } else {
        alc_json_push_null(L);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Lua-facing functions                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    char msgs[ALC_JSON_MAX_WARNINGS + 1][320];
    int n;
} warn_box;

static void collect_warning(void *ud, const char *msg) {
    warn_box *w = ud;
    if (w->n < ALC_JSON_MAX_WARNINGS + 1) snprintf(w->msgs[w->n++], sizeof w->msgs[0], "%s", msg);
}

typedef struct {
    const char *p;
    size_t n;
} text_box;

// Runs under lua_pcall so that a memory error while copying the C buffer cannot leak it.
static int push_text_protected(lua_State *L) {
    const text_box *t = lua_touserdata(L, 1);
    lua_pushlstring(L, t->p, t->n);
    return 1;
}

/*
 * alc.json_encode(v) -> string. Compact JSON with sorted keys (rules in json_conv.h).
 * Raises "alc.json_encode: <message>" when v cannot be encoded. Warnings are passed, prefixed
 * with "alc.json_encode: ", to registry[ALC_JSON_WARN_FIELD] if that is a function (called after
 * the C buffer is freed; its errors propagate); otherwise they are dropped.
 */
int alc_lua_json_encode(lua_State *L) {
    lua_settop(L, 1);                                             // v
    warn_box w;
    w.n = 0;
    char err[320];
    char *out = NULL;
    size_t outlen = 0;
    int rc = alc_json_encode_lua(L, 1, &out, &outlen, collect_warning, &w, err, sizeof err);
    if (rc != ALC_OK) return luaL_error(L, "alc.json_encode: %s", err);
    text_box t = {out, outlen};
    lua_pushcfunction(L, push_text_protected);                    // v f     (no allocation)
    lua_pushlightuserdata(L, &t);                                 // v f t
    int st = lua_pcall(L, 1, 1, 0);                               // v s|errobj
    free(out);
    if (st != LUA_OK) return lua_error(L);
    if (w.n > 0) {
        lua_getfield(L, LUA_REGISTRYINDEX, ALC_JSON_WARN_FIELD);  // v s fn
        if (lua_isfunction(L, -1)) {
            for (int i = 0; i < w.n; i++) {
                lua_pushvalue(L, -1);                             // v s fn fn
                lua_pushfstring(L, "alc.json_encode: %s", w.msgs[i]); // v s fn fn msg
                lua_call(L, 1, 0);                                // v s fn
            }
        }
        lua_pop(L, 1);                                            // v s
    }
    assert(lua_gettop(L) == 2);
    return 1;
}

/*
 * alc.json_decode(s) -> value. Strict JSON (rules in json_conv.h); null becomes the sentinel,
 * arrays carry the array metatable. Raises "alc.json_decode: JSON parse error at byte N: ..."
 * on bad input.
 */
int alc_lua_json_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[256];
    int rc = alc_json_decode_push(L, s, len, err, sizeof err);   // s v
    if (rc != ALC_OK) return luaL_error(L, "alc.json_decode: %s", err);
    return 1;
}
