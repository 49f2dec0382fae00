/*
 * json_conv.h — Lua <-> JSON conversion (spec §4.2).
 *
 * Three directions are covered:
 *   JSON text -> Lua   alc_json_decode_push   (our own strict decoder, no cJSON in between)
 *   cJSON tree -> Lua  alc_json_push_cjson    (for a session's ctx)
 *   Lua -> JSON text   alc_json_encode_lua    (our own encoder, no cJSON in between)
 * plus the Lua C functions alc.json_encode / alc.json_decode.
 * cJSON stores every number as a double, so it would lose the int/float distinction and the
 * precision of large integers; that is why text <-> Lua does not go through it.
 *
 * Mapping rules (decided for the project):
 *  - JSON null <-> the null sentinel, a light userdata NULL (callers store it as alc.null).
 *    Lua nil at top level (and holes inside arrays) encode as null.
 *  - Decoded JSON arrays get the shared "array" metatable, so [] re-encodes as []. An empty
 *    plain table encodes as {}.
 *  - Numbers: JSON numbers without fraction or exponent that fit int64 become Lua integers;
 *    everything else becomes a float ("-0" becomes the float -0.0; a magnitude that overflows
 *    a double is a parse error). Lua integers print as integers. Floats print in the shortest of
 *    %.15g/%.16g/%.17g that round-trips, with ".0" appended when the text would otherwise read as
 *    an integer (1.0, -0.0, 1e+20 stays 1e+20). NaN and +-Inf encode as null with a warning.
 *  - A table is an array if it carries the array metatable or its raw length n = #t is > 0; it
 *    encodes t[1..n] (holes as null). If it also has other keys, the array is encoded and warn
 *    gets "table at $.p mixes array and non-array keys; N non-array keys dropped".
 *  - Any other table is an object. String keys are used as is, integer and float keys become
 *    their decimal text ("5", "1.5"); non-finite float keys, boolean/table/other keys, and two
 *    keys that collide after conversion ({[5]=1, ["5"]=2}) are errors. Keys are emitted sorted
 *    by byte order; the output is compact (no spaces).
 *  - Strings: '"', '\\' and control characters (< 0x20) are escaped (\n \r \t \b \f, else
 *    \u00XX); 0x7f and valid UTF-8 pass through; each byte of invalid UTF-8 is replaced by
 *    U+FFFD with a warning (MCP requires valid UTF-8). Keys follow the same rule.
 *  - Functions, threads, userdata other than the sentinel and cyclic tables are errors naming the
 *    JSON path, e.g. "cannot encode value of type function at $.a[2]" (array indices in paths are
 *    the 1-based Lua indices). More than ALC_JSON_MAX_DEPTH nested tables: "nesting too deep".
 *  - Decoder: strict RFC 8259 (no trailing commas, comments, leading zeros, NaN, single quotes),
 *    whitespace around the value allowed, anything else after it is an error; \uXXXX escapes
 *    including surrogate pairs (lone surrogates become U+FFFD); raw control characters and
 *    invalid UTF-8 inside strings are errors; more than ALC_JSON_MAX_DEPTH nested containers is
 *    an error; duplicate object keys: the last one wins; \u0000 survives (strings may hold NUL).
 *    Error messages read "JSON parse error at byte 17: expected ',' or '}'" (0-based offset).
 *  - cJSON -> Lua uses the same mapping; a cJSON number becomes an integer when valuedouble is
 *    integral (and not -0.0) with |v| < 2^53, otherwise a float.
 *  - Warnings: at most ALC_JSON_MAX_WARNINGS per encode, then one "N further warnings
 *    suppressed". Messages passed to warn carry no prefix; alc.json_encode adds
 *    "alc.json_encode: " before handing them to the Lua function in registry["alc.json_warn"].
 *
 * Threads: every function takes the lua_State it works on and must run on the thread that owns
 * that state (CONVENTIONS 19). No function here takes a lock or keeps global mutable state.
 */
#ifndef ALC_JSON_CONV_H
#define ALC_JSON_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <lua.h>

/* Maximum nesting of tables (encode) and containers (decode). */
#define ALC_JSON_MAX_DEPTH 200
/* Maximum number of warnings one encode reports individually. */
#define ALC_JSON_MAX_WARNINGS 10
/* Registry field holding an optional Lua function that receives alc.json_encode warnings. */
#define ALC_JSON_WARN_FIELD "alc.json_warn"
/* Registry field holding the shared array metatable (also reachable through a private key). */
#define ALC_JSON_ARRAY_MT_FIELD "alc.json_array_mt"

/* Called for lossy-but-allowed conversions during an encode; msg is borrowed for the call. */
typedef void (*alc_json_warn_fn)(void *ud, const char *msg);

/* Per-state setup (array metatable in the registry); call once before anything else here. */
void alc_json_conv_open(lua_State *L);
/* Pushes the null sentinel (light userdata NULL). */
void alc_json_push_null(lua_State *L);
/* True iff the value at idx is the null sentinel. */
bool alc_json_is_null(lua_State *L, int idx);
/* Sets the shared array metatable on the table at idx. */
void alc_json_mark_array(lua_State *L, int idx);
/* JSON text (borrowed) -> pushes one value; ALC_OK or ALC_E_PARSE with a message in err. */
int alc_json_decode_push(lua_State *L, const char *text, size_t len, char *err, size_t errlen);
/* cJSON tree (borrowed) -> pushes one value. May raise on memory errors. */
void alc_json_push_cjson(lua_State *L, const cJSON *j);
/* Lua value at idx -> *out (returns new, free with free()). Never raises. */
int alc_json_encode_lua(lua_State *L, int idx, char **out, size_t *outlen, alc_json_warn_fn warn,
                        void *warn_ud, char *err, size_t errlen);
/* lua_CFunction alc.json_encode(v) -> string; raises "alc.json_encode: <msg>". */
int alc_lua_json_encode(lua_State *L);
/* lua_CFunction alc.json_decode(s) -> value; raises "alc.json_decode: <msg>". */
int alc_lua_json_decode(lua_State *L);

#endif
