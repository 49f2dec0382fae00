/*
 * fsutil.c — file-system helpers for the stores: mkdir -p, atomic file replacement, whole-file
 * reads, path-component validation and path joining.
 *
 * Owns nothing global except a process-wide counter that keeps temp-file names unique between
 * threads. Every function is reentrant and may be called from any thread; none takes a lock.
 * Functions block on disk I/O (write_atomic calls fsync twice), so callers must not hold an
 * engine mutex across them (convention 16) — the state store's namespace lock is the one
 * deliberate exception, since it guards exactly this file I/O.
 */
#include "alc/fsutil.h"

#include "alc/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Distinguishes temp files of concurrent writers inside one process. */
static atomic_ulong tmp_counter = 0;

/* Writes "<prefix>: <strerror(errnum)>" into err (if any). Keeps errno unchanged. */
static void set_errno_msg(char *err, size_t errlen, int errnum, const char *fmt, ...) {
    int saved = errno;
    if (err && errlen > 0) {
        char prefix[512];
        char reason[128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        if (strerror_r(errnum, reason, sizeof reason) != 0)
            snprintf(reason, sizeof reason, "error %d", errnum);
        snprintf(err, errlen, "%s: %s", prefix, reason);
    }
    errno = saved;
}


/*
 * Creates path and every missing parent directory, like `mkdir -p`.
 * path: borrows; absolute or relative. mode: given exactly (chmod after mkdir, so the umask
 * does not apply) to every component this call creates; existing directories are left alone.
 * Returns ALC_OK (also when the directory already exists, or appears concurrently),
 * ALC_E_INVAL for NULL/empty path (errno EINVAL/ENOENT), ALC_E_NOMEM, or ALC_E_IO with errno
 * from the failing mkdir/stat/chmod (ENOTDIR when a component exists but is not a directory).
 * Blocks on disk I/O; takes no lock.
 */
int alc_fs_mkdirs(const char *path, mode_t mode) {
    if (!path || !*path) {
        errno = path ? ENOENT : EINVAL;
        return ALC_E_INVAL;
    }
    char *buf = strdup(path);
    if (!buf) {
        errno = ENOMEM;
        return ALC_E_NOMEM;
    }
    int rc = ALC_OK;
    size_t n = strlen(buf);
    // Visit every prefix that ends just before a '/' and finally the whole path.
    for (size_t i = 1; i <= n; i++) {
        if (i < n && buf[i] != '/') continue;
        if (buf[i - 1] == '/') continue;  // "a//b" or trailing '/': nothing new to create
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) == 0) {
            if (chmod(buf, mode) != 0) {
                rc = ALC_E_IO;
                goto fail;
            }
        } else if (errno == EEXIST) {
            struct stat st;
            if (stat(buf, &st) != 0) {
                rc = ALC_E_IO;
                goto fail;
            }
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                rc = ALC_E_IO;
                goto fail;
            }
        } else {
            rc = ALC_E_IO;
            goto fail;
        }
        buf[i] = saved;
    }
    free(buf);
    return ALC_OK;
fail:;
    int saved_errno = errno;
    free(buf);
    errno = saved_errno;
    return rc;
}

/* write(2) until all of data is written; retries EINTR. Returns 0 or -1 with errno. */
static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Returns new copy of the directory part of path ("." if none, "/" for "/x"). */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

/*
 * Replaces the file at path with data[0..len) atomically: the content is written to
 * "<path>.tmp.<pid>.<counter>" in the same directory (created O_EXCL with exactly mode),
 * fsynced, renamed over path, and then the directory is fsynced. Readers see either the old
 * or the new complete content, never a torn file, even after a crash.
 * path, data: borrow. err: borrows a buffer of errlen bytes for the message (may be NULL).
 * Returns ALC_OK; ALC_E_INVAL for NULL path (or NULL data with len > 0); ALC_E_NOMEM; or
 * ALC_E_IO with err = "cannot write <path>: <strerror>" and errno kept. On every failure the
 * temp file has been removed and the old file is untouched. Exception: if only the final
 * directory fsync fails (after the rename), the new content is in place and ALC_E_IO is still
 * returned so the caller knows durability is not guaranteed; EINVAL from that fsync (file
 * systems that cannot sync directories) is ignored.
 * Blocks on disk I/O (two fsyncs); takes no lock. Callers serialise writers of one path.
 */
int alc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        char *err, size_t errlen) {
    return alc_fs_write_atomic_ex(path, data, len, mode, 0, err, errlen);
}

/* alc_fs_write_atomic with flags: ALC_FS_NO_SYNC skips both fsyncs (still atomic through the
 * rename, so never torn; but a power loss may lose the newest content). */
