/*
 * fsutil.h — small file-system helpers shared by the stores (state, logs, evals, packages).
 *
 * All functions are reentrant and may be called from any thread. None of them takes a lock;
 * callers that need mutual exclusion (alc_state_*) arrange it themselves.
 * Error strings written to err are single lines without a trailing newline, e.g.
 * "cannot write /x/y: No space left on device"; err may be NULL when errlen is 0.
 * Full contracts are at the definitions in src/store/fsutil.c.
 */
#ifndef ALC_FSUTIL_H
#define ALC_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Longest single path component accepted by alc_fs_valid_component(). */
#define ALC_FS_COMPONENT_MAX 255

/* mkdir -p; every component it creates gets exactly mode. ALC_OK or ALC_E_IO (errno kept). */
int alc_fs_mkdirs(const char *path, mode_t mode);

/* Atomic replace of path by data (temp file + fsync + rename + directory fsync). ALC_OK or
 * ALC_E_IO; on failure the old file is untouched and no temp file is left behind. */
#define ALC_FS_NO_SYNC 1u
/* Like alc_fs_write_atomic; flags ALC_FS_NO_SYNC: atomic (rename) but without fsync. */
int alc_fs_write_atomic_ex(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
                           char *err, size_t errlen);
int alc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        char *err, size_t errlen);

/* Reads a whole file of at most max bytes; *out returns new (NUL-terminated, free()).
 * ALC_OK, ALC_E_NOT_FOUND, ALC_E_TOO_LARGE, ALC_E_IO or ALC_E_NOMEM. */
int alc_fs_read_file(const char *path, size_t max, char **out, size_t *len,
                     char *err, size_t errlen);

/* True if s[0..len) is a safe single path component (see the definition for the rules). */
bool alc_fs_valid_component(const char *s, size_t len);

/* Returns new "a/b" (free()), or NULL on NULL input or out of memory. */
char *alc_fs_join(const char *a, const char *b);

#endif
