/* Unit tests for the progress bus (include/alc/ring.h). */
#include "alc/ring.h"

#include "alc/error.h"
#include "alc/thread.h"
#include "helpers.h"

#include <stdint.h>

// Publishes n events of kind PROGRESS; the event with seq s carries json {"i":s}, at_ms 1000+s.
static void publish_n(alc_ring *r, int n) {
    for (int k = 1; k <= n; k++) {
        uint64_t s = alc_ring_head_seq(r) + 1, got = 0;
        char buf[32];
        snprintf(buf, sizeof buf, "{\"i\":%llu}", (unsigned long long)s);
        cr_assert_eq(alc_ring_publish(r, ALC_EV_PROGRESS, (int64_t)(1000 + s), buf, &got), ALC_OK);
        cr_assert_eq(got, s);
    }
}

// Reads one event that must be available now and checks its seq and payload index.
static void expect_event(alc_ring *r, uint64_t *cur, uint64_t seq) {
    alc_event ev;
    uint64_t skipped = 99;
    int rc = alc_ring_next(r, cur, &ev, &skipped, 0);
    cr_assert_eq(rc, ALC_OK, "expected seq %llu, got %s", (unsigned long long)seq,
                 alc_err_name(rc));
    cr_assert_eq(ev.seq, seq);
    cr_assert_eq(skipped, 0);
    char want[32];
    snprintf(want, sizeof want, "{\"i\":%llu}", (unsigned long long)seq);
    cr_assert_str_eq(ev.json, want);
    cr_assert_eq(ev.at_ms, (int64_t)(1000 + seq));
    cr_assert_eq(*cur, seq + 1);
    alc_event_deinit(&ev);
    cr_assert_null(ev.json);
}

static void expect_rc(alc_ring *r, uint64_t *cur, int want) {
    alc_event ev;
    int rc = alc_ring_next(r, cur, &ev, NULL, 0);
    cr_assert_eq(rc, want, "expected %s, got %s", alc_err_name(want), alc_err_name(rc));
    cr_assert_null(ev.json);
    alc_event_deinit(&ev);
}

Test(ring, publish_then_read_returns_events_in_order_with_seqs_from_one) {
    alc_ring *r = alc_ring_new(8);
    cr_assert_not_null(r);
    cr_assert_eq(alc_ring_head_seq(r), 0);
    uint64_t cur = alc_ring_cursor_oldest(r);
    cr_assert_eq(cur, 1);
    uint64_t seq = 0;
    cr_assert_eq(alc_ring_publish(r, ALC_EV_TICK, 5, "{\"phase\":\"running\"}", &seq), ALC_OK);
    cr_assert_eq(seq, 1);
    cr_assert_eq(alc_ring_publish(r, ALC_EV_STATE_TRANSITION, 6, "{\"to\":\"paused\"}", &seq),
                 ALC_OK);
    cr_assert_eq(seq, 2);
    cr_assert_eq(alc_ring_head_seq(r), 2);

    alc_event ev;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, 0), ALC_OK);
    cr_assert_eq(ev.seq, 1);
    cr_assert_eq(ev.kind, ALC_EV_TICK);
    cr_assert_eq(ev.at_ms, 5);
    cr_assert_str_eq(ev.json, "{\"phase\":\"running\"}");
    alc_event_deinit(&ev);
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, 0), ALC_OK);
    cr_assert_eq(ev.seq, 2);
    cr_assert_eq(ev.kind, ALC_EV_STATE_TRANSITION);
    cr_assert_eq(ev.at_ms, 6);
    cr_assert_str_eq(ev.json, "{\"to\":\"paused\"}");
    alc_event_deinit(&ev);
    expect_rc(r, &cur, ALC_E_TIMEOUT);
    cr_assert_eq(cur, 3);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, publishing_with_no_readers_succeeds_and_keeps_the_newest) {
    alc_ring *r = alc_ring_new(4);
    cr_assert_not_null(r);
    publish_n(r, 1000);
    cr_assert_eq(alc_ring_head_seq(r), 1000);
    uint64_t cur = alc_ring_cursor_oldest(r);
    cr_assert_eq(cur, 997);
    for (uint64_t s = 997; s <= 1000; s++) expect_event(r, &cur, s);
    expect_rc(r, &cur, ALC_E_TIMEOUT);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, independent_readers_each_see_every_event) {
    alc_ring *r = alc_ring_new(16);
    uint64_t a = alc_ring_cursor_oldest(r), b = alc_ring_cursor_now(r), c = 1;
    publish_n(r, 10);
    // Interleave the readers to show that their cursors do not interfere.
    for (uint64_t s = 1; s <= 5; s++) expect_event(r, &a, s);
    for (uint64_t s = 1; s <= 10; s++) expect_event(r, &b, s);
    for (uint64_t s = 6; s <= 10; s++) expect_event(r, &a, s);
    for (uint64_t s = 1; s <= 10; s++) expect_event(r, &c, s);
    expect_rc(r, &a, ALC_E_TIMEOUT);
    expect_rc(r, &b, ALC_E_TIMEOUT);
    expect_rc(r, &c, ALC_E_TIMEOUT);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, reader_that_falls_behind_gets_lagged_count_then_oldest_retained) {
    alc_ring *r = alc_ring_new(4);
    uint64_t cur = alc_ring_cursor_oldest(r);
    publish_n(r, 3);
    expect_event(r, &cur, 1); // seen 1; 2..10 unseen, only 7..10 retained
    publish_n(r, 7);
    cr_assert_eq(alc_ring_head_seq(r), 10);

    alc_event ev;
    uint64_t skipped = 0;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, &skipped, 0), ALC_E_LAGGED);
    cr_assert_eq(skipped, 5); // seqs 2..6
    cr_assert_eq(cur, 7);
    cr_assert_null(ev.json);
    for (uint64_t s = 7; s <= 10; s++) expect_event(r, &cur, s);
    expect_rc(r, &cur, ALC_E_TIMEOUT);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, reader_exactly_capacity_behind_is_not_lagged) {
    alc_ring *r = alc_ring_new(4);
    uint64_t cur = alc_ring_cursor_now(r);
    publish_n(r, 4);
    for (uint64_t s = 1; s <= 4; s++) expect_event(r, &cur, s);
    publish_n(r, 5); // seqs 5..9; cursor 5 now one behind the oldest retained (6)
    alc_event ev;
    uint64_t skipped = 0;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, &skipped, 0), ALC_E_LAGGED);
    cr_assert_eq(skipped, 1);
    cr_assert_eq(cur, 6);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

