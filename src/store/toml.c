/*
 * toml.c — the TOML subset parser behind alc's project files (see toml.h for what is
 * supported). A single recursive-descent pass over the text builds a cJSON tree; the first
 * error stops the parse and is reported with its line number.
 *
 * TOML's rules against redefinition are kept with three pointer sets: tables opened by a
 * [header] (may not be opened twice), tables created by dotted keys (may be extended by dotted
 * keys but not opened by a header) and inline tables (never extended), plus the arrays created
 * by [[header]] (the only arrays a header may append to).
 *
 * Threads: no shared state; any thread.
 */
#include "alc/toml.h"

#include "alc/error.h"
#include "alc/fsutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_PARTS 32
#define MAX_DEPTH 64

typedef struct ptrset {
    const cJSON **v;
    size_t n, cap;
} ptrset;

typedef struct parser {
    const char *p, *end;
    int line;
    cJSON *root;
    cJSON *cur;           /* table that key/value lines go to */
    ptrset header;        /* tables opened by [header] */
    ptrset dotted;        /* tables created by dotted keys */
    ptrset inl;           /* inline tables */
    ptrset aot;           /* arrays created by [[header]] */
    char *err;
    size_t errlen;
    int err_line;
    int rc;               /* first failure; ALC_OK while parsing goes well */
} parser;

typedef struct keypath {
    char *part[MAX_KEY_PARTS];
    size_t n;
} keypath;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser *ps, const char *fmt, ...) {
    if (ps->rc != ALC_OK) return ps->rc;
    ps->rc = ALC_E_PARSE;
    ps->err_line = ps->line;
    if (ps->err && ps->errlen) {
        char msg[384];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(ps->err, ps->errlen, "line %d: %s", ps->line, msg);
    }
    return ps->rc;
}

static int oom(parser *ps) {
    if (ps->rc == ALC_OK) {
        ps->rc = ALC_E_NOMEM;
        ps->err_line = ps->line;
        if (ps->err && ps->errlen) snprintf(ps->err, ps->errlen, "out of memory parsing TOML");
    }
    return ps->rc;
}

static bool set_has(const ptrset *s, const cJSON *x) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == x) return true;
    return false;
}

static int set_add(parser *ps, ptrset *s, const cJSON *x) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        const cJSON **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return oom(ps);
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return ALC_OK;
}

static void keypath_free(keypath *k) {
    for (size_t i = 0; i < k->n; i++) free(k->part[i]);
    k->n = 0;
}

/* ---- lexical helpers ---------------------------------------------------------------- */

static bool at_end(const parser *ps) { return ps->p >= ps->end; }
static char peek(const parser *ps) { return at_end(ps) ? '\0' : *ps->p; }

static void skip_ws(parser *ps) {
    while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t')) ps->p++;
}

