/*
 * state.c — the alc.state key–value store: one JSON object per namespace in <root>/<ns>.json.
 *
 * Owns a process-wide table of namespace locks (one alc_mutex per namespace file, created on
 * demand and freed when no caller holds or waits for it), guarded by table_mu.
 *
 * Every operation is a transaction: lock the namespace mutex, open the sidecar <root>/<ns>.lock
 * and flock() it (LOCK_SH for get/has/keys, LOCK_EX for set/set_nx/incr/delete), load the whole
 * file, work on the in-memory map, save it with alc_fs_write_atomic if it changed, then close
 * the lock file (releasing the flock) and unlock the mutex. Both locks are held only around this
 * file I/O and in-memory work — never across Lua, the host or any other lock.
 *
 * Lock order: table_mu is a leaf taken only briefly to find/create/release a namespace lock; it
 * is never held while a namespace mutex is being waited for, and a namespace mutex is never
 * held while taking table_mu. The namespace mutex comes before the flock.
 *
 * Threads: any thread may call any alc_state_* function. Do not fork() while another thread
 * is inside this module (the child would inherit a locked mutex).
 */
#include "alc/state.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- namespace lock table ---------------------------------------------------------------- */

struct nslock {
    struct nslock *next; /* guarded by table_mu */
    char *path;          /* the namespace's .json path; immutable while refs > 0 */
    unsigned refs;       /* holders + waiters; guarded by table_mu */
    alc_mutex mu;        /* serialises transactions on this namespace inside the process */
};

static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static alc_mutex table_mu;         /* guards table_head and every nslock's next/refs */
static struct nslock *table_head;  /* guarded by table_mu */

static void table_init(void) { alc_mutex_init(&table_mu); }

/* Finds or creates the lock for path, takes a reference, then locks it (table_mu released
 * first). Returns the locked nslock, or NULL on out of memory. */
static struct nslock *nslock_acquire(const char *path) {
    struct nslock *nl = NULL;
    struct nslock *fresh = NULL;
    if (pthread_once(&table_once, table_init) != 0) alc_panic("pthread_once failed");
    for (;;) {
        alc_mutex_lock(&table_mu);
        for (nl = table_head; nl; nl = nl->next)
            if (strcmp(nl->path, path) == 0) break;
        if (!nl && fresh) {
            fresh->next = table_head;
            table_head = fresh;
            nl = fresh;
            fresh = NULL;
        }
        if (nl) nl->refs++;
        alc_mutex_unlock(&table_mu);
        if (nl) break;
        // Not found: allocate outside table_mu, then look again (someone may have raced us).
        fresh = calloc(1, sizeof *fresh);
        if (!fresh || !(fresh->path = strdup(path))) {
            free(fresh);
            return NULL;
        }
        alc_mutex_init(&fresh->mu);
    }
    if (fresh) {  // lost the race: another thread inserted the same path
        alc_mutex_deinit(&fresh->mu);
        free(fresh->path);
        free(fresh);
    }
    alc_mutex_lock(&nl->mu);
    return nl;
}

/* Unlocks nl and drops the reference; frees it when nobody else holds or waits for it. */
static void nslock_release(struct nslock *nl) {
    alc_mutex_unlock(&nl->mu);
    alc_mutex_lock(&table_mu);
    bool last = --nl->refs == 0;
    if (last) {
        struct nslock **pp = &table_head;
        while (*pp != nl) pp = &(*pp)->next;
        *pp = nl->next;
    }
    alc_mutex_unlock(&table_mu);
    if (last) {
        alc_mutex_deinit(&nl->mu);
        free(nl->path);
        free(nl);
    }
}

/* ---- messages and validation ------------------------------------------------------------- */


/* "<what> <path>: <strerror(errnum)>" */
static void set_sys_msg(char *err, size_t errlen, const char *what, const char *path, int errnum) {
    char reason[128];
    if (strerror_r(errnum, reason, sizeof reason) != 0)
        snprintf(reason, sizeof reason, "error %d", errnum);
    alc_errf(err, errlen, "%s %s: %s", what, path, reason);
}

