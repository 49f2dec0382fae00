/*
 * ring_stress.c — concurrent publishers and readers on one progress-bus ring (plain main(),
 * run under TSan; no Criterion, see CONVENTIONS §4).
 *
 * 4 publishers publish 50,000 events each into a ring of capacity 256 while 4 readers consume
 * it: a fast blocking reader, a reader that deliberately stalls until it must have lagged, a
 * polling reader (timeout 0, then short timeouts) and a late joiner that starts from
 * alc_ring_cursor_now() part-way through. The main thread samples alc_ring_recent() meanwhile.
 * Every reader checks that seqs strictly increase and match its cursor, that payloads are intact
 * and per-publisher ordered, and that received + lagged accounts for every seq from its start to
 * the final head. Prints "N passed, N failed" last and exits non-zero on any failure.
 */
#include "alc/error.h"
#include "alc/ring.h"
#include "alc/thread.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAPACITY 256
#define NPUB 4
#define PER_PUB 50000
#define NREAD 4
#define TOTAL ((uint64_t)NPUB * PER_PUB)

static alc_ring *ring;
static atomic_int publishers_done;
static atomic_int readers_ready; // early readers that hold their cursor

struct publisher {
    int id;
    int errors;
};

struct reader {
    int id;
    const char *style;
    uint64_t start;     // first seq this reader is accountable for
    uint64_t received;
    uint64_t lagged;    // sum of skipped counts
    uint64_t lag_events;
    uint64_t timeouts;
    uint64_t last_seq;
    int errors;
};

#define FAILF(who, ...)                                                                     \
    do {                                                                                    \
        if ((who)->errors++ < 5) {                                                          \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fputc('\n', stderr);                                                            \
        }                                                                                   \
    } while (0)

static void *publisher_main(void *arg) {
    struct publisher *p = arg;
    uint64_t last = 0;
    for (int i = 0; i < PER_PUB; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"p\":%d,\"i\":%d}", p->id, i);
        uint64_t seq = 0;
        alc_event_kind kind = (alc_event_kind)((p->id + i) % 7);
        int rc = alc_ring_publish(ring, kind, (int64_t)p->id * 1000000 + i, json, &seq);
        if (rc != ALC_OK) {
            FAILF(p, "publisher %d: publish %d returned %s", p->id, i, alc_err_name(rc));
            continue;
        }
        if (seq <= last || seq > TOTAL)
            FAILF(p, "publisher %d: seq %" PRIu64 " after %" PRIu64, p->id, seq, last);
        last = seq;
    }
    atomic_fetch_add(&publishers_done, 1);
    return NULL;
}

// Checks one received event against the reader's expectations.
static void check_event(struct reader *rd, const alc_event *ev, uint64_t expected_seq,
                        int last_i[NPUB]) {
    int p = -1, i = -1;
    if (ev->seq != expected_seq)
        FAILF(rd, "reader %d: got seq %" PRIu64 ", cursor was %" PRIu64, rd->id, ev->seq,
              expected_seq);
    if (ev->seq <= rd->last_seq)
        FAILF(rd, "reader %d: seq %" PRIu64 " not after %" PRIu64, rd->id, ev->seq, rd->last_seq);
    rd->last_seq = ev->seq;
    if (!ev->json || sscanf(ev->json, "{\"p\":%d,\"i\":%d}", &p, &i) != 2 || p < 0 ||
        p >= NPUB || i < 0 || i >= PER_PUB) {
        FAILF(rd, "reader %d: bad payload %s", rd->id, ev->json ? ev->json : "(null)");
        return;
    }
    if (ev->at_ms != (int64_t)p * 1000000 + i || ev->kind != (alc_event_kind)((p + i) % 7))
        FAILF(rd, "reader %d: torn event seq %" PRIu64 " (%s, at %" PRId64 ", kind %d)", rd->id,
              ev->seq, ev->json, ev->at_ms, (int)ev->kind);
    if (i <= last_i[p])
        FAILF(rd, "reader %d: publisher %d event %d after %d", rd->id, p, i, last_i[p]);
    last_i[p] = i;
}

// Deliberate slowness after a received event, by reader style.
static void be_slow(const struct reader *rd, uint64_t cur) {
    if (rd->id == 1 && rd->received % 1000 == 0) {
        // Stall until the publishers are well past the ring's capacity ahead of us.
        while (alc_ring_head_seq(ring) < cur + 2 * CAPACITY &&
               atomic_load(&publishers_done) < NPUB)
            alc_sleep_ms(1);
    } else if (rd->id == 3 && rd->received % 2000 == 0) {
        alc_sleep_ms(2);
    } else if (rd->id == 2 && rd->received % 5000 == 0) {
        alc_sleep_ms(1);
    }
}