static bool at_newline(const parser *ps) {
    return !at_end(ps) && (*ps->p == '\n' || (*ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'));
}

static void eat_newline(parser *ps) {
    if (*ps->p == '\r') ps->p++;
    ps->p++;
    ps->line++;
}

static void skip_comment(parser *ps) {
    while (!at_end(ps) && *ps->p != '\n' && *ps->p != '\r') ps->p++;
}

/* Skips spaces, newlines and comments (inside arrays). Fails on a lone CR. */
static int skip_ws_nl(parser *ps) {
    for (;;) {
        skip_ws(ps);
        if (at_end(ps)) return ALC_OK;
        if (*ps->p == '#') { skip_comment(ps); continue; }
        if (at_newline(ps)) { eat_newline(ps); continue; }
        if (*ps->p == '\r') return fail(ps, "carriage return without a line feed");
        return ALC_OK;
    }
}

/* After a value or header: optional spaces and comment, then a newline or the end. */
static int expect_eol(parser *ps, const char *after) {
    skip_ws(ps);
    if (peek(ps) == '#') skip_comment(ps);
    if (at_end(ps)) return ALC_OK;
    if (at_newline(ps)) { eat_newline(ps); return ALC_OK; }
    char c = *ps->p;
    if ((unsigned char)c >= 0x20 && c != 0x7f) return fail(ps, "unexpected '%c' after %s (expected the end of the line)", c, after);
    return fail(ps, "unexpected control character 0x%02x after %s", (unsigned char)c, after);
}

/* ---- strings ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *d;
    size_t n, cap;
} sbuf;

static bool sbuf_put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 32;
        while (nc < b->n + n + 1) nc *= 2;
        char *nd = realloc(b->d, nc);
        if (!nd) return false;
        b->d = nd;
        b->cap = nc;
    }
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = '\0';
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t utf8_encode(unsigned long cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a basic ("...") or literal ('...') single-line string at ps->p. *out returns new. */
static int parse_string(parser *ps, char **out) {
    char q = *ps->p;
    *out = NULL;
    if (ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q)
        return fail(ps, "multi-line strings (%c%c%c) are not supported", q, q, q);
    ps->p++;
    sbuf b = {0};
    if (!sbuf_put(&b, "", 0)) return oom(ps);
    for (;;) {
        if (at_end(ps) || *ps->p == '\n' || *ps->p == '\r') {
            free(b.d);
            return fail(ps, "unterminated string (a string must end on the line where it starts)");
        }
        char c = *ps->p;
        if (c == q) { ps->p++; break; }
        if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f) {
            free(b.d);
            return fail(ps, "control character 0x%02x inside a string (use an escape)", (unsigned char)c);
        }
        if (c == '\\' && q == '"') {
            ps->p++;
            char e = peek(ps);
            const char *rep = NULL;
            switch (e) {
            case 'b': rep = "\b"; break;
            case 't': rep = "\t"; break;
            case 'n': rep = "\n"; break;
            case 'f': rep = "\f"; break;
            case 'r': rep = "\r"; break;
            case '"': rep = "\""; break;
            case '\\': rep = "\\"; break;
            case 'u': case 'U': {
                int digits = e == 'u' ? 4 : 8;
                if (ps->end - ps->p < digits + 1) { free(b.d); return fail(ps, "truncated \\%c escape", e); }
                unsigned long cp = 0;
                for (int i = 1; i <= digits; i++) {
                    int h = hexval(ps->p[i]);
                    if (h < 0) { free(b.d); return fail(ps, "bad hex digit in \\%c escape", e); }
                    cp = cp * 16 + (unsigned long)h;
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                    free(b.d);
                    return fail(ps, "\\%c escape U+%04lX is not allowed here", e, cp);
                }
                char enc[4];
                size_t n = utf8_encode(cp, enc);
                if (!sbuf_put(&b, enc, n)) { free(b.d); return oom(ps); }
                ps->p += digits + 1;
                continue;
            }
            default:
                free(b.d);
                if ((unsigned char)e >= 0x20 && e != 0x7f) return fail(ps, "unknown escape '\\%c' in a string", e);
                return fail(ps, "unknown escape in a string");
            }
            if (!sbuf_put(&b, rep, 1)) { free(b.d); return oom(ps); }
            ps->p++;
            continue;
        }
        if (!sbuf_put(&b, &c, 1)) { free(b.d); return oom(ps); }
        ps->p++;
    }
    *out = b.d;
    return ALC_OK;
}

/* ---- keys --------------------------------------------------------------------------- */

static bool bare_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Parses key ( '.' key )* into k (k->n parts, each new). */
static int parse_keypath(parser *ps, keypath *k) {
    k->n = 0;
    for (;;) {
        skip_ws(ps);
        char c = peek(ps);
        char *part = NULL;
        if (c == '"' || c == '\'') {
            if (parse_string(ps, &part) != ALC_OK) goto fail;
        } else if (bare_key_char(c)) {
            const char *s = ps->p;
            while (!at_end(ps) && bare_key_char(*ps->p)) ps->p++;
            part = strndup(s, (size_t)(ps->p - s));
            if (!part) { oom(ps); goto fail; }
        } else {
            if (at_end(ps) || at_newline(ps)) fail(ps, "expected a key");
            else fail(ps, "expected a key, found '%c'", c);
            goto fail;
        }
        if (k->n == MAX_KEY_PARTS) { free(part); fail(ps, "key has more than %d dotted parts", MAX_KEY_PARTS); goto fail; }
        k->part[k->n++] = part;
        skip_ws(ps);
        if (peek(ps) != '.') return ALC_OK;
        ps->p++;
    }
fail:
    keypath_free(k);
    return ps->rc;
}

/* ---- values ------------------------------------------------------------------------- */

static int parse_value(parser *ps, cJSON **out, int depth);
static int insert_keyval(parser *ps, cJSON *table, keypath *k, cJSON *value, bool in_inline);

static int parse_array(parser *ps, cJSON **out, int depth) {
    ps->p++;  // '['
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return oom(ps);
    for (;;) {
        if (skip_ws_nl(ps) != ALC_OK) goto fail;
        if (at_end(ps)) { fail(ps, "unterminated array (missing ']')"); goto fail; }
        if (*ps->p == ']') { ps->p++; break; }
        cJSON *v = NULL;
        if (parse_value(ps, &v, depth + 1) != ALC_OK) goto fail;
        if (!cJSON_AddItemToArray(arr, v)) { cJSON_Delete(v); oom(ps); goto fail; }
        if (skip_ws_nl(ps) != ALC_OK) goto fail;
        if (peek(ps) == ',') { ps->p++; continue; }
        if (peek(ps) == ']') { ps->p++; break; }
        if (at_end(ps)) fail(ps, "unterminated array (missing ']')");
        else fail(ps, "expected ',' or ']' in an array, found '%c'", *ps->p);
        goto fail;
    }
    *out = arr;
    return ALC_OK;
fail:
    cJSON_Delete(arr);
    return ps->rc;
}

static int parse_inline_table(parser *ps, cJSON **out, int depth) {
    ps->p++;  // '{'
    cJSON *t = cJSON_CreateObject();
    if (!t || set_add(ps, &ps->inl, t) != ALC_OK) { cJSON_Delete(t); return oom(ps); }
    skip_ws(ps);
    if (peek(ps) == '}') { ps->p++; *out = t; return ALC_OK; }
    for (;;) {
        keypath k;
        if (parse_keypath(ps, &k) != ALC_OK) goto fail;
        skip_ws(ps);
        if (peek(ps) != '=') {
            fail(ps, "expected '=' after the key '%s'", k.part[k.n - 1]);
            keypath_free(&k);
            goto fail;
        }
        ps->p++;
        skip_ws(ps);
        cJSON *v = NULL;
        if (parse_value(ps, &v, depth + 1) != ALC_OK) { keypath_free(&k); goto fail; }
        int rc = insert_keyval(ps, t, &k, v, true);
        keypath_free(&k);
        if (rc != ALC_OK) goto fail;
        skip_ws(ps);
        if (peek(ps) == ',') { ps->p++; continue; }
        if (peek(ps) == '}') { ps->p++; break; }
        if (at_end(ps) || at_newline(ps)) fail(ps, "unterminated inline table (an inline table must end on its line with '}')");
        else fail(ps, "expected ',' or '}' in an inline table, found '%c'", *ps->p);
        goto fail;
    }
    *out = t;
    return ALC_OK;
fail:
    cJSON_Delete(t);
    return ps->rc;
}

/* Integer or float from the token s[0..n). */
static int parse_number(parser *ps, const char *s, size_t n, cJSON **out) {
    char buf[128];
    size_t m = 0;
    bool is_float = false;
    int base = 10;
    size_t i = 0;
    bool neg = false;
    if (n >= sizeof buf) return fail(ps, "number too long");
    if (s[0] == '+' || s[0] == '-') { neg = s[0] == '-'; i = 1; }
    const char *rest = s + i;
    size_t rn = n - i;
    if ((rn == 3 && (memcmp(rest, "inf", 3) == 0 || memcmp(rest, "nan", 3) == 0)))
        return fail(ps, "inf and nan cannot be represented in JSON");
    if (rn > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'o' || rest[1] == 'b')) {
        if (i) return fail(ps, "a sign is not allowed on hexadecimal, octal or binary integers");
        base = rest[1] == 'x' ? 16 : rest[1] == 'o' ? 8 : 2;
        i += 2;
    }
    if (i >= n) return fail(ps, "invalid number '%.*s'", (int)n, s);
    if (neg) buf[m++] = '-';
    char prev = '\0';
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            bool ok_prev = base == 16 ? hexval(prev) >= 0 : (prev >= '0' && prev <= '9');
            bool ok_next = i + 1 < n && (base == 16 ? hexval(s[i + 1]) >= 0 : (s[i + 1] >= '0' && s[i + 1] <= '9'));
            if (!ok_prev || !ok_next) return fail(ps, "'_' in a number must be between two digits");
            prev = c;
            continue;
        }
        if (base == 10 && (c == '.' || c == 'e' || c == 'E' || ((c == '+' || c == '-') && (prev == 'e' || prev == 'E')))) {
            is_float = true;
        } else if (base == 16 ? hexval(c) < 0 : !(c >= '0' && c < (base == 10 ? ':' : (char)('0' + base)))) {
            return fail(ps, "invalid number '%.*s'", (int)n, s);
        }
        buf[m++] = c;
        prev = c;
    }
    buf[m] = '\0';
    const char *digits = buf + (neg ? 1 : 0);
    if (base == 10 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9')
        return fail(ps, "leading zeros are not allowed in '%.*s'", (int)n, s);
    char *endp = NULL;
    double d;
    errno = 0;
    if (is_float) {
        const char *dot = strchr(buf, '.');
        if (dot && (dot == digits || !(dot[1] >= '0' && dot[1] <= '9')))
            return fail(ps, "a '.' in a float must have digits on both sides: '%.*s'", (int)n, s);
        d = strtod(buf, &endp);
    } else {
        long long v = strtoll(buf, &endp, base);
        if (errno == ERANGE) return fail(ps, "integer '%.*s' is out of range", (int)n, s);
        d = (double)v;
    }
    if (!endp || *endp || errno) return fail(ps, "invalid number '%.*s'", (int)n, s);
    *out = cJSON_CreateNumber(d);
    return *out ? ALC_OK : oom(ps);
}

