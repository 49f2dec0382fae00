/*
 * ring.h — the per-session progress bus: a bounded broadcast ring of events.
 *
 * A ring holds the last `capacity` events (256 for sessions, DESIGN §7) tagged with a
 * monotonically increasing sequence number; the first event published has seq 1. Publishing
 * copies the event in, overwrites the oldest event when the ring is full, wakes blocked readers
 * and never waits for them; publishing with no readers at all is fine.
 *
 * Readers are not registered. A reader is just a cursor (`uint64_t`, the seq it wants next) that
 * the caller keeps, obtained from alc_ring_cursor_now() or alc_ring_cursor_oldest() at any time.
 * A reader that fell so far behind that unseen events were overwritten gets ALC_E_LAGGED with the
 * number it missed, and its cursor jumps to the oldest retained event. After alc_ring_close()
 * publishing is refused, readers drain what is retained and then get ALC_E_CLOSED.
 *
 * Events are copied out: a reader receives its own copy, never a pointer into the ring.
 * Thread-safety: every function may be called from any thread, except alc_ring_free(), which
 * needs that no other thread is still using the ring. The ring's mutex is a leaf in the lock
 * order registry -> session -> ring (CONVENTIONS 15).
 */
#ifndef ALC_RING_H
#define ALC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capacity of a session's ring (spec §2.6.5). */
#define ALC_RING_SESSION_CAPACITY 256

typedef enum alc_event_kind {
    ALC_EV_STATE_TRANSITION,
    ALC_EV_PAUSE_REQUESTED,
    ALC_EV_RESUME_ACCEPTED,
    ALC_EV_PROGRESS,
    ALC_EV_TICK,
    ALC_EV_LOG,
    ALC_EV_NOTE
} alc_event_kind;

/* One progress event. A plain data carrier: whoever holds one owns its json string. */
typedef struct alc_event {
    uint64_t seq;        /* set by alc_ring_publish; 1 for the first event of a ring */
    alc_event_kind kind;
    int64_t at_ms;       /* wall clock, Unix ms; set by the publisher */
    char *json;          /* owned: the payload as compact JSON text, or NULL; freed by _deinit */
} alc_event;

/* Name of the kind as used in JSON ("state_transition", ...); "unknown" for a bad value. */
const char *alc_event_kind_name(alc_event_kind k);
/* Frees ev->json and sets it to NULL. ev may be NULL. */
void alc_event_deinit(alc_event *ev);

typedef struct alc_ring alc_ring;

/* Returns a new empty open ring holding up to capacity events (free with alc_ring_free);
 * NULL on OOM or capacity 0. */
alc_ring *alc_ring_new(size_t capacity);
/* Frees r and every retained event. NULL ok. No other thread may still use r. */
void alc_ring_free(alc_ring *r);

/* Publishes an event: copies kind, at_ms and json (borrowed; duplicated inside) and assigns the
 * next seq, written to *seq_out if non-NULL. Never blocks on readers.
 * Returns ALC_OK, ALC_E_CLOSED, ALC_E_NOMEM or ALC_E_INVAL (NULL r, kind out of range). */
int alc_ring_publish(alc_ring *r, alc_event_kind kind, int64_t at_ms, const char *json,
                     uint64_t *seq_out);
/* Closes r: later publishes fail with ALC_E_CLOSED and blocked readers wake. Idempotent. */
void alc_ring_close(alc_ring *r);
bool alc_ring_is_closed(alc_ring *r);

/* A cursor that sees only events published after this call (head seq + 1). */
uint64_t alc_ring_cursor_now(alc_ring *r);
/* A cursor at the oldest retained event (or at the next event if none is retained). */
uint64_t alc_ring_cursor_oldest(alc_ring *r);

/* Reads the event *cursor points at into *out and advances *cursor.
 * A cursor of 0 is treated as 1 (the first event ever published).
 * timeout_ns: 0 = do not wait, < 0 = wait forever, > 0 = wait at most that long.
 * Returns:
 *   ALC_OK         *out holds a new copy (release it with alc_event_deinit).
 *   ALC_E_LAGGED   events the reader had not seen were overwritten: *skipped (if non-NULL) is
 *                  how many, *cursor now points at the oldest retained event, which the next
 *                  call returns.
 *   ALC_E_CLOSED   the ring is closed and the reader has seen everything retained.
 *   ALC_E_TIMEOUT  nothing new arrived in time.
 *   ALC_E_NOMEM    copying the payload failed; the cursor is unchanged, retry later.
 *   ALC_E_INVAL    NULL r/cursor/out, or a cursor beyond the next seq to be published.
 * On every return other than ALC_OK, *out (if non-NULL) is zeroed so that alc_event_deinit is
 * always safe; *skipped (if non-NULL) is 0 unless ALC_E_LAGGED. */
int alc_ring_next(alc_ring *r, uint64_t *cursor, alc_event *out, uint64_t *skipped,
                  int64_t timeout_ns);

/* Copies up to max of the most recent retained events, oldest first, into out[0..n) and
 * returns n; the caller deinits each. Returns 0 on OOM (nothing left allocated). */
size_t alc_ring_recent(alc_ring *r, alc_event *out, size_t max);
/* Seq of the last published event; 0 if none. */
uint64_t alc_ring_head_seq(alc_ring *r);

#endif