static void *reader_main(void *arg) {
    struct reader *rd = arg;
    int last_i[NPUB];
    for (int k = 0; k < NPUB; k++) last_i[k] = -1;
    uint64_t cur;

    if (rd->id == 3) {
        // Late joiner: starts from "now" once a fifth of the events are out.
        while (alc_ring_head_seq(ring) < TOTAL / 5 && !alc_ring_is_closed(ring)) alc_sleep_ms(1);
        cur = alc_ring_cursor_now(ring);
    } else {
        // Reader 0 uses an explicit cursor of 1; the others ask the (still empty) ring.
        cur = rd->id == 0 ? 1 : alc_ring_cursor_oldest(ring);
        atomic_fetch_add(&readers_ready, 1);
    }
    rd->start = cur;

    for (;;) {
        alc_event ev;
        uint64_t skipped = 0, before = cur;
        int64_t timeout = rd->id == 2 ? 0 : -1;
        int rc = alc_ring_next(ring, &cur, &ev, &skipped, timeout);
        if (rc == ALC_E_TIMEOUT && rd->id == 2) {
            rd->timeouts++;
            rc = alc_ring_next(ring, &cur, &ev, &skipped, 1000000); // 1 ms
            if (rc == ALC_E_TIMEOUT) {
                rd->timeouts++;
                continue;
            }
        }
        if (rc == ALC_OK) {
            check_event(rd, &ev, before, last_i);
            rd->received++;
            alc_event_deinit(&ev);
            be_slow(rd, cur);
        } else if (rc == ALC_E_LAGGED) {
            if (skipped == 0 || cur != before + skipped)
                FAILF(rd, "reader %d: lagged %" PRIu64 " moved cursor %" PRIu64 " -> %" PRIu64,
                      rd->id, skipped, before, cur);
            if (ev.json) FAILF(rd, "reader %d: lagged read copied an event", rd->id);
            rd->lagged += skipped;
            rd->lag_events++;
        } else if (rc == ALC_E_CLOSED) {
            break;
        } else {
            FAILF(rd, "reader %d: next returned %s", rd->id, alc_err_name(rc));
            break;
        }

    }
    return NULL;
}

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

int main(void) {
    alarm(240); // a hung reader kills the run instead of blocking CI forever
    ring = alc_ring_new(CAPACITY);
    if (!ring) {
        puts("0 passed, 1 failed");
        return 1;
    }

    struct reader readers[NREAD] = {
        {.id = 0, .style = "fast blocking"},
        {.id = 1, .style = "stalling"},
        {.id = 2, .style = "polling"},
        {.id = 3, .style = "late joiner"},
    };
    struct publisher pubs[NPUB];
    pthread_t rt[NREAD], pt[NPUB];
    int64_t t0 = alc_now_ms();

    for (int k = 0; k < NREAD; k++) {
        if (alc_thread_start(&rt[k], reader_main, &readers[k], 0, "ring-reader", false) != ALC_OK) {
            fprintf(stderr, "cannot start reader %d\n", k);
            return 1;
        }
    }
    // Early readers take their cursors before anything is published, so that each of them is
    // accountable for every seq from 1.
    while (atomic_load(&readers_ready) < NREAD - 1) alc_sleep_ms(1);
    for (int k = 0; k < NPUB; k++) {
        pubs[k] = (struct publisher){.id = k};
        if (alc_thread_start(&pt[k], publisher_main, &pubs[k], 0, "ring-pub", false) != ALC_OK) {
            fprintf(stderr, "cannot start publisher %d\n", k);
            return 1;
        }
    }

    // Meanwhile, status views must always see consecutive seqs ending at or before the head.
    int recent_errors = 0;
    uint64_t samples = 0;
    while (atomic_load(&publishers_done) < NPUB) {
        alc_event recent[16];
        size_t n = alc_ring_recent(ring, recent, 16);
        for (size_t j = 0; j < n; j++) {
            if (j > 0 && recent[j].seq != recent[j - 1].seq + 1) recent_errors++;
            alc_event_deinit(&recent[j]);
        }
        samples++;
        alc_sleep_ms(1);
    }

    for (int k = 0; k < NPUB; k++) alc_thread_join(pt[k]);
    uint64_t head = alc_ring_head_seq(ring);
    check(head == TOTAL, "head seq equals the number of events published");
    uint64_t final_head = head;
    alc_ring_close(ring);
    check(alc_ring_publish(ring, ALC_EV_TICK, 0, NULL, NULL) == ALC_E_CLOSED,
          "publish after close is refused");
    for (int k = 0; k < NREAD; k++) alc_thread_join(rt[k]);
    check(recent_errors == 0, "recent() returns consecutive seqs");

    for (int k = 0; k < NPUB; k++) {
        char what[64];
        snprintf(what, sizeof what, "publisher %d saw increasing seqs", k);
        check(pubs[k].errors == 0, what);
    }
    for (int k = 0; k < NREAD; k++) {
        struct reader *rd = &readers[k];
        char what[128];
        fprintf(stderr,
                "reader %d (%s): start %" PRIu64 ", received %" PRIu64 ", lagged %" PRIu64
                " in %" PRIu64 " jumps, %" PRIu64 " timeouts\n",
                k, rd->style, rd->start, rd->received, rd->lagged, rd->lag_events, rd->timeouts);
        snprintf(what, sizeof what, "reader %d: events in order and intact", k);
        check(rd->errors == 0, what);
        snprintf(what, sizeof what, "reader %d: received + lagged accounts for every seq", k);
        check(rd->received + rd->lagged == final_head - rd->start + 1, what);
        snprintf(what, sizeof what, "reader %d: last event seen is the final one", k);
        check(rd->last_seq == final_head, what);
    }
    check(readers[1].lag_events > 0, "the stalling reader lagged");
    check(readers[0].start == 1 && readers[1].start == 1 && readers[2].start == 1,
          "early readers start at seq 1");
    check(readers[3].start > 1, "the late joiner starts part-way through");
    fprintf(stderr, "%" PRIu64 " events, %" PRIu64 " recent() samples, %" PRId64 " ms\n",
            final_head, samples, alc_now_ms() - t0);

    alc_ring_free(ring);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
