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

/* Appends n raw bytes. */
void alc_jbuf_put(alc_jbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void alc_jbuf_puts(alc_jbuf *b, const char *s) { alc_jbuf_put(b, s, strlen(s)); }

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

/* Appends a JSON string literal for s[0..n). */
void alc_jbuf_json_str(alc_jbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    if (!reserve(b, n + 2)) return;
    alc_jbuf_put(b, "\"", 1);
    size_t run = 0; /* start of the current run of bytes copied verbatim */
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t skip = 1;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) { i++; continue; }
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, n - i);
            if (k) { i += k; continue; }
            esc = "\xEF\xBF\xBD"; /* U+FFFD for an invalid byte */
        } else if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c == '\b') esc = "\\b";
        else if (c == '\f') esc = "\\f";
        else {
            ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
            ubuf[4] = hex[c >> 4]; ubuf[5] = hex[c & 15]; ubuf[6] = 0;
            esc = ubuf;
        }
        alc_jbuf_put(b, s + run, i - run);
        alc_jbuf_puts(b, esc);
        i += skip;
        run = i;
    }
    alc_jbuf_put(b, s + run, n - run);
    alc_jbuf_put(b, "\"", 1);
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
