/*
 * test_transcript.c — the session-log store (src/store/transcript.c): the files it writes,
 * task_hint cutting, id validation, write failures, notes, the list / detail / stats readers.
 */
#include "helpers.h"

#include "alc/error.h"
#include "alc/transcript.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>

#define ID1 "s-0123456789abcdef0123456789abcdef"
#define ID2 "s-11111111111111111111111111111111"
#define ID3 "s-22222222222222222222222222222222"

static char *xstrdup(const char *s) {
    char *p = strdup(s);
    cr_assert_not_null(p);
    return p;
}

/* A transcript of n turns; turn i has prompt "P<i>" (or the given first prompt), system "sys"
 * on even turns, response "R<i>" except the last turn when unanswered_last. */
static void make(alc_transcript *t, const char *id, const char *strategy, size_t n, const char *first_prompt,
                 bool unanswered_last) {
    memset(t, 0, sizeof *t);
    t->session_id = xstrdup(id);
    t->strategy = strategy ? xstrdup(strategy) : NULL;
    t->state = "done";
    t->ended_at_ms = 1714000000123LL;
    t->stats = cJSON_Parse("{\"elapsed_ms\":1234,\"llm_calls\":2,\"pauses\":2,\"rounds\":2,"
                           "\"total_prompt_chars\":80,\"total_response_chars\":12,"
                           "\"prompt_tokens\":{\"tokens\":20,\"source\":\"estimated\"},"
                           "\"response_tokens\":{\"tokens\":3,\"source\":\"provided\"},"
                           "\"total_tokens\":{\"tokens\":23,\"source\":\"estimated\"}}");
    cr_assert_not_null(t->stats);
    t->turns = n ? calloc(n, sizeof *t->turns) : NULL;
    t->n_turns = n;
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "q-%zu", i);
        t->turns[i].query_id = xstrdup(buf);
        if (i == 0 && first_prompt) t->turns[i].prompt = xstrdup(first_prompt);
        else {
            snprintf(buf, sizeof buf, "P%zu", i);
            t->turns[i].prompt = xstrdup(buf);
        }
        t->turns[i].prompt_len = strlen(t->turns[i].prompt);
        t->turns[i].system = i % 2 == 0 ? xstrdup("sys") : NULL;
        if (!(unanswered_last && i == n - 1)) {
            snprintf(buf, sizeof buf, "R%zu", i);
            t->turns[i].response = xstrdup(buf);
            t->turns[i].response_len = strlen(buf);
        }
    }
}

