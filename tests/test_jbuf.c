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