static int parse_value(parser *ps, cJSON **out, int depth) {
    *out = NULL;
    if (depth > MAX_DEPTH) return fail(ps, "values nested more than %d deep", MAX_DEPTH);
    char c = peek(ps);
    if (c == '"' || c == '\'') {
        char *s = NULL;
        if (parse_string(ps, &s) != ALC_OK) return ps->rc;
        *out = cJSON_CreateString(s);
        free(s);
        return *out ? ALC_OK : oom(ps);
    }
    if (c == '[') return parse_array(ps, out, depth);
    if (c == '{') return parse_inline_table(ps, out, depth);
    if (at_end(ps) || at_newline(ps) || c == '#') return fail(ps, "expected a value");
    const char *s = ps->p;
    while (!at_end(ps) && (bare_key_char(*ps->p) || *ps->p == '+' || *ps->p == '.' || *ps->p == ':')) ps->p++;
    size_t n = (size_t)(ps->p - s);
    if (n == 0) return fail(ps, "expected a value, found '%c'", c);
    if (n == 4 && memcmp(s, "true", 4) == 0) { *out = cJSON_CreateTrue(); return *out ? ALC_OK : oom(ps); }
    if (n == 5 && memcmp(s, "false", 5) == 0) { *out = cJSON_CreateFalse(); return *out ? ALC_OK : oom(ps); }
    if (memchr(s, ':', n) || (n >= 5 && s[4] == '-' && s[0] >= '0' && s[0] <= '9'))
        return fail(ps, "dates and times are not supported ('%.*s'); quote the value", (int)n, s);
    if (!(s[0] >= '0' && s[0] <= '9') && s[0] != '+' && s[0] != '-' && !(n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0)))
        return fail(ps, "invalid value '%.*s' (strings must be quoted)", (int)n, s);
    return parse_number(ps, s, n, out);
}

