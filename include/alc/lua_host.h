/*
 * lua_host.h — what the Lua bridge (src/lua) needs from whoever runs the script.
 *
 * The engine implements this interface for a session; src/lua never includes engine
 * headers, so dependencies point engine → lua. All callbacks are called on the thread that
 * owns the lua_State, never with a Lua call in progress inside them, and none of them raise.
 */
#ifndef ALC_LUA_HOST_H
#define ALC_LUA_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* One prompt the script asks the host to answer. */
typedef struct alc_query {
    char *id;            /* "q-0", "q-1", "f-0-3" */
    char *prompt;
    size_t prompt_len;
    char *system;        /* NULL when absent */
    long long max_tokens;
    bool grounded;
    bool underspecified;
} alc_query;

/* Frees the strings of n queries and the array itself. NULL ok. */
void alc_queries_free(alc_query *q, size_t n);

/* Answers handed from the host to Lua; lives inside a Lua userdata whose __gc frees it. */
typedef struct alc_lua_answers {
    char **texts;
    size_t *lens;
    bool *errors;    /* may be NULL; errors[i]: texts[i] is an error message (the LLM call
                      * failed, e.g. a refused sampling request) and alc.llm raises it */
    size_t n;
} alc_lua_answers;

typedef struct alc_lua_host {
    void *ud;
    /* Asks the host: takes ownership of q[0..n). Blocks until every query is answered
     * (ALC_OK, answers moved into *out) or the session is cancelled (ALC_E_CANCELLED). */
    int (*ask)(void *ud, alc_query *q, size_t n, alc_lua_answers *out);
    /* Budget check before an LLM call: returns false and fills msg with
     * "budget_exceeded: ..." when a limit is reached. */
    bool (*budget_ok)(void *ud, char *msg, size_t msglen);
    /* Remaining budget: returns false when no budget is set; else each value is >= 0 or -1
     * when that limit is not set. */
    bool (*budget_remaining)(void *ud, long long *llm_calls, long long *elapsed_ms, long long *tokens);
    void (*progress)(void *ud, long long step, long long total, const char *msg);
    void (*log)(void *ud, const char *level, const char *source, const char *msg, size_t len);
    /* alc.stats: value_json is the JSON text of the value (borrowed). */
    void (*stats_record)(void *ud, const char *key, const char *value_json);
    /* Returns new JSON text (free()) or NULL when absent. */
    char *(*stats_get)(void *ud, const char *key);
    long long (*llm_calls)(void *ud);
    /* alc.fork: runs each named strategy in its own Lua state and thread with a copy of ctx
     * (JSON text); the children's LLM queries reach the host as this session's pauses.
     * Returns ALC_OK with *out = JSON array text (free()) of {strategy, ok, result|error} in
     * strategy order; ALC_E_CANCELLED; or another code with a message in err (a failed child
     * when abort_on_error, nested forks, no threads). */
    int (*fork)(void *ud, const char *const *names, size_t n, const char *ctx_json, bool abort_on_error,
                char **out, char *err, size_t errlen);
    /* True once the session was asked to stop. */
    bool (*cancelled)(void *ud);
    const char *state_root;   /* <ALC_HOME>/state */
    const char *state_ns;     /* namespace for alc.state */
} alc_lua_host;

#endif
