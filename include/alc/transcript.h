/*
 * transcript.h — session logs (reference §5, §3.4): for every session that reached a terminal
 * state after at least one LLM call, {log_dir}/{session_id}.json (pretty JSON, sorted keys:
 * notes?, session_id, stats, strategy, task_hint, transcript) and the compact summary
 * {session_id}.meta.json; plus the read side behind alc_log_view, alc_note and alc_stats.
 *
 * The store knows nothing of sessions or MCP: the engine hands it a plain alc_transcript.
 * Files are written with alc_fs_write_atomic (mode 0600, directory created 0700). Session ids
 * that become file names are validated first (no '/', "..", NUL, ...).
 *
 * Threads: every function may be called from any thread. A process-wide leaf lock serialises
 * the writers (alc_transcript_write, alc_transcript_add_note) so that a note never races the
 * meta file of the same session; it is held only around this module's file I/O and never
 * while another lock is held. All functions block on disk I/O: call them with no engine lock
 * held. Full contracts are at the definitions in src/store/transcript.c.
 */
#ifndef ALC_TRANSCRIPT_H
#define ALC_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* task_hint: at most this many bytes of the first prompt (then "..." is appended). */
#define ALC_TRANSCRIPT_HINT_MAX 100

/* One LLM query and its answer. Every pointer is owned by the enclosing alc_transcript. */
typedef struct alc_transcript_turn {
    char *query_id;
    char *prompt;
    size_t prompt_len;
    char *system;          /* NULL: JSON null */
    char *response;        /* NULL: not answered (JSON null) */
    size_t response_len;
} alc_transcript_turn;

/* What is logged for one finished session. Owns every member except state. */
typedef struct alc_transcript {
    char *session_id;      /* must satisfy alc_transcript_id_ours() */
    char *strategy;        /* NULL: JSON null */
    const char *state;     /* borrowed static string: "done" | "failed" | "cancelled" */
    int64_t ended_at_ms;   /* Unix ms */
    cJSON *stats;          /* the "auto" stats object (reference §2.5); NULL: {} */
    alc_transcript_turn *turns;
    size_t n_turns;
} alc_transcript;

/* Frees every owned member and zeroes t. NULL ok. */
void alc_transcript_deinit(alc_transcript *t);

/* True iff id is one of ours: "s-" followed by exactly 32 lowercase hex digits. */
bool alc_transcript_id_ours(const char *id);
/* True iff id may name a log file: 1..128 bytes of [A-Za-z0-9_.-], starting with a letter or
 * digit, no "..", not ending in ".meta". Every id of ours passes. */
bool alc_transcript_id_valid(const char *id);

/* The task_hint of a prompt: at most ALC_TRANSCRIPT_HINT_MAX bytes cut at a UTF-8 boundary,
 * plus "..." if cut. Returns new (free()), NULL on out of memory. */
char *alc_transcript_task_hint(const char *prompt, size_t len);

/* Writes {log_dir}/{id}.json and {id}.meta.json. ALC_OK, ALC_E_INVAL, ALC_E_NOMEM, ALC_E_IO. */
int alc_transcript_write(const char *log_dir, const alc_transcript *t, char *err, size_t errlen);

/* Appends a note; *notes_count receives the new count. ALC_E_NOT_FOUND when no log exists. */
int alc_transcript_add_note(const char *log_dir, const char *session_id, const char *title,
                            const char *content, int64_t now_ms, long long *notes_count,
                            char *err, size_t errlen);

/* Newest-first summaries (meta objects) of at most limit logs. *out returns new array. */
int alc_transcript_list(const char *log_dir, size_t limit, cJSON **out, char *err, size_t errlen);

/* The log of one session, raw or truncated to max_chars bytes (0 = unlimited). *out returns
 * new text (free()). ALC_E_NOT_FOUND when no log exists. */
int alc_transcript_detail(const char *log_dir, const char *session_id, size_t max_chars,
                          char **out, size_t *len, char *err, size_t errlen);

/* Earliest file mtime (Unix ms) that a `days` filter keeps; 0 when nothing is excluded
 * (days huge, infinite, or reaching before the epoch). days must be >= 0. */
int64_t alc_transcript_cutoff_ms(double days, int64_t now_ms);

/* Per-strategy aggregates {total_sessions, strategies:{name:{...}}} of the logs whose file
 * mtime >= min_mtime_ms, optionally only strategy (NULL: all). *out returns new object. */
int alc_transcript_stats(const char *log_dir, const char *strategy, int64_t min_mtime_ms,
                         cJSON **out, char *err, size_t errlen);

#endif
