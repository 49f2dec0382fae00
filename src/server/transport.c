/*
 * transport.c — line reader for stdin and the serialised protocol writer.
 *
 * Threads: the reader belongs to the reader (main) thread. The writer is shared; its mutex
 * (`mu`) guards the fd, `closed` and the tap, and is a leaf lock (see transport.h).
 */
#include "alc/transport.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct alc_reader {
    int fd;
    size_t max_line;
    char *buf;      /* bytes read but not yet returned start at buf[start] */
    size_t cap;
    size_t start;
    size_t end;
    size_t scan;    /* bytes in [start, scan) are known to contain no '\n' */
    bool eof;
    bool discarding; /* inside an oversized line: drop bytes until '\n' */
    size_t discarded;
};

/* Creates a reader for fd. */
alc_reader *alc_reader_new(int fd, size_t max_line) {
    alc_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = fd;
    r->max_line = max_line;
    r->cap = 64 * 1024;
    r->buf = malloc(r->cap);
    if (!r->buf) { free(r); return NULL; }
    return r;
}

void alc_reader_free(alc_reader *r) {
    if (!r) return;
    free(r->buf);
    free(r);
}

/* Reads more bytes into the buffer; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t fill(alc_reader *r) {
    if (r->start > 0 && (r->start == r->end || r->end == r->cap)) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->scan -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        /* only grow while a line could still fit */
        size_t ncap = r->cap * 2;
        char *p = realloc(r->buf, ncap);
        if (!p) return -1;
        r->buf = p;
        r->cap = ncap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n > 0) r->end += (size_t)n;
        return n;
    }
}

/* Returns the next line; see transport.h. */
int alc_reader_next(alc_reader *r, char **line, size_t *len) {
    for (;;) {
        char *nl = r->scan < r->end ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
        if (nl) {
            size_t pos = (size_t)(nl - r->buf);
            size_t n = pos - r->start;
            char *s = r->buf + r->start;
            r->start = r->scan = pos + 1;
            if (r->discarding) {
                r->discarding = false;
                *len = r->discarded + n;
                *line = NULL;
                r->discarded = 0;
                return ALC_E_TOO_LARGE;
            }
            if (n > r->max_line) { *len = n; *line = NULL; return ALC_E_TOO_LARGE; }
            if (n > 0 && s[n - 1] == '\r') n--;
            s[n] = '\0';
            *line = s;
            *len = n;
            return ALC_OK;
        }
        r->scan = r->end;
        size_t pending = r->end - r->start;
        if (r->discarding || pending > r->max_line) {
            /* oversized: drop what we have and keep scanning for the newline */
            r->discarded += pending;
            r->discarding = true;
            r->start = r->scan = r->end = 0;
        }
        if (r->eof) {
            if (r->discarding) {
                r->discarding = false;
                *len = r->discarded;
                *line = NULL;
                r->discarded = 0;
                return ALC_E_TOO_LARGE;
            }
            if (r->end > r->start) {
                /* final line without '\n' */
                size_t n = r->end - r->start;
                char *s = r->buf + r->start;
                if (r->end == r->cap) {
                    char *p = realloc(r->buf, r->cap + 1);
                    if (!p) return ALC_E_NOMEM;
                    r->buf = p;
                    r->cap++;
                    s = r->buf + r->start;
                }
                r->start = r->scan = r->end;
                if (n > 0 && s[n - 1] == '\r') n--;
                s[n] = '\0';
                *line = s;
                *len = n;
                return ALC_OK;
            }
            return ALC_E_EOF;
        }
        ssize_t got = fill(r);
        if (got < 0) return errno == EINTR ? ALC_E_CANCELLED : ALC_E_IO;
        if (got == 0) r->eof = true;
    }
}

