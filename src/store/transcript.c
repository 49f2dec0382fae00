/*
 * transcript.c — session logs: writes {log_dir}/{id}.json (pretty) and {id}.meta.json
 * (compact) when a session ends, and reads them back for alc_log_view, alc_note and
 * alc_stats (reference §5 and §3.4).
 *
 * Owns one process-wide mutex, io_mu, that serialises the writers of log files (the session
 * thread that writes a new log, the reader thread that appends a note). It is a leaf lock held
 * only around this module's file I/O (the same deliberate exception to convention 16 as the
 * state store's namespace lock) and never while any other lock is held. Readers (list, detail,
 * stats) take no lock: files are replaced atomically, so a reader sees an old or a new file,
 * never a torn one.
 *
 * Threads: every function may be called from any thread; all of them block on disk I/O, so
 * callers hold no engine lock. No Lua is involved.
 *
 * Strings written to the files are valid UTF-8 without NUL bytes: invalid sequences and NUL
 * bytes of prompts and responses become U+FFFD (cJSON strings are NUL-terminated).
 */
#include "alc/transcript.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"
#include "alc/thread.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_MODE 0600
#define DIR_MODE 0700
#define META_MAX ((size_t)1 << 20)   /* a meta file is a few hundred bytes */
#define LOG_MAX ((size_t)256 << 20)  /* largest log file read back */
#define ID_MAX 128

static pthread_once_t io_once = PTHREAD_ONCE_INIT;
static alc_mutex io_mu;  /* serialises log writers; leaf */

static void io_init(void) { alc_mutex_init(&io_mu); }

static void io_lock(void) {
    if (pthread_once(&io_once, io_init) != 0) alc_panic("pthread_once failed");
    alc_mutex_lock(&io_mu);
}

static void io_unlock(void) { alc_mutex_unlock(&io_mu); }


/* ---- ids and strings ------------------------------------------------------------------- */

/* True iff id is "s-" + 32 lowercase hex digits. Pure; any thread. */
bool alc_transcript_id_ours(const char *id) {
    if (!id || id[0] != 's' || id[1] != '-') return false;
    for (int i = 2; i < 34; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return id[34] == '\0';
}

/*
 * True iff id may be used as the stem of a log file name: 1..128 bytes of [A-Za-z0-9_.-],
 * first byte a letter or digit, no ".." anywhere, not ending in ".meta" (which would name a
 * meta file). Rules out '/', '\\', NUL, traversal and hidden files. Pure; any thread.
 */
bool alc_transcript_id_valid(const char *id) {
    if (!id) return false;
    size_t n = strnlen(id, ID_MAX + 1);
    if (n == 0 || n > ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum) return false;
        if (!alnum && c != '_' && c != '-' && c != '.') return false;
        if (c == '.' && id[i + 1] == '.') return false;
    }
    if (n >= 5 && strcmp(id + n - 5, ".meta") == 0) return false;
    return alc_fs_valid_component(id, n);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 if it is invalid or NUL. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return len;
}

/* Returns new NUL-terminated valid UTF-8 copy of s[0..len) (invalid bytes and NUL become
 * U+FFFD); *out_len gets its length. NULL on out of memory. */
static char *clean_utf8(const char *s, size_t len, size_t *out_len) {
    if (len > (SIZE_MAX - 1) / 3) return NULL;
    char *d = malloc(len * 3 + 1);  /* each bad byte grows to 3 bytes at most */
    if (!d) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq((const unsigned char *)s + i, len - i);
        if (k == 0) {
            memcpy(d + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(d + o, s + i, k);
            o += k;
            i += k;
        }
    }
    d[o] = '\0';
    if (out_len) *out_len = o;
    return d;
}

/* A cJSON string of s[0..len) made valid UTF-8, or JSON null when s is NULL. Returns new. */
static cJSON *str_item(const char *s, size_t len) {
    if (!s) return cJSON_CreateNull();
    char *c = clean_utf8(s, len, NULL);
    if (!c) return NULL;
    cJSON *item = cJSON_CreateString(c);
    free(c);
    return item;
}