int alc_fs_write_atomic_ex(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
                           char *err, size_t errlen) {
    bool sync = !(flags & ALC_FS_NO_SYNC);
    char *tmp = NULL;
    char *dir = NULL;
    int fd = -1;
    int dfd = -1;
    int rc = ALC_E_IO;
    bool tmp_exists = false;

    if (!path || !*path || (!data && len > 0)) {
        alc_errf(err, errlen, "cannot write %s: invalid argument", path ? path : "(null)");
        errno = EINVAL;
        return ALC_E_INVAL;
    }
    size_t tmplen = strlen(path) + 64;
    tmp = malloc(tmplen);
    dir = dir_of(path);
    if (!tmp || !dir) {
        alc_errf(err, errlen, "cannot write %s: out of memory", path);
        rc = ALC_E_NOMEM;
        goto fail;
    }
    // A name can only be taken by a stale temp file of a crashed process that had our pid;
    // step past such leftovers a few times before giving up.
    for (int attempt = 0; fd < 0; attempt++) {
        unsigned long seq = atomic_fetch_add(&tmp_counter, 1);
        snprintf(tmp, tmplen, "%s.tmp.%ld.%lu", path, (long)getpid(), seq);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && (errno != EEXIST || attempt >= 16)) goto io_fail;
    }
    tmp_exists = true;
    if (fchmod(fd, mode) != 0) goto io_fail;  // the umask must not change the requested mode
    if (write_all(fd, data, len) != 0) goto io_fail;
    if (sync && fsync(fd) != 0) goto io_fail;
    int cfd = fd;
    fd = -1;
    if (close(cfd) != 0) goto io_fail;
    if (rename(tmp, path) != 0) goto io_fail;
    tmp_exists = false;

    if (sync) {
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) goto io_fail;
        if (fsync(dfd) != 0 && errno != EINVAL) goto io_fail;
        close(dfd);
    }
    free(tmp);
    free(dir);
    return ALC_OK;

io_fail:
    set_errno_msg(err, errlen, errno, "cannot write %s", path);
    rc = ALC_E_IO;
fail:;
    int saved_errno = errno;
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    if (tmp_exists) unlink(tmp);
    free(tmp);
    free(dir);
    errno = saved_errno;
    return rc;
}

/*
 * Reads the whole file at path into a new NUL-terminated buffer.
 * path: borrows. max: largest accepted size in bytes. *out: returns new buffer (free()) on
 * ALC_OK, NULL otherwise. *len (may be NULL): content length, not counting the NUL.
 * Returns ALC_OK; ALC_E_NOT_FOUND if the file does not exist ("cannot read <path>: No such
 * file or directory"); ALC_E_TOO_LARGE if it holds more than max bytes ("<path> is larger
 * than N bytes"); ALC_E_NOMEM; ALC_E_IO ("cannot read <path>: <strerror>", errno kept);
 * ALC_E_INVAL for NULL arguments. The size is checked while reading, not trusted from stat.
 * Blocks on disk I/O; takes no lock.
 */
int alc_fs_read_file(const char *path, size_t max, char **out, size_t *len,
                     char *err, size_t errlen) {
    char *buf = NULL;
    int fd = -1;
    int rc = ALC_E_IO;

    if (out) *out = NULL;
    if (len) *len = 0;
    if (!path || !out) {
        alc_errf(err, errlen, "cannot read file: invalid argument");
        return ALC_E_INVAL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? ALC_E_NOT_FOUND : ALC_E_IO;
        goto io_fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) goto io_fail;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto io_fail;
    }
    size_t cap = 4096;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        cap = (uintmax_t)st.st_size > max ? max + 1 : (size_t)st.st_size + 1;
    }
    buf = malloc(cap + 1);
    if (!buf) goto nomem;
    size_t used = 0;
    for (;;) {
        if (used == cap) {
            if (cap > max) break;  // already read more than max
            size_t ncap = cap > SIZE_MAX / 4 ? SIZE_MAX / 2 : cap * 2;
            if (max < SIZE_MAX / 2 && ncap > max + 1) ncap = max + 1;  // one byte past max suffices
            char *nb = realloc(buf, ncap + 1);
            if (!nb) goto nomem;
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0) {
            if (errno == EINTR) continue;
            goto io_fail;
        }
        if (r == 0) break;
        used += (size_t)r;
        if (used > max) break;
    }
    if (used > max) {
        alc_errf(err, errlen, "%s is larger than %zu bytes", path, max);
        rc = ALC_E_TOO_LARGE;
        goto fail;
    }
    close(fd);
    buf[used] = '\0';
    *out = buf;
    if (len) *len = used;
    return ALC_OK;

nomem:
    alc_errf(err, errlen, "cannot read %s: out of memory", path);
    rc = ALC_E_NOMEM;
    goto fail;
io_fail:
    set_errno_msg(err, errlen, errno, "cannot read %s", path);
fail:;
    int saved_errno = errno;
    if (fd >= 0) close(fd);
    free(buf);
    errno = saved_errno;
    return rc;
}

/*
 * True if s[0..len) is safe to use as one path component: s non-NULL, 1 <= len <= 255
 * (ALC_FS_COMPONENT_MAX), no '/', '\\' or NUL byte anywhere in the len bytes, not "." and
 * no ".." substring (which also rules out ".."). Pure; any thread.
 */
bool alc_fs_valid_component(const char *s, size_t len) {
    if (!s || len == 0 || len > ALC_FS_COMPONENT_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/' || c == '\\' || c == '\0') return false;
        if (c == '.' && i + 1 < len && s[i + 1] == '.') return false;
    }
    if (len == 1 && s[0] == '.') return false;
    return true;
}

/*
 * Returns new "a/b" (free()). a, b: borrow. No slash is doubled when a already ends with
 * '/'; an empty a yields a copy of b. Returns NULL if a or b is NULL or on out of memory.
 * Pure; any thread.
 */
char *alc_fs_join(const char *a, const char *b) {
    if (!a || !b) return NULL;
    size_t la = strlen(a);
    size_t lb = strlen(b);
    bool sep = la > 0 && a[la - 1] != '/';
    char *r = malloc(la + (sep ? 1 : 0) + lb + 1);
    if (!r) return NULL;
    memcpy(r, a, la);
    if (sep) r[la] = '/';
    memcpy(r + la + (sep ? 1 : 0), b, lb + 1);
    return r;
}