struct alc_out {
    alc_mutex mu;        /* guards everything below; leaf lock */
    int fd;
    bool closed;         /* guarded by mu; set on EPIPE or write error */
    atomic_bool closed_flag; /* lock-free copy of closed for alc_out_closed */
    alc_out_tap_fn tap;  /* set before threads start */
    void (*on_closed)(void *ud); /* set before threads start */
    void *on_closed_ud;
    void *tap_ud;
};

/* Creates the writer; takes ownership of fd. */
alc_out *alc_out_new(int fd) {
    alc_out *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    alc_mutex_init(&o->mu);
    o->fd = fd;
    atomic_init(&o->closed_flag, false);
    return o;
}

void alc_out_free(alc_out *o) {
    if (!o) return;
    if (o->fd >= 0) close(o->fd);
    alc_mutex_deinit(&o->mu);
    free(o);
}

void alc_out_set_on_closed(alc_out *o, void (*fn)(void *ud), void *ud) {
    o->on_closed = fn;
    o->on_closed_ud = ud;
}

void alc_out_set_tap(alc_out *o, alc_out_tap_fn fn, void *ud) {
    o->tap = fn;
    o->tap_ud = ud;
}

/* Mirrors an input line to the tap, in order with output lines. */
void alc_out_tap_in(alc_out *o, const char *line, size_t len) {
    if (!o->tap) return;
    alc_mutex_lock(&o->mu);
    o->tap(o->tap_ud, "in", line, len);
    alc_mutex_unlock(&o->mu);
}

/* Writes line + '\n'; mu held by the caller. */
static int write_locked(alc_out *o, const char *line, size_t len) {
    if (o->closed) return ALC_E_CLOSED;
    struct iovec iov[2] = {{(void *)line, len}, {(void *)"\n", 1}};
    int cnt = 2;
    struct iovec *v = iov;
    while (cnt > 0) {
        ssize_t n = writev(o->fd, v, cnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            o->closed = true;
            atomic_store(&o->closed_flag, true);
            if (o->on_closed) o->on_closed(o->on_closed_ud);
            return ALC_E_CLOSED;
        }
        size_t k = (size_t)n;
        while (cnt > 0 && k >= v->iov_len) { k -= v->iov_len; v++; cnt--; }
        if (cnt > 0) { v->iov_base = (char *)v->iov_base + k; v->iov_len -= k; }
    }
    if (o->tap) o->tap(o->tap_ud, "out", line, len);
    return ALC_OK;
}

/* Writes one line atomically. */
int alc_out_write(alc_out *o, const char *line, size_t len) {
    alc_mutex_lock(&o->mu);
    int rc = write_locked(o, line, len);
    alc_mutex_unlock(&o->mu);
    return rc;
}

/* Writes one line unless *gate is set; optionally sets it. */
int alc_out_write_gated(alc_out *o, const char *line, size_t len, atomic_bool *gate, bool close_gate) {
    alc_mutex_lock(&o->mu);
    int rc;
    if (gate && atomic_load(gate)) rc = ALC_E_CANCELLED;
    else {
        if (gate && close_gate) atomic_store(gate, true);
        rc = line ? write_locked(o, line, len) : ALC_OK;
    }
    alc_mutex_unlock(&o->mu);
    return rc;
}

/* Builds and writes a counted progress line unless *gate is set. */
int alc_out_write_counted(alc_out *o, atomic_bool *gate, uint64_t *counter,
                          char *(*build)(void *ud, uint64_t value, size_t *len), void *ud) {
    alc_mutex_lock(&o->mu);
    int rc = ALC_E_CANCELLED;
    if (!atomic_load(gate)) {
        size_t len = 0;
        char *line = build(ud, *counter + 1, &len);
        if (!line) rc = ALC_E_NOMEM;
        else {
            rc = write_locked(o, line, len);
            if (rc == ALC_OK) (*counter)++;
            free(line);
        }
    }
    alc_mutex_unlock(&o->mu);
    return rc;
}

bool alc_out_closed(alc_out *o) { return atomic_load(&o->closed_flag); }