/*
 * The task_hint of a prompt (borrowed, len bytes): the prompt made valid UTF-8 (see
 * clean_utf8) and, when longer than ALC_TRANSCRIPT_HINT_MAX bytes, cut at the last character
 * boundary at or before that many bytes with "..." appended. Returns new (free()), NULL on
 * out of memory. Pure; any thread.
 */
char *alc_transcript_task_hint(const char *prompt, size_t len) {
    size_t n = 0;
    char *c = clean_utf8(prompt ? prompt : "", prompt ? len : 0, &n);
    if (!c || n <= ALC_TRANSCRIPT_HINT_MAX) return c;
    size_t cut = ALC_TRANSCRIPT_HINT_MAX;
    while (cut > 0 && ((unsigned char)c[cut] & 0xC0) == 0x80) cut--;
    memcpy(c + cut, "...", 4);  /* cut + 4 <= 104 < n + 1 */
    return c;
}

/* Frees every owned member and zeroes t. NULL ok. Any thread. */
void alc_transcript_deinit(alc_transcript *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_turns; i++) {
        free(t->turns[i].query_id);
        free(t->turns[i].prompt);
        free(t->turns[i].system);
        free(t->turns[i].response);
    }
    free(t->turns);
    free(t->session_id);
    free(t->strategy);
    cJSON_Delete(t->stats);
    memset(t, 0, sizeof *t);
}

/* ---- building and reading documents ----------------------------------------------------- */

/* Adds item to o under key; deletes item and returns false if it is NULL or cannot be added. */
static bool add(cJSON *o, const char *key, cJSON *item) {
    if (!item) return false;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* The full log document for t (keys unsorted). Returns new, NULL on out of memory. */
static cJSON *build_log(const alc_transcript *t) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = NULL;
    char *hint = NULL;
    if (!root) return NULL;
    if (!add(root, "session_id", cJSON_CreateString(t->session_id))) goto fail;
    if (!add(root, "strategy", str_item(t->strategy, t->strategy ? strlen(t->strategy) : 0))) goto fail;
    if (t->n_turns > 0) {
        hint = alc_transcript_task_hint(t->turns[0].prompt, t->turns[0].prompt_len);
        if (!hint || !add(root, "task_hint", cJSON_CreateString(hint))) goto fail;
    } else if (!add(root, "task_hint", cJSON_CreateNull())) goto fail;
    if (!add(root, "stats", t->stats ? cJSON_Duplicate(t->stats, 1) : cJSON_CreateObject())) goto fail;
    arr = cJSON_CreateArray();
    if (!add(root, "transcript", arr)) goto fail;
    for (size_t i = 0; i < t->n_turns; i++) {
        const alc_transcript_turn *u = &t->turns[i];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e)) { cJSON_Delete(e); goto fail; }
        const char *qid = u->query_id ? u->query_id : "";
        if (!add(e, "query_id", str_item(qid, strlen(qid))) ||
            !add(e, "prompt", str_item(u->prompt ? u->prompt : "", u->prompt ? u->prompt_len : 0)) ||
            !add(e, "system", str_item(u->system, u->system ? strlen(u->system) : 0)) ||
            !add(e, "response", str_item(u->response, u->response_len)))
            goto fail;
    }
    free(hint);
    return root;
fail:
    free(hint);
    cJSON_Delete(root);
    return NULL;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Adds a duplicate of src[key] to dst (JSON null when absent). False on out of memory. */