/* ---- tables ------------------------------------------------------------------------- */

/* Puts value at table[k] following dotted keys; owns value (freed on failure). */
static int insert_keyval(parser *ps, cJSON *table, keypath *k, cJSON *value, bool in_inline) {
    cJSON *t = table;
    for (size_t i = 0; i + 1 < k->n; i++) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(t, k->part[i]);
        if (!child) {
            child = cJSON_CreateObject();
            if (!child || !cJSON_AddItemToObject(t, k->part[i], child)) { cJSON_Delete(child); cJSON_Delete(value); return oom(ps); }
            if (set_add(ps, in_inline ? &ps->inl : &ps->dotted, child) != ALC_OK) { cJSON_Delete(value); return ps->rc; }
        } else if (!cJSON_IsObject(child) || set_has(&ps->header, child) ||
                   (set_has(&ps->inl, child) && !in_inline)) {
            cJSON_Delete(value);
            return fail(ps, "cannot add '%s' to '%s': it is already defined", k->part[k->n - 1], k->part[i]);
        }
        t = child;
    }
    const char *last = k->part[k->n - 1];
    if (cJSON_GetObjectItemCaseSensitive(t, last)) {
        cJSON_Delete(value);
        return fail(ps, "duplicate key '%s'", last);
    }
    if (!cJSON_AddItemToObject(t, last, value)) { cJSON_Delete(value); return oom(ps); }
    return ALC_OK;
}

