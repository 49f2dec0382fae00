/*
 * state.h — the alc.state key–value store (spec §4.4.5, §6.1; DESIGN §9).
 *
 * One JSON file per namespace: <root>/<ns>.json holding an object key -> value, where root is
 * $ALC_HOME/state (the caller passes it; it is created lazily, mode 0700, on the first write;
 * files are 0600). Every write is an atomic replace (alc_fs_write_atomic). Operations are
 * serialised per namespace by an in-process mutex and, across processes, by flock() on the
 * sidecar <root>/<ns>.lock (LOCK_EX around load->mutate->save, LOCK_SH for reads).
 *
 * Any thread may call any function; calls block on file I/O only. A missing file is an empty
 * map; a file that does not parse as a JSON object makes every operation on that namespace fail
 * with ALC_E_IO ("state file <path> is corrupt: ...") and is never overwritten.
 *
 * Common arguments: root, ns, key borrow NUL-terminated strings. err borrows a buffer of
 * errlen bytes that receives a one-line message on failure (may be NULL when errlen is 0).
 * Namespace rules: 1..200 bytes, no '/', '\\', NUL or ".." -> else ALC_E_INVAL
 * "Invalid namespace: 'X'". Keys: any string of 1..1024 bytes without NUL -> else ALC_E_INVAL
 * "Invalid key: ...". Full contracts are at the definitions in src/store/state.c.
 */
#ifndef ALC_STATE_H
#define ALC_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define ALC_STATE_NS_MAX 200          /* longest namespace, bytes */
#define ALC_STATE_KEY_MAX 1024        /* longest key, bytes */
#define ALC_STATE_FILE_MAX (64u << 20) /* largest namespace file that will be loaded */

/* Length-aware checks for bindings that hold strings with a length (Lua). ALC_OK or
 * ALC_E_INVAL with the message described above. */
int alc_state_check_namespace(const char *ns, size_t len, char *err, size_t errlen);
int alc_state_check_key(const char *key, size_t len, char *err, size_t errlen);

/* *out returns new (cJSON_Delete) copy of the value, or NULL if the key is absent. */
int alc_state_get(const char *root, const char *ns, const char *key, cJSON **out,
                  char *err, size_t errlen);
/* Stores a duplicate of value (borrowed). */
int alc_state_set(const char *root, const char *ns, const char *key, const cJSON *value,
                  char *err, size_t errlen);
/* *out_array returns new (cJSON_Delete) array of the key strings, sorted bytewise. */
int alc_state_keys(const char *root, const char *ns, cJSON **out_array, char *err, size_t errlen);
/* Removes key; *existed (may be NULL) says whether it was there. A missing key: no rewrite. */
int alc_state_delete(const char *root, const char *ns, const char *key, bool *existed,
                     char *err, size_t errlen);
int alc_state_has(const char *root, const char *ns, const char *key, bool *has,
                  char *err, size_t errlen);
/* Stores a duplicate of value only if key is absent; *written (may be NULL) says which. */
int alc_state_set_nx(const char *root, const char *ns, const char *key, const cJSON *value,
                     bool *written, char *err, size_t errlen);
/* value = (stored number, or dflt if absent) + delta; *out (may be NULL) gets it. A stored
 * non-number -> ALC_E_INVAL "incr: value at 'K' is not a number". */
int alc_state_incr(const char *root, const char *ns, const char *key, double delta, double dflt,
                   double *out, char *err, size_t errlen);

#endif
