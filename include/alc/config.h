/*
 * config.h — process-wide settings read once from the environment at start-up.
 *
 * Written by the main thread before any other thread starts; read-only afterwards, so
 * every thread may read it without locking.
 */
#ifndef ALC_CONFIG_H
#define ALC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { ALC_SANDBOX_DEFAULT, ALC_SANDBOX_OFF, ALC_SANDBOX_STRICT } alc_sandbox_mode;

typedef struct alc_config {
    char *home;               /* ALC_HOME, else $HOME/.algocline, else ./.algocline */
    char *log_dir;            /* ALC_LOG_DIR, else <home>/logs */
    const char *log_dir_source; /* "ALC_LOG_DIR" or "ALC_HOME/logs" */
    bool log_enabled;         /* false when ALC_LOG_LEVEL=off */
    char **package_paths;     /* ALC_PACKAGES_PATH entries, then <home>/packages */
    const char **package_path_sources; /* "ALC_PACKAGES_PATH" or "default" per entry */
    size_t n_package_paths;
    size_t max_line;          /* ALC_MAX_LINE bytes, default 16 MiB */
    size_t max_memory;        /* ALC_MAX_MEMORY bytes per session Lua heap, default 256 MiB */
    size_t max_sessions;      /* ALC_MAX_SESSIONS, default 10000 */
    int64_t session_ttl_ms;   /* ALC_SESSION_TTL seconds, default 3 h: idle paused sessions */
    int64_t retention_ms;     /* ALC_SESSION_RETENTION seconds, default 600: finished sessions */
    int64_t heartbeat_ms;     /* ALC_HEARTBEAT_MS, default 10000: progress heartbeat period */
    alc_sandbox_mode sandbox; /* ALC_SANDBOX=default|off|strict */
    size_t preview_chars;     /* ALC_PROMPT_PREVIEW_CHARS, default 200 */
    int llm_mode;             /* ALC_LLM_MODE: 0 pause (default), 1 sampling, 2 auto */
    int64_t sampling_timeout_ms; /* ALC_SAMPLING_TIMEOUT seconds, default 120 */
    size_t warm_states;       /* ALC_WARM_STATES, default 2 (0..64): Lua states prepared ahead */
    bool lua_batch;           /* ALC_LUA_SCHED=batch (default) | normal: Lua threads' policy */
} alc_config;

/*
 * Fills c from the environment. Returns ALC_OK, or ALC_E_INVAL with a message in err naming
 * the variable when a value cannot be parsed (e.g. "ALC_MAX_LINE: expected a size like 16M").
 * On failure c is left deinitialised.
 */
int alc_config_load(alc_config *c, char *err, size_t errlen);
/* Frees what alc_config_load allocated. */
void alc_config_deinit(alc_config *c);
/* Parses "1024", "64K", "16M", "1G" (binary units). Returns false on junk or overflow. */
bool alc_config_parse_size(const char *s, size_t *out);

#endif
