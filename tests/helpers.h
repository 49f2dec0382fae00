/*
 * helpers.h — shared helpers for the Criterion unit tests.
 */
#ifndef ALC_TEST_HELPERS_H
#define ALC_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* Fails the running test if LeakSanitizer finds unreachable allocations now. */
#define ALC_ASSERT_NO_LEAKS() \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks")
#else
#define ALC_ASSERT_NO_LEAKS() ((void)0)
#endif

/* Creates a fresh private temporary directory and returns its path (malloc'd). */
static inline char *alc_test_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/alc-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d, "mkdtemp failed");
    return strdup(d);
}

/* Removes a directory tree (best effort, for test clean-up). */
static inline void alc_test_rmtree(const char *path) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

#endif
