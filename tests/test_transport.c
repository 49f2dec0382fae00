/* Unit tests for line framing (alc_reader) and the serialised writer (alc_out). */
#include "alc/error.h"
#include "alc/transport.h"
#include "helpers.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

typedef struct { int fd; const char **chunks; size_t n; } feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    for (size_t i = 0; i < f->n; i++) {
        size_t len = strlen(f->chunks[i]);
        cr_assert_eq(write(f->fd, f->chunks[i], len), (ssize_t)len);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    close(f->fd);
    return NULL;
}

/* Reads every line of the chunks, returning them joined with '|' ("<TOO_LARGE:n>" for big). */
static char *read_all(const char **chunks, size_t n, size_t max) {
    int p[2];
    cr_assert_eq(pipe(p), 0);
    feeder f = {p[1], chunks, n};
    pthread_t t;
    pthread_create(&t, NULL, feed, &f);
    alc_reader *r = alc_reader_new(p[0], max);
    static char out[65536];
    out[0] = '\0';
    for (;;) {
        char *line;
        size_t len;
        int rc = alc_reader_next(r, &line, &len);
        if (rc == ALC_E_EOF) break;
        if (rc == ALC_E_TOO_LARGE) { snprintf(out + strlen(out), sizeof out - strlen(out), "<TOO_LARGE:%zu>|", len); continue; }
        cr_assert_eq(rc, ALC_OK);
        cr_assert_eq(strlen(line), len);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s|", line);
    }
    pthread_join(t, NULL);
    alc_reader_free(r);
    close(p[0]);
    return out;
}

Test(transport, lines_split_across_writes_and_several_per_write) {
    const char *chunks[] = {"ab", "c\nde", "f\ng\nh", "\n"};
    cr_assert_str_eq(read_all(chunks, 4, 100), "abc|def|g|h|");
}

Test(transport, crlf_is_stripped_and_empty_lines_are_returned_empty) {
    const char *chunks[] = {"a\r\n\nb\r\n"};
    cr_assert_str_eq(read_all(chunks, 1, 100), "a||b|");
}

Test(transport, final_line_without_newline_is_returned) {
    const char *chunks[] = {"x\nlast"};
    cr_assert_str_eq(read_all(chunks, 1, 100), "x|last|");
}

Test(transport, oversized_line_is_drained_and_the_stream_stays_in_sync) {
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    const char *chunks[] = {"ok1\n", big, big, "\nok2\n"};
    cr_assert_str_eq(read_all(chunks, 4, 1000), "ok1|<TOO_LARGE:9998>|ok2|");
}

Test(transport, line_of_exactly_the_limit_passes) {
    static char line[1002];
    memset(line, 'y', 1000);
    line[1000] = '\n';
    const char *chunks[] = {line};
    char *out = read_all(chunks, 1, 1000);
    cr_assert_eq(strlen(out), 1001);
}

typedef struct { alc_out *o; int id; } writer_arg;

static void *writer(void *arg) {
    writer_arg *w = arg;
    char line[300];
    for (int i = 0; i < 500; i++) {
        int n = snprintf(line, sizeof line, "{\"w\":%d,\"i\":%d,\"pad\":\"%0200d\"}", w->id, i, 0);
        cr_assert_eq(alc_out_write(w->o, line, (size_t)n), ALC_OK);
    }
    return NULL;
}

Test(transport, concurrent_writers_never_interleave_lines) {
    char path[] = "/tmp/alc-out-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    alc_out *o = alc_out_new(fd);
    pthread_t t[4];
    writer_arg a[4];
    for (int i = 0; i < 4; i++) { a[i] = (writer_arg){o, i}; pthread_create(&t[i], NULL, writer, &a[i]); }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    alc_out_free(o);
    FILE *f = fopen(path, "r");
    char buf[512];
    int lines = 0, next[4] = {0};
    while (fgets(buf, sizeof buf, f)) {
        int w, i;
        cr_assert_eq(sscanf(buf, "{\"w\":%d,\"i\":%d,", &w, &i), 2, "torn line: %s", buf);
        cr_assert_eq(i, next[w]++, "lines of one writer stay in order");
        cr_assert_eq(buf[strlen(buf) - 1], '\n');
        lines++;
    }
    fclose(f);
    unlink(path);
    cr_assert_eq(lines, 2000);
}

Test(transport, gate_blocks_lines_after_it_closes) {
    int p[2];
    cr_assert_eq(pipe(p), 0);
    alc_out *o = alc_out_new(p[1]);
    atomic_bool gate;
    atomic_init(&gate, false);
    cr_assert_eq(alc_out_write_gated(o, "a", 1, &gate, false), ALC_OK);
    cr_assert_eq(alc_out_write_gated(o, "b", 1, &gate, true), ALC_OK);
    cr_assert_eq(alc_out_write_gated(o, "c", 1, &gate, false), ALC_E_CANCELLED);
    alc_out_free(o);
    char buf[16] = {0};
    cr_assert_eq(read(p[0], buf, sizeof buf), 4);
    cr_assert_str_eq(buf, "a\nb\n");
    close(p[0]);
}

Test(transport, writing_to_a_closed_pipe_reports_closed_instead_of_dying) {
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    alc_out *o = alc_out_new(p[1]);
    cr_assert_eq(alc_out_write(o, "x", 1), ALC_E_CLOSED);
    cr_assert(alc_out_closed(o));
    cr_assert_eq(alc_out_write(o, "y", 1), ALC_E_CLOSED);
    alc_out_free(o);
}