/*
 * Checks a namespace given with its length (so embedded NULs are seen). ns: borrows.
 * Returns ALC_OK, or ALC_E_INVAL with err = "Invalid namespace: 'X'" when ns is NULL, empty,
 * longer than ALC_STATE_NS_MAX bytes, or contains '/', '\\', NUL or "..". Pure; any thread.
 */
int alc_state_check_namespace(const char *ns, size_t len, char *err, size_t errlen) {
    bool ok = ns && len > 0 && len <= ALC_STATE_NS_MAX;
    for (size_t i = 0; ok && i < len; i++) {
        char c = ns[i];
        if (c == '/' || c == '\\' || c == '\0' || (c == '.' && i + 1 < len && ns[i + 1] == '.'))
            ok = false;
    }
    if (ok) return ALC_OK;
    // %.*s stops at an embedded NUL, which is what a reader of the message expects to see.
    int shown = len > 256 ? 256 : (int)len;
    alc_errf(err, errlen, "Invalid namespace: '%.*s%s'", ns ? shown : 0, ns ? ns : "",
            ns && len > 256 ? "..." : "");
    return ALC_E_INVAL;
}

/*
 * Checks a key given with its length. key: borrows. Returns ALC_OK, or ALC_E_INVAL with
 * err = "Invalid key: ..." when key is NULL, empty, longer than ALC_STATE_KEY_MAX bytes or
 * contains a NUL byte (keys are JSON object keys, so any other byte is allowed). Pure.
 */
int alc_state_check_key(const char *key, size_t len, char *err, size_t errlen) {
    if (!key || len == 0) {
        alc_errf(err, errlen, "Invalid key: key must not be empty");
        return ALC_E_INVAL;
    }
    if (len > ALC_STATE_KEY_MAX) {
        alc_errf(err, errlen, "Invalid key: longer than %d bytes", ALC_STATE_KEY_MAX);
        return ALC_E_INVAL;
    }
    if (memchr(key, '\0', len)) {
        alc_errf(err, errlen, "Invalid key: contains a NUL byte");
        return ALC_E_INVAL;
    }
    return ALC_OK;
}

static int check_cstr_key(const char *key, char *err, size_t errlen) {
    // strnlen would be POSIX too; bound the scan so a huge key is not walked entirely.
    size_t n = 0;
    while (key && n <= ALC_STATE_KEY_MAX && key[n]) n++;
    return alc_state_check_key(key, n, err, errlen);
}

/* True if item nests deeper than `room` levels (bounded recursion). */
static bool nests_deeper_than(const cJSON *item, int room) {
    if (room <= 0) return true;
    for (const cJSON *c = item->child; c; c = c->next)
        if ((cJSON_IsArray(c) || cJSON_IsObject(c)) && nests_deeper_than(c, room - 1)) return true;
    return false;
}

/* A value must be non-NULL and re-parseable once stored inside the namespace object. */
static int check_value(const cJSON *value, char *err, size_t errlen) {
    if (!value) {
        alc_errf(err, errlen, "Invalid value: NULL");
        return ALC_E_INVAL;
    }
    if ((cJSON_IsArray(value) || cJSON_IsObject(value)) &&
        nests_deeper_than(value, CJSON_NESTING_LIMIT - 2)) {
        alc_errf(err, errlen, "Invalid value: nested deeper than %d levels", CJSON_NESTING_LIMIT - 2);
        return ALC_E_INVAL;
    }
    return ALC_OK;
}

/* ---- transactions ------------------------------------------------------------------------ */

enum txn_mode {
    TXN_READ,   /* LOCK_SH; creates nothing */
    TXN_MODIFY, /* LOCK_EX; creates the lock file but not the root (delete) */
    TXN_CREATE, /* LOCK_EX; creates the root directory and the lock file (set, set_nx, incr) */
};

