/*
 * record.c — the transcript recorder behind `alc --record FILE` / ALC_RECORD (see record.h).
 *
 * Owns the transcript file descriptor. Every protocol line in and out reaches tap() through
 * alc_out's tap, under alc_out's leaf lock, so lines are written whole and in wire order
 * without a lock of our own. Each line is written with one writev on an O_APPEND descriptor
 * (no stdio buffer: nothing is lost if the server is killed). A write failure never breaks
 * serving: it is reported once on stderr and recording stops.
 *
 * Threads: start/free on the main thread before/after the writers; tap on any writer thread
 * with the output lock held.
 */
#include "record.h"

#include "alc/error.h"
#include "alc/jbuf.h"
#include "alc/pkg.h"
#include "alc/version.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct alc_record {
    int fd;           /* the transcript, O_APPEND */
    bool failed;      /* set after the first write error; guarded by alc_out's lock */
    char *path;       /* for the error message */
};

/* Appends ,"key":"<path>" to b when path is non-NULL. */
static void put_path(alc_jbuf *b, const char *key, const char *path) {
    if (!path) return;
    alc_jbuf_printf(b, ",\"%s\":", key);
    alc_jbuf_json_str(b, path, strlen(path));
}

/* Writes the pieces as one writev (retried on short writes). Returns 0 or an errno value. */
static int write_all(int fd, struct iovec *v, int cnt) {
    while (cnt > 0) {
        ssize_t n = writev(fd, v, cnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        size_t k = (size_t)n;
        while (cnt > 0 && k >= v->iov_len) { k -= v->iov_len; v++; cnt--; }
        if (cnt > 0) { v->iov_base = (char *)v->iov_base + k; v->iov_len -= k; }
    }
    return 0;
}

static void report_failure(alc_record *r, int err) {
    r->failed = true;
    fprintf(stderr, "alc: recording to %s stopped: %s (serving continues)\n", r->path, strerror(err));
}

/* True iff line[0..len) is one JSON value with nothing but whitespace around it, contains no
 * NUL and is valid UTF-8: then it can be embedded verbatim as the "msg" member. */
static bool is_json_line(const char *line, size_t len) {
    if (memchr(line, '\0', len) || !alc_utf8_valid(line, len)) return false;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!root) return false;
    cJSON_Delete(root);
    const char *stop = line + len;
    while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    return end == stop;
}

/* Builds {"dir":"in","raw":...} (text) or {"dir":"in","raw_hex":...} (bytes). Returns new. */
static char *raw_record(const char *line, size_t len, size_t *out_len) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    if (!memchr(line, '\0', len) && alc_utf8_valid(line, len)) {
        alc_jbuf_puts(&b, "{\"dir\":\"in\",\"raw\":");
        alc_jbuf_json_str(&b, line, len);
    } else {
        static const char hex[] = "0123456789abcdef";
        alc_jbuf_puts(&b, "{\"dir\":\"in\",\"raw_hex\":\"");
        for (size_t i = 0; i < len; i++) {
            char two[2] = {hex[(unsigned char)line[i] >> 4], hex[(unsigned char)line[i] & 15]};
            alc_jbuf_put(&b, two, 2);
        }
        alc_jbuf_puts(&b, "\"");
    }
    alc_jbuf_puts(&b, "}\n");
    return alc_jbuf_take(&b, out_len);
}

/* The alc_out tap: appends one transcript line. Called with alc_out's lock held. */
static void tap(void *ud, const char *dir, const char *line, size_t len) {
    alc_record *r = ud;
    if (r->failed) return;
    bool in = strcmp(dir, "in") == 0;
    int err;
    if (!in || is_json_line(line, len)) {
        const char *prefix = in ? "{\"dir\":\"in\",\"msg\":" : "{\"dir\":\"out\",\"msg\":";
        struct iovec v[3] = {{(void *)prefix, strlen(prefix)}, {(void *)line, len}, {(void *)"}\n", 2}};
        err = write_all(r->fd, v, 3);
    } else {
        size_t n = 0;
        char *rec = raw_record(line, len, &n);
        if (!rec) err = ENOMEM;
        else {
            struct iovec v[1] = {{rec, n}};
            err = write_all(r->fd, v, 1);
        }
        free(rec);
    }
    if (err) report_failure(r, err);
}

/*
 * Starts recording when ALC_RECORD is set (see record.h). out: borrowed; home: borrowed.
 * Sets *rec to a new recorder (alc_record_free) or NULL. Main thread, before writer threads.
 */
void alc_record_start(alc_out *out, const char *home, alc_record **rec) {
    *rec = NULL;
    const char *path = getenv("ALC_RECORD");
    if (!path || !*path) return;
    alc_record *r = calloc(1, sizeof *r);
    char *start = NULL;
    if (r) r->fd = -1;
    if (!r || !(r->path = strdup(path))) {
        fprintf(stderr, "alc: cannot record to %s: out of memory (serving without recording)\n", path);
        goto fail;
    }
    r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (r->fd < 0) {
        fprintf(stderr, "alc: cannot record to %s: %s (serving without recording)\n", path, strerror(errno));
        goto fail;
    }
    /* directories that replies may mention and that differ between machines: replay
     * normalises them (ALC_HOME, the bundled package collection, the executable's directory) */
    char *bundled = NULL, why[512], exe[PATH_MAX];
    if (alc_pkg_bundled_dir(&bundled, why, sizeof why) != ALC_OK) bundled = NULL;
    ssize_t elen = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = NULL;
    if (elen > 0) {
        exe[elen] = '\0';
        slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
    }
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_puts(&b, "{\"dir\":\"start\",\"alc_home\":");
    alc_jbuf_json_str(&b, home ? home : "", home ? strlen(home) : 0);
    put_path(&b, "bundled_dir", bundled);
    put_path(&b, "bin_dir", slash && slash != exe ? exe : NULL);
    alc_jbuf_puts(&b, ",\"version\":");
    alc_jbuf_json_str(&b, ALC_VERSION, strlen(ALC_VERSION));
    alc_jbuf_puts(&b, "}\n");
    free(bundled);
    size_t n = 0;
    start = alc_jbuf_take(&b, &n);
    if (!start) {
        fprintf(stderr, "alc: cannot record to %s: out of memory (serving without recording)\n", path);
        goto fail;
    }
    struct iovec v[1] = {{start, n}};
    int err = write_all(r->fd, v, 1);
    if (err) {
        fprintf(stderr, "alc: cannot record to %s: %s (serving without recording)\n", path, strerror(err));
        goto fail;
    }
    free(start);
    alc_out_set_tap(out, tap, r);
    *rec = r;
    return;
fail:
    free(start);
    alc_record_free(r);
}

/* Closes the transcript and frees r (owns). No-op for NULL. Main thread, after the writers. */
void alc_record_free(alc_record *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->path);
    free(r);
}
