/*
 * jbuf.c — growable buffer and JSON string escaping for building protocol lines.
 * A buffer has one owner at a time; no locking.
 */
#include "alc/jbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

void alc_jbuf_init(alc_jbuf *b) { memset(b, 0, sizeof *b); }

void alc_jbuf_deinit(alc_jbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static bool reserve(alc_jbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) { b->oom = true; return false; }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) { b->oom = true; return false; }
    b->data = p;
    b->cap = cap;
    return true;
}

/* Appends n raw bytes after growing the buffer; see alc_jbuf_put. */
void alc__jbuf_put_grow(alc_jbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Appends v in decimal; see jbuf.h. */
void alc_jbuf_put_ll(alc_jbuf *b, long long v) {
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[--i] = '-';
    alc_jbuf_put(b, tmp + i, sizeof tmp - i);
}

/* Appends printf-formatted text. */
void alc_jbuf_printf(alc_jbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = true; return; }
    if ((size_t)n < sizeof tmp) { alc_jbuf_put(b, tmp, (size_t)n); return; }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* True iff s[0..n) is valid UTF-8. */
bool alc_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

/* What alc_jbuf_json_str does with each byte: 0 copies it, 1 escapes it (a control character,
 * '"' or '\\'), 2 starts a multi-byte UTF-8 sequence that is checked (or is invalid). */
static const unsigned char json_byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x90 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xA0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xB0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xC0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xD0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xE0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xF0 */
};

/* Length of the longest prefix of p[0..n) that is copied as is (class 0), eight bytes at a time
 * while whole words qualify. For a word w, (x - 0x01..) & ~x & 0x80.. is non-zero iff some
 * byte of x is 0, and (w - 0x20..) & ~w & 0x80.. iff some byte of w is < 0x20; w & 0x80..
 * flags bytes >= 0x80. A flagged word is finished byte by byte. Short runs are scanned byte by
 * byte only, where words do not pay. */
static size_t plain_prefix(const unsigned char *p, size_t n) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    /* JSON-in-JSON has runs of a few bytes between quotes: look at the first 16 bytes one by one */
    size_t i = 0, first = n < 16 ? n : 16;
    while (i < first && json_byte_class[p[i]] == 0) i++;
    if (i < first || i == n) return i;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t quote = w ^ (ones * (uint64_t)'"'), slash = w ^ (ones * (uint64_t)'\\');
        uint64_t flagged = ((w - ones * 0x20u) & ~w) | ((quote - ones) & ~quote) | ((slash - ones) & ~slash) | w;
        if (flagged & highs) break;
        i += 8;
    }
    while (i < n && json_byte_class[p[i]] == 0) i++;
    return i;
}

/* Writes the escape for the ASCII byte c (class 1) at o; returns its length (2 or 6). */
static size_t json_escape_ascii(char *o, unsigned c) {
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    switch (c) {
    case '"': o[1] = '"'; return 2;
    case '\\': o[1] = '\\'; return 2;
    case '\n': o[1] = 'n'; return 2;
    case '\r': o[1] = 'r'; return 2;
    case '\t': o[1] = 't'; return 2;
    case '\b': o[1] = 'b'; return 2;
    case '\f': o[1] = 'f'; return 2;
    default:
        o[1] = 'u'; o[2] = '0'; o[3] = '0';
        o[4] = hex[c >> 4]; o[5] = hex[c & 15];
        return 6;
    }
}

/* Appends a JSON string literal for s[0..n). Writes straight into the buffer: it reserves room
 * for the unescaped text up front and grows only when an escape makes the text longer.
 * Invariant: cap >= (bytes written) + (input bytes left) + 2 (closing quote, NUL). */
void alc_jbuf_json_str(alc_jbuf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    if (!reserve(b, n + 2)) return;
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        i += plain_prefix(p + i, n - i);
        if (i > run) {
            memcpy(b->data + b->len, p + run, i - run);
            b->len += i - run;
        }
        if (i == n) break;
        unsigned c = p[i];
        if (json_byte_class[c] == 2) {
            size_t k = utf8_seq(p + i, n - i);
            if (k) { /* valid: copied as is, same length */
                memcpy(b->data + b->len, p + i, k);
                b->len += k;
                i += k;
                continue;
            }
        }
        /* an escape (up to 6 bytes) or U+FFFD (3 bytes) for one input byte */
        if (!reserve(b, 6 + (n - i - 1) + 1)) return;
        if (c >= 0x80) {
            memcpy(b->data + b->len, "\xEF\xBF\xBD", 3); /* U+FFFD for an invalid byte */
            b->len += 3;
        } else {
            b->len += json_escape_ascii(b->data + b->len, c);
        }
        i++;
    }
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
}

/* Transfers ownership of the bytes to the caller. */
char *alc_jbuf_take(alc_jbuf *b, size_t *len) {
    if (b->oom) { alc_jbuf_deinit(b); return NULL; }
    if (!b->data && !reserve(b, 0)) return NULL;
    char *d = b->data;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

static int cmp_items(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* Sorts object members by key, recursively. */
void alc_json_sort_keys(cJSON *tree) {
    if (!tree) return;
    for (cJSON *c = tree->child; c; c = c->next) alc_json_sort_keys(c);
    if (!cJSON_IsObject(tree) || !tree->child || !tree->child->next) return;
    size_t n = 0;
    for (cJSON *c = tree->child; c; c = c->next) n++;
    cJSON **v = malloc(n * sizeof *v);
    if (!v) return; /* unsorted output is still valid JSON */
    size_t i = 0;
    for (cJSON *c = tree->child; c; c = c->next) v[i++] = c;
    qsort(v, n, sizeof *v, cmp_items);
    for (i = 0; i < n; i++) {
        v[i]->prev = i ? v[i - 1] : v[n - 1]; /* cJSON: head->prev is the tail */
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
    }
    tree->child = v[0];
    free(v);
}

/* Prints compactly with sorted keys. */
char *alc_json_print_sorted(cJSON *tree) {
    alc_json_sort_keys(tree);
    return cJSON_PrintUnformatted(tree);
}

/* Converts d to long long only when that is exact and defined. */
bool alc_double_to_ll(double d, long long *out) {
    if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
    *out = (long long)d;
    return true;
}
