/*
 * replay.h — `alc replay FILE [--update] [--verbose]`: replays a recorded transcript
 * (DESIGN §10, src/server/record.h for the file format) against a fresh server and compares
 * the replies, plus the pieces it is built from so that they can be tested alone:
 *
 *  - the normaliser (src/cli/replay_norm.c): makes two runs of the same conversation compare
 *    equal by replacing volatile values — session ids become <session-1>, <session-2>, ... in
 *    order of first appearance (consistently, also inside strings and inside JSON text held in
 *    strings such as content[0].text, which is parsed and normalised as JSON); timestamps
 *    (started_at, last_activity_at, requested_at, ts, at, ended_at, started_waiting_at,
 *    completed_at, timestamp, ...) become "<ts>"; elapsed_ms (and *_elapsed_ms, duration_ms)
 *    becomes "<elapsed>"; the ALC_HOME path becomes <home> and other registered directories
 *    <name> (replay uses <bundled> for the bundled package collection and <bindir> for the
 *    directory of the executable); heartbeat messages "running (N s elapsed)" lose their N;
 *  - a line diff (unified style) of two lists of normalised messages.
 *
 * Threads: a normaliser is single-owner (not thread-safe); the functions here run on the main
 * thread of the `alc replay` process. Nothing here is used by the server.
 */
#ifndef ALC_REPLAY_H
#define ALC_REPLAY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "alc/config.h"

typedef struct alc_replay_norm alc_replay_norm;

/* Returns a new normaliser with no home path and no session ids seen (alc_replay_norm_free),
 * or NULL on OOM. */
alc_replay_norm *alc_replay_norm_new(void);
/* Frees n. alc_replay_norm_free(NULL) is a no-op. */
void alc_replay_norm_free(alc_replay_norm *n);
/* Sets the ALC_HOME path that is replaced by "<home>" from now on (home borrowed and copied;
 * a trailing '/' is ignored; NULL or "" turns the replacement off). ALC_OK or ALC_E_NOMEM. */
int alc_replay_norm_set_home(alc_replay_norm *n, const char *home);
/* Sets the directory replaced by "<name>" (name and path borrowed and copied; a trailing '/' is
 * ignored; NULL or "" removes it). Where several match, the longest wins. ALC_OK, ALC_E_NOMEM,
 * or ALC_E_LIMIT past 8 names. set_home(n, h) is set_path(n, "home", h). */
int alc_replay_norm_set_path(alc_replay_norm *n, const char *name, const char *path);
/* Returns a new normalised deep copy of msg (borrowed) with object keys sorted (free with
 * cJSON_Delete), or NULL on OOM. Session ids keep their numbers across calls on the same n. */
cJSON *alc_replay_normalize(alc_replay_norm *n, const cJSON *msg);
/* As alc_replay_normalize, printed compactly on one line. Returns new (free()) or NULL. */
char *alc_replay_normalize_text(alc_replay_norm *n, const cJSON *msg);

/*
 * Writes a unified-style diff of the line lists a ("expected", na lines) and b ("actual")
 * to out: hunks with 2 lines of context, '-' for expected-only and '+' for actual-only lines,
 * and under each changed pair of JSON lines the path of the first difference. Lines longer
 * than max_width characters are shortened (0: never). Returns the number of '-' plus '+'
 * lines (0 when the lists are equal). Borrows everything.
 */
size_t alc_replay_diff(FILE *out, const char *const *a, size_t na, const char *const *b, size_t nb,
                       size_t max_width);

/*
 * Writes to buf the path of the first difference between a and b (borrowed), such as
 * "result.content[0].text.status: expected \"completed\", got \"error\"". Returns false (and
 * writes "") when they are equal.
 */
bool alc_replay_first_difference(const cJSON *a, const cJSON *b, char *buf, size_t buflen);

/*
 * The `alc replay` sub-command (argv[0] is "replay"). Returns the exit status: 0 when the live
 * replies match the transcript (or --update rewrote it, or left it untouched because only
 * volatile values differ), 1 on a mismatch or a server crash,
 * 2 on a usage or I/O error. cfg is borrowed and unused (the server runs in a temporary home).
 * Runs on the main thread; spawns the server as a child process and waits for it.
 */
int alc_cli_replay(const alc_config *cfg, int argc, char **argv);

#endif
