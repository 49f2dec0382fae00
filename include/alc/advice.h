/*
 * advice.h — what the `alc_advice` tool (server) and `alc advice` (CLI) share: checking a
 * strategy package name, finding the package on the search roots, and the small launcher
 * program that loads a strategy and calls its run(ctx).
 *
 * Threads: pure functions of their arguments and of the read-only configuration; any thread.
 */
#ifndef ALC_ADVICE_H
#define ALC_ADVICE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "alc/config.h"
#include "alc/jbuf.h"

/* Longest accepted strategy name, in bytes. */
#define ALC_ADVICE_NAME_MAX 128
/* Buffer sizes that always suffice for alc_advice_program's outputs. */
#define ALC_ADVICE_CODE_MAX 640
#define ALC_ADVICE_CHUNK_MAX (ALC_ADVICE_NAME_MAX + 16)

/* True if name is a package name usable in require() (letters, digits, '_', '-', dots
 * between parts, at most ALC_ADVICE_NAME_MAX bytes). */
bool alc_advice_valid_name(const char *name);
/* True if <root>/<name>/init.lua or <root>/<name>.lua exists where require would look: the
 * project's variant packages and roots first (alc.local.toml, alc.lock path entries,
 * <project_root>/packages; see project.h), then cfg->package_paths; else appends the roots
 * to tried. */
bool alc_advice_find(const alc_config *cfg, const char *project_root, const char *name,
                     alc_jbuf *tried);
/* Writes the launcher program (require + run(ctx)) and its chunk name "=advice:<name>".
 * ALC_OK, ALC_E_INVAL (bad name) or ALC_E_TOO_LARGE (buffer too small). */
int alc_advice_program(const char *name, char *code, size_t codelen, size_t *len_out,
                       char *chunk, size_t chunklen);
/* ctx for an advice session: a copy of opts (object or NULL) with "task" set when task is
 * given. *out returns new. ALC_OK, ALC_E_INVAL (opts not an object) or ALC_E_NOMEM. */
int alc_advice_ctx(const cJSON *opts, const char *task, cJSON **out);

#endif
