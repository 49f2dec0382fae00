/*
 * pkg_fs.c — directory-tree copy and removal for the package store, done with directory file
 * descriptors (openat / fstatat / unlinkat / O_NOFOLLOW) so that a symlink inside a package can
 * never redirect a copy or a deletion outside the tree being worked on.
 *
 * No global state; reentrant; any thread. Blocks on disk I/O.
 */
#include "pkg_internal.h"

#include "alc/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sys_msg(char *err, size_t errlen, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void sys_msg(char *err, size_t errlen, int errnum, const char *fmt, ...) {
    if (!err || !errlen) return;
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", what, strerror(errnum));
}

static int copy_file(int src_dir, int dst_dir, const char *name, const char *rel, alc__pkg_copy *c,
                     char *err, size_t errlen) {
    int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) { sys_msg(err, errlen, errno, "cannot read %s", rel); return ALC_E_IO; }
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) { close(in); return ALC_OK; }  // changed under us: skip
    int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) { sys_msg(err, errlen, errno, "cannot create the copy of %s", rel); close(in); return ALC_E_IO; }
    int rc = ALC_OK;
    char buf[65536];
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { sys_msg(err, errlen, errno, "cannot read %s", rel); rc = ALC_E_IO; break; }
        if (r == 0) break;
        c->bytes += (size_t)r;
        if (c->bytes > ALC__PKG_MAX_BYTES) {
            snprintf(err, errlen, "the source holds more than %zu MiB; refusing to copy it", ALC__PKG_MAX_BYTES >> 20);
            rc = ALC_E_LIMIT;
            break;
        }
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) { sys_msg(err, errlen, errno, "cannot write the copy of %s", rel); rc = ALC_E_IO; break; }
            off += w;
        }
        if (rc != ALC_OK) break;
    }
    if (close(out) != 0 && rc == ALC_OK) { sys_msg(err, errlen, errno, "cannot write the copy of %s", rel); rc = ALC_E_IO; }
    close(in);
    return rc;
}

/* Copies a tree; see pkg_internal.h. */
int alc__pkg_copy_tree(int src_fd, int dst_fd, const char *rel, int depth, alc__pkg_copy *c,
                       char *err, size_t errlen) {
    if (depth > ALC__PKG_MAX_DEPTH) {
        snprintf(err, errlen, "%s: directories nested more than %d deep; refusing to copy", rel, ALC__PKG_MAX_DEPTH);
        return ALC_E_LIMIT;
    }
    int dfd = dup(src_fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        sys_msg(err, errlen, errno, "cannot list %s", rel);
        if (dfd >= 0) close(dfd);
        return ALC_E_IO;
    }
    rewinddir(d);
    int rc = ALC_OK;
    struct dirent *e;
    while (rc == ALC_OK && (errno = 0, e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        char child[4096];
        if (snprintf(child, sizeof child, "%s/%s", rel, name) >= (int)sizeof child) {
            snprintf(err, errlen, "path too long under %s", rel);
            rc = ALC_E_LIMIT;
            break;
        }
        struct stat st;
        if (fstatat(src_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            sys_msg(err, errlen, errno, "cannot stat %s", child);
            rc = ALC_E_IO;
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            if (c->skipped_symlinks) cJSON_AddItemToArray(c->skipped_symlinks, cJSON_CreateString(child));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(name, ".git") == 0) continue;
            if (mkdirat(dst_fd, name, 0700) != 0) { sys_msg(err, errlen, errno, "cannot create the copy of %s", child); rc = ALC_E_IO; break; }
            int s2 = openat(src_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int d2 = openat(dst_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s2 < 0 || d2 < 0) {
                sys_msg(err, errlen, errno, "cannot open %s", child);
                rc = ALC_E_IO;
            } else {
                rc = alc__pkg_copy_tree(s2, d2, child, depth + 1, c, err, errlen);
            }
            if (s2 >= 0) close(s2);
            if (d2 >= 0) close(d2);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;  // fifos, sockets, devices: never part of a package
        if (++c->files > ALC__PKG_MAX_FILES) {
            snprintf(err, errlen, "the source holds more than %d files; refusing to copy it", ALC__PKG_MAX_FILES);
            rc = ALC_E_LIMIT;
            break;
        }
        rc = copy_file(src_fd, dst_fd, name, child, c, err, errlen);
    }
    if (rc == ALC_OK && errno != 0) { sys_msg(err, errlen, errno, "cannot list %s", rel); rc = ALC_E_IO; }
    closedir(d);
    return rc;
}

static int remove_at(int dir_fd, const char *name, int depth, char *err, size_t errlen) {
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return ALC_OK;
        sys_msg(err, errlen, errno, "cannot stat %s", name);
        return ALC_E_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) { sys_msg(err, errlen, errno, "cannot remove %s", name); return ALC_E_IO; }
        return ALC_OK;
    }
    if (depth > 64) { snprintf(err, errlen, "%s: directories nested too deep to remove", name); return ALC_E_LIMIT; }
    for (int pass = 0; pass < 4; pass++) {
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { sys_msg(err, errlen, errno, "cannot open %s", name); return ALC_E_IO; }
        DIR *d = fdopendir(fd);
        if (!d) { sys_msg(err, errlen, errno, "cannot list %s", name); close(fd); return ALC_E_IO; }
        int rc = ALC_OK;
        struct dirent *e;
        while (rc == ALC_OK && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            rc = remove_at(dirfd(d), e->d_name, depth + 1, err, errlen);
        }
        closedir(d);
        if (rc != ALC_OK) return rc;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return ALC_OK;
        if (errno != ENOTEMPTY && errno != EEXIST) { sys_msg(err, errlen, errno, "cannot remove %s", name); return ALC_E_IO; }
        // entries appeared (or readdir skipped some while we deleted): go again
    }
    snprintf(err, errlen, "cannot remove %s: it keeps getting new entries", name);
    return ALC_E_IO;
}

/* Removes dir_fd/name without following symlinks; see pkg_internal.h. */
int alc__pkg_remove_at(int dir_fd, const char *name, char *err, size_t errlen) {
    return remove_at(dir_fd, name, 0, err, errlen);
}

/* True if [sub/]init.lua under dir_fd is a regular file (sub must be a real directory). */
bool alc__pkg_has_init(int dir_fd, const char *sub) {
    struct stat st;
    if (sub) {
        if (fstatat(dir_fd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) return false;
        int fd = openat(dir_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return false;
        bool ok = fstatat(fd, "init.lua", &st, 0) == 0 && S_ISREG(st.st_mode);
        close(fd);
        return ok;
    }
    return fstatat(dir_fd, "init.lua", &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* True if path is missing or has only hidden entries. */
bool alc__pkg_dir_visibly_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT;
    bool empty = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') { empty = false; break; }
    closedir(d);
    return empty;
}

/* Current UTC time in ISO 8601 with a Z suffix. */
void alc__pkg_iso_now(char out[32]) {
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) snprintf(out, 32, "1970-01-01T00:00:00Z");
}
