/*
 * pkg_internal.h — shared between src/store/pkg*.c (not a public API): directory-tree copy and
 * removal through file descriptors, the git runner, and small helpers.
 *
 * Threads: all functions are reentrant; they block on disk I/O (and the git runner on a child
 * process). None takes a lock; the callers in pkg.c hold the packages-directory flock.
 */
#ifndef ALC_PKG_INTERNAL_H
#define ALC_PKG_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define ALC__PKG_MAX_FILES 20000
#define ALC__PKG_MAX_BYTES ((size_t)256 << 20)
#define ALC__PKG_MAX_DEPTH 32

typedef struct alc__pkg_copy {
    size_t files;              /* regular files copied so far */
    size_t bytes;              /* bytes copied so far */
    cJSON *skipped_symlinks;   /* borrowed array, may be NULL: relative paths of links not copied */
} alc__pkg_copy;

/* Copies the tree under src_fd into dst_fd (both borrowed directory fds). Regular files get
 * mode 0600, directories 0700; symlinks are not followed and not copied (their path "rel/x" is
 * appended to c->skipped_symlinks); ".git" directories and special files are skipped. Fails with
 * ALC_E_LIMIT past ALC__PKG_MAX_FILES / _BYTES / _DEPTH, else ALC_E_IO / ALC_E_NOMEM. */
int alc__pkg_copy_tree(int src_fd, int dst_fd, const char *rel, int depth, alc__pkg_copy *c,
                       char *err, size_t errlen);

/* Removes dir_fd/name: a symlink or file is unlinked, a directory removed recursively without
 * following any symlink. A missing entry is ALC_OK. ALC_E_IO / ALC_E_LIMIT with err. */
int alc__pkg_remove_at(int dir_fd, const char *name, char *err, size_t errlen);

/* True if dir_fd/sub/init.lua (sub NULL: dir_fd/init.lua) is a regular file; sub itself must be
 * a real directory, not a symlink. */
bool alc__pkg_has_init(int dir_fd, const char *sub);

/* True if path is missing or holds no entry whose name does not start with '.'. */
bool alc__pkg_dir_visibly_empty(const char *path);

/* Current UTC time as "2025-01-31T12:34:56Z". */
void alc__pkg_iso_now(char out[32]);

/* ALC_OK when name is a valid package name, else ALC_E_INVAL with a message in err. */
int alc__pkg_check_name(const char *name, char *err, size_t errlen);

/* The directory a link points to: path must be absolute, name (NULL: none given) valid, and
 * path an existing directory; its real path goes to real (PATH_MAX bytes). ALC_OK, or
 * ALC_E_INVAL / ALC_E_NOT_FOUND with a message in err. Used by both link scopes. */
int alc__pkg_link_source(const char *path, const char *name, char *real, char *err, size_t errlen);

/* M.meta.version of the package file at path (read, never run), returns new or NULL. */
char *alc__pkg_file_version(const char *path);

/* Runs `git clone --depth 1 --quiet -- url dest` (fork/execve of git found on PATH, no shell,
 * stdin /dev/null, GIT_TERMINAL_PROMPT=0) and waits at most timeout_ms; on timeout the whole
 * process group is killed. ALC_OK; ALC_E_NOT_FOUND (no git on PATH); ALC_E_TIMEOUT; ALC_E_IO
 * with git's last stderr line in err. */
int alc__pkg_git_clone(const char *url, const char *dest, int timeout_ms, char *err, size_t errlen);

#endif