static char *path2(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static cJSON *load(const char *dir, const char *name) {
    char *p = path2(dir, name);
    char *text = slurp(p);
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s is not JSON: %s", name, text);
    free(text);
    free(p);
    return j;
}

static void put_file(const char *dir, const char *name, const char *text) {
    char *p = path2(dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void set_mtime(const char *dir, const char *name, time_t when) {
    char *p = path2(dir, name);
    struct timespec ts[2] = {{when, 0}, {when, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0, "utimensat %s", p);
    free(p);
}

static bool exists(const char *dir, const char *name) {
    char *p = path2(dir, name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

/* Asserts that o has exactly the given keys (NULL-terminated), in this (sorted) order. */
static void expect_keys(const cJSON *o, const char *const *keys) {
    const cJSON *c = o->child;
    for (size_t i = 0; keys[i]; i++, c = c->next) {
        cr_assert_not_null(c, "missing key %s", keys[i]);
        cr_assert_str_eq(c->string, keys[i]);
    }
    cr_assert_null(c, "unexpected extra key %s", c ? c->string : "");
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static double num(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    cr_assert(cJSON_IsNumber(v), "'%s' is not a number", k);
    return v->valuedouble;
}

/* ---- writing ------------------------------------------------------------------------------ */

Test(transcript, write_creates_pretty_log_and_compact_meta_with_exact_fields) {
    char *tmp = alc_test_tmpdir();
    char *dir = path2(tmp, "logs/nested");
    alc_transcript t;
    make(&t, ID1, "cot", 2, "What is 2+2?", true);
    char err[256] = "";
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);

    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "log dir mode %o", st.st_mode & 0777);
    char *lp = path2(dir, ID1 ".json"), *mp = path2(dir, ID1 ".meta.json");
    cr_assert_eq(stat(lp, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(mp, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);

    char *text = slurp(lp);
    cr_assert_not_null(strchr(text, '\n'), "the log is pretty-printed");
    cJSON *log = cJSON_Parse(text);
    cr_assert_not_null(log);
    expect_keys(log, (const char *const[]){"session_id", "stats", "strategy", "task_hint", "transcript", NULL});
    cr_assert_str_eq(get(log, "session_id")->valuestring, ID1);
    cr_assert_str_eq(get(log, "strategy")->valuestring, "cot");
    cr_assert_str_eq(get(log, "task_hint")->valuestring, "What is 2+2?");
    cr_assert_eq(num(get(log, "stats"), "llm_calls"), 2);
    cr_assert_eq(num(get(log, "stats"), "elapsed_ms"), 1234);
    const cJSON *tr = get(log, "transcript");
    cr_assert_eq(cJSON_GetArraySize(tr), 2);
    const cJSON *e0 = cJSON_GetArrayItem(tr, 0), *e1 = cJSON_GetArrayItem(tr, 1);
    expect_keys(e0, (const char *const[]){"prompt", "query_id", "response", "system", NULL});
    cr_assert_str_eq(get(e0, "query_id")->valuestring, "q-0");
    cr_assert_str_eq(get(e0, "prompt")->valuestring, "What is 2+2?");
    cr_assert_str_eq(get(e0, "system")->valuestring, "sys");
    cr_assert_str_eq(get(e0, "response")->valuestring, "R0");
    cr_assert(cJSON_IsNull(get(e1, "system")));
    cr_assert(cJSON_IsNull(get(e1, "response")), "an unanswered query logs response null");

    char *mtext = slurp(mp);
    cr_assert_null(strchr(mtext, '\n'), "the meta file is compact");
    cJSON *meta = cJSON_Parse(mtext);
    cr_assert_not_null(meta);
    expect_keys(meta, (const char *const[]){"elapsed_ms", "ended_at", "llm_calls", "notes_count", "prompt_tokens",
                                            "response_tokens", "rounds", "session_id", "state", "strategy", "task_hint",
                                            "total_prompt_chars", "total_response_chars", "total_tokens", NULL});
    cr_assert_eq(num(meta, "ended_at"), 1714000000123.0);
    cr_assert_eq(num(meta, "notes_count"), 0);
    cr_assert_eq(num(meta, "rounds"), 2);
    cr_assert_eq(num(meta, "total_prompt_chars"), 80);
    cr_assert_eq(num(get(meta, "response_tokens"), "tokens"), 3);
    cr_assert_str_eq(get(get(meta, "response_tokens"), "source")->valuestring, "provided");
    cr_assert_str_eq(get(meta, "state")->valuestring, "done");
    cr_assert_str_eq(get(meta, "task_hint")->valuestring, "What is 2+2?");

    cJSON_Delete(log);
    cJSON_Delete(meta);
    free(text);
    free(mtext);
    free(lp);
    free(mp);
    alc_transcript_deinit(&t);
    alc_test_rmtree(tmp);
    free(dir);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, null_strategy_and_empty_transcript_give_null_fields) {
    char *dir = alc_test_tmpdir();
    alc_transcript t;
    make(&t, ID2, NULL, 0, NULL, false);
    char err[256];
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
    cJSON *log = load(dir, ID2 ".json");
    cr_assert(cJSON_IsNull(get(log, "strategy")));
    cr_assert(cJSON_IsNull(get(log, "task_hint")));
    cr_assert_eq(cJSON_GetArraySize(get(log, "transcript")), 0);
    cJSON_Delete(log);
    alc_transcript_deinit(&t);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, prompt_bytes_that_are_not_utf8_are_replaced_not_written_raw) {
    char *dir = alc_test_tmpdir();
    alc_transcript t;
    make(&t, ID1, NULL, 1, "ok", false);
    free(t.turns[0].prompt);
    t.turns[0].prompt = malloc(5);
    memcpy(t.turns[0].prompt, "a\xff\0b", 5);
    t.turns[0].prompt_len = 4; /* invalid byte and an embedded NUL */
    char err[256];
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
    cJSON *log = load(dir, ID1 ".json");
    const char *p = get(cJSON_GetArrayItem(get(log, "transcript"), 0), "prompt")->valuestring;
    cr_assert_str_eq(p, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
    cJSON_Delete(log);
    alc_transcript_deinit(&t);
    alc_test_rmtree(dir);
    free(dir);
}

Test(transcript, task_hint_is_cut_at_100_bytes_on_a_utf8_boundary) {
    char buf[300];
    memset(buf, 'a', 150);
    char *h = alc_transcript_task_hint(buf, 150);
    cr_assert_eq(strlen(h), 103);
    cr_assert_eq(memcmp(h, buf, 100), 0);
    cr_assert_str_eq(h + 100, "...");
    free(h);

    h = alc_transcript_task_hint(buf, 100); /* exactly 100 bytes: not cut */
    cr_assert_eq(strlen(h), 100);
    free(h);

    /* 99 ASCII bytes then "é" (bytes 99..100): the cut backs up to 99 */
    memcpy(buf + 99, "\xC3\xA9", 2);
    memset(buf + 101, 'b', 20);
    h = alc_transcript_task_hint(buf, 121);
    cr_assert_eq(strlen(h), 102);
    cr_assert_str_eq(h + 99, "...");
    free(h);

    /* 98 ASCII bytes then "€" (bytes 98..100, three bytes): cut at 98 */
    memset(buf, 'a', 98);
    memcpy(buf + 98, "\xE2\x82\xAC", 3);
    h = alc_transcript_task_hint(buf, 121);
    cr_assert_eq(strlen(h), 101);
    cr_assert_str_eq(h + 98, "...");
    free(h);

    /* 97 ASCII bytes then "€" (bytes 97..99) ends exactly at 100: kept whole */
    memset(buf, 'a', 97);
    memcpy(buf + 97, "\xE2\x82\xAC", 3);
    h = alc_transcript_task_hint(buf, 121);
    cr_assert_eq(strlen(h), 103);
    cr_assert_eq(memcmp(h + 97, "\xE2\x82\xAC...", 6), 0);
    free(h);

    h = alc_transcript_task_hint("", 0);
    cr_assert_str_eq(h, "");
    free(h);
    h = alc_transcript_task_hint("x\x80y", 3);
    cr_assert_str_eq(h, "x\xEF\xBF\xBDy");
    free(h);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, write_into_a_regular_file_reports_the_failure) {
    char *tmp = alc_test_tmpdir();
    put_file(tmp, "notadir", "x");
    char *dir = path2(tmp, "notadir");
    char *sub = path2(tmp, "notadir/logs");
    alc_transcript t;
    make(&t, ID1, NULL, 1, "q", false);
    char err[512] = "";
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_E_IO);
    cr_assert(strstr(err, dir) != NULL, "the message names the directory: %s", err);
    cr_assert(strstr(err, "Not a directory") != NULL, "the message gives the reason: %s", err);
    err[0] = '\0';
    cr_assert_eq(alc_transcript_write(sub, &t, err, sizeof err), ALC_E_IO);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(alc_transcript_write("", &t, err, sizeof err), ALC_E_INVAL);
    /* the readers treat such a log dir as holding no logs */
    char *out = NULL;
    long long n = 0;
    cr_assert_eq(alc_transcript_detail(dir, ID1, 0, &out, NULL, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_eq(alc_transcript_add_note(dir, ID1, NULL, "x", 0, &n, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_str_eq(err, "Log file not found for session '" ID1 "'");
    cJSON *list = NULL;
    cr_assert_eq(alc_transcript_list(dir, 10, &list, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    alc_transcript_deinit(&t);
    alc_test_rmtree(tmp);
    free(dir);
    free(sub);
    free(tmp);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, write_refuses_ids_that_are_not_ours) {
    char *dir = alc_test_tmpdir();
    const char *bad[] = {"../s-0123456789abcdef0123456789abcdef", "s-0123", "s-0123456789ABCDEF0123456789abcdef",
                         "s-0123456789abcdef0123456789abcdef0", "x-0123456789abcdef0123456789abcdef", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        alc_transcript t;
        make(&t, bad[i], NULL, 1, "q", false);
        char err[256] = "";
        cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_E_INVAL, "id %s", bad[i]);
        cr_assert(strstr(err, "invalid session id") != NULL, "%s", err);
        alc_transcript_deinit(&t);
    }
    cJSON *list = NULL;
    cr_assert_eq(alc_transcript_list(dir, 50, &list, NULL, 0), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(list), 0, "nothing was written");
    cJSON_Delete(list);
    alc_test_rmtree(dir);
    free(dir);
}

Test(transcript, id_validation_rejects_traversal_and_separators) {
    cr_assert(alc_transcript_id_ours(ID1));
    cr_assert_not(alc_transcript_id_ours(NULL));
    cr_assert_not(alc_transcript_id_ours("s-0123456789abcdef0123456789abcdeg"));
    cr_assert(alc_transcript_id_valid(ID1));
    cr_assert(alc_transcript_id_valid("s-18a3f2-9f3c_legacy.v2"));
    const char *bad[] = {"..", "../etc/passwd", "a/b", "a\\b", ".hidden", "a..b", "x.meta", "", "-x", "a b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(alc_transcript_id_valid(bad[i]), "'%s' must be rejected", bad[i]);
    char longid[200];
    memset(longid, 'a', 129);
    longid[129] = '\0';
    cr_assert_not(alc_transcript_id_valid(longid));
    longid[128] = '\0';
    cr_assert(alc_transcript_id_valid(longid));
    cr_assert_not(alc_transcript_id_valid(NULL));
}

/* ---- notes ------------------------------------------------------------------------------ */

Test(transcript, notes_are_appended_and_counted_in_the_meta) {
    char *dir = alc_test_tmpdir();
    alc_transcript t;
    make(&t, ID1, "cot", 1, "q", false);
    char err[256];
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
    long long n = 0;
    cr_assert_eq(alc_transcript_add_note(dir, ID1, NULL, "first", 1714000000999LL, &n, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_eq(alc_transcript_add_note(dir, ID1, "T", "second", 1714000005000LL, &n, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(n, 2);
    cJSON *log = load(dir, ID1 ".json");
    expect_keys(log, (const char *const[]){"notes", "session_id", "stats", "strategy", "task_hint", "transcript", NULL});
    const cJSON *notes = get(log, "notes");
    cr_assert_eq(cJSON_GetArraySize(notes), 2);
    const cJSON *a = cJSON_GetArrayItem(notes, 0), *b = cJSON_GetArrayItem(notes, 1);
    expect_keys(a, (const char *const[]){"content", "timestamp", "title", NULL});
    cr_assert_str_eq(get(a, "content")->valuestring, "first");
    cr_assert(cJSON_IsNull(get(a, "title")));
    cr_assert_eq(num(a, "timestamp"), 1714000000);
    cr_assert_str_eq(get(b, "title")->valuestring, "T");
    cr_assert_eq(num(b, "timestamp"), 1714000005);
    cJSON *meta = load(dir, ID1 ".meta.json");
    cr_assert_eq(num(meta, "notes_count"), 2);
    cr_assert_str_eq(get(meta, "strategy")->valuestring, "cot", "the rest of the meta is kept");
    cJSON_Delete(meta);
    cJSON_Delete(log);
    alc_transcript_deinit(&t);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, note_needs_an_existing_log_and_a_safe_id) {
    char *dir = alc_test_tmpdir();
    char err[256] = "";
    long long n = -1;
    cr_assert_eq(alc_transcript_add_note(dir, ID3, NULL, "x", 0, &n, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_str_eq(err, "Log file not found for session '" ID3 "'");
    cr_assert_eq(n, -1);
    cr_assert_eq(alc_transcript_add_note(dir, "../../etc/passwd", NULL, "x", 0, &n, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "invalid session id") != NULL, "%s", err);
    cr_assert_not(exists(dir, ID3 ".json"), "a note never creates a log");
    alc_test_rmtree(dir);
    free(dir);
}

Test(transcript, note_on_a_log_without_meta_still_works) {
    char *dir = alc_test_tmpdir();
    put_file(dir, "legacy-1.json", "{\"session_id\":\"legacy-1\",\"transcript\":[],\"notes\":\"junk\"}");
    char err[256];
    long long n = 0;
    cr_assert_eq(alc_transcript_add_note(dir, "legacy-1", NULL, "x", 5000, &n, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(n, 1, "a non-array notes member is replaced");
    cr_assert_not(exists(dir, "legacy-1.meta.json"));
    alc_test_rmtree(dir);
    free(dir);
}

/* ---- list and detail ---------------------------------------------------------------------- */

Test(transcript, list_is_newest_first_and_derives_a_missing_meta) {
    char *dir = alc_test_tmpdir();
    const char *ids[3] = {ID1, ID2, ID3};
    char err[256];
    for (int i = 0; i < 3; i++) {
        alc_transcript t;
        make(&t, ids[i], i == 1 ? "cot" : NULL, 2, "hello", false);
        cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
        alc_transcript_deinit(&t);
    }
    set_mtime(dir, ID1 ".json", 1000000);
    set_mtime(dir, ID2 ".json", 3000000);
    set_mtime(dir, ID3 ".json", 2000000);
    char *mp = path2(dir, ID2 ".meta.json");
    cr_assert_eq(unlink(mp), 0);
    free(mp);
    put_file(dir, "s-broken.json", "{not json");
    put_file(dir, "tracing.log.2026-01-01", "x");

    cJSON *list = NULL;
    cr_assert_eq(alc_transcript_list(dir, 50, &list, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(cJSON_GetArraySize(list), 3, "the broken log is skipped");
    cr_assert_str_eq(get(cJSON_GetArrayItem(list, 0), "session_id")->valuestring, ID2);
    cr_assert_str_eq(get(cJSON_GetArrayItem(list, 1), "session_id")->valuestring, ID3);
    cr_assert_str_eq(get(cJSON_GetArrayItem(list, 2), "session_id")->valuestring, ID1);
    const cJSON *derived = cJSON_GetArrayItem(list, 0);
    cr_assert_str_eq(get(derived, "task_hint")->valuestring, "hello");
    cr_assert_str_eq(get(derived, "strategy")->valuestring, "cot");
    cr_assert_eq(num(derived, "llm_calls"), 2);
    cr_assert_eq(num(derived, "elapsed_ms"), 1234);
    cr_assert_eq(num(derived, "notes_count"), 0);
    cr_assert_str_eq(get(cJSON_GetArrayItem(list, 1), "state")->valuestring, "done", "a meta file is listed as is");
    cJSON_Delete(list);

    cr_assert_eq(alc_transcript_list(dir, 1, &list, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(list), 1);
    cJSON_Delete(list);
    cr_assert_eq(alc_transcript_list(dir, 0, &list, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, list_of_a_missing_directory_is_empty) {
    char *tmp = alc_test_tmpdir();
    char *dir = path2(tmp, "nope");
    cJSON *list = NULL;
    cr_assert_eq(alc_transcript_list(dir, 50, &list, NULL, 0), ALC_OK);
    cr_assert(cJSON_IsArray(list));
    cr_assert_eq(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    cJSON *st = NULL;
    cr_assert_eq(alc_transcript_stats(dir, NULL, 0, &st, NULL, 0), ALC_OK);
    cr_assert_eq(num(st, "total_sessions"), 0);
    cJSON_Delete(st);
    alc_test_rmtree(tmp);
    free(dir);
    free(tmp);
}

Test(transcript, detail_is_the_raw_file_when_it_fits) {
    char *dir = alc_test_tmpdir();
    alc_transcript t;
    make(&t, ID1, NULL, 3, "q", false);
    char err[256];
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
    char *lp = path2(dir, ID1 ".json");
    char *raw = slurp(lp);
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(alc_transcript_detail(dir, ID1, 100000, &out, &len, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(out, raw);
    cr_assert_eq(len, strlen(raw));
    free(out);
    cr_assert_eq(alc_transcript_detail(dir, ID1, 0, &out, &len, err, sizeof err), ALC_OK);
    cr_assert_str_eq(out, raw, "0 means unlimited");
    free(out);
    cr_assert_eq(alc_transcript_detail(dir, ID2, 0, &out, &len, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_str_eq(err, "Log file not found for session '" ID2 "'");
    cr_assert_null(out);
    cr_assert_eq(alc_transcript_detail(dir, "../x", 0, &out, &len, err, sizeof err), ALC_E_INVAL);
    cr_assert(strstr(err, "invalid session id") != NULL);
    free(raw);
    free(lp);
    alc_transcript_deinit(&t);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, detail_keeps_the_newest_rounds_by_halving_until_it_fits) {
    char *dir = alc_test_tmpdir();
    alc_transcript t;
    make(&t, ID1, NULL, 20, NULL, false);
    for (size_t i = 0; i < 20; i++) { /* each entry about 1000 bytes */
        free(t.turns[i].prompt);
        t.turns[i].prompt = malloc(1001);
        memset(t.turns[i].prompt, 'a' + (int)(i % 26), 1000);
        t.turns[i].prompt[1000] = '\0';
        t.turns[i].prompt_len = 1000;
    }
    char err[256];
    cr_assert_eq(alc_transcript_write(dir, &t, err, sizeof err), ALC_OK, "%s", err);
    char *out = NULL;
    size_t len = 0;
    /* about 1.1 KB per entry plus 0.6 KB of the rest: k goes 20 → 10 → 5 (6.1 KB, too large)
     * → 4 (5.0 KB, fits) */
    cr_assert_eq(alc_transcript_detail(dir, ID1, 5500, &out, &len, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_leq(len, 5500);
    cJSON *d = cJSON_Parse(out);
    cr_assert_not_null(d, "%s", out);
    cr_assert(cJSON_IsTrue(get(d, "truncated")));
    cr_assert_eq(num(d, "original_rounds"), 20);
    cr_assert_eq(num(d, "returned_rounds"), 4);
    const cJSON *tr = get(d, "transcript");
    cr_assert_eq(cJSON_GetArraySize(tr), 4);
    cr_assert_str_eq(get(cJSON_GetArrayItem(tr, 0), "query_id")->valuestring, "q-16", "the newest rounds are kept");
    cr_assert_str_eq(get(cJSON_GetArrayItem(tr, 3), "query_id")->valuestring, "q-19");
    cr_assert_str_eq(get(d, "session_id")->valuestring, ID1);
    cJSON_Delete(d);
    free(out);

    /* halving, not one by one: 7 entries (8.2 KB) would fit 9000 bytes, but k jumps 10 → 5 */
    cr_assert_eq(alc_transcript_detail(dir, ID1, 9000, &out, &len, err, sizeof err), ALC_OK);
    d = cJSON_Parse(out);
    cr_assert_eq(num(d, "returned_rounds"), 5);
    cJSON_Delete(d);
    free(out);

    /* nothing fits: k reaches 0 and the rest of the log is still returned */
    cr_assert_eq(alc_transcript_detail(dir, ID1, 10, &out, &len, err, sizeof err), ALC_OK);
    d = cJSON_Parse(out);
    cr_assert_eq(num(d, "returned_rounds"), 0);
    cr_assert_eq(cJSON_GetArraySize(get(d, "transcript")), 0);
    cr_assert_not_null(get(d, "stats"));
    cJSON_Delete(d);
    free(out);
    alc_transcript_deinit(&t);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

/* ---- stats -------------------------------------------------------------------------------- */

static void put_meta(const char *dir, const char *id, const char *strategy_json, int elapsed, int calls, int rounds) {
    char name[200], text[800];
    snprintf(name, sizeof name, "%s.meta.json", id);
    snprintf(text, sizeof text,
             "{\"session_id\":\"%s\",\"strategy\":%s,\"elapsed_ms\":%d,\"llm_calls\":%d,\"rounds\":%d,"
             "\"total_prompt_chars\":100,\"total_response_chars\":10,"
             "\"prompt_tokens\":{\"tokens\":25,\"source\":\"estimated\"},\"response_tokens\":{\"tokens\":3,\"source\":\"estimated\"},"
             "\"total_tokens\":{\"tokens\":28,\"source\":\"estimated\"},\"notes_count\":0}",
             id, strategy_json, elapsed, calls, rounds);
    put_file(dir, name, text);
}

Test(transcript, stats_aggregate_per_strategy_with_rounded_averages) {
    char *dir = alc_test_tmpdir();
    put_meta(dir, "s-a", "\"cot\"", 1000, 1, 1);
    put_meta(dir, "s-b", "\"cot\"", 2001, 2, 2);
    put_meta(dir, "s-c", "null", 500, 3, 3);
    /* a legacy log without a meta counts via its stats; a log with a meta counts once */
    put_file(dir, "s-d.json", "{\"session_id\":\"s-d\",\"strategy\":null,\"stats\":{\"elapsed_ms\":700,\"llm_calls\":1,"
                              "\"rounds\":1,\"total_tokens\":{\"tokens\":10,\"source\":\"estimated\"}},\"transcript\":[]}");
    put_file(dir, "s-a.json", "{\"session_id\":\"s-a\"}");
    put_file(dir, "s-e.meta.json", "garbage");
    char err[256];
    cJSON *st = NULL;
    cr_assert_eq(alc_transcript_stats(dir, NULL, 0, &st, err, sizeof err), ALC_OK, "%s", err);
    expect_keys(st, (const char *const[]){"strategies", "total_sessions", NULL});
    cr_assert_eq(num(st, "total_sessions"), 4);
    const cJSON *cot = get(get(st, "strategies"), "cot");
    cr_assert_not_null(cot);
    expect_keys(cot, (const char *const[]){"avg_elapsed_ms", "avg_llm_calls", "avg_rounds", "count", "total_prompt_chars",
                                           "total_prompt_tokens", "total_response_chars", "total_response_tokens",
                                           "total_tokens", NULL});
    cr_assert_eq(num(cot, "count"), 2);
    cr_assert_eq(num(cot, "avg_elapsed_ms"), 1501, "(3001 + 1) / 2");
    cr_assert_eq(num(cot, "avg_llm_calls"), 2, "(3 + 1) / 2");
    cr_assert_eq(num(cot, "total_prompt_chars"), 200);
    cr_assert_eq(num(cot, "total_prompt_tokens"), 50);
    cr_assert_eq(num(cot, "total_tokens"), 56);
    const cJSON *unk = get(get(st, "strategies"), "unknown");
    cr_assert_eq(num(unk, "count"), 2);
    cr_assert_eq(num(unk, "avg_elapsed_ms"), 600);
    cr_assert_eq(num(unk, "total_tokens"), 38);
    cJSON_Delete(st);

    cr_assert_eq(alc_transcript_stats(dir, "unknown", 0, &st, err, sizeof err), ALC_OK);
    cr_assert_eq(num(st, "total_sessions"), 2);
    cr_assert_null(get(get(st, "strategies"), "cot"));
    cJSON_Delete(st);

    /* mtime filter: s-a and s-b are old */
    set_mtime(dir, "s-a.meta.json", 1000);
    set_mtime(dir, "s-b.meta.json", 1000);
    cr_assert_eq(alc_transcript_stats(dir, "cot", 2000 * 1000LL, &st, err, sizeof err), ALC_OK);
    cr_assert_eq(num(st, "total_sessions"), 0);
    cr_assert_eq(get(st, "strategies")->child, NULL);
    cJSON_Delete(st);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}

Test(transcript, days_cutoff_never_underflows) {
    int64_t now = 1714000000000LL;
    cr_assert_eq(alc_transcript_cutoff_ms(1, now), now - 86400000LL);
    cr_assert_eq(alc_transcript_cutoff_ms(0, now), now);
    cr_assert_eq(alc_transcript_cutoff_ms(0.5, now), now - 43200000LL);
    cr_assert_eq(alc_transcript_cutoff_ms(1e300, now), 0);
    cr_assert_eq(alc_transcript_cutoff_ms(INFINITY, now), 0);
    cr_assert_eq(alc_transcript_cutoff_ms(NAN, now), 0);
    cr_assert_eq(alc_transcript_cutoff_ms(20000, now), 0, "before the epoch: everything is kept");
    cr_assert_eq(alc_transcript_cutoff_ms(9.3e15, now), 0);
}
