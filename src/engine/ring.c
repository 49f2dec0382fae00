/*
 * ring.c — the progress bus: a bounded broadcast ring with sequence numbers and lagging readers
 * (DESIGN §7, CONVENTIONS 22, spec §2.6.4-2.6.5).
 *
 * Owns: the slot array and every retained event's json string.
 * Layout: seq s (s >= 1) lives in slots[(s - 1) % cap]. `head` is the seq of the last published
 * event, so the retained seqs are oldest..head with oldest = max(1, head - cap + 1).
 * The slot array starts small (RING_FIRST_SLOTS) and doubles on demand up to cap: it only
 * grows before the ring first wraps (head <= n_slots < cap), when slot (s - 1) % cap is s - 1,
 * so growing never moves an event. Most sessions publish a few dozen events and never pay for
 * the full capacity (10,000 parked sessions x 256 slots would be 80 MB).
 * A reader's cursor is the seq it wants next; it lagged when cursor < oldest.
 *
 * Payloads up to RING_INLINE_MAX bytes (the state transitions and pause/resume events that
 * every LLM call publishes) are stored in the slot itself; longer ones in a heap copy made
 * before the lock is taken. Readers always get their own heap copy (alc_event.json).
 *
 * Threads: any thread may publish, close and read concurrently; alc_ring_free() only when no
 * other thread uses the ring. One mutex `mu` guards everything mutable; one condvar `cond` is
 * broadcast on every publish and on close. `mu` is a leaf lock (CONVENTIONS 15): nothing else is
 * locked while it is held. Publish allocates (strdup) before locking and frees the overwritten
 * payload after unlocking. Readers duplicate the payload under the lock (malloc is not a
 * blocking call in the sense of CONVENTIONS 16, and it keeps the copy consistent with the slot).
 */
#include "alc/ring.h"

#include "alc/error.h"
#include "alc/thread.h"

#include <stdlib.h>
#include <string.h>

#define RING_INLINE_MAX 47

typedef struct ring_slot {
    uint64_t seq;
    alc_event_kind kind;
    bool has_json;
    int64_t at_ms;
    char *heap;                       /* owned: a payload longer than RING_INLINE_MAX, or NULL */
    char inline_json[RING_INLINE_MAX + 1]; /* a shorter payload, NUL-terminated */
} ring_slot;

static const char *slot_json(const ring_slot *sl) {
    if (!sl->has_json) return NULL;
    return sl->heap ? sl->heap : sl->inline_json;
}

struct alc_ring {
    alc_mutex mu;
    alc_cond cond;      /* broadcast on publish and close */
    size_t cap;         /* immutable after _new */
    ring_slot *slots;   /* guarded by mu; n_slots entries (n_slots == cap once wrapped) */
    size_t n_slots;     /* guarded by mu */
    uint64_t head;      /* guarded by mu; seq of the last published event, 0 if none */
    bool closed;        /* guarded by mu */
};

static const char *const kind_names[] = {
    [ALC_EV_STATE_TRANSITION] = "state_transition",
    [ALC_EV_PAUSE_REQUESTED] = "pause_requested",
    [ALC_EV_RESUME_ACCEPTED] = "resume_accepted",
    [ALC_EV_PROGRESS] = "progress",
    [ALC_EV_TICK] = "tick",
    [ALC_EV_LOG] = "log",
    [ALC_EV_NOTE] = "note",
};
#define KIND_COUNT (sizeof kind_names / sizeof kind_names[0])

/* Returns the static JSON name of k ("state_transition", ...), or "unknown" for a value outside
 * the enum. Pure; any thread. */
const char *alc_event_kind_name(alc_event_kind k) {
    if ((unsigned)k >= KIND_COUNT) return "unknown";
    return kind_names[k];
}

/* Frees ev->json (owned by ev) and sets it to NULL; the other fields are left as they are.
 * ev may be NULL. */
void alc_event_deinit(alc_event *ev) {
    if (!ev) return;
    free(ev->json);
    ev->json = NULL;
}

// Oldest retained seq; equals head + 1 when nothing has been published. Called with mu held.
static uint64_t oldest_locked(const alc_ring *r) {
    return r->head >= r->cap ? r->head - r->cap + 1 : 1;
}

// Slot holding seq (seq >= 1). Called with mu held.
static ring_slot *slot_of(alc_ring *r, uint64_t seq) {
    return &r->slots[(seq - 1) % r->cap];
}

// Copies *src into *dst with a fresh json string. Called with mu held. ALC_OK or ALC_E_NOMEM.
static int copy_event_locked(alc_event *dst, const ring_slot *src) {
    char *json = NULL;
    const char *text = slot_json(src);
    if (text) {
        json = strdup(text);
        if (!json) return ALC_E_NOMEM;
    }
    dst->seq = src->seq;
    dst->kind = src->kind;
    dst->at_ms = src->at_ms;
    dst->json = json;
    return ALC_OK;
}

