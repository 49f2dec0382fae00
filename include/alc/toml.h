/*
 * toml.h — a parser for the subset of TOML that alc's project files use (alc.toml, alc.lock,
 * alc.local.toml): comments, [tables], [[arrays of tables]], dotted and quoted keys, basic and
 * literal strings (single line), integers, floats, booleans, arrays and inline tables. Not
 * supported (each a clear error): multi-line strings, dates and times.
 *
 * The result is a cJSON tree: tables become objects, arrays of tables and arrays become arrays,
 * integers and floats numbers (integers beyond 2^53 lose precision), booleans booleans.
 *
 * Threads: pure functions; any thread.
 */
#ifndef ALC_TOML_H
#define ALC_TOML_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Largest project file alc_toml_parse_file accepts. */
#define ALC_TOML_FILE_MAX (4u << 20)

/*
 * Parses text[0..len) (NUL bytes are an error). On ALC_OK *out returns new (cJSON_Delete).
 * On ALC_E_PARSE *out is NULL, *err_line (may be NULL) is the 1-based line of the error and err
 * holds "line N: <what is wrong>". ALC_E_NOMEM on allocation failure.
 */
int alc_toml_parse(const char *text, size_t len, cJSON **out, int *err_line, char *err, size_t errlen);

/*
 * Reads and parses the file at path (at most ALC_TOML_FILE_MAX bytes). *out returns new.
 * Returns ALC_OK; ALC_E_NOT_FOUND when the file does not exist; ALC_E_PARSE with err =
 * "<path>:<line>: <what is wrong>"; ALC_E_IO / ALC_E_TOO_LARGE / ALC_E_NOMEM with a message.
 */
int alc_toml_parse_file(const char *path, cJSON **out, char *err, size_t errlen);

#endif