static bool copy_key(cJSON *dst, const char *dst_key, const cJSON *src, const char *key) {
    const cJSON *v = src ? get(src, key) : NULL;
    return add(dst, dst_key, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
}

/* The meta summary of a full log document (keys unsorted): the fields of §5 except ended_at
 * and state, which only the writer knows. Returns new, NULL on out of memory. */
static cJSON *meta_from_log(const cJSON *log, const char *stem) {
    cJSON *m = cJSON_CreateObject();
    if (!m) return NULL;
    const cJSON *stats = get(log, "stats");
    if (!cJSON_IsObject(stats)) stats = NULL;
    const cJSON *sid = get(log, "session_id");
    const cJSON *notes = get(log, "notes");
    if (!add(m, "session_id", cJSON_IsString(sid) ? cJSON_CreateString(sid->valuestring) : cJSON_CreateString(stem)) ||
        !copy_key(m, "strategy", log, "strategy") || !copy_key(m, "task_hint", log, "task_hint") ||
        !copy_key(m, "elapsed_ms", stats, "elapsed_ms") || !copy_key(m, "rounds", stats, "rounds") ||
        !copy_key(m, "llm_calls", stats, "llm_calls") ||
        !copy_key(m, "total_prompt_chars", stats, "total_prompt_chars") ||
        !copy_key(m, "total_response_chars", stats, "total_response_chars") ||
        !copy_key(m, "prompt_tokens", stats, "prompt_tokens") ||
        !copy_key(m, "response_tokens", stats, "response_tokens") ||
        !copy_key(m, "total_tokens", stats, "total_tokens") ||
        !add(m, "notes_count", cJSON_CreateNumber(cJSON_IsArray(notes) ? cJSON_GetArraySize(notes) : 0))) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* Pretty text with sorted keys. Returns new (free()), NULL on out of memory. */
static char *print_pretty(cJSON *doc) {
    alc_json_sort_keys(doc);
    char *p = cJSON_Print(doc);
    if (!p) return NULL;
    char *copy = strdup(p);  /* callers free() every text of this module */
    cJSON_free(p);
    return copy;
}

/* Returns new "{dir}/{stem}{suffix}", NULL on out of memory. */
static char *path_for(const char *dir, const char *stem, const char *suffix) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_printf(&b, "%s%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", stem, suffix);
    return alc_jbuf_take(&b, NULL);
}

/* Reads and parses a JSON object file. ALC_OK with *out new; ALC_E_NOT_FOUND; ALC_E_PARSE when
 * it is not a JSON object; others from alc_fs_read_file. */
static int read_json(const char *path, size_t max, cJSON **out, char *err, size_t errlen) {
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = alc_fs_read_file(path, max, &text, &len, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1); /* + the NUL */
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        alc_errf(err, errlen, "%s is not a JSON object", path);
        return ALC_E_PARSE;
    }
    *out = j;
    return ALC_OK;
}

