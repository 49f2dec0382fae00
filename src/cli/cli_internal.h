/*
 * cli_internal.h — shared between the files of src/cli behind `alc run` / `alc advice`: the
 * responders that answer a session's prompts (responders.c, responder_cmd.c), the driver
 * that runs the session and calls them (drive.c), and the sub-commands (run.c).
 *
 * Threads: everything here is called on the main thread (the driver). The command responder
 * starts its own worker threads inside alc__cli_resp_answer and joins them before it
 * returns; nothing of a responder outlives that call on another thread.
 */
#ifndef ALC_CLI_INTERNAL_H
#define ALC_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "alc/config.h"
#include "alc/lua_host.h"
#include "alc/session.h"

/* What the driver lends a responder for one alc__cli_resp_answer call. */
typedef struct alc_cli_ctl {
    int cancel_fd;            /* becomes readable, and stays so, once the run is interrupted */
    void (*tick)(void *ud);   /* may be NULL; called on the driver thread about every 100 ms
                                 while a responder waits for a command (progress line) */
    void *tick_ud;
    const char *session_id;   /* exported to commands as ALC_SESSION_ID */
} alc_cli_ctl;

typedef struct alc_cli_responder alc_cli_responder;

/* Kinds of responder, for messages and for the driver's terminal handling. */
typedef enum {
    ALC_CLI_RESP_STDIN,       /* answers read from fd, prompts not shown (piped stdin) */
    ALC_CLI_RESP_INTERACTIVE, /* answers read from fd, prompts shown on stderr */
    ALC_CLI_RESP_ANSWERS,     /* canned answers from a file */
    ALC_CLI_RESP_COMMAND,     /* one shell command per prompt */
} alc_cli_resp_kind;

int alc__cli_resp_new_reader(int fd, bool show_prompts, alc_cli_responder **out);
int alc__cli_resp_new_answers(const char *path, alc_cli_responder **out, char *err, size_t errlen);
int alc__cli_resp_new_command(const char *cmd, int parallel, alc_cli_responder **out);
alc_cli_resp_kind alc__cli_resp_kind(const alc_cli_responder *r);
int alc__cli_resp_answer(alc_cli_responder *r, const alc_cli_ctl *ctl, const alc_query *q,
                         size_t n, char **texts, size_t *lens, char **errmsg);
void alc__cli_resp_free(alc_cli_responder *r);

/* The command responder's work (responder_cmd.c); see its definition. */
int alc__cli_cmd_answer(const char *cmd, int parallel, const alc_cli_ctl *ctl, const alc_query *q,
                        size_t n, char **texts, size_t *lens, char **errmsg);

/* Returns a new printf-formatted message (free()), NULL on OOM (responders.c). */
char *alc__cli_msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True once fd (a cancel or stop pipe) is readable; false for fd < 0 (responders.c). */
bool alc__cli_fd_ready(int fd);

/* Parses exactly one JSON value (whitespace around it allowed). Returns new or NULL with
 * the failing byte offset in *errpos (responders.c). */
cJSON *alc__cli_json_parse(const char *text, size_t len, size_t *errpos);

/* How the driver reports. */
typedef struct alc_cli_out {
    const char *cmd;          /* "run" | "advice", for messages */
    bool json;                /* compact result instead of indented */
    bool quiet;               /* no progress line */
    bool verbose;             /* copy log lines to stderr */
} alc_cli_out;

/* The real stdin and stdout, kept aside while a script runs (drive.c). */
typedef struct alc_cli_stdio {
    int in_fd;                /* the answers are read from here (reader responders) */
    int out_fd;               /* the result is written here */
} alc_cli_stdio;

int alc__cli_stdio_protect(const char *cmd, alc_cli_stdio *g);
void alc__cli_stdio_restore(alc_cli_stdio *g);
/* Remembers the parent and arms the parent-death signal (drive.c; contract at the definition). */
void alc__cli_watch_parent(void);
/* Runs spec to its end and returns the exit status (drive.c; contract at the definition). */
int alc__cli_drive(const alc_config *cfg, const alc_cli_out *o, alc_cli_responder *resp,
                   const alc_session_spec *spec, int result_fd);

#endif