typedef struct txn {
    char *json_path;   /* <root>/<ns>.json */
    char *lock_path;   /* <root>/<ns>.lock */
    struct nslock *nl; /* held from begin to end */
    int fd;            /* flocked lock file, or -1 when the root does not exist */
    cJSON *map;        /* the namespace object */
} txn;

/* Opens and flocks the lock file. Leaves t->fd = -1 if the root directory does not exist
 * (read / modify modes): then no namespace file exists either. */
static int txn_lock(txn *t, enum txn_mode mode, char *err, size_t errlen) {
    if (mode == TXN_READ)
        t->fd = open(t->lock_path, O_RDONLY | O_CLOEXEC);
    else
        t->fd = open(t->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (t->fd < 0) {
        if (errno == ENOENT && mode != TXN_CREATE) return ALC_OK;
        set_sys_msg(err, errlen, "cannot open lock file", t->lock_path, errno);
        return ALC_E_IO;
    }
    int op = mode == TXN_READ ? LOCK_SH : LOCK_EX;
    while (flock(t->fd, op) != 0) {
        if (errno == EINTR) continue;
        set_sys_msg(err, errlen, "cannot lock", t->lock_path, errno);
        return ALC_E_IO;
    }
    return ALC_OK;
}

/* Reads and parses the namespace file into t->map (an empty object if it does not exist). */
static int txn_load(txn *t, enum txn_mode mode, char *err, size_t errlen) {
    char *buf = NULL;
    size_t len = 0;
    int rc;
    // Modify mode without a root: the root (hence the file) did not exist when we looked, and
    // a writer that creates it later is ordered after us; do not read unlocked.
    if (t->fd < 0 && mode == TXN_MODIFY) goto empty;
    rc = alc_fs_read_file(t->json_path, ALC_STATE_FILE_MAX, &buf, &len, err, errlen);
    if (rc == ALC_E_NOT_FOUND) goto empty;
    if (rc != ALC_OK) return rc;
    // cJSON 1.7.15 with require_null_terminated=1 rejects every document whose length excludes
    // the NUL, so parse without it and check the tail ourselves (whitespace only).
    const char *end = NULL;
    t->map = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    size_t at = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;
    if (t->map) {
        while (at < len && strchr(" \t\r\n", buf[at]) && buf[at] != '\0') at++;
        if (at < len) {
            alc_errf(err, errlen, "state file %s is corrupt: unexpected data after the JSON "
                    "value at byte %zu", t->json_path, at);
            free(buf);
            return ALC_E_IO;
        }
    } else {
        alc_errf(err, errlen, "state file %s is corrupt: invalid JSON near byte %zu",
                t->json_path, at);
        free(buf);
        return ALC_E_IO;
    }
    free(buf);
    if (!cJSON_IsObject(t->map)) {
        alc_errf(err, errlen, "state file %s is corrupt: top-level value is not an object",
                t->json_path);
        return ALC_E_IO;
    }
    return ALC_OK;
empty:
    t->map = cJSON_CreateObject();
    if (!t->map) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    return ALC_OK;
}

/* Ends a transaction (any stage): closes the lock file, which drops the flock, then unlocks
 * the namespace mutex and frees everything. */
static void txn_end(txn *t) {
    cJSON_Delete(t->map);
    if (t->fd >= 0) close(t->fd);
    if (t->nl) nslock_release(t->nl);
    free(t->json_path);
    free(t->lock_path);
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

/* Validates root/ns, builds the paths, takes both locks and loads the map. On failure
 * everything taken so far is released (txn_end), so the caller only returns rc. */
static int txn_begin(txn *t, const char *root, const char *ns, enum txn_mode mode,
                     char *err, size_t errlen) {
    char *name = NULL;
    int rc;
    memset(t, 0, sizeof *t);
    t->fd = -1;
    if (!root || !*root) {
        alc_errf(err, errlen, "state root is not set");
        return ALC_E_INVAL;
    }
    rc = alc_state_check_namespace(ns, ns ? strlen(ns) : 0, err, errlen);
    if (rc != ALC_OK) return rc;
    size_t nlen = strlen(ns);
    name = malloc(nlen + sizeof ".json");
    if (!name) goto nomem;
    memcpy(name, ns, nlen);
    memcpy(name + nlen, ".json", sizeof ".json");
    t->json_path = alc_fs_join(root, name);
    memcpy(name + nlen, ".lock", sizeof ".lock");
    t->lock_path = alc_fs_join(root, name);
    free(name);
    if (!t->json_path || !t->lock_path) goto nomem;
    t->nl = nslock_acquire(t->json_path);
    if (!t->nl) goto nomem;
    if (mode == TXN_CREATE && alc_fs_mkdirs(root, 0700) != ALC_OK) {
        set_sys_msg(err, errlen, "cannot create state directory", root, errno);
        rc = ALC_E_IO;
        goto fail;
    }
    rc = txn_lock(t, mode, err, errlen);
    if (rc != ALC_OK) goto fail;
    rc = txn_load(t, mode, err, errlen);
    if (rc != ALC_OK) goto fail;
    return ALC_OK;
nomem:
    alc_errf(err, errlen, "out of memory");
    rc = ALC_E_NOMEM;
fail:
    txn_end(t);
    return rc;
}

/* Writes t->map back atomically (pretty-printed, mode 0600). Requires the exclusive flock. */
static int txn_save(txn *t, char *err, size_t errlen) {
    if (t->fd < 0) alc_panic("state: save without the namespace file lock");
    char *text = cJSON_Print(t->map);
    if (!text) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    int rc = alc_fs_write_atomic(t->json_path, text, strlen(text), 0600, err, errlen);
    cJSON_free(text);
    return rc;
}

/* ---- operations -------------------------------------------------------------------------- */

/*
 * Looks key up in namespace ns under root. *out returns new (cJSON_Delete) copy of the stored
 * value, or NULL if absent (also NULL on error). Returns ALC_OK; ALC_E_INVAL (bad namespace,
 * key, root or out); ALC_E_IO (I/O error or corrupt file); ALC_E_TOO_LARGE (file larger than
 * ALC_STATE_FILE_MAX); ALC_E_NOMEM. Takes the namespace mutex and LOCK_SH; blocks on file I/O.
 */
int alc_state_get(const char *root, const char *ns, const char *key, cJSON **out,
                  char *err, size_t errlen) {
    txn t;
    if (out) *out = NULL;
    if (!out) {
        alc_errf(err, errlen, "Invalid argument: out is NULL");
        return ALC_E_INVAL;
    }
    int rc = check_cstr_key(key, err, errlen);
    if (rc != ALC_OK) return rc;
    rc = txn_begin(&t, root, ns, TXN_READ, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *item = cJSON_GetObjectItemCaseSensitive(t.map, key);
    if (item) {
        // The map is thrown away, so hand the item over instead of copying it.
        cJSON_DetachItemViaPointer(t.map, item);
        if (!(item->type & cJSON_StringIsConst)) cJSON_free(item->string);
        item->string = NULL;
        *out = item;
    }
    txn_end(&t);
    return ALC_OK;
}

/*
 * Stores a copy of value under key, replacing any previous value. value: borrows (duplicated
 * before any lock is taken). Creates root (0700) and the namespace file (0600) if needed.
 * Returns ALC_OK; ALC_E_INVAL (bad namespace/key/root, NULL value, value nested too deeply
 * to be read back); ALC_E_IO (I/O error, corrupt file — which is left untouched);
 * ALC_E_TOO_LARGE; ALC_E_NOMEM. Takes the namespace mutex and LOCK_EX; blocks on file I/O.
 */
int alc_state_set(const char *root, const char *ns, const char *key, const cJSON *value,
                  char *err, size_t errlen) {
    txn t;
    int rc = check_cstr_key(key, err, errlen);
    if (rc == ALC_OK) rc = check_value(value, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *dup = cJSON_Duplicate(value, 1);
    if (!dup) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    rc = txn_begin(&t, root, ns, TXN_CREATE, err, errlen);
    if (rc != ALC_OK) {
        cJSON_Delete(dup);
        return rc;
    }
    bool added = cJSON_GetObjectItemCaseSensitive(t.map, key)
                     ? cJSON_ReplaceItemInObjectCaseSensitive(t.map, key, dup)
                     : cJSON_AddItemToObject(t.map, key, dup);
    if (!added) {
        cJSON_Delete(dup);  // convention 11(a): a failed add leaves the item with us
        alc_errf(err, errlen, "out of memory");
        rc = ALC_E_NOMEM;
    } else {
        rc = txn_save(&t, err, errlen);
    }
    txn_end(&t);
    return rc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Lists the keys of namespace ns. *out_array returns new (cJSON_Delete) array of strings,
 * sorted bytewise (strcmp), without duplicates; NULL on error. Returns ALC_OK, ALC_E_INVAL,
 * ALC_E_IO, ALC_E_TOO_LARGE or ALC_E_NOMEM. Takes the namespace mutex and LOCK_SH.
 */
int alc_state_keys(const char *root, const char *ns, cJSON **out_array, char *err, size_t errlen) {
    txn t;
    const char **names = NULL;
    cJSON *arr = NULL;
    if (out_array) *out_array = NULL;
    if (!out_array) {
        alc_errf(err, errlen, "Invalid argument: out_array is NULL");
        return ALC_E_INVAL;
    }
    int rc = txn_begin(&t, root, ns, TXN_READ, err, errlen);
    if (rc != ALC_OK) return rc;
    size_t n = 0;
    for (cJSON *c = t.map->child; c; c = c->next) n++;
    names = malloc((n ? n : 1) * sizeof *names);
    arr = cJSON_CreateArray();
    if (!names || !arr) goto nomem;
    size_t k = 0;
    for (cJSON *c = t.map->child; c; c = c->next)
        if (c->string) names[k++] = c->string;
    qsort(names, k, sizeof *names, cmp_str);
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && strcmp(names[i - 1], names[i]) == 0) continue;
        cJSON *s = cJSON_CreateString(names[i]);
        if (!s) goto nomem;
        if (!cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            goto nomem;
        }
    }
    free(names);
    txn_end(&t);
    *out_array = arr;
    return ALC_OK;
nomem:
    alc_errf(err, errlen, "out of memory");
    free(names);
    cJSON_Delete(arr);
    txn_end(&t);
    return ALC_E_NOMEM;
}

/*
 * Removes key from namespace ns. *existed (may be NULL) is set to whether it was present.
 * A missing key (or missing namespace file or root) causes no write and creates no directory.
 * Returns ALC_OK, ALC_E_INVAL, ALC_E_IO (corrupt files are not touched), ALC_E_TOO_LARGE or
 * ALC_E_NOMEM. Takes the namespace mutex and LOCK_EX; blocks on file I/O.
 */
int alc_state_delete(const char *root, const char *ns, const char *key, bool *existed,
                     char *err, size_t errlen) {
    txn t;
    if (existed) *existed = false;
    int rc = check_cstr_key(key, err, errlen);
    if (rc != ALC_OK) return rc;
    rc = txn_begin(&t, root, ns, TXN_MODIFY, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *item = cJSON_GetObjectItemCaseSensitive(t.map, key);
    if (item) {
        cJSON_Delete(cJSON_DetachItemViaPointer(t.map, item));
        rc = txn_save(&t, err, errlen);
        if (existed && rc == ALC_OK) *existed = true;
    }
    txn_end(&t);
    return rc;
}

/*
 * Sets *has to whether key is present in namespace ns (false on error). Returns ALC_OK,
 * ALC_E_INVAL (also for NULL has), ALC_E_IO, ALC_E_TOO_LARGE or ALC_E_NOMEM.
 * Takes the namespace mutex and LOCK_SH.
 */
int alc_state_has(const char *root, const char *ns, const char *key, bool *has,
                  char *err, size_t errlen) {
    txn t;
    if (has) *has = false;
    if (!has) {
        alc_errf(err, errlen, "Invalid argument: has is NULL");
        return ALC_E_INVAL;
    }
    int rc = check_cstr_key(key, err, errlen);
    if (rc != ALC_OK) return rc;
    rc = txn_begin(&t, root, ns, TXN_READ, err, errlen);
    if (rc != ALC_OK) return rc;
    *has = cJSON_GetObjectItemCaseSensitive(t.map, key) != NULL;
    txn_end(&t);
    return ALC_OK;
}

/*
 * Stores a copy of value (borrows) under key only if key is absent; *written (may be NULL)
 * says whether it was stored. When the key exists nothing is written. Returns as
 * alc_state_set. Takes the namespace mutex and LOCK_EX, so check-and-set is atomic across
 * threads and processes.
 */
int alc_state_set_nx(const char *root, const char *ns, const char *key, const cJSON *value,
                     bool *written, char *err, size_t errlen) {
    txn t;
    if (written) *written = false;
    int rc = check_cstr_key(key, err, errlen);
    if (rc == ALC_OK) rc = check_value(value, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *dup = cJSON_Duplicate(value, 1);
    if (!dup) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    rc = txn_begin(&t, root, ns, TXN_CREATE, err, errlen);
    if (rc != ALC_OK) {
        cJSON_Delete(dup);
        return rc;
    }
    if (cJSON_GetObjectItemCaseSensitive(t.map, key)) {
        cJSON_Delete(dup);
    } else if (!cJSON_AddItemToObject(t.map, key, dup)) {
        cJSON_Delete(dup);
        alc_errf(err, errlen, "out of memory");
        rc = ALC_E_NOMEM;
    } else {
        rc = txn_save(&t, err, errlen);
        if (written && rc == ALC_OK) *written = true;
    }
    txn_end(&t);
    return rc;
}

/*
 * Atomically adds delta to the number stored at key (dflt is used when the key is absent),
 * stores the result as a JSON number and returns it in *out (may be NULL; unchanged on error).
 * Returns ALC_OK; ALC_E_INVAL with "incr: value at 'K' is not a number" if the stored value is
 * not a number, "incr: result for 'K' is not finite" if delta, dflt or the sum is NaN/inf,
 * or for bad namespace/key/root; ALC_E_IO; ALC_E_TOO_LARGE; ALC_E_NOMEM.
 * Takes the namespace mutex and LOCK_EX; blocks on file I/O.
 */
int alc_state_incr(const char *root, const char *ns, const char *key, double delta, double dflt,
                   double *out, char *err, size_t errlen) {
    txn t;
    int rc = check_cstr_key(key, err, errlen);
    if (rc != ALC_OK) return rc;
    rc = txn_begin(&t, root, ns, TXN_CREATE, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *item = cJSON_GetObjectItemCaseSensitive(t.map, key);
    if (item && !cJSON_IsNumber(item)) {
        alc_errf(err, errlen, "incr: value at '%s' is not a number", key);
        rc = ALC_E_INVAL;
        goto done;
    }
    double result = (item ? item->valuedouble : dflt) + delta;
    if (!isfinite(result)) {
        alc_errf(err, errlen, "incr: result for '%s' is not finite", key);
        rc = ALC_E_INVAL;
        goto done;
    }
    if (item) {
        cJSON_SetNumberValue(item, result);
    } else if (!cJSON_AddNumberToObject(t.map, key, result)) {
        alc_errf(err, errlen, "out of memory");
        rc = ALC_E_NOMEM;
        goto done;
    }
    rc = txn_save(&t, err, errlen);
    if (rc == ALC_OK && out) *out = result;
done:
    txn_end(&t);
    return rc;
}