/* Prints doc (pretty or compact, keys sorted) and writes it atomically to path. */
static int write_doc(const char *path, cJSON *doc, bool pretty, char *err, size_t errlen) {
    char *text = pretty ? print_pretty(doc) : alc_json_print_sorted(doc);
    if (!text) {
        alc_errf(err, errlen, "cannot write %s: out of memory", path);
        return ALC_E_NOMEM;
    }
    /* logs are replaced atomically but not fsynced: they are written on the reply path of
     * every session, and a power loss may lose the newest logs but never tears one */
    int rc = alc_fs_write_atomic_ex(path, text, strlen(text), FILE_MODE, ALC_FS_NO_SYNC, err, errlen);
    free(text);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------ */

/*
 * Writes the log of t: {log_dir}/{id}.json (pretty, sorted keys: session_id, stats, strategy,
 * task_hint, transcript) and then {id}.meta.json (compact, sorted: elapsed_ms, ended_at,
 * llm_calls, notes_count (0), prompt_tokens, response_tokens, rounds, session_id, state,
 * strategy, task_hint, total_prompt_chars, total_response_chars, total_tokens). log_dir is
 * created (mode 0700) when missing; files get mode 0600; an existing log of the same id is
 * replaced.
 * log_dir, t: borrow. err: borrows errlen bytes for a one-line message.
 * Returns ALC_OK; ALC_E_INVAL (NULL/empty log_dir, NULL t, or t->session_id not one of ours:
 * "invalid session id"); ALC_E_NOMEM; ALC_E_IO ("cannot create log directory X: ..." or
 * "cannot write X: ..."). When the meta write fails the main file stays (the log then lacks a
 * summary and list views derive one). Takes io_mu (leaf) around the writes; blocks on disk I/O.
 */
int alc_transcript_write(const char *log_dir, const alc_transcript *t, char *err, size_t errlen) {
    cJSON *log = NULL, *meta = NULL;
    char *path = NULL, *mpath = NULL;
    int rc = ALC_E_NOMEM;
    if (!log_dir || !*log_dir || !t) {
        alc_errf(err, errlen, "cannot write the session log: no log directory");
        return ALC_E_INVAL;
    }
    if (!alc_transcript_id_ours(t->session_id)) {
        alc_errf(err, errlen, "invalid session id '%.64s'", t->session_id ? t->session_id : "(null)");
        return ALC_E_INVAL;
    }
    log = build_log(t);
    meta = log ? meta_from_log(log, t->session_id) : NULL;
    path = path_for(log_dir, t->session_id, ".json");
    mpath = path_for(log_dir, t->session_id, ".meta.json");
    if (!meta || !path || !mpath ||
        !add(meta, "ended_at", cJSON_CreateNumber((double)t->ended_at_ms)) ||
        !add(meta, "state", cJSON_CreateString(t->state ? t->state : "done"))) {
        alc_errf(err, errlen, "cannot write the session log: out of memory");
        goto out;
    }
    io_lock();
    if (alc_fs_mkdirs(log_dir, DIR_MODE) != ALC_OK) {
        int e = errno;
        alc_errf(err, errlen, "cannot create log directory %s: %s", log_dir, strerror(e));
        rc = ALC_E_IO;
    } else {
        rc = write_doc(path, log, true, err, errlen);
        if (rc == ALC_OK) rc = write_doc(mpath, meta, false, err, errlen);
    }
    io_unlock();
out:
    cJSON_Delete(log);
    cJSON_Delete(meta);
    free(path);
    free(mpath);
    return rc;
}

/*
 * Appends {"content", "timestamp": now_ms / 1000 (Unix s), "title": title or null} to the
 * notes array of {log_dir}/{session_id}.json (creating the array), rewrites the file (pretty,
 * sorted keys, atomically) and, best effort, sets notes_count in {session_id}.meta.json when
 * that file exists. log_dir, session_id, title (may be NULL), content: borrow.
 * *notes_count receives the number of notes after the append.
 * Returns ALC_OK; ALC_E_INVAL ("invalid session id" for an id failing
 * alc_transcript_id_valid, or a NULL argument); ALC_E_NOT_FOUND ("Log file not found for
 * session 'X'"); ALC_E_PARSE (the log is not a JSON object); ALC_E_NOMEM; ALC_E_IO.
 * Takes io_mu (leaf) for the read-modify-write; blocks on disk I/O.
 */
int alc_transcript_add_note(const char *log_dir, const char *session_id, const char *title,
                            const char *content, int64_t now_ms, long long *notes_count,
                            char *err, size_t errlen) {
    cJSON *log = NULL, *meta = NULL;
    char *path = NULL, *mpath = NULL;
    int rc;
    if (!log_dir || !content || !notes_count) {
        alc_errf(err, errlen, "invalid argument");
        return ALC_E_INVAL;
    }
    if (!alc_transcript_id_valid(session_id)) {
        alc_errf(err, errlen, "invalid session id '%.64s'", session_id ? session_id : "(null)");
        return ALC_E_INVAL;
    }
    path = path_for(log_dir, session_id, ".json");
    mpath = path_for(log_dir, session_id, ".meta.json");
    if (!path || !mpath) {
        free(path);
        free(mpath);
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    io_lock();
    rc = read_json(path, LOG_MAX, &log, err, errlen);
    if (rc == ALC_E_IO && errno == ENOTDIR) rc = ALC_E_NOT_FOUND; /* log_dir is not a directory */
    if (rc == ALC_E_NOT_FOUND) alc_errf(err, errlen, "Log file not found for session '%s'", session_id);
    if (rc != ALC_OK) goto out;
    rc = ALC_E_NOMEM;
    cJSON *notes = cJSON_GetObjectItemCaseSensitive(log, "notes");
    if (!cJSON_IsArray(notes)) {
        cJSON_DeleteItemFromObjectCaseSensitive(log, "notes");
        notes = cJSON_CreateArray();
        if (!add(log, "notes", notes)) goto nomem;
    }
    cJSON *note = cJSON_CreateObject();
    if (!note || !cJSON_AddItemToArray(notes, note)) {
        cJSON_Delete(note);
        goto nomem;
    }
    if (!add(note, "timestamp", cJSON_CreateNumber((double)(now_ms / 1000))) ||
        !add(note, "title", title ? str_item(title, strlen(title)) : cJSON_CreateNull()) ||
        !add(note, "content", str_item(content, strlen(content))))
        goto nomem;
    long long count = cJSON_GetArraySize(notes);
    rc = write_doc(path, log, true, err, errlen);
    if (rc != ALC_OK) goto out;
    *notes_count = count;
    // best effort: a missing or damaged meta file is left alone
    if (read_json(mpath, META_MAX, &meta, NULL, 0) == ALC_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "notes_count");
        if (add(meta, "notes_count", cJSON_CreateNumber((double)count)))
            (void)write_doc(mpath, meta, false, NULL, 0);
    }
    goto out;
nomem:
    alc_errf(err, errlen, "out of memory");
out:
    io_unlock();
    cJSON_Delete(log);
    cJSON_Delete(meta);
    free(path);
    free(mpath);
    return rc;
}

/* ---- scanning the directory --------------------------------------------------------------- */

typedef struct log_file {
    char *stem;        /* the session id part of the name */
    bool is_meta;      /* {stem}.meta.json rather than {stem}.json */
    int64_t mtime_ms;
    long long mtime_ns; /* for a stable newest-first order */
} log_file;

static void files_free(log_file *f, size_t n) {
    for (size_t i = 0; i < n; i++) free(f[i].stem);
    free(f);
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Lists the log and meta files of dir (names whose stem is a valid id). *out returns new
 * array (files_free). A missing directory is an empty list. ALC_OK, ALC_E_NOMEM, ALC_E_IO. */
static int scan_dir(const char *dir, log_file **out, size_t *n_out, char *err, size_t errlen) {
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) return ALC_OK;
        alc_errf(err, errlen, "cannot read log directory %s: %s", dir, strerror(errno));
        return ALC_E_IO;
    }
    log_file *v = NULL;
    size_t n = 0, cap = 0;
    int rc = ALC_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (!ends_with(e->d_name, len, ".json")) continue;
        bool meta = ends_with(e->d_name, len, ".meta.json");
        size_t stem_len = len - (meta ? 10 : 5);
        char stem[ID_MAX + 1];
        if (stem_len == 0 || stem_len > ID_MAX) continue;
        memcpy(stem, e->d_name, stem_len);
        stem[stem_len] = '\0';
        if (!alc_transcript_id_valid(stem)) continue;
        char *path = path_for(dir, e->d_name, "");
        struct stat st;
        bool ok = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
        free(path);
        if (!ok) continue;  /* vanished, or not a regular file */
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            log_file *nv = realloc(v, nc * sizeof *nv);
            if (!nv) { rc = ALC_E_NOMEM; break; }
            v = nv;
            cap = nc;
        }
        v[n].stem = strdup(stem);
        if (!v[n].stem) { rc = ALC_E_NOMEM; break; }
        v[n].is_meta = meta;
        v[n].mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        v[n].mtime_ms = v[n].mtime_ns / 1000000;
        n++;
    }
    closedir(d);
    if (rc != ALC_OK) {
        files_free(v, n);
        alc_errf(err, errlen, "out of memory");
        return rc;
    }
    *out = v;
    *n_out = n;
    return ALC_OK;
}

