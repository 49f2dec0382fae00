/* Unit tests for the JSON text buffer (include/alc/jbuf.h). */
#include "alc/jbuf.h"

#include "helpers.h"

#include <limits.h>

static char *ll_text(long long v) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_put_ll(&b, v);
    return alc_jbuf_take(&b, NULL);
}

Test(jbuf, put_ll_writes_what_printf_writes) {
    const long long values[] = {0, 1, -1, 9, 10, -10, 1024, 123456789012345LL, -98765, LLONG_MAX, LLONG_MIN,
                                LLONG_MIN + 1, 9007199254740991LL, -9007199254740991LL};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "%lld", values[i]);
        char *got = ll_text(values[i]);
        cr_assert_str_eq(got, want);
        free(got);
    }
    ALC_ASSERT_NO_LEAKS();
}

Test(jbuf, put_ll_appends_after_other_text) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"max_tokens\":");
    alc_jbuf_put_ll(&b, 1024);
    alc_jbuf_puts(&b, ",\"n\":");
    alc_jbuf_put_ll(&b, -7);
    alc_jbuf_puts(&b, "}");
    size_t len = 0;
    char *s = alc_jbuf_take(&b, &len);
    cr_assert_str_eq(s, "{\"max_tokens\":1024,\"n\":-7}");
    cr_assert_eq(len, strlen(s));
    free(s);
    ALC_ASSERT_NO_LEAKS();
}

/* The escaping rules written out byte by byte, as the test's oracle: the fast escaper must
 * produce exactly this. Invalid UTF-8 bytes become U+FFFD, one per byte. */
static void oracle_json_str(alc_jbuf *b, const unsigned char *p, size_t n) {
    alc_jbuf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        char tmp[8];
        if (c >= 0x80) {
            size_t k = 0;
            if (c >= 0xC2 && c <= 0xF4) {
                size_t len = c <= 0xDF ? 2 : c <= 0xEF ? 3 : 4;
                if (i + len <= n) {
                    unsigned cp = c & (0x7F >> len);
                    bool ok = true;
                    for (size_t j = 1; j < len; j++) {
                        if ((p[i + j] & 0xC0) != 0x80) ok = false;
                        cp = (cp << 6) | (p[i + j] & 0x3F);
                    }
                    unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
                    if (ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) k = len;
                }
            }
            if (k) {
                alc_jbuf_put(b, (const char *)p + i, k);
                i += k - 1;
            } else {
                alc_jbuf_puts(b, "\xEF\xBF\xBD");
            }
        } else if (c == '"') alc_jbuf_puts(b, "\\\"");
        else if (c == '\\') alc_jbuf_puts(b, "\\\\");
        else if (c == '\n') alc_jbuf_puts(b, "\\n");
        else if (c == '\r') alc_jbuf_puts(b, "\\r");
        else if (c == '\t') alc_jbuf_puts(b, "\\t");
        else if (c == '\b') alc_jbuf_puts(b, "\\b");
        else if (c == '\f') alc_jbuf_puts(b, "\\f");
        else if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            alc_jbuf_puts(b, tmp);
        } else {
            tmp[0] = (char)c;
            alc_jbuf_put(b, tmp, 1);
        }
    }
    alc_jbuf_puts(b, "\"");
}

static void check_json_str(const unsigned char *p, size_t n, size_t prefix) {
    alc_jbuf got, want;
    alc_jbuf_init(&got);
    alc_jbuf_init(&want);
    /* a prefix puts the string at every offset relative to the buffer's capacity, so growth
     * happens before, inside and after escapes */
    for (size_t i = 0; i < prefix; i++) {
        alc_jbuf_put(&got, "x", 1);
        alc_jbuf_put(&want, "x", 1);
    }
    alc_jbuf_json_str(&got, (const char *)p, n);
    oracle_json_str(&want, p, n);
    size_t gl = 0, wl = 0;
    char *g = alc_jbuf_take(&got, &gl), *w = alc_jbuf_take(&want, &wl);
    cr_assert_not_null(g);
    cr_assert_eq(gl, wl, "length %zu, want %zu (n=%zu prefix=%zu)", gl, wl, n, prefix);
    cr_assert_eq(memcmp(g, w, wl), 0, "n=%zu prefix=%zu: %s\nwant %s", n, prefix, g, w);
    cr_assert_eq(g[gl], '\0');
    /* and it is JSON whose value is the input (with U+FFFD for invalid bytes) */
    cJSON *v = cJSON_ParseWithLength(g + prefix, gl - prefix);
    cr_assert(cJSON_IsString(v), "not a JSON string: %s", g + prefix);
    cJSON_Delete(v);
    free(g);
    free(w);
}

Test(jbuf, json_str_escapes_every_byte_value) {
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    for (size_t prefix = 0; prefix < 300; prefix += 7) check_json_str(all, sizeof all, prefix);
    for (int c = 0; c < 256; c++) {
        unsigned char one = (unsigned char)c;
        check_json_str(&one, 1, 0);
    }
    ALC_ASSERT_NO_LEAKS();
}

Test(jbuf, json_str_matches_the_oracle_on_random_text) {
    /* a fixed xorshift sequence: biased towards the interesting bytes */
    uint32_t x = 2463534242u;
    static const unsigned char pick[] = {'a', ' ', '"', '\\', '\n', 0x01, 0x1f, 0x7f, 0xC3, 0xA9, 0xE2, 0x82,
                                         0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xC0, 0xFF, 0x80};
    unsigned char buf[700];
    for (int round = 0; round < 3000; round++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        size_t n = x % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            buf[i] = (x & 3) ? pick[(x >> 8) % sizeof pick] : (unsigned char)(x >> 16);
        }
        check_json_str(buf, n, (size_t)round % 300);
    }
    ALC_ASSERT_NO_LEAKS();
}

Test(jbuf, json_str_of_long_plain_text_and_of_nothing) {
    static unsigned char big[100000];
    memset(big, 'q', sizeof big);
    check_json_str(big, sizeof big, 3);
    check_json_str(big, 0, 0);
    for (size_t i = 0; i < sizeof big; i += 97) big[i] = '"';
    check_json_str(big, sizeof big, 255);
    ALC_ASSERT_NO_LEAKS();
}

Test(jbuf, json_str_finds_one_special_byte_at_every_position) {
    /* plain text with one byte changed, at every offset of a 40-byte string: the word-at-a-time
     * scan must stop exactly at the special bytes and only there (0x21, 0x5b, 0x5d, 0x7f and
     * 0x20 are neighbours of the special values and must pass through) */
    static const unsigned char probes[] = {0x00, 0x01, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\', 0x5d,
                                           0x7e, 0x7f, 0x80, 0xC3, 0xff};
    unsigned char buf[40];
    for (size_t len = 1; len <= sizeof buf; len++)
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof probes; k++) {
                memset(buf, 'm', len);
                buf[at] = probes[k];
                check_json_str(buf, len, at % 5);
            }
    ALC_ASSERT_NO_LEAKS();
}
