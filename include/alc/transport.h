/*
 * transport.h — the line transport of the MCP stdio front end.
 *
 * alc_reader: owned and used only by the reader (main) thread. Splits the input byte
 * stream into lines, tolerates CRLF, enforces a maximum line size (an oversized line is
 * drained up to its newline and reported, so the stream stays in sync).
 *
 * alc_out: the protocol writer. Any thread may write; one leaf mutex makes each
 * "write one whole line" atomic, so lines never interleave. It is never taken while
 * another lock is held, and no other lock is taken while it is held.
 */
#ifndef ALC_TRANSPORT_H
#define ALC_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct alc_reader alc_reader;
typedef struct alc_out alc_out;

/* Creates a reader on fd (borrowed). Returns new (alc_reader_free) or NULL on OOM. */
alc_reader *alc_reader_new(int fd, size_t max_line);
void alc_reader_free(alc_reader *r);
/*
 * Reads the next line. Returns:
 *   ALC_OK         *line points to the line without '\n' / "\r\n", NUL-terminated, valid
 *                  until the next call; *len is its length (embedded NULs possible).
 *   ALC_E_TOO_LARGE the line exceeded max_line; it was discarded up to its newline and
 *                  *len holds its size so far (the caller answers with an error).
 *   ALC_E_EOF      end of input (a final unterminated line is returned first as a line).
 *   ALC_E_CANCELLED read(2) was interrupted by a signal (call again after checking why).
 *   ALC_E_IO       read error.
 * Blocks in read(2). Reader thread only.
 */
int alc_reader_next(alc_reader *r, char **line, size_t *len);

/* Callback used to mirror every protocol line (recording); dir is "in" or "out". */
typedef void (*alc_out_tap_fn)(void *ud, const char *dir, const char *line, size_t len);

/* Creates the writer on fd (owned: closed by alc_out_free). NULL on OOM. */
alc_out *alc_out_new(int fd);
void alc_out_free(alc_out *o);
/* Installs a tap called under the output lock for every line written (and by
 * alc_out_tap_in for lines read). Call before other threads start. */
void alc_out_set_tap(alc_out *o, alc_out_tap_fn fn, void *ud);
/* Installs fn, called once (with the output lock held; it must only set flags or send a
 * signal) when the peer is found gone. Call before other threads start. */
void alc_out_set_on_closed(alc_out *o, void (*fn)(void *ud), void *ud);
/* Reports an input line to the tap (keeps "in" and "out" in one order). */
void alc_out_tap_in(alc_out *o, const char *line, size_t len);
/*
 * Writes line (len bytes, no '\n' inside) plus '\n' as one unit. Returns ALC_OK, or
 * ALC_E_CLOSED once the peer has gone (EPIPE) or after a write error.
 */
int alc_out_write(alc_out *o, const char *line, size_t len);
/*
 * Gated write, for the lines of one request: under the output lock, if *gate is already
 * true nothing is written and ALC_E_CANCELLED is returned; otherwise the line is written
 * and, if close_gate, *gate is set to true. Used so that no progress notification for a
 * request can be written after its response, and a cancelled request gets no response.
 */
int alc_out_write_gated(alc_out *o, const char *line, size_t len, atomic_bool *gate, bool close_gate);
/*
 * Like alc_out_write_gated for progress notifications: builds the line under the lock
 * with the next value of *counter (incremented only when the line is written), so that
 * progress values appear on the wire strictly increasing. build() returns a malloc'd
 * line or NULL; it must not take locks.
 */
int alc_out_write_counted(alc_out *o, atomic_bool *gate, uint64_t *counter,
                          char *(*build)(void *ud, uint64_t value, size_t *len), void *ud);
/* True once the peer has gone. */
bool alc_out_closed(alc_out *o);

#endif