/* True iff the scan holds {stem}.meta.json (or {stem}.json when want_meta is false). */
static bool has_file(const log_file *f, size_t n, const char *stem, bool want_meta) {
    for (size_t i = 0; i < n; i++)
        if (f[i].is_meta == want_meta && strcmp(f[i].stem, stem) == 0) return true;
    return false;
}

/* The summary of one session: its meta file when that parses, else one derived from the
 * full log. Returns new, or NULL when neither can be read. */
static cJSON *summary_of(const char *dir, const char *stem, bool try_meta) {
    cJSON *j = NULL;
    char *p = NULL;
    if (try_meta) {
        p = path_for(dir, stem, ".meta.json");
        if (p && read_json(p, META_MAX, &j, NULL, 0) == ALC_OK) {
            free(p);
            return j;
        }
        free(p);
    }
    p = path_for(dir, stem, ".json");
    if (!p || read_json(p, LOG_MAX, &j, NULL, 0) != ALC_OK) {
        free(p);
        return NULL;
    }
    free(p);
    cJSON *m = meta_from_log(j, stem);
    cJSON_Delete(j);
    return m;
}

static int by_mtime_desc(const void *a, const void *b) {
    const log_file *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? 1 : -1;
    return strcmp(y->stem, x->stem);
}

/*
 * The newest-first list behind alc_log_view: every {id}.json (not *.meta.json) of log_dir,
 * ordered by its file mtime (newest first), each represented by its {id}.meta.json object or,
 * when that is missing or damaged, by a summary derived from the full log (session_id,
 * strategy, task_hint, elapsed_ms, rounds, llm_calls, the char and token totals,
 * notes_count). Unreadable logs are skipped; at most limit entries are returned.
 * log_dir: borrows (a missing directory gives an empty list). *out: returns new cJSON array.
 * Returns ALC_OK, ALC_E_INVAL (NULL argument), ALC_E_NOMEM, ALC_E_IO. No lock; blocks on I/O.
 */