/* Walks a header's key path from the root, creating implicit tables; returns the parent of
 * the last part in *parent. */
static int header_parent(parser *ps, const keypath *k, cJSON **parent) {
    cJSON *t = ps->root;
    for (size_t i = 0; i + 1 < k->n; i++) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(t, k->part[i]);
        if (!child) {
            child = cJSON_CreateObject();
            if (!child || !cJSON_AddItemToObject(t, k->part[i], child)) { cJSON_Delete(child); return oom(ps); }
        } else if (cJSON_IsArray(child) && set_has(&ps->aot, child)) {
            child = cJSON_GetArrayItem(child, cJSON_GetArraySize(child) - 1);
        } else if (!cJSON_IsObject(child) || set_has(&ps->inl, child)) {
            return fail(ps, "'%s' is already defined as a value, not a table", k->part[i]);
        }
        t = child;
    }
    *parent = t;
    return ALC_OK;
}

static int parse_header(parser *ps) {
    bool aot = ps->p + 1 < ps->end && ps->p[1] == '[';
    ps->p += aot ? 2 : 1;
    keypath k;
    if (parse_keypath(ps, &k) != ALC_OK) return ps->rc;
    skip_ws(ps);
    if (peek(ps) != ']' || (aot && (ps->p + 1 >= ps->end || ps->p[1] != ']'))) {
        keypath_free(&k);
        return fail(ps, aot ? "expected ']]' to close the array-of-tables header" : "expected ']' to close the table header");
    }
    ps->p += aot ? 2 : 1;
    cJSON *parent = NULL;
    if (header_parent(ps, &k, &parent) != ALC_OK) { keypath_free(&k); return ps->rc; }
    const char *last = k.part[k.n - 1];
    cJSON *item = cJSON_GetObjectItemCaseSensitive(parent, last);
    if (aot) {
        if (!item) {
            item = cJSON_CreateArray();
            if (!item || !cJSON_AddItemToObject(parent, last, item)) { cJSON_Delete(item); keypath_free(&k); return oom(ps); }
            if (set_add(ps, &ps->aot, item) != ALC_OK) { keypath_free(&k); return ps->rc; }
        } else if (!cJSON_IsArray(item) || !set_has(&ps->aot, item)) {
            fail(ps, "[[%s]]: '%s' is already defined and is not an array of tables", last, last);
            keypath_free(&k);
            return ps->rc;
        }
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddItemToArray(item, t)) { cJSON_Delete(t); keypath_free(&k); return oom(ps); }
        if (set_add(ps, &ps->header, t) != ALC_OK) { keypath_free(&k); return ps->rc; }
        ps->cur = t;
    } else {
        if (!item) {
            item = cJSON_CreateObject();
            if (!item || !cJSON_AddItemToObject(parent, last, item)) { cJSON_Delete(item); keypath_free(&k); return oom(ps); }
        } else if (!cJSON_IsObject(item) || set_has(&ps->header, item) || set_has(&ps->dotted, item) ||
                   set_has(&ps->inl, item)) {
            fail(ps, "table [%s] is defined more than once (or '%s' is already a value)", last, last);
            keypath_free(&k);
            return ps->rc;
        }
        if (set_add(ps, &ps->header, item) != ALC_OK) { keypath_free(&k); return ps->rc; }
        ps->cur = item;
    }
    keypath_free(&k);
    return expect_eol(ps, "a table header");
}

