/*
 * server_internal.h — types shared by the files of src/server (not a public API).
 *
 * Threads: the alc_server struct is created and driven by the reader (main) thread.
 * Fields marked "reader only" are touched only by that thread; the rest are immutable after
 * start-up, atomic, or guarded as noted.
 */
#ifndef ALC_SERVER_INTERNAL_H
#define ALC_SERVER_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "alc/config.h"
#include "alc/jbuf.h"
#include "alc/rpc.h"
#include "alc/server.h"
#include "alc/transport.h"

typedef struct alc_registry alc_registry;
typedef struct alc_inflight_table alc_inflight_table;
typedef struct alc_sampling_table alc_sampling_table;

struct alc_server {
    const alc_config *cfg;      /* borrowed, immutable */
    alc_out *out;               /* shared writer (leaf lock inside) */
    alc_reader *in;             /* reader only */
    bool initialized;           /* reader only: initialize response sent */
    char protocol[16];          /* reader only after initialize */
    atomic_int log_level;       /* MCP logging level index, -1 = none set */
    alc_registry *reg;          /* engine session registry */
    alc_inflight_table *inflight; /* waiting tool calls (own lock) */
    char *tools_list_json;      /* cached tools/list result, immutable */
    atomic_bool stopping;
    bool client_sampling;       /* reader only: the client declared capabilities.sampling */
    alc_sampling_table *sampling; /* outstanding sampling/createMessage requests (own lock) */
};

/* One tools/call being answered. Created by the dispatcher, passed to a tool handler. */
typedef struct alc_call {
    alc_server *srv;
    cJSON *id;                  /* owned duplicate of the request id */
    const cJSON *args;          /* borrowed: the arguments object, valid during the handler */
    cJSON *progress_token;      /* owned duplicate of params._meta.progressToken, or NULL */
    bool answered;              /* a reply was written or the call was handed to the engine */
    bool sampling;              /* answer the session's LLM queries by MCP sampling */
} alc_call;

typedef void (*alc_tool_fn)(alc_call *call);

typedef struct alc_tool_def {
    const char *name;
    const char *description;
    const char *input_schema;   /* JSON text of the input schema */
    const char *annotations;    /* JSON text of the annotations object */
    alc_tool_fn fn;
} alc_tool_def;

/* Tool groups: arrays terminated by an entry whose name is NULL (tools.c lists them). */
extern const alc_tool_def alc_tools_core[];
extern const alc_tool_def alc_tools_logs[];
extern const alc_tool_def alc_tools_pkg[];
extern const alc_tool_def alc_tools_eval[];

/* resources.c: MCP resources (reader thread) */
void alc_resources_list(alc_server *s, const alc_rpc_msg *m);
void alc_resources_templates(alc_server *s, const alc_rpc_msg *m);
void alc_resources_read(alc_server *s, const alc_rpc_msg *m);

/* tools.c */
const alc_tool_def *alc_tools_find(const char *name);
char *alc_tools_list_json(void);            /* returns new: the tools/list result object */

/* Replies (each call gets exactly one). payload is owned; printed with sorted keys. */
void alc_call_reply_json(alc_call *c, cJSON *payload);
void alc_call_reply_text(alc_call *c, const char *text, size_t len, bool is_error);
void alc_call_fail(alc_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a line to the client (no gate). */
void alc__server_write(alc_server *s, char *line, size_t len);

/* Argument helpers: each returns true when the argument is absent-and-optional or valid,
 * and false after answering the call with an isError result naming the argument. */
bool alc_arg_string(alc_call *c, const char *name, bool required, const char **out);
bool alc_arg_object(alc_call *c, const char *name, bool required, const cJSON **out);
bool alc_arg_array(alc_call *c, const char *name, bool required, const cJSON **out);
bool alc_arg_int(alc_call *c, const char *name, bool required, long long min, long long max, long long *out, bool *present);
/* Reads the optional "llm" argument ("pause" | "sampling" | "auto", default ALC_LLM_MODE) into
 * c->sampling; false after answering with an isError result (bad value, or sampling asked
 * for while the client did not declare the sampling capability). */
bool alc_arg_llm_mode(alc_call *c);
bool alc_arg_bool(alc_call *c, const char *name, bool required, bool *out, bool *present);

/* Tool handlers */
void alc_tool_info(alc_call *c);
void alc_tool_run(alc_call *c);
void alc_tool_continue(alc_call *c);
void alc_tool_status(alc_call *c);
void alc_tool_cancel(alc_call *c);
void alc_tool_advice(alc_call *c);

#endif
