/*
 * proc.h — test harness: run a child process (normally the alc server) behind pipes and talk
 * line-delimited JSON-RPC to it.
 *
 * Test-only code (tests/ tree, never linked into alc). Plain C11 + POSIX, no Criterion: usable from
 * Criterion tests, stress programs and benchmarks alike.
 *
 * Threads: one alc_proc may be used by two threads at once only in this split: one thread calls
 * alc_proc_send / alc_proc_send_raw / alc_proc_close_stdin, the other calls alc_proc_recv* /
 * alc_proc_request's read side. Everything else (spawn, wait, kill, free) from one thread while no
 * other call on the same alc_proc is running. Distinct alc_proc objects are independent; spawning
 * from several threads at once is safe.
 *
 * Signals: the first spawn sets SIGPIPE to SIG_IGN in the calling process (a write to a dead child
 * then fails with EPIPE instead of killing the test); the child starts with default signal
 * dispositions and an empty signal mask.
 */
#ifndef ALC_TEST_PROC_H
#define ALC_TEST_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

typedef struct alc_proc alc_proc;

/* Where the child's stderr goes. */
enum alc_proc_stderr_mode {
    ALC_PROC_STDERR_CAPTURE = 0, /* unlinked temp file; read it with alc_proc_stderr_text */
    ALC_PROC_STDERR_INHERIT = 1, /* the caller's stderr */
    ALC_PROC_STDERR_NULL = 2,    /* /dev/null */
};

/* Status reported by alc_proc_recv / alc_proc_recv_n through their out-parameter. */
enum alc_proc_status {
    ALC_PROC_LINE = 0,    /* a complete line was returned */
    ALC_PROC_TIMEOUT = 1, /* nothing complete within the timeout (returned NULL) */
    ALC_PROC_EOF = 2,     /* the child closed stdout and no bytes are left (returned NULL) */
    ALC_PROC_PARTIAL = 3, /* EOF after an unterminated last line; that fragment was returned */
    ALC_PROC_ERROR = -1,  /* read/poll failure, errno set (returned NULL) */
};

/* Spawn options; a zeroed struct (or NULL) means: inherit the environment, capture stderr,
 * 10 s send timeout. */
typedef struct alc_proc_opts {
    const char *const *env;  /* extra "KEY=VALUE" entries, NULL-terminated, or NULL; an entry
                                replaces an inherited variable of the same name */
    const char *drop_prefix; /* if non-NULL, inherited variables whose name starts with this
                                prefix (e.g. "ALC_") are not passed on (extras still are) */
    int stderr_mode;         /* enum alc_proc_stderr_mode */
    int send_timeout_ms;     /* max time one send may block on a full pipe; 0 → 10000, <0 → none */
} alc_proc_opts;

/* Starts argv[0] (PATH-searched if it has no '/') with argv, stdin and stdout on pipes.
 * argv: borrows, NULL-terminated. opts: borrows, may be NULL.
 * Returns new alc_proc (free with alc_proc_free), or NULL with errno set (e.g. ENOENT when the
 * program cannot be executed). */
alc_proc *alc_proc_spawn(const char *const argv[], const alc_proc_opts *opts);

/* Starts the alc binary named by the environment variable ALC_BIN, without arguments, with
 * ALC_HOME=alc_home (skipped if NULL) plus extra_env (NULL-terminated or NULL); inherited ALC_*
 * variables are dropped so the outer environment cannot change the server's limits.
 * Returns new alc_proc, or NULL with errno set (ENOENT if ALC_BIN is unset). */
alc_proc *alc_proc_spawn_alc(const char *alc_home, const char *const *extra_env, int stderr_mode);

/* Process id of the child. */
pid_t alc_proc_pid(const alc_proc *p);

/* Writes line to the child's stdin, appending '\n' if line does not already end with one.
 * Blocks until everything is written or the send timeout passes.
 * Returns 0, or -1 with errno set (EPIPE: child closed stdin; ETIMEDOUT; EBADF after close). */
int alc_proc_send(alc_proc *p, const char *line);

/* Writes exactly len bytes (may contain NUL, need not end a line). Same returns as alc_proc_send. */
int alc_proc_send_raw(alc_proc *p, const void *bytes, size_t len);

/* Closes the child's stdin (EOF for the child). Idempotent. Returns 0 or -1. */
int alc_proc_close_stdin(alc_proc *p);

/* Returns the next line of the child's stdout without its '\n' (a trailing '\r' is kept), as new
 * memory the caller frees with free(), or NULL. status (may be NULL) receives enum
 * alc_proc_status. timeout_ms < 0 waits forever, 0 only takes what is already readable.
 * Lines of any length, several lines per read and lines split over reads are handled by an
 * internal buffer. A line containing NUL bytes is returned whole; use alc_proc_recv_n to get its
 * real length. */
char *alc_proc_recv(alc_proc *p, int timeout_ms, int *status);

/* As alc_proc_recv, and *len (may be NULL) receives the line length excluding the added NUL. */
char *alc_proc_recv_n(alc_proc *p, int timeout_ms, int *status, size_t *len);

/* Sends line (alc_proc_send) and parses the next stdout line as JSON.
 * Returns a new cJSON tree (free with cJSON_Delete), or NULL on send failure, timeout, EOF or a
 * line that is not JSON. Does not skip notifications: the very next line is parsed. */
cJSON *alc_proc_request(alc_proc *p, const char *line, int timeout_ms);

/* Standard MCP handshake: `initialize` (id 0, protocolVersion "2025-11-25") then
 * `notifications/initialized`. Returns 0 if the reply was a result object with id 0, else -1. */
int alc_proc_initialize(alc_proc *p);

/* Same with the given protocolVersion (borrows; must not need JSON escaping). */
int alc_proc_initialize_version(alc_proc *p, const char *protocol_version, int timeout_ms);

/* Waits up to timeout_ms (< 0: forever) for the child to exit; after that sends SIGKILL and
 * reaps it. *exit_status (may be NULL) receives the exit code, or 128 + signal number if the
 * child died from a signal. Calling it again after the child was reaped returns the same result.
 * Returns 0 if the child exited on its own, 1 if the harness had to kill it, -1 on error. */
int alc_proc_wait(alc_proc *p, int timeout_ms, int *exit_status);

/* Sends signal sig to the child if it has not been reaped yet. Returns 0 or -1. */
int alc_proc_kill(alc_proc *p, int sig);

/* Returns everything the child wrote to stderr so far as a new NUL-terminated string (free with
 * free()), "" if stderr is not captured, NULL on allocation/read failure. *len may be NULL. */
char *alc_proc_stderr_text(alc_proc *p, size_t *len);

/* Kills (SIGKILL) and reaps the child if still running, closes all fds, frees p.
 * alc_proc_free(NULL) is a no-op. */
void alc_proc_free(alc_proc *p);

#endif
