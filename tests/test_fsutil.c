/* Unit tests for the file-system helpers (include/alc/fsutil.h). */
#include "alc/error.h"
#include "alc/fsutil.h"
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Writes a file directly (test setup, not the code under test). */
static void put_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "fopen %s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

/* Returns new buffer holding the file's content (asserts it exists). */
static char *slurp(const char *path) {
    char *buf = NULL;
    char err[256] = "";
    cr_assert_eq(alc_fs_read_file(path, 1 << 20, &buf, NULL, err, sizeof err), ALC_OK, "%s", err);
    return buf;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

/* Number of directory entries other than "." and "..". */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

Test(fsutil, mkdirs_creates_every_missing_component_with_exact_mode) {
    char *tmp = alc_test_tmpdir();
    chmod(tmp, 0755);
    umask(0027);  // the requested mode must win over the umask
    char *p1 = alc_fs_join(tmp, "a");
    char *p2 = alc_fs_join(p1, "b");
    char *p3 = alc_fs_join(p2, "c");
    cr_assert_eq(alc_fs_mkdirs(p3, 0705), ALC_OK);
    cr_assert_eq(mode_of(p1), 0705);
    cr_assert_eq(mode_of(p2), 0705);
    cr_assert_eq(mode_of(p3), 0705);
    cr_assert_eq(mode_of(tmp), 0755, "an existing parent keeps its mode");
    // Calling again on an existing tree is fine; a trailing slash and "//" too.
    cr_assert_eq(alc_fs_mkdirs(p3, 0700), ALC_OK);
    cr_assert_eq(mode_of(p3), 0705, "existing directories are not chmod-ed");
    char *p4 = alc_fs_join(p2, "/d//e/");
    cr_assert_eq(alc_fs_mkdirs(p4, 0700), ALC_OK);
    cr_assert_eq(mode_of(p4), 0700);
    free(p1);
    free(p2);
    free(p3);
    free(p4);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, mkdirs_through_a_regular_file_fails_with_enotdir) {
    char *tmp = alc_test_tmpdir();
    char *file = alc_fs_join(tmp, "f");
    put_file(file, "x");
    char *under = alc_fs_join(file, "sub");
    errno = 0;
    cr_assert_eq(alc_fs_mkdirs(under, 0700), ALC_E_IO);
    cr_assert_eq(errno, ENOTDIR);
    errno = 0;
    cr_assert_eq(alc_fs_mkdirs(file, 0700), ALC_E_IO, "the leaf itself is a file");
    cr_assert_eq(errno, ENOTDIR);
    cr_assert_eq(alc_fs_mkdirs("", 0700), ALC_E_INVAL);
    cr_assert_eq(alc_fs_mkdirs(NULL, 0700), ALC_E_INVAL);
    free(under);
    free(file);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, write_atomic_creates_file_with_mode_and_leaves_no_temp_file) {
    char *tmp = alc_test_tmpdir();
    umask(0022);
    char *path = alc_fs_join(tmp, "x.json");
    char err[256] = "";
    cr_assert_eq(alc_fs_write_atomic(path, "hello", 5, 0600, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(mode_of(path), 0600);
    char *got = slurp(path);
    cr_assert_str_eq(got, "hello");
    free(got);
    // Replacing keeps the requested mode even if the old file had another one.
    chmod(path, 0644);
    cr_assert_eq(alc_fs_write_atomic(path, "bye", 3, 0640, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(mode_of(path), 0640);
    got = slurp(path);
    cr_assert_str_eq(got, "bye");
    free(got);
    // Zero bytes is a valid content.
    cr_assert_eq(alc_fs_write_atomic(path, NULL, 0, 0600, err, sizeof err), ALC_OK, "%s", err);
    got = slurp(path);
    cr_assert_str_eq(got, "");
    free(got);
    cr_assert_eq(count_entries(tmp), 1, "only the target remains in the directory");
    free(path);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, write_atomic_into_missing_directory_fails_with_path_in_message) {
    char *tmp = alc_test_tmpdir();
    char *path = alc_fs_join(tmp, "nodir/x.json");
    char err[256] = "";
    errno = 0;
    cr_assert_eq(alc_fs_write_atomic(path, "x", 1, 0600, err, sizeof err), ALC_E_IO);
    cr_assert_eq(errno, ENOENT);
    char want[600];
    snprintf(want, sizeof want, "cannot write %s: No such file or directory", path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(count_entries(tmp), 0);
    cr_assert_eq(alc_fs_write_atomic(NULL, "x", 1, 0600, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_fs_write_atomic(path, NULL, 1, 0600, NULL, 0), ALC_E_INVAL);
    free(path);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, write_atomic_failing_rename_removes_temp_and_keeps_target) {
    char *tmp = alc_test_tmpdir();
    char *target = alc_fs_join(tmp, "isdir");  // a directory cannot be replaced by a file
    cr_assert_eq(mkdir(target, 0700), 0);
    char err[256] = "";
    cr_assert_eq(alc_fs_write_atomic(target, "data", 4, 0600, err, sizeof err), ALC_E_IO);
    cr_assert(strstr(err, "cannot write ") == err, "message: %s", err);
    struct stat st;
    cr_assert_eq(stat(target, &st), 0);
    cr_assert(S_ISDIR(st.st_mode), "the target is untouched");
    cr_assert_eq(count_entries(tmp), 1, "the temp file was removed");
    free(target);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, write_atomic_hitting_file_size_limit_keeps_old_content) {
    char *tmp = alc_test_tmpdir();
    char *path = alc_fs_join(tmp, "state.json");
    char err[256] = "";
    cr_assert_eq(alc_fs_write_atomic(path, "{\"old\":1}", 9, 0600, err, sizeof err), ALC_OK);

    // The child reports through a pipe, not its exit status, because under
    // `meson test --setup=valgrind` a forked child exits 99 for Criterion's own allocations.
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        // Child: a 4 KiB file size limit makes the big write fail with EFBIG.
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        static char big[65536];
        memset(big, 'x', sizeof big);
        char cerr[256] = "";
        char code = 0;
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
            code = 10;
        } else {
            int rc = alc_fs_write_atomic(path, big, sizeof big, 0600, cerr, sizeof cerr);
            if (rc != ALC_E_IO) code = 11;
            else if (errno != EFBIG) code = 12;
            else if (!strstr(cerr, "File too large")) code = 13;
        }
        if (write(fds[1], &code, 1) != 1) code = 14;
        free(path);  // the child's copies
        free(tmp);
        _exit(code);
    }
    close(fds[1]);
    char code = -1;
    cr_assert_eq(read(fds[0], &code, 1), 1, "child died before reporting");
    close(fds[0]);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert_eq(code, 0, "child check %d failed", code);

    char *got = slurp(path);
    cr_assert_str_eq(got, "{\"old\":1}", "old content intact");
    free(got);
    cr_assert_eq(count_entries(tmp), 1, "no temp file left behind");
    free(path);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, read_file_returns_nul_terminated_content_and_length) {
    char *tmp = alc_test_tmpdir();
    char *path = alc_fs_join(tmp, "f");
    put_file(path, "abc\ndef");
    char *buf = NULL;
    size_t len = 0;
    char err[256] = "";
    cr_assert_eq(alc_fs_read_file(path, 7, &buf, &len, err, sizeof err), ALC_OK, "exactly max");
    cr_assert_eq(len, 7);
    cr_assert_eq(buf[7], '\0');
    cr_assert_str_eq(buf, "abc\ndef");
    free(buf);

    put_file(path, "");
    cr_assert_eq(alc_fs_read_file(path, 10, &buf, &len, err, sizeof err), ALC_OK);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(buf, "");
    free(buf);

    // A file bigger than the initial buffer is read completely.
    char *big = malloc(100001);
    memset(big, 'y', 100000);
    big[100000] = '\0';
    put_file(path, big);
    cr_assert_eq(alc_fs_read_file(path, 100000, &buf, &len, err, sizeof err), ALC_OK);
    cr_assert_eq(len, 100000);
    cr_assert_str_eq(buf, big);
    free(buf);
    free(big);
    free(path);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, read_file_reports_missing_too_large_and_directory) {
    char *tmp = alc_test_tmpdir();
    char *path = alc_fs_join(tmp, "f");
    char *buf = (char *)1;
    size_t len = 99;
    char err[512] = "";
    cr_assert_eq(alc_fs_read_file(path, 10, &buf, &len, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_null(buf);
    cr_assert_eq(len, 0);
    char want[600];
    snprintf(want, sizeof want, "cannot read %s: No such file or directory", path);
    cr_assert_str_eq(err, want);

    put_file(path, "12345678901");
    cr_assert_eq(alc_fs_read_file(path, 10, &buf, &len, err, sizeof err), ALC_E_TOO_LARGE);
    cr_assert_null(buf);
    cr_assert(strstr(err, "larger than 10 bytes"), "message: %s", err);

    cr_assert_eq(alc_fs_read_file(tmp, 10, &buf, &len, err, sizeof err), ALC_E_IO);
    cr_assert_null(buf);
    cr_assert(strstr(err, "Is a directory"), "message: %s", err);

    cr_assert_eq(alc_fs_read_file(NULL, 10, &buf, &len, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_fs_read_file(path, 10, NULL, &len, NULL, 0), ALC_E_INVAL);
    free(path);
    alc_test_rmtree(tmp);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(fsutil, valid_component_accepts_plain_names_and_rejects_unsafe_ones) {
    cr_assert(alc_fs_valid_component("default", 7));
    cr_assert(alc_fs_valid_component("a.b-c_d", 7));
    cr_assert(alc_fs_valid_component(".hidden", 7));
    cr_assert(alc_fs_valid_component("a.", 2));
    cr_assert_not(alc_fs_valid_component("", 0));
    cr_assert_not(alc_fs_valid_component(NULL, 3));
    cr_assert_not(alc_fs_valid_component(".", 1));
    cr_assert_not(alc_fs_valid_component("..", 2));
    cr_assert_not(alc_fs_valid_component("a..b", 4));
    cr_assert_not(alc_fs_valid_component("a/b", 3));
    cr_assert_not(alc_fs_valid_component("a\\b", 3));
    cr_assert_not(alc_fs_valid_component("a\0b", 3), "embedded NUL is seen via len");
    char name[300];
    memset(name, 'n', sizeof name);
    cr_assert(alc_fs_valid_component(name, 255));
    cr_assert_not(alc_fs_valid_component(name, 256));
}

Test(fsutil, join_inserts_exactly_one_slash) {
    char *s = alc_fs_join("/a", "b.json");
    cr_assert_str_eq(s, "/a/b.json");
    free(s);
    s = alc_fs_join("/a/", "b");
    cr_assert_str_eq(s, "/a/b");
    free(s);
    s = alc_fs_join("", "b");
    cr_assert_str_eq(s, "b");
    free(s);
    s = alc_fs_join("a", "");
    cr_assert_str_eq(s, "a/");
    free(s);
    cr_assert_null(alc_fs_join(NULL, "b"));
    cr_assert_null(alc_fs_join("a", NULL));
    ALC_ASSERT_NO_LEAKS();
}