int alc_transcript_list(const char *log_dir, size_t limit, cJSON **out, char *err, size_t errlen) {
    log_file *f = NULL;
    size_t n = 0;
    if (!out) return ALC_E_INVAL;
    *out = NULL;
    if (!log_dir) {
        alc_errf(err, errlen, "invalid argument");
        return ALC_E_INVAL;
    }
    int rc = scan_dir(log_dir, &f, &n, err, errlen);
    if (rc != ALC_OK) return rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr) goto nomem;
    if (n) qsort(f, n, sizeof *f, by_mtime_desc);
    size_t taken = 0;
    for (size_t i = 0; i < n && taken < limit; i++) {
        if (f[i].is_meta) continue;
        cJSON *s = summary_of(log_dir, f[i].stem, has_file(f, n, f[i].stem, true));
        if (!s) continue;  /* unreadable or damaged: skipped */
        if (!cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            goto nomem;
        }
        taken++;
    }
    files_free(f, n);
    alc_json_sort_keys(arr);
    *out = arr;
    return ALC_OK;
nomem:
    cJSON_Delete(arr);
    files_free(f, n);
    alc_errf(err, errlen, "out of memory");
    return ALC_E_NOMEM;
}

/* ---- detail --------------------------------------------------------------------------------- */

/* Truncates the parsed log root (owned by the caller) by the §3.4 halving rule so that its
 * pretty text fits max bytes where possible. Returns new text, NULL on out of memory. */
static char *truncate_log(cJSON *root, size_t max) {
    static const char *const extra[] = {"truncated", "original_rounds", "returned_rounds"};
    for (size_t i = 0; i < 3; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, extra[i]);
    cJSON *all = cJSON_DetachItemFromObjectCaseSensitive(root, "transcript");
    size_t total = cJSON_IsArray(all) ? (size_t)cJSON_GetArraySize(all) : 0;
    size_t k = total;
    char *text = NULL;
    for (;;) {
        // the newest k entries are the tail of the list: reference them without copying
        const cJSON *first = k ? cJSON_GetArrayItem(all, (int)(total - k)) : NULL;
        if (!add(root, "transcript", cJSON_CreateArrayReference(first)) ||
            !add(root, "truncated", cJSON_CreateTrue()) ||
            !add(root, "original_rounds", cJSON_CreateNumber((double)total)) ||
            !add(root, "returned_rounds", cJSON_CreateNumber((double)k)))
            break;
        text = print_pretty(root);
        cJSON_DeleteItemFromObjectCaseSensitive(root, "transcript");  /* frees only the reference */
        for (size_t i = 0; i < 3; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, extra[i]);
        if (!text || strlen(text) <= max || k == 0) break;
        free(text);
        text = NULL;
        k = k > 8 ? k / 2 : k - 1;
    }
    cJSON_Delete(all);
    return text;
}