/* The slot array grows as events arrive (16, 32, ... up to the capacity): a reader that started
 * before the growth and one that reads after it see the same events, and once the ring wraps it
 * behaves exactly like a full-size ring. */
Test(ring, growing_slot_array_keeps_every_event_in_place_and_wraps_at_capacity) {
    alc_ring *r = alc_ring_new(100); /* not a power of two: growth 16, 32, 64, 100 */
    uint64_t early = alc_ring_cursor_oldest(r), mid = 0;
    for (int k = 1; k <= 100; k++) {
        publish_n(r, 1);
        if (k == 20) mid = alc_ring_cursor_now(r); /* next is seq 21 */
        if (k % 7 == 0) expect_event(r, &early, early); /* a reader reading while the array grows */
    }
    /* all 100 are retained, nothing lagged yet */
    cr_assert_eq(early, 15);
    for (uint64_t s = 15; s <= 100; s++) expect_event(r, &early, s);
    for (uint64_t s = 21; s <= 100; s++) expect_event(r, &mid, s);
    alc_event recent[100];
    cr_assert_eq(alc_ring_recent(r, recent, 100), 100);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(recent[i].seq, (uint64_t)i + 1);
        alc_event_deinit(&recent[i]);
    }
    /* wrap: 150 more; only 151..250 stay */
    publish_n(r, 150);
    uint64_t old = 1, skipped = 0;
    alc_event ev;
    cr_assert_eq(alc_ring_next(r, &old, &ev, &skipped, 0), ALC_E_LAGGED);
    cr_assert_eq(skipped, 150);
    for (uint64_t s = 151; s <= 250; s++) expect_event(r, &old, s);
    cr_assert_eq(alc_ring_recent(r, recent, 3), 3);
    cr_assert_eq(recent[0].seq, 248);
    cr_assert_eq(recent[2].seq, 250);
    for (int i = 0; i < 3; i++) alc_event_deinit(&recent[i]);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

/* Short payloads live in the slot, long ones on the heap; both come out intact, NULL stays NULL,
 * and overwriting a long payload with a short one (and back) frees what it should. */