/* Parses the TOML text; see toml.h. */
int alc_toml_parse(const char *text, size_t len, cJSON **out, int *err_line, char *err, size_t errlen) {
    *out = NULL;
    if (err_line) *err_line = 0;
    if (err && errlen) err[0] = '\0';
    parser ps = {.p = text, .end = text + len, .line = 1, .err = err, .errlen = errlen, .rc = ALC_OK};
    if (!text && len) return ALC_E_INVAL;
    if (len && memchr(text, '\0', len)) {
        /* report the line of the first NUL */
        const char *z = memchr(text, '\0', len);
        for (const char *q = text; q < z; q++) if (*q == '\n') ps.line++;
        fail(&ps, "NUL byte in the file");
        goto done;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
    ps.root = cJSON_CreateObject();
    if (!ps.root) { oom(&ps); goto done; }
    ps.cur = ps.root;
    while (ps.rc == ALC_OK) {
        skip_ws(&ps);
        if (at_end(&ps)) break;
        char c = *ps.p;
        if (at_newline(&ps)) { eat_newline(&ps); continue; }
        if (c == '#') { skip_comment(&ps); continue; }
        if (c == '\r') { fail(&ps, "carriage return without a line feed"); break; }
        if (c == '[') { parse_header(&ps); continue; }
        keypath k;
        if (parse_keypath(&ps, &k) != ALC_OK) break;
        skip_ws(&ps);
        if (peek(&ps) != '=') {
            fail(&ps, "expected '=' after the key '%s'", k.part[k.n - 1]);
            keypath_free(&k);
            break;
        }
        ps.p++;
        skip_ws(&ps);
        cJSON *v = NULL;
        if (parse_value(&ps, &v, 0) != ALC_OK) { keypath_free(&k); break; }
        int rc = insert_keyval(&ps, ps.cur, &k, v, false);
        keypath_free(&k);
        if (rc != ALC_OK) break;
        expect_eol(&ps, "a value");
    }
done:
    free(ps.header.v);
    free(ps.dotted.v);
    free(ps.inl.v);
    free(ps.aot.v);
    if (ps.rc != ALC_OK) {
        cJSON_Delete(ps.root);
        if (err_line) *err_line = ps.err_line;
        return ps.rc;
    }
    *out = ps.root;
    return ALC_OK;
}

/* Reads and parses a TOML file; see toml.h. */
int alc_toml_parse_file(const char *path, cJSON **out, char *err, size_t errlen) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = alc_fs_read_file(path, ALC_TOML_FILE_MAX, &text, &len, err, errlen);
    if (rc != ALC_OK) return rc;
    char msg[448];
    int line = 0;
    rc = alc_toml_parse(text, len, out, &line, msg, sizeof msg);
    free(text);
    if (rc == ALC_E_PARSE) {
        const char *what = strncmp(msg, "line ", 5) == 0 ? strchr(msg, ':') : NULL;
        snprintf(err, errlen, "%s:%d: %s", path, line, what ? what + 2 : msg);
    } else if (rc != ALC_OK) {
        snprintf(err, errlen, "%s: %s", path, msg);
    }
    return rc;
}
