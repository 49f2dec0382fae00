/*
 * record.h — recording of the protocol stream to a JSONL transcript (`alc --record FILE`,
 * ALC_RECORD=FILE). Internal to src/server: alc_server_run starts and frees the recorder.
 *
 * File format, one JSON object per line (DESIGN §10):
 *   {"dir":"start","alc_home":"<ALC_HOME>","bundled_dir":"<dir>","bin_dir":"<dir>",
 *    "version":"<version>"}                                         once per server start
 *      (bundled_dir: the bundled package collection, when found; bin_dir: the directory of the
 *      executable — both only so that replay can normalise paths that differ between machines)
 *   {"dir":"in","msg":<the line exactly as received>}               a valid JSON input line
 *   {"dir":"in","raw":"<text>"}                                     input that is not JSON
 *   {"dir":"in","raw_hex":"<hex bytes>"}                            input with NUL / bad UTF-8
 *   {"dir":"out","msg":<the line exactly as sent>}                  every output line
 *
 * Threads: alc_record_start and alc_record_free run on the main thread while no other thread
 * writes to the alc_out; the tap itself runs under alc_out's leaf lock on whichever thread
 * writes, so the recorder needs no lock of its own.
 */
#ifndef ALC_SERVER_RECORD_H
#define ALC_SERVER_RECORD_H

#include "alc/transport.h"

typedef struct alc_record alc_record;

/*
 * Starts recording if the environment variable ALC_RECORD names a file (main.c sets it for
 * `--record FILE`): opens the file for appending (created with mode 0600), writes the start
 * line and installs the tap on out (borrowed; must outlive the recorder's use, i.e. free the
 * recorder after alc_out_free or after every writer has stopped). home (borrowed) is the
 * ALC_HOME written into the start line. Never fails serving: if the file cannot be opened,
 * a warning goes to stderr and *rec is set to NULL. Returns new (free with alc_record_free)
 * through *rec, or NULL when not recording.
 */
void alc_record_start(alc_out *out, const char *home, alc_record **rec);

/* Closes the transcript file and frees r. alc_record_free(NULL) is a no-op. */
void alc_record_free(alc_record *r);

#endif