Test(ring, short_and_long_payloads_round_trip_through_a_wrapping_ring) {
    alc_ring *r = alc_ring_new(4);
    char longp[300];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    const char *payloads[] = {"{\"a\":1}", longp, NULL, "{\"from\":\"running\",\"to\":\"paused\"}",
                              "0123456789012345678901234567890123456789012345", /* 46 bytes: inline */
                              "01234567890123456789012345678901234567890123456", /* 47: inline, the limit */
                              "012345678901234567890123456789012345678901234567", /* 48: heap */
                              longp, "{}"};
    size_t n = sizeof payloads / sizeof payloads[0];
    uint64_t cur = alc_ring_cursor_oldest(r);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(alc_ring_publish(r, ALC_EV_LOG, (int64_t)i, payloads[i], NULL), ALC_OK);
        alc_event ev;
        cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, 0), ALC_OK);
        if (payloads[i]) cr_assert_str_eq(ev.json, payloads[i], "payload %zu", i);
        else cr_assert_null(ev.json);
        cr_assert_eq(ev.at_ms, (int64_t)i);
        alc_event_deinit(&ev);
    }
    alc_event recent[4];
    cr_assert_eq(alc_ring_recent(r, recent, 4), 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(recent[i].json, payloads[n - 4 + i]);
        alc_event_deinit(&recent[i]);
    }
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, cursor_now_sees_only_later_events) {
    alc_ring *r = alc_ring_new(8);
    publish_n(r, 3);
    uint64_t cur = alc_ring_cursor_now(r);
    cr_assert_eq(cur, 4);
    expect_rc(r, &cur, ALC_E_TIMEOUT);
    publish_n(r, 5); // seqs 4..8
    for (uint64_t s = 4; s <= 8; s++) expect_event(r, &cur, s);
    // cursor_oldest on the same ring still reaches back to seq 1.
    cr_assert_eq(alc_ring_cursor_oldest(r), 1);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, close_lets_readers_drain_then_reports_closed) {
    alc_ring *r = alc_ring_new(8);
    uint64_t cur = alc_ring_cursor_oldest(r);
    publish_n(r, 3);
    cr_assert_not(alc_ring_is_closed(r));
    alc_ring_close(r);
    cr_assert(alc_ring_is_closed(r));
    for (uint64_t s = 1; s <= 3; s++) expect_event(r, &cur, s);
    expect_rc(r, &cur, ALC_E_CLOSED);
    expect_rc(r, &cur, ALC_E_CLOSED); // stays closed
    // Even a blocking read returns at once.
    alc_event ev;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, -1), ALC_E_CLOSED);
    // A reader created after close also drains the retained events.
    uint64_t late = alc_ring_cursor_oldest(r);
    for (uint64_t s = 1; s <= 3; s++) expect_event(r, &late, s);
    expect_rc(r, &late, ALC_E_CLOSED);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, lagging_reader_of_closed_ring_gets_lagged_then_drains) {
    alc_ring *r = alc_ring_new(2);
    uint64_t cur = 1;
    publish_n(r, 5);
    alc_ring_close(r);
    alc_event ev;
    uint64_t skipped = 0;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, &skipped, 0), ALC_E_LAGGED);
    cr_assert_eq(skipped, 3);
    expect_event(r, &cur, 4);
    expect_event(r, &cur, 5);
    expect_rc(r, &cur, ALC_E_CLOSED);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, publish_after_close_is_refused_and_close_is_idempotent) {
    alc_ring *r = alc_ring_new(8);
    publish_n(r, 1);
    alc_ring_close(r);
    alc_ring_close(r);
    uint64_t seq = 77;
    cr_assert_eq(alc_ring_publish(r, ALC_EV_LOG, 1, "{\"x\":1}", &seq), ALC_E_CLOSED);
    cr_assert_eq(seq, 77, "seq_out must not be written on failure");
    cr_assert_eq(alc_ring_publish(r, ALC_EV_LOG, 1, NULL, NULL), ALC_E_CLOSED);
    cr_assert_eq(alc_ring_head_seq(r), 1);
    cr_assert(alc_ring_is_closed(r));
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, timeout_zero_returns_timeout_without_waiting) {
    alc_ring *r = alc_ring_new(8);
    uint64_t cur = alc_ring_cursor_now(r);
    alc_event ev;
    int64_t t0 = alc_now_ns();
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, 0), ALC_E_TIMEOUT);
    cr_assert_lt(alc_now_ns() - t0, 100 * 1000000LL);
    cr_assert_eq(cur, 1);
    cr_assert_null(ev.json);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, short_positive_timeout_waits_then_returns_timeout) {
    alc_ring *r = alc_ring_new(8);
    publish_n(r, 2);
    uint64_t cur = alc_ring_cursor_now(r);
    alc_event ev;
    int64_t t0 = alc_now_ns();
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, 30 * 1000000LL), ALC_E_TIMEOUT);
    int64_t waited = alc_now_ns() - t0;
    cr_assert_geq(waited, 30 * 1000000LL, "waited only %lld ns", (long long)waited);
    cr_assert_lt(waited, 5000 * 1000000LL);
    cr_assert_eq(cur, 3);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, huge_timeout_does_not_overflow_the_deadline) {
    alc_ring *r = alc_ring_new(8);
    uint64_t cur = alc_ring_cursor_now(r);
    publish_n(r, 1);
    expect_event(r, &cur, 1);
    alc_ring_close(r);
    alc_event ev;
    cr_assert_eq(alc_ring_next(r, &cur, &ev, NULL, INT64_MAX), ALC_E_CLOSED);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

struct blocked_reader {
    alc_ring *r;
    uint64_t cursor;
    int64_t timeout_ns;
    int rc;
    alc_event ev;
};

static void *blocked_reader_main(void *arg) {
    struct blocked_reader *b = arg;
    b->rc = alc_ring_next(b->r, &b->cursor, &b->ev, NULL, b->timeout_ns);
    return NULL;
}

Test(ring, blocked_reader_is_woken_by_publish, .timeout = 20) {
    alc_ring *r = alc_ring_new(8);
    struct blocked_reader b = {.r = r, .cursor = alc_ring_cursor_now(r), .timeout_ns = -1,
                               .rc = 1};
    pthread_t t;
    cr_assert_eq(alc_thread_start(&t, blocked_reader_main, &b, 0, "ring-test", false), ALC_OK);
    alc_sleep_ms(50); // let the reader block
    cr_assert_eq(alc_ring_publish(r, ALC_EV_NOTE, 42, "{\"content\":\"hi\"}", NULL), ALC_OK);
    alc_thread_join(t);
    cr_assert_eq(b.rc, ALC_OK, "reader got %s", alc_err_name(b.rc));
    cr_assert_eq(b.ev.seq, 1);
    cr_assert_eq(b.ev.kind, ALC_EV_NOTE);
    cr_assert_str_eq(b.ev.json, "{\"content\":\"hi\"}");
    cr_assert_eq(b.cursor, 2);
    alc_event_deinit(&b.ev);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, blocked_reader_with_long_timeout_is_woken_by_publish_early, .timeout = 20) {
    alc_ring *r = alc_ring_new(8);
    struct blocked_reader b = {.r = r, .cursor = alc_ring_cursor_now(r),
                               .timeout_ns = 10000 * 1000000LL, .rc = 1};
    pthread_t t;
    int64_t t0 = alc_now_ns();
    cr_assert_eq(alc_thread_start(&t, blocked_reader_main, &b, 0, "ring-test", false), ALC_OK);
    alc_sleep_ms(50);
    cr_assert_eq(alc_ring_publish(r, ALC_EV_TICK, 1, NULL, NULL), ALC_OK);
    alc_thread_join(t);
    cr_assert_lt(alc_now_ns() - t0, 5000 * 1000000LL);
    cr_assert_eq(b.rc, ALC_OK);
    cr_assert_eq(b.ev.seq, 1);
    cr_assert_null(b.ev.json);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, blocked_reader_is_woken_by_close, .timeout = 20) {
    alc_ring *r = alc_ring_new(8);
    publish_n(r, 2);
    struct blocked_reader b = {.r = r, .cursor = alc_ring_cursor_now(r), .timeout_ns = -1,
                               .rc = 1};
    pthread_t t;
    cr_assert_eq(alc_thread_start(&t, blocked_reader_main, &b, 0, "ring-test", false), ALC_OK);
    alc_sleep_ms(50);
    alc_ring_close(r);
    alc_thread_join(t);
    cr_assert_eq(b.rc, ALC_E_CLOSED, "reader got %s", alc_err_name(b.rc));
    cr_assert_null(b.ev.json);
    cr_assert_eq(b.cursor, 3);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, recent_returns_the_newest_events_oldest_first) {
    alc_ring *r = alc_ring_new(4);
    alc_event out[8];
    cr_assert_eq(alc_ring_recent(r, out, 8), 0, "empty ring has no recent events");
    publish_n(r, 10);
    size_t n = alc_ring_recent(r, out, 3);
    cr_assert_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(out[i].seq, 8 + i);
        char want[32];
        snprintf(want, sizeof want, "{\"i\":%zu}", 8 + i);
        cr_assert_str_eq(out[i].json, want);
        alc_event_deinit(&out[i]);
    }
    // Asking for more than is retained returns what is retained.
    n = alc_ring_recent(r, out, 8);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(out[i].seq, 7 + i);
        alc_event_deinit(&out[i]);
    }
    cr_assert_eq(alc_ring_recent(r, out, 0), 0);
    cr_assert_eq(alc_ring_recent(r, NULL, 4), 0);
    cr_assert_eq(alc_ring_recent(NULL, out, 4), 0);
    // recent() does not move anybody's cursor: a reader still sees the retained events.
    uint64_t cur = alc_ring_cursor_oldest(r);
    expect_event(r, &cur, 7);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, events_are_copied_in_and_out) {
    alc_ring *r = alc_ring_new(4);
    char src[] = "{\"v\":\"original\"}";
    cr_assert_eq(alc_ring_publish(r, ALC_EV_LOG, 1, src, NULL), ALC_OK);
    memset(src, 'X', sizeof src - 1); // the ring must hold its own copy
    uint64_t c1 = 1, c2 = 1;
    alc_event a, b;
    cr_assert_eq(alc_ring_next(r, &c1, &a, NULL, 0), ALC_OK);
    cr_assert_eq(alc_ring_next(r, &c2, &b, NULL, 0), ALC_OK);
    cr_assert_str_eq(a.json, "{\"v\":\"original\"}");
    cr_assert_neq(a.json, b.json, "each reader gets its own copy");
    a.json[0] = '#';
    cr_assert_str_eq(b.json, "{\"v\":\"original\"}");
    alc_event_deinit(&a);
    alc_event_deinit(&b);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, overwritten_payloads_are_freed) {
    alc_ring *r = alc_ring_new(2);
    publish_n(r, 50); // 48 overwrites; LSan below catches a missed free
    cr_assert_eq(alc_ring_head_seq(r), 50);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, cursor_zero_reads_from_the_first_event) {
    alc_ring *r = alc_ring_new(4);
    publish_n(r, 2);
    uint64_t cur = 0;
    expect_event(r, &cur, 1);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, bad_arguments_are_rejected_not_crashed_on) {
    cr_assert_null(alc_ring_new(0));
    alc_ring_free(NULL);
    alc_event_deinit(NULL);
    alc_ring_close(NULL);
    cr_assert(alc_ring_is_closed(NULL));
    cr_assert_eq(alc_ring_head_seq(NULL), 0);

    alc_ring *r = alc_ring_new(4);
    cr_assert_eq(alc_ring_publish(NULL, ALC_EV_TICK, 0, "{}", NULL), ALC_E_INVAL);
    cr_assert_eq(alc_ring_publish(r, (alc_event_kind)99, 0, "{}", NULL), ALC_E_INVAL);
    cr_assert_eq(alc_ring_publish(r, (alc_event_kind)-1, 0, "{}", NULL), ALC_E_INVAL);
    cr_assert_eq(alc_ring_head_seq(r), 0, "rejected publishes must not use a seq");

    uint64_t cur = 1, skipped = 5;
    alc_event ev = {.seq = 9, .json = NULL};
    cr_assert_eq(alc_ring_next(NULL, &cur, &ev, &skipped, 0), ALC_E_INVAL);
    cr_assert_eq(ev.seq, 0, "out is zeroed on failure");
    cr_assert_eq(skipped, 0);
    cr_assert_eq(alc_ring_next(r, NULL, &ev, NULL, 0), ALC_E_INVAL);
    cr_assert_eq(alc_ring_next(r, &cur, NULL, NULL, 0), ALC_E_INVAL);

    publish_n(r, 2);
    uint64_t future = 4; // head is 2, so the furthest valid cursor is 3
    cr_assert_eq(alc_ring_next(r, &future, &ev, NULL, -1), ALC_E_INVAL);
    cr_assert_eq(future, 4);
    alc_ring_free(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(ring, kind_names_match_the_wire_format) {
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_STATE_TRANSITION), "state_transition");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_PAUSE_REQUESTED), "pause_requested");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_RESUME_ACCEPTED), "resume_accepted");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_PROGRESS), "progress");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_TICK), "tick");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_LOG), "log");
    cr_assert_str_eq(alc_event_kind_name(ALC_EV_NOTE), "note");
    cr_assert_str_eq(alc_event_kind_name((alc_event_kind)42), "unknown");
    cr_assert_str_eq(alc_event_kind_name((alc_event_kind)-3), "unknown");
}
