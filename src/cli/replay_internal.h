/*
 * replay_internal.h — shared by the files of `alc replay` (src/cli/replay*.c), not a public API:
 * the parsed transcript (replay_file.c) that the driver (replay.c) replays.
 *
 * Threads: everything here runs on the main thread of the `alc replay` process.
 */
#ifndef ALC_CLI_REPLAY_INTERNAL_H
#define ALC_CLI_REPLAY_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "alc/jbuf.h"

typedef enum { ENT_START, ENT_IN, ENT_OUT } alc__replay_kind;

/* One record of the transcript file. */
typedef struct alc__replay_entry {
    alc__replay_kind kind;
    int line_no;               /* in FILE, 1-based */
    int run;                   /* which server start it belongs to */
    char *bytes;               /* ENT_IN: the exact line to send (owned, malloc) */
    size_t len;
    cJSON *msg;                /* ENT_OUT: the recorded message (owned) */
    char *text;                /* ENT_OUT: compact text, for session id pairing (owned, malloc) */
    char *key;                 /* ENT_OUT: match key within the run (owned) */
    char *home;                /* ENT_START: recorded ALC_HOME (owned, may be NULL) */
    char *bundled;             /* ENT_START: recorded bundled_dir (owned, may be NULL) */
    char *bindir;              /* ENT_START: recorded bin_dir (owned, may be NULL) */
    long matched;              /* ENT_OUT: index of the live message matched to it, or -1 */
    char *req_id;              /* ENT_IN: compact id of a request (method + id), else NULL (owned) */
    bool nowait;               /* ENT_IN: "nowait":true — a draft does not wait for its reply */
} alc__replay_entry;

/* The whole file. */
typedef struct alc__replay_file {
    alc__replay_entry *ents;
    size_t n_ents;
    int n_runs;                /* server starts ("start" records; 1 if there are none) */
} alc__replay_file;

/* How often a response id occurred so far, for occurrence numbers in match keys. */
typedef struct alc__replay_key_count { char *id; size_t n; } alc__replay_key_count;

/*
 * Parses the transcript at path into f (zeroed by the caller). Returns ALC_OK, or an ALC_E_*
 * code after printing "alc replay: FILE:LINE: ..." on stderr. f owns what it holds (free with
 * alc__replay_file_deinit, also after a failure).
 */
int alc__replay_file_load(const char *path, alc__replay_file *f);
void alc__replay_file_deinit(alc__replay_file *f);

/*
 * The match key of an output message within its run: "N<k>" for the k-th notification (or
 * server request), "R<id>#<k>" for the k-th response with that id ("none" when it has no id).
 * counts/n_counts/n_notes are the run's counters (updated). Returns new (free()) or NULL on OOM.
 */
char *alc__replay_message_key(const cJSON *msg, alc__replay_key_count **counts, size_t *n_counts, size_t *n_notes);
/* Frees a counter array (owns). */
void alc__replay_counts_free(alc__replay_key_count *c, size_t n);

/* Appends the transcript record of one protocol line (recorder format: "msg" when the line is
 * JSON, else "raw" / "raw_hex" for input) plus '\n' to b. */
void alc__replay_encode_line(alc_jbuf *b, bool in, const char *line, size_t len);

#endif