#define RING_FIRST_SLOTS 16

/* Returns a new empty, open ring with room for capacity events; the caller frees it with
 * alc_ring_free. Slots are allocated as events arrive (see the layout above).
 * Returns NULL on OOM or if capacity is 0 (or too large to allocate). */
alc_ring *alc_ring_new(size_t capacity) {
    alc_ring *r = NULL;
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(ring_slot)) goto fail;
    r = calloc(1, sizeof *r);
    if (!r) goto fail;
    r->n_slots = capacity < RING_FIRST_SLOTS ? capacity : RING_FIRST_SLOTS;
    r->slots = calloc(r->n_slots, sizeof *r->slots);
    if (!r->slots) goto fail;
    r->cap = capacity;
    alc_mutex_init(&r->mu);
    alc_cond_init(&r->cond);
    return r;
fail:
    if (r) free(r->slots);
    free(r);
    return NULL;
}

/* Frees r (owned by the caller until now) and the payloads of all retained events.
 * NULL is a no-op. The caller guarantees that no thread is blocked in or about to call any
 * other alc_ring_* function on r; close the ring and join the readers first. */
void alc_ring_free(alc_ring *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_slots; i++) free(r->slots[i].heap);
    free(r->slots);
    alc_cond_deinit(&r->cond);
    alc_mutex_deinit(&r->mu);
    free(r);
}

/* Publishes one event. json is borrowed (may be NULL) and duplicated before the lock is taken;
 * kind and at_ms are stored as given; seq is the next sequence number and is written to *seq_out
 * if seq_out is non-NULL. If the ring is full the oldest event is overwritten; its payload is
 * freed after the lock is released. Before the ring first fills, the slot array may grow
 * (realloc under mu). Wakes every blocked reader. Never blocks on readers: the only wait is for
 * mu, which is held only briefly.
 * Returns ALC_OK, ALC_E_CLOSED (after alc_ring_close; nothing stored), ALC_E_NOMEM, or
 * ALC_E_INVAL for a NULL ring or a kind outside alc_event_kind. */
int alc_ring_publish(alc_ring *r, alc_event_kind kind, int64_t at_ms, const char *json,
                     uint64_t *seq_out) {
    char *copy = NULL;
    char *old = NULL;
    uint64_t seq;
    if (!r || (unsigned)kind >= KIND_COUNT) return ALC_E_INVAL;
    size_t len = json ? strlen(json) : 0;
    if (json && len > RING_INLINE_MAX) {
        copy = strdup(json);
        if (!copy) return ALC_E_NOMEM;
    }

    alc_mutex_lock(&r->mu);
    if (r->closed) {
        alc_mutex_unlock(&r->mu);
        free(copy);
        return ALC_E_CLOSED;
    }
    if (r->head == r->n_slots && r->n_slots < r->cap) { /* full before the first wrap: grow */
        size_t n = r->n_slots * 2 < r->cap ? r->n_slots * 2 : r->cap;
        ring_slot *grown = realloc(r->slots, n * sizeof *grown);
        if (!grown) {
            alc_mutex_unlock(&r->mu);
            free(copy);
            return ALC_E_NOMEM;
        }
        memset(grown + r->n_slots, 0, (n - r->n_slots) * sizeof *grown);
        r->slots = grown;
        r->n_slots = n;
    }
    seq = ++r->head;
    ring_slot *slot = slot_of(r, seq);
    old = slot->heap; // swapped out here, freed after unlock
    slot->seq = seq;
    slot->kind = kind;
    slot->at_ms = at_ms;
    slot->has_json = json != NULL;
    slot->heap = copy;
    if (json && !copy) memcpy(slot->inline_json, json, len + 1);
    alc_cond_broadcast(&r->cond);
    alc_mutex_unlock(&r->mu);

    free(old);
    if (seq_out) *seq_out = seq;
    return ALC_OK;
}

/* Closes r: later publishes return ALC_E_CLOSED; readers still get every retained event they
 * have not seen and then ALC_E_CLOSED. Wakes every blocked reader. Idempotent; NULL is a no-op.
 * Takes mu. */
void alc_ring_close(alc_ring *r) {
    if (!r) return;
    alc_mutex_lock(&r->mu);
    r->closed = true;
    alc_cond_broadcast(&r->cond);
    alc_mutex_unlock(&r->mu);
}

/* True once alc_ring_close has been called (also for a NULL ring). Takes mu. */
bool alc_ring_is_closed(alc_ring *r) {
    if (!r) return true;
    alc_mutex_lock(&r->mu);
    bool closed = r->closed;
    alc_mutex_unlock(&r->mu);
    return closed;
}

/* Returns a cursor that will see only events published after this call: head seq + 1.
 * The caller keeps it. 1 for a NULL ring. Takes mu. */
uint64_t alc_ring_cursor_now(alc_ring *r) {
    if (!r) return 1;
    alc_mutex_lock(&r->mu);
    uint64_t c = r->head + 1;
    alc_mutex_unlock(&r->mu);
    return c;
}