/*
 * The detail view behind alc_log_view {session_id}: the raw text of {log_dir}/{id}.json when
 * max_chars is 0 or the file has at most max_chars bytes; otherwise the parsed log with only
 * the newest k transcript entries (k starts at all and becomes k/2 while k > 8, else k-1,
 * until the pretty text fits or k is 0) plus "truncated":true, "original_rounds",
 * "returned_rounds", printed pretty with sorted keys.
 * log_dir, session_id: borrow. *out returns new text (free()), *len its length (may be NULL).
 * Returns ALC_OK; ALC_E_INVAL ("invalid session id"); ALC_E_NOT_FOUND ("Log file not found
 * for session 'X'"); ALC_E_PARSE (a file too large that is not JSON); ALC_E_TOO_LARGE;
 * ALC_E_NOMEM; ALC_E_IO. No lock; blocks on disk I/O.
 */
int alc_transcript_detail(const char *log_dir, const char *session_id, size_t max_chars,
                          char **out, size_t *len, char *err, size_t errlen) {
    char *text = NULL;
    size_t n = 0;
    if (!out) return ALC_E_INVAL;
    *out = NULL;
    if (len) *len = 0;
    if (!log_dir) {
        alc_errf(err, errlen, "invalid argument");
        return ALC_E_INVAL;
    }
    if (!alc_transcript_id_valid(session_id)) {
        alc_errf(err, errlen, "invalid session id '%.64s'", session_id ? session_id : "(null)");
        return ALC_E_INVAL;
    }
    char *path = path_for(log_dir, session_id, ".json");
    if (!path) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    int rc = alc_fs_read_file(path, LOG_MAX, &text, &n, err, errlen);
    if (rc == ALC_E_IO && errno == ENOTDIR) rc = ALC_E_NOT_FOUND; /* log_dir is not a directory */
    if (rc == ALC_E_NOT_FOUND) alc_errf(err, errlen, "Log file not found for session '%s'", session_id);
    if (rc != ALC_OK) {
        free(path);
        return rc;
    }
    if (max_chars == 0 || n <= max_chars) {
        free(path);
        *out = text;
        if (len) *len = n;
        return ALC_OK;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(text, n + 1, NULL, 1); /* + the NUL */
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        alc_errf(err, errlen, "%s is not a JSON object", path);
        free(path);
        return ALC_E_PARSE;
    }
    free(path);
    char *t = truncate_log(root, max_chars);
    cJSON_Delete(root);
    if (!t) {
        alc_errf(err, errlen, "out of memory");
        return ALC_E_NOMEM;
    }
    *out = t;
    if (len) *len = strlen(t);
    return ALC_OK;
}

/* ---- stats ---------------------------------------------------------------------------------- */

/*
 * The earliest file mtime (Unix ms) kept by a filter of `days` days before now_ms:
 * now_ms - days * 86 400 000, or 0 (keep everything) when that reaches before the epoch or
 * days is huge, infinite or NaN — the subtraction never underflows. Negative days count as 0.
 * Pure; any thread.
 */
int64_t alc_transcript_cutoff_ms(double days, int64_t now_ms) {
    if (isnan(days) || now_ms <= 0) return 0;
    if (days <= 0) return now_ms;
    double span = days * 86400000.0;
    if (!(span < (double)now_ms)) return 0;
    int64_t cut = now_ms - (int64_t)span;
    return cut > 0 ? cut : 0;
}

typedef struct agg {
    char *name;
    long long count, elapsed, calls, rounds, pchars, rchars, ptok, rtok, ttok;
} agg;

/* A number field, or the "tokens" of a {tokens, source} object; 0 when absent. */
static long long num_of(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    if (cJSON_IsObject(v)) v = get(v, "tokens");
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9.0e15) return 0;
    return (long long)v->valuedouble;
}

static long long avg(long long sum, long long count) { return count ? (sum + count / 2) / count : 0; }

