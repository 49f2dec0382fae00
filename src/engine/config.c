/*
 * config.c — reads alc's environment variables into an alc_config.
 * Called once by the main thread at start-up (and by tests); the result is read-only after.
 */
#include "alc/config.h"

#include "alc/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses a size with an optional K/M/G suffix (powers of 1024). */
bool alc_config_parse_size(const char *s, size_t *out) {
    if (!s || !*s) return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') return false;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') { mul = 1ULL << 10; end++; }
    else if (*end == 'M' || *end == 'm') { mul = 1ULL << 20; end++; }
    else if (*end == 'G' || *end == 'g') { mul = 1ULL << 30; end++; }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return false;
    if (v > SIZE_MAX / mul) return false;
    *out = (size_t)(v * mul);
    return true;
}

static int env_size(const char *name, size_t dflt, size_t min, size_t *out, char *err, size_t errlen) {
    const char *v = getenv(name);
    if (!v || !*v) { *out = dflt; return ALC_OK; }
    size_t n;
    if (!alc_config_parse_size(v, &n) || n < min) {
        snprintf(err, errlen, "%s: expected a size like 16M (at least %zu bytes), got '%s'", name, min, v);
        return ALC_E_INVAL;
    }
    *out = n;
    return ALC_OK;
}

static int env_int(const char *name, int64_t dflt, int64_t min, int64_t scale, int64_t *out, char *err, size_t errlen) {
    const char *v = getenv(name);
    if (!v || !*v) { *out = dflt * scale; return ALC_OK; }
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > INT64_MAX / scale) {
        snprintf(err, errlen, "%s: expected an integer >= %lld, got '%s'", name, (long long)min, v);
        return ALC_E_INVAL;
    }
    *out = (int64_t)n * scale;
    return ALC_OK;
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* Fills c from the environment; see config.h. */
int alc_config_load(alc_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    int rc = ALC_E_NOMEM;
    const char *home = getenv("ALC_HOME");
    if (home && *home) c->home = strdup(home);
    else {
        const char *h = getenv("HOME");
        c->home = join(h && *h ? h : ".", ".algocline");
    }
    if (!c->home) goto fail;
    const char *ld = getenv("ALC_LOG_DIR");
    if (ld && *ld) { c->log_dir = strdup(ld); c->log_dir_source = "ALC_LOG_DIR"; }
    else { c->log_dir = join(c->home, "logs"); c->log_dir_source = "ALC_HOME/logs"; }
    if (!c->log_dir) goto fail;
    const char *ll = getenv("ALC_LOG_LEVEL");
    c->log_enabled = !(ll && strcasecmp(ll, "off") == 0);

    /* package search roots: ALC_PACKAGES_PATH (colon separated, in order), then <home>/packages */
    const char *pp = getenv("ALC_PACKAGES_PATH");
    size_t n = 1;
    for (const char *p = pp; p && *p; p++) if (*p == ':') n++;
    if (pp && *pp) n++;
    c->package_paths = calloc(n, sizeof *c->package_paths);
    c->package_path_sources = calloc(n, sizeof *c->package_path_sources);
    if (!c->package_paths || !c->package_path_sources) goto fail;
    if (pp && *pp) {
        const char *s = pp;
        while (*s) {
            const char *e = strchr(s, ':');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (len) {
                char *dir = strndup(s, len);
                if (!dir) goto fail;
                c->package_path_sources[c->n_package_paths] = "ALC_PACKAGES_PATH";
                c->package_paths[c->n_package_paths++] = dir;
            }
            if (!e) break;
            s = e + 1;
        }
    }
    c->package_paths[c->n_package_paths] = join(c->home, "packages");
    if (!c->package_paths[c->n_package_paths]) goto fail;
    c->package_path_sources[c->n_package_paths++] = "default";

    size_t sessions = 0;
    int64_t v;
    if ((rc = env_size("ALC_MAX_LINE", (size_t)16 << 20, 256, &c->max_line, err, errlen))) goto fail;
    if ((rc = env_size("ALC_MAX_MEMORY", (size_t)256 << 20, (size_t)1 << 20, &c->max_memory, err, errlen))) goto fail;
    if ((rc = env_int("ALC_MAX_SESSIONS", 10000, 1, 1, &v, err, errlen))) goto fail;
    sessions = (size_t)v;
    c->max_sessions = sessions;
    if ((rc = env_int("ALC_SESSION_TTL", 3 * 3600, 1, 1000, &c->session_ttl_ms, err, errlen))) goto fail;
    if ((rc = env_int("ALC_SESSION_RETENTION", 600, 0, 1000, &c->retention_ms, err, errlen))) goto fail;
    if ((rc = env_int("ALC_HEARTBEAT_MS", 10000, 10, 1, &c->heartbeat_ms, err, errlen))) goto fail;
    if ((rc = env_int("ALC_PROMPT_PREVIEW_CHARS", 200, 0, 1, &v, err, errlen))) goto fail;
    c->preview_chars = (size_t)v;
    if ((rc = env_int("ALC_SAMPLING_TIMEOUT", 120, 1, 1000, &c->sampling_timeout_ms, err, errlen))) goto fail;
    if ((rc = env_int("ALC_WARM_STATES", 2, 0, 1, &v, err, errlen))) goto fail;
    if (v > 64) {
        snprintf(err, errlen, "ALC_WARM_STATES: expected an integer from 0 to 64, got '%s'", getenv("ALC_WARM_STATES"));
        rc = ALC_E_INVAL;
        goto fail;
    }
    c->warm_states = (size_t)v;
    const char *ls = getenv("ALC_LUA_SCHED");
    if (!ls || !*ls || strcmp(ls, "batch") == 0) c->lua_batch = true;
    else if (strcmp(ls, "normal") == 0) c->lua_batch = false;
    else {
        snprintf(err, errlen, "ALC_LUA_SCHED: expected batch or normal, got '%s'", ls);
        rc = ALC_E_INVAL;
        goto fail;
    }
    const char *lm = getenv("ALC_LLM_MODE");
    if (!lm || !*lm || strcmp(lm, "pause") == 0) c->llm_mode = 0;
    else if (strcmp(lm, "sampling") == 0) c->llm_mode = 1;
    else if (strcmp(lm, "auto") == 0) c->llm_mode = 2;
    else {
        snprintf(err, errlen, "ALC_LLM_MODE: expected pause, sampling or auto, got '%s'", lm);
        rc = ALC_E_INVAL;
        goto fail;
    }
    const char *sb = getenv("ALC_SANDBOX");
    if (!sb || !*sb || strcmp(sb, "default") == 0) c->sandbox = ALC_SANDBOX_DEFAULT;
    else if (strcmp(sb, "off") == 0) c->sandbox = ALC_SANDBOX_OFF;
    else if (strcmp(sb, "strict") == 0) c->sandbox = ALC_SANDBOX_STRICT;
    else {
        snprintf(err, errlen, "ALC_SANDBOX: expected default, off or strict, got '%s'", sb);
        rc = ALC_E_INVAL;
        goto fail;
    }
    return ALC_OK;
fail:
    if (rc == ALC_E_NOMEM) snprintf(err, errlen, "out of memory reading configuration");
    alc_config_deinit(c);
    return rc;
}

/* Frees everything alc_config_load allocated; safe on a zeroed struct. */
void alc_config_deinit(alc_config *c) {
    free(c->home);
    free(c->log_dir);
    for (size_t i = 0; i < c->n_package_paths; i++) free(c->package_paths[i]);
    free(c->package_paths);
    free(c->package_path_sources);
    memset(c, 0, sizeof *c);
}
