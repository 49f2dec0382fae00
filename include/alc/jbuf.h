/*
 * jbuf.h — a growable byte buffer with JSON-aware appenders, used to build protocol lines
 * without building and re-printing cJSON trees. Single-owner: not thread-safe; any thread
 * may use its own buffer.
 */
#ifndef ALC_JBUF_H
#define ALC_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct alc_jbuf {
    char *data;   /* NUL-terminated while !oom */
    size_t len;
    size_t cap;
    bool oom;     /* set once an append failed; later appends are no-ops */
} alc_jbuf;

void alc_jbuf_init(alc_jbuf *b);
void alc_jbuf_deinit(alc_jbuf *b);
/* Appends raw bytes: the slow path (growth, OOM) of alc_jbuf_put. */
void alc__jbuf_put_grow(alc_jbuf *b, const char *s, size_t n);

/* Appends raw bytes. Inline because reply lines are built from many short pieces: the common
 * case is one compare and a short memcpy. */
static inline void alc_jbuf_put(alc_jbuf *b, const char *s, size_t n) {
    if (b->len + n < b->cap && !b->oom) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        alc__jbuf_put_grow(b, s, n);
    }
}

/* Appends a NUL-terminated string (strlen of a literal folds to a constant here). */
static inline void alc_jbuf_puts(alc_jbuf *b, const char *s) { alc_jbuf_put(b, s, strlen(s)); }
void alc_jbuf_printf(alc_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal (what printf's %lld gives, without printf: this is on the reply path). */
void alc_jbuf_put_ll(alc_jbuf *b, long long v);
/* Appends s (n bytes) as a quoted, escaped JSON string. Invalid UTF-8 becomes U+FFFD. */
void alc_jbuf_json_str(alc_jbuf *b, const char *s, size_t n);
/* Hands the buffer to the caller (returns new, free()); the jbuf is reset. NULL if oom. */
char *alc_jbuf_take(alc_jbuf *b, size_t *len);

/* Returns true iff s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool alc_utf8_valid(const char *s, size_t n);

#include <cjson/cJSON.h>
/* Prints a cJSON tree compactly with object keys sorted (recursively, in place). Returns new
 * (free()) or NULL on OOM. */
char *alc_json_print_sorted(cJSON *tree);
/* Sorts object keys recursively in place (byte order). */
void alc_json_sort_keys(cJSON *tree);

/* Reads a JSON number as an integer without undefined behaviour: true and *out when d is
 * finite, integral and within [-2^63, 2^63); false otherwise (1e19, 1e400, NaN, 2.5). */
bool alc_double_to_ll(double d, long long *out);

#endif
