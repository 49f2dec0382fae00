/* Unit tests for the alc.state store (include/alc/state.h). */
#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/state.h"
#include "helpers.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* A fresh temp dir and root = <tmp>/home/state (so the store must create two levels). */
typedef struct fixture {
    char *tmp;
    char *root;
    char *json;  /* <root>/default.json */
} fixture;

static fixture fx_new(void) {
    fixture f;
    f.tmp = alc_test_tmpdir();
    f.root = alc_fs_join(f.tmp, "home/state");
    f.json = alc_fs_join(f.root, "default.json");
    return f;
}

static void fx_free(fixture *f) {
    alc_test_rmtree(f->tmp);
    free(f->tmp);
    free(f->root);
    free(f->json);
}

/* Forked children report a result byte through a pipe rather than their exit status, because
 * under `meson test --setup=valgrind` a forked child exits 99 for Criterion's own allocations. */
typedef struct child {
    pid_t pid;
    int fd; /* parent: read end; child: write end */
} child;

/* Forks; returns true in the child. */
static bool child_fork(child *c) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    c->pid = fork();
    cr_assert_neq(c->pid, -1);
    if (c->pid == 0) {
        close(fds[0]);
        c->fd = fds[1];
        return true;
    }
    close(fds[1]);
    c->fd = fds[0];
    return false;
}

/* In the child: reports code, frees the child's copy of the fixture (not the directory),
 * and exits. */
static _Noreturn void child_exit(child *c, fixture *f, char code) {
    if (write(c->fd, &code, 1) != 1) code = 99;
    free(f->tmp);
    free(f->root);
    free(f->json);
    _exit(code);
}

/* In the parent: returns the child's result byte (-1 if it died without reporting). */
static int child_wait(child *c) {
    char code = -1;
    if (read(c->fd, &code, 1) != 1) code = -1;
    close(c->fd);
    cr_assert_eq(waitpid(c->pid, NULL, 0), c->pid);
    return code;
}

static cJSON *parse(const char *text) {
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "bad test JSON: %s", text);
    return j;
}

/* Reads and parses a file the way a different process would see it. */
static cJSON *file_json(const char *path) {
    char *buf = NULL;
    size_t len = 0;
    char err[256] = "";
    cr_assert_eq(alc_fs_read_file(path, 1 << 20, &buf, &len, err, sizeof err), ALC_OK, "%s", err);
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    cr_assert_not_null(j, "file %s is not JSON", path);
    return j;
}

static char *file_text(const char *path) {
    char *buf = NULL;
    char err[256] = "";
    cr_assert_eq(alc_fs_read_file(path, 1 << 20, &buf, NULL, err, sizeof err), ALC_OK, "%s", err);
    return buf;
}

static void put_file(const char *path, const char *text) {
    char err[256] = "";
    cr_assert_eq(alc_fs_write_atomic(path, text, strlen(text), 0600, err, sizeof err), ALC_OK);
}