/* Returns a cursor at the oldest retained event, so that the reader sees everything still in
 * the ring; when nothing is retained yet this is the next seq to be published (1 for a fresh
 * ring). 1 for a NULL ring. Takes mu. */
uint64_t alc_ring_cursor_oldest(alc_ring *r) {
    if (!r) return 1;
    alc_mutex_lock(&r->mu);
    uint64_t c = oldest_locked(r);
    alc_mutex_unlock(&r->mu);
    return c;
}

/* Reads the event at *cursor (borrowed, in/out: the reader's own cursor) into *out (borrowed;
 * on ALC_OK it receives a new json string that the caller frees with alc_event_deinit) and
 * advances *cursor by one. skipped is optional.
 * timeout_ns: 0 = never wait, < 0 = wait until an event or close, > 0 = wait at most that many
 * nanoseconds (measured on the monotonic clock).
 * Returns ALC_OK; ALC_E_LAGGED (*skipped = events overwritten before this reader saw them,
 * *cursor moved to the oldest retained event, nothing copied); ALC_E_CLOSED (closed and nothing
 * left for this cursor); ALC_E_TIMEOUT; ALC_E_NOMEM (cursor unchanged); ALC_E_INVAL (NULL
 * r/cursor/out, or *cursor greater than head seq + 1). A cursor of 0 reads from seq 1.
 * On every non-OK return *out is zeroed. Takes mu; may block on cond as timeout_ns allows. */
int alc_ring_next(alc_ring *r, uint64_t *cursor, alc_event *out, uint64_t *skipped,
                  int64_t timeout_ns) {
    int rc;
    int64_t deadline = 0;
    if (skipped) *skipped = 0;
    if (out) *out = (alc_event){0};
    if (!r || !cursor || !out) return ALC_E_INVAL;
    if (*cursor == 0) *cursor = 1;
    if (timeout_ns > 0) {
        int64_t now = alc_now_ns();
        if (timeout_ns > INT64_MAX - now)
            timeout_ns = -1; // a deadline past INT64_MAX is as good as forever
        else
            deadline = now + timeout_ns;
    }

    alc_mutex_lock(&r->mu);
    for (;;) {
        uint64_t c = *cursor;
        if (c > r->head + 1) {
            rc = ALC_E_INVAL;
            break;
        }
        uint64_t oldest = oldest_locked(r);
        if (c < oldest) {
            // Checked before `closed` so that a lagging reader of a closed ring still drains.
            if (skipped) *skipped = oldest - c;
            *cursor = oldest;
            rc = ALC_E_LAGGED;
            break;
        }
        if (c <= r->head) {
            rc = copy_event_locked(out, slot_of(r, c));
            if (rc == ALC_OK) *cursor = c + 1;
            break;
        }
        // Nothing new for this cursor.
        if (r->closed) {
            rc = ALC_E_CLOSED;
            break;
        }
        if (timeout_ns == 0) {
            rc = ALC_E_TIMEOUT;
            break;
        }
        if (timeout_ns < 0) {
            alc_cond_wait(&r->cond, &r->mu);
        } else {
            int64_t left = deadline - alc_now_ns();
            if (left <= 0) {
                rc = ALC_E_TIMEOUT;
                break;
            }
            // Time-out or wake-up: either way the loop re-checks the state first.
            (void)alc_cond_timedwait_ns(&r->cond, &r->mu, left);
        }
    }
    alc_mutex_unlock(&r->mu);
    return rc;
}

/* Copies the min(max, retained) most recent events into out[0..n) (borrowed array; each entry
 * receives a new json string the caller frees with alc_event_deinit), oldest first, and returns
 * n. Returns 0 for a NULL ring or out, max 0, or OOM (then nothing stays allocated). Takes mu;
 * never blocks otherwise. */
size_t alc_ring_recent(alc_ring *r, alc_event *out, size_t max) {
    size_t n = 0;
    if (!r || !out || max == 0) return 0;
    alc_mutex_lock(&r->mu);
    uint64_t oldest = oldest_locked(r);
    uint64_t retained = r->head + 1 - oldest;
    uint64_t want = retained < (uint64_t)max ? retained : (uint64_t)max;
    uint64_t first = r->head + 1 - want;
    for (; n < want; n++) {
        if (copy_event_locked(&out[n], slot_of(r, first + n)) != ALC_OK) goto fail;
    }
    alc_mutex_unlock(&r->mu);
    return n;
fail:
    alc_mutex_unlock(&r->mu);
    while (n > 0) alc_event_deinit(&out[--n]);
    return 0;
}

/* Seq of the last published event, 0 if none (or for a NULL ring). Takes mu. */
uint64_t alc_ring_head_seq(alc_ring *r) {
    if (!r) return 0;
    alc_mutex_lock(&r->mu);
    uint64_t h = r->head;
    alc_mutex_unlock(&r->mu);
    return h;
}