static cJSON *agg_json(const agg *a) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const char *keys[] = {"count", "avg_elapsed_ms", "avg_llm_calls", "avg_rounds", "total_prompt_chars",
                          "total_response_chars", "total_prompt_tokens", "total_response_tokens", "total_tokens"};
    long long vals[] = {a->count, avg(a->elapsed, a->count), avg(a->calls, a->count), avg(a->rounds, a->count),
                        a->pchars, a->rchars, a->ptok, a->rtok, a->ttok};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        if (!add(o, keys[i], cJSON_CreateNumber((double)vals[i]))) {
            cJSON_Delete(o);
            return NULL;
        }
    return o;
}

/*
 * Aggregates for alc_stats: reads every {id}.meta.json of log_dir and every {id}.json that
 * has no meta sibling (deriving its summary), keeps those whose file mtime >= min_mtime_ms
 * and, if strategy is non-NULL, whose strategy (JSON null counts as "unknown") equals it.
 * *out returns new {"strategies":{name:{count, avg_elapsed_ms, avg_llm_calls, avg_rounds,
 * total_prompt_chars, total_response_chars, total_prompt_tokens, total_response_tokens,
 * total_tokens}}, "total_sessions":N}; averages are (sum + count/2) / count. Unreadable files
 * are skipped; a missing directory gives zero sessions.
 * Returns ALC_OK, ALC_E_INVAL, ALC_E_NOMEM, ALC_E_IO. No lock; blocks on disk I/O.
 */
int alc_transcript_stats(const char *log_dir, const char *strategy, int64_t min_mtime_ms,
                         cJSON **out, char *err, size_t errlen) {
    log_file *f = NULL;
    size_t n = 0, na = 0, total = 0;
    agg *a = NULL;
    cJSON *root = NULL, *strategies = NULL;
    if (!out) return ALC_E_INVAL;
    *out = NULL;
    if (!log_dir) {
        alc_errf(err, errlen, "invalid argument");
        return ALC_E_INVAL;
    }
    int rc = scan_dir(log_dir, &f, &n, err, errlen);
    if (rc != ALC_OK) return rc;
    if (n && !(a = calloc(n, sizeof *a))) goto nomem;
    for (size_t i = 0; i < n; i++) {
        if (f[i].mtime_ms < min_mtime_ms) continue;
        if (!f[i].is_meta && has_file(f, n, f[i].stem, true)) continue;  /* counted via its meta */
        cJSON *m = summary_of(log_dir, f[i].stem, f[i].is_meta);
        if (!m) continue;
        const cJSON *st = get(m, "strategy");
        const char *name = cJSON_IsString(st) ? st->valuestring : "unknown";
        if (strategy && strcmp(strategy, name) != 0) {
            cJSON_Delete(m);
            continue;
        }
        size_t k = 0;
        while (k < na && strcmp(a[k].name, name) != 0) k++;
        if (k == na) {
            if (!(a[na].name = strdup(name))) {
                cJSON_Delete(m);
                goto nomem;
            }
            na++;
        }
        a[k].count++;
        a[k].elapsed += num_of(m, "elapsed_ms");
        a[k].calls += num_of(m, "llm_calls");
        a[k].rounds += num_of(m, "rounds");
        a[k].pchars += num_of(m, "total_prompt_chars");
        a[k].rchars += num_of(m, "total_response_chars");
        a[k].ptok += num_of(m, "prompt_tokens");
        a[k].rtok += num_of(m, "response_tokens");
        a[k].ttok += num_of(m, "total_tokens");
        total++;
        cJSON_Delete(m);
    }
    root = cJSON_CreateObject();
    if (!root) goto nomem;
    strategies = cJSON_CreateObject();
    if (!add(root, "strategies", strategies) ||  /* add frees strategies on failure */
        !add(root, "total_sessions", cJSON_CreateNumber((double)total)))
        goto nomem;
    for (size_t k = 0; k < na; k++)
        if (!add(strategies, a[k].name, agg_json(&a[k]))) goto nomem;
    for (size_t k = 0; k < na; k++) free(a[k].name);
    free(a);
    files_free(f, n);
    alc_json_sort_keys(root);
    *out = root;
    return ALC_OK;
nomem:
    cJSON_Delete(root);
    for (size_t k = 0; k < na; k++) free(a[k].name);
    free(a);
    files_free(f, n);
    alc_errf(err, errlen, "out of memory");
    return ALC_E_NOMEM;
}