static mode_t mode_of(const char *path) {
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void set_json(const fixture *f, const char *ns, const char *key, const char *json) {
    cJSON *v = parse(json);
    char err[256] = "";
    cr_assert_eq(alc_state_set(f->root, ns, key, v, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(v);
}

static void assert_get(const fixture *f, const char *ns, const char *key, const char *json) {
    cJSON *got = NULL;
    char err[256] = "";
    cr_assert_eq(alc_state_get(f->root, ns, key, &got, err, sizeof err), ALC_OK, "%s", err);
    if (!json) {
        cr_assert_null(got, "expected '%s' to be absent", key);
        return;
    }
    cJSON *want = parse(json);
    cr_assert_not_null(got, "expected '%s' to be present", key);
    char *s = cJSON_PrintUnformatted(got);
    cr_assert(cJSON_Compare(got, want, 1), "'%s' is %s, expected %s", key, s, json);
    cr_assert_null(got->string, "the returned value carries no object key");
    cJSON_free(s);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

Test(state, get_on_fresh_root_is_absent_and_creates_nothing) {
    fixture f = fx_new();
    assert_get(&f, "default", "k", NULL);
    bool has = true;
    cr_assert_eq(alc_state_has(f.root, "default", "k", &has, NULL, 0), ALC_OK);
    cr_assert_not(has);
    cJSON *keys = NULL;
    cr_assert_eq(alc_state_keys(f.root, "default", &keys, NULL, 0), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(keys), 0);
    cJSON_Delete(keys);
    bool existed = true;
    cr_assert_eq(alc_state_delete(f.root, "default", "k", &existed, NULL, 0), ALC_OK);
    cr_assert_not(existed);
    cr_assert_not(exists(f.root), "reads and no-op deletes do not create the root");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, set_then_get_round_trips_every_json_type) {
    fixture f = fx_new();
    const char *values[] = {"1", "2.5", "-0.125", "\"text\"", "true", "false", "null", "[]",
                            "{}", "[1,\"a\",{\"b\":[null]}]", "{\"nested\":{\"x\":1e300}}",
                            "\"caf\\u00e9 \\n \\\"q\\\"\""};
    char key[32];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        set_json(&f, "default", key, values[i]);
    }
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        assert_get(&f, "default", key, values[i]);
    }
    set_json(&f, "default", "k0", "\"replaced\"");
    assert_get(&f, "default", "k0", "\"replaced\"");
    cJSON *keys = NULL;
    cr_assert_eq(alc_state_keys(f.root, "default", &keys, NULL, 0), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(keys), 12, "replacing does not duplicate the key");
    cJSON_Delete(keys);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, root_dir_is_0700_and_files_are_0600) {
    fixture f = fx_new();
    umask(0);  // even with a permissive umask
    set_json(&f, "default", "k", "1");
    cr_assert_eq(mode_of(f.root), 0700);
    char *home = alc_fs_join(f.tmp, "home");
    cr_assert_eq(mode_of(home), 0700, "every created directory is 0700");
    cr_assert_eq(mode_of(f.json), 0600);
    char *lock = alc_fs_join(f.root, "default.lock");
    cr_assert_eq(mode_of(lock), 0600);
    free(lock);
    free(home);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, file_is_a_pretty_json_object_that_another_process_reads) {
    fixture f = fx_new();
    set_json(&f, "default", "a", "{\"x\":[1,2]}");
    set_json(&f, "default", "b/../c", "\"keys are not paths\"");
    cJSON *doc = file_json(f.json);
    cJSON *want = parse("{\"a\":{\"x\":[1,2]},\"b/../c\":\"keys are not paths\"}");
    cr_assert(cJSON_Compare(doc, want, 1));
    cJSON_Delete(doc);
    cJSON_Delete(want);
    char *text = file_text(f.json);
    cr_assert(strchr(text, '\n'), "pretty-printed: %s", text);
    free(text);

    // A separate process sees and updates the same data.
    child c;
    if (child_fork(&c)) {
        cJSON *got = NULL;
        if (alc_state_get(f.root, "default", "a", &got, NULL, 0) != ALC_OK || !got)
            child_exit(&c, &f, 10);
        cJSON *x = cJSON_GetObjectItemCaseSensitive(got, "x");
        int ok = cJSON_GetArraySize(x) == 2;
        cJSON_Delete(got);
        if (!ok) child_exit(&c, &f, 11);
        cJSON *v = cJSON_CreateString("from child");
        int rc = alc_state_set(f.root, "default", "child", v, NULL, 0);
        cJSON_Delete(v);
        child_exit(&c, &f, rc == ALC_OK ? 0 : 12);
    }
    int code = child_wait(&c);
    cr_assert_eq(code, 0, "child failed: %d", code);
    assert_get(&f, "default", "child", "\"from child\"");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, namespaces_are_separate_files) {
    fixture f = fx_new();
    set_json(&f, "alpha", "k", "1");
    set_json(&f, "beta", "k", "2");
    assert_get(&f, "alpha", "k", "1");
    assert_get(&f, "beta", "k", "2");
    assert_get(&f, "default", "k", NULL);
    char *pa = alc_fs_join(f.root, "alpha.json");
    char *pb = alc_fs_join(f.root, "beta.json");
    cr_assert(exists(pa));
    cr_assert(exists(pb));
    cr_assert_not(exists(f.json));
    free(pa);
    free(pb);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, keys_are_sorted_bytewise) {
    fixture f = fx_new();
    const char *names[] = {"zeta", "alpha", "Beta", "alpha2", "_x", "m"};
    for (size_t i = 0; i < 6; i++) set_json(&f, "default", names[i], "0");
    cJSON *keys = NULL;
    char err[256] = "";
    cr_assert_eq(alc_state_keys(f.root, "default", &keys, err, sizeof err), ALC_OK, "%s", err);
    const char *want[] = {"Beta", "_x", "alpha", "alpha2", "m", "zeta"};
    cr_assert_eq(cJSON_GetArraySize(keys), 6);
    for (int i = 0; i < 6; i++)
        cr_assert_str_eq(cJSON_GetArrayItem(keys, i)->valuestring, want[i]);
    cJSON_Delete(keys);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, delete_reports_existence_and_skips_rewrite_for_missing_key) {
    fixture f = fx_new();
    set_json(&f, "default", "a", "1");
    set_json(&f, "default", "b", "2");
    bool existed = false;
    char err[256] = "";
    cr_assert_eq(alc_state_delete(f.root, "default", "a", &existed, err, sizeof err), ALC_OK);
    cr_assert(existed);
    assert_get(&f, "default", "a", NULL);
    assert_get(&f, "default", "b", "2");

    struct stat before, after;
    cr_assert_eq(stat(f.json, &before), 0);
    cr_assert_eq(alc_state_delete(f.root, "default", "a", &existed, err, sizeof err), ALC_OK);
    cr_assert_not(existed);
    cr_assert_eq(stat(f.json, &after), 0);
    // Every save is a rename of a new file, so an unchanged inode means no rewrite happened.
    cr_assert_eq(before.st_ino, after.st_ino, "missing key: file not rewritten");
    cr_assert_eq(alc_state_delete(f.root, "default", "b", NULL, err, sizeof err), ALC_OK,
                 "existed may be NULL");
    assert_get(&f, "default", "b", NULL);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, has_distinguishes_absent_from_null_value) {
    fixture f = fx_new();
    set_json(&f, "default", "n", "null");
    bool has = false;
    cr_assert_eq(alc_state_has(f.root, "default", "n", &has, NULL, 0), ALC_OK);
    cr_assert(has);
    cr_assert_eq(alc_state_has(f.root, "default", "N", &has, NULL, 0), ALC_OK);
    cr_assert_not(has, "keys are case-sensitive");
    cr_assert_eq(alc_state_has(f.root, "default", "n", NULL, NULL, 0), ALC_E_INVAL);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, set_nx_writes_only_when_absent) {
    fixture f = fx_new();
    cJSON *one = parse("1");
    cJSON *two = parse("2");
    bool written = false;
    char err[256] = "";
    cr_assert_eq(alc_state_set_nx(f.root, "default", "k", one, &written, err, sizeof err), ALC_OK);
    cr_assert(written);
    struct stat before, after;
    cr_assert_eq(stat(f.json, &before), 0);
    cr_assert_eq(alc_state_set_nx(f.root, "default", "k", two, &written, err, sizeof err), ALC_OK);
    cr_assert_not(written);
    cr_assert_eq(stat(f.json, &after), 0);
    cr_assert_eq(before.st_ino, after.st_ino, "present key: file not rewritten");
    assert_get(&f, "default", "k", "1");
    cr_assert_eq(alc_state_set_nx(f.root, "default", "k", NULL, &written, err, sizeof err),
                 ALC_E_INVAL);
    cJSON_Delete(one);
    cJSON_Delete(two);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, incr_uses_default_adds_delta_and_rejects_non_numbers) {
    fixture f = fx_new();
    double v = 0;
    char err[256] = "";
    cr_assert_eq(alc_state_incr(f.root, "default", "c", 1, 0, &v, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(v, 1.0);
    cr_assert_eq(alc_state_incr(f.root, "default", "c", 2.5, 0, &v, err, sizeof err), ALC_OK);
    cr_assert_eq(v, 3.5);
    cr_assert_eq(alc_state_incr(f.root, "default", "d", -1, 10, &v, err, sizeof err), ALC_OK);
    cr_assert_eq(v, 9.0, "absent key starts from the default");
    assert_get(&f, "default", "c", "3.5");
    assert_get(&f, "default", "d", "9");

    set_json(&f, "default", "s", "\"seven\"");
    v = -1;
    cr_assert_eq(alc_state_incr(f.root, "default", "s", 1, 0, &v, err, sizeof err), ALC_E_INVAL);
    cr_assert_str_eq(err, "incr: value at 's' is not a number");
    cr_assert_eq(v, -1, "out untouched on error");
    assert_get(&f, "default", "s", "\"seven\"");

    cr_assert_eq(alc_state_incr(f.root, "default", "c", 1.0 / 0.0, 0, &v, err, sizeof err),
                 ALC_E_INVAL);
    cr_assert(strstr(err, "not finite"), "%s", err);
    assert_get(&f, "default", "c", "3.5");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

/* Runs every operation against the corrupt file and checks each fails and leaves it alone. */
static void assert_corrupt_everywhere(const fixture *f, const char *content) {
    put_file(f->json, content);
    char err[512];
    char want[600];
    snprintf(want, sizeof want, "state file %s is corrupt: ", f->json);
    cJSON *v = parse("1");
    cJSON *out = NULL;
    bool b = false;
    double d = 0;
    int rcs[7];
    const char *names[7] = {"get", "set", "keys", "delete", "has", "set_nx", "incr"};
    char msgs[7][512];
    rcs[0] = alc_state_get(f->root, "default", "k", &out, msgs[0], sizeof msgs[0]);
    rcs[1] = alc_state_set(f->root, "default", "k", v, msgs[1], sizeof msgs[1]);
    rcs[2] = alc_state_keys(f->root, "default", &out, msgs[2], sizeof msgs[2]);
    rcs[3] = alc_state_delete(f->root, "default", "k", &b, msgs[3], sizeof msgs[3]);
    rcs[4] = alc_state_has(f->root, "default", "k", &b, msgs[4], sizeof msgs[4]);
    rcs[5] = alc_state_set_nx(f->root, "default", "k", v, &b, msgs[5], sizeof msgs[5]);
    rcs[6] = alc_state_incr(f->root, "default", "k", 1, 0, &d, msgs[6], sizeof msgs[6]);
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(rcs[i], ALC_E_IO, "%s on corrupt file returned %d", names[i], rcs[i]);
        cr_assert(strncmp(msgs[i], want, strlen(want)) == 0, "%s: message '%s'", names[i],
                  msgs[i]);
    }
    cr_assert_null(out);
    char *now = file_text(f->json);
    cr_assert_str_eq(now, content, "the corrupt file is never overwritten");
    free(now);
    (void)err;
    cJSON_Delete(v);
}

Test(state, corrupt_file_fails_every_operation_and_is_left_untouched) {
    fixture f = fx_new();
    set_json(&f, "default", "k", "1");  // creates the root
    assert_corrupt_everywhere(&f, "{\"k\": 1,, oops");
    assert_corrupt_everywhere(&f, "[1, 2, 3]");
    assert_corrupt_everywhere(&f, "");
    assert_corrupt_everywhere(&f, "{\"k\":1} trailing");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, invalid_namespaces_are_rejected_with_message) {
    fixture f = fx_new();
    char ns201[202];
    memset(ns201, 'n', 201);
    ns201[201] = '\0';
    const char *bad[] = {"", "a/b", "..", "a..b", "a\\b", "/abs", "../up", ns201};
    cJSON *v = parse("1");
    char err[512];
    char want[600];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(want, sizeof want, "Invalid namespace: '%s'", bad[i]);
        err[0] = '\0';
        cr_assert_eq(alc_state_set(f.root, bad[i], "k", v, err, sizeof err), ALC_E_INVAL,
                     "namespace '%s'", bad[i]);
        cr_assert_str_eq(err, want);
        cJSON *out = NULL;
        cr_assert_eq(alc_state_get(f.root, bad[i], "k", &out, err, sizeof err), ALC_E_INVAL);
        double d;
        cr_assert_eq(alc_state_incr(f.root, bad[i], "k", 1, 0, &d, err, sizeof err), ALC_E_INVAL);
    }
    cr_assert_eq(alc_state_set(f.root, NULL, "k", v, err, sizeof err), ALC_E_INVAL);
    cr_assert_not(exists(f.root), "nothing was created for a bad namespace");

    // Length-aware check sees an embedded NUL; 200 bytes is the longest accepted.
    cr_assert_eq(alc_state_check_namespace("a\0b", 3, err, sizeof err), ALC_E_INVAL);
    cr_assert_str_eq(err, "Invalid namespace: 'a'");
    cr_assert_eq(alc_state_check_namespace(ns201, 200, err, sizeof err), ALC_OK);
    cr_assert_eq(alc_state_check_namespace(ns201, 201, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_check_namespace("fork-1", 6, err, sizeof err), ALC_OK);
    cr_assert_eq(alc_state_check_namespace("a.b", 3, err, sizeof err), ALC_OK);
    ns201[200] = '\0';
    cr_assert_eq(alc_state_set(f.root, ns201, "k", v, err, sizeof err), ALC_OK, "%s", err);
    cJSON_Delete(v);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, invalid_keys_and_arguments_are_rejected) {
    fixture f = fx_new();
    cJSON *v = parse("1");
    char err[256];
    char big[1100];
    memset(big, 'k', sizeof big);
    big[1025] = '\0';
    cr_assert_eq(alc_state_set(f.root, "default", "", v, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "Invalid key") == err, "%s", err);
    cr_assert_eq(alc_state_set(f.root, "default", big, v, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_set(f.root, "default", NULL, v, err, sizeof err), ALC_E_INVAL);
    big[1024] = '\0';
    cr_assert_eq(alc_state_set(f.root, "default", big, v, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(alc_state_check_key("a\0b", 3, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_check_key("a/../b", 6, err, sizeof err), ALC_OK);
    cr_assert_eq(alc_state_set(NULL, "default", "k", v, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_set(f.root, "default", "k", NULL, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_get(f.root, "default", "k", NULL, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_state_keys(f.root, "default", NULL, err, sizeof err), ALC_E_INVAL);

    // A value too deep to be parsed back is refused instead of making the file unreadable.
    cJSON *deep = cJSON_CreateArray();
    cJSON *cur = deep;
    for (int i = 0; i < 1200; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    cr_assert_eq(alc_state_set(f.root, "default", "deep", deep, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "nested"), "%s", err);
    cJSON_Delete(deep);
    assert_get(&f, "default", "k", NULL);
    cJSON_Delete(v);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, unwritable_root_reports_io_error) {
    fixture f = fx_new();
    // The root's parent is a regular file, so the directory cannot be created.
    char *file = alc_fs_join(f.tmp, "home");
    put_file(file, "x");
    cJSON *v = parse("1");
    char err[512] = "";
    cr_assert_eq(alc_state_set(f.root, "default", "k", v, err, sizeof err), ALC_E_IO);
    cr_assert(strstr(err, "cannot create state directory"), "%s", err);
    cJSON *out = NULL;
    cr_assert_eq(alc_state_get(f.root, "default", "k", &out, err, sizeof err), ALC_E_IO,
                 "a read through a file is an error, not an empty map");
    cJSON_Delete(v);
    free(file);
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

struct incr_arg {
    const char *root;
    int n;
    int failures;
};

static void *incr_worker(void *p) {
    struct incr_arg *a = p;
    for (int i = 0; i < a->n; i++)
        if (alc_state_incr(a->root, "default", "counter", 1, 0, NULL, NULL, 0) != ALC_OK)
            a->failures++;
    return NULL;
}

Test(state, eight_threads_incrementing_one_key_lose_no_update, .timeout = 110) {
    fixture f = fx_new();
    pthread_t th[8];
    struct incr_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct incr_arg){f.root, 500, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, incr_worker, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].failures, 0, "thread %d had failing incr calls", i);
    }
    assert_get(&f, "default", "counter", "4000");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}

Test(state, two_processes_incrementing_one_key_lose_no_update, .timeout = 110) {
    fixture f = fx_new();
    // The root exists before the fork so both children race on the same files.
    cr_assert_eq(alc_fs_mkdirs(f.root, 0700), ALC_OK);
    child kids[2];
    for (int i = 0; i < 2; i++) {
        if (child_fork(&kids[i])) {
            for (int k = 0; k < 1000; k++)
                if (alc_state_incr(f.root, "default", "counter", 1, 0, NULL, NULL, 0) != ALC_OK)
                    child_exit(&kids[i], &f, 1);
            child_exit(&kids[i], &f, 0);
        }
    }
    for (int i = 0; i < 2; i++) {
        int code = child_wait(&kids[i]);
        cr_assert_eq(code, 0, "child %d failed: %d", i, code);
    }
    assert_get(&f, "default", "counter", "2000");
    fx_free(&f);
    ALC_ASSERT_NO_LEAKS();
}
