/*
 * test_eval_store.c — the evaluation store (src/store/eval_store.c): ids, saving with meta
 * files, history, detail, the comparison cache, and scenario listing, reading and local
 * installs, on a temporary ALC_HOME.
 */
#include "helpers.h"

#include "alc/error.h"
#include "alc/eval_store.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

static char *g_home;

static void setup(void) { g_home = alc_test_tmpdir(); }

static void teardown(void) {
    alc_test_rmtree(g_home);
    free(g_home);
    g_home = NULL;
}

static const char *path_of(const char *fmt, const char *a) {
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    char rel[512];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(b, 1024, "%s/%s", g_home, rel);
    return b;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A response as alc_eval produces it. */
static cJSON *response(double pass_rate, double mean) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"status\":\"completed\",\"session_id\":\"s-1\",\"stats\":{\"auto\":{\"llm_calls\":7,\"elapsed_ms\":42}},"
             "\"result\":{\"scenario\":\"sc\",\"summary\":\"sum\",\"aggregated\":{\"pass_rate\":%g,\"total\":4,"
             "\"passed\":2,\"scores\":{\"mean\":%g}},\"results\":[]}}",
             pass_rate, mean);
    cJSON *r = cJSON_Parse(text);
    cr_assert_not_null(r);
    return r;
}

Test(eval_store, ids_and_names_are_checked_before_use) {
    cr_assert(alc_eval_store_valid_id("cot_1700000000000_ab12"));
    cr_assert(alc_eval_store_valid_id("my.pkg_1_0000"));
    cr_assert(!alc_eval_store_valid_id(NULL));
    cr_assert(!alc_eval_store_valid_id(""));
    cr_assert(!alc_eval_store_valid_id("../x"));
    cr_assert(!alc_eval_store_valid_id("a/b"));
    cr_assert(!alc_eval_store_valid_id("a..b"));
    cr_assert(!alc_eval_store_valid_id(".hidden"));
    cr_assert(!alc_eval_store_valid_id("sp ace"));
    cr_assert(alc_eval_store_valid_scenario_name("math-basics_2"));
    cr_assert(!alc_eval_store_valid_scenario_name("-flag"));
    cr_assert(!alc_eval_store_valid_scenario_name("x/y"));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert(!alc_eval_store_valid_scenario_name(longname));
    cr_assert(!alc_eval_store_valid_id(longname));
}

Test(eval_store, save_writes_result_and_meta_privately, .init = setup, .fini = teardown) {
    cJSON *r = response(0.5, 0.625);
    char id[ALC_EVAL_ID_MAX], err[512];
    cr_assert_eq(alc_eval_store_save(g_home, "cot", r, 1700000000123LL, id, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(strncmp(id, "cot_1700000000123_", 18), 0, "id %s", id);
    cr_assert_eq(strlen(id), 22);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "eval_id")->valuestring, id, "the response carries its id");
    struct stat st;
    cr_assert_eq(stat(path_of("evals/%s.json", id), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(path_of("evals/%s", ""), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);

    char *text = NULL;
    size_t len = 0;
    cr_assert_eq(alc_eval_store_detail(g_home, id, &text, &len, err, sizeof err), ALC_OK);
    cJSON *back = cJSON_Parse(text);
    free(text);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, "eval_id")->valuestring, id);
    cJSON_Delete(back);

    cJSON *h = NULL;
    cr_assert_eq(alc_eval_store_history(g_home, NULL, 0, &h, err, sizeof err), ALC_OK);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(h, "evals"), 0);
    cr_assert_not_null(m);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "eval_id")->valuestring, id);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "strategy")->valuestring, "cot");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "scenario")->valuestring, "sc");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "summary")->valuestring, "sum");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "session_id")->valuestring, "s-1");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "timestamp")->valuedouble, 1700000000123.0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "pass_rate")->valuedouble, 0.5);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "mean_score")->valuedouble, 0.625);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "total_cases")->valuedouble, 4);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "passed")->valuedouble, 2);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "llm_calls")->valuedouble, 7);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(m, "elapsed_ms")->valuedouble, 42);
    cJSON_Delete(h);
    cJSON_Delete(r);
    ALC_ASSERT_NO_LEAKS();
}

Test(eval_store, saves_in_the_same_millisecond_never_collide, .init = setup, .fini = teardown) {
    char ids[40][ALC_EVAL_ID_MAX], err[512];
    for (int i = 0; i < 40; i++) {
        cJSON *r = response(1, 1);
        cr_assert_eq(alc_eval_store_save(g_home, "sc", r, 1700000000000LL, ids[i], err, sizeof err), ALC_OK, "%s", err);
        cJSON_Delete(r);
    }
    for (int i = 0; i < 40; i++)
        for (int j = i + 1; j < 40; j++) cr_assert_str_neq(ids[i], ids[j]);
    cJSON *h = NULL;
    cr_assert_eq(alc_eval_store_history(g_home, "sc", 0, &h, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h, "evals")), 40, "all 40 kept");
    cJSON_Delete(h);
}

Test(eval_store, history_sorts_filters_limits_and_warns, .init = setup, .fini = teardown) {
    char id[3][ALC_EVAL_ID_MAX], err[512];
    const char *strat[3] = {"a", "b", "a"};
    for (int i = 0; i < 3; i++) {
        cJSON *r = response(0.1 * i, 0.1 * i);
        cr_assert_eq(alc_eval_store_save(g_home, strat[i], r, 1000 + i, id[i], err, sizeof err), ALC_OK);
        cJSON_Delete(r);
    }
    write_file(path_of("evals/%s.meta.json", "broken"), "{not json");
    cJSON *h = NULL;
    cr_assert_eq(alc_eval_store_history(g_home, NULL, 0, &h, err, sizeof err), ALC_OK);
    cJSON *evals = cJSON_GetObjectItemCaseSensitive(h, "evals");
    cr_assert_eq(cJSON_GetArraySize(evals), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(evals, i), "eval_id")->valuestring, id[2 - i],
                         "newest first");
    cJSON *w = cJSON_GetObjectItemCaseSensitive(h, "warnings");
    cr_assert_eq(cJSON_GetArraySize(w), 1);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, 0), "file")->valuestring, "broken.meta.json");
    cJSON_Delete(h);
    cr_assert_eq(alc_eval_store_history(g_home, "a", 1, &h, err, sizeof err), ALC_OK);
    evals = cJSON_GetObjectItemCaseSensitive(h, "evals");
    cr_assert_eq(cJSON_GetArraySize(evals), 1);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(evals, 0), "eval_id")->valuestring, id[2]);
    cJSON_Delete(h);
    ALC_ASSERT_NO_LEAKS();
}

Test(eval_store, empty_home_and_bad_ids_give_clear_answers, .init = setup, .fini = teardown) {
    cJSON *h = NULL;
    char err[512], *text = NULL;
    size_t len;
    cr_assert_eq(alc_eval_store_history(g_home, NULL, 20, &h, err, sizeof err), ALC_OK);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h, "evals")), 0);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(h, "warnings"));
    cJSON_Delete(h);
    cr_assert_eq(alc_eval_store_detail(g_home, "cot_1_0000", &text, &len, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_str_eq(err, "Eval result not found: cot_1_0000");
    cr_assert_eq(alc_eval_store_detail(g_home, "../../etc/passwd", &text, &len, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(text);
    cJSON *r = response(1, 1);
    char id[ALC_EVAL_ID_MAX];
    cr_assert_eq(alc_eval_store_save(g_home, "../x", r, 1, id, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "eval_id"));
    cJSON_Delete(r);
}

Test(eval_store, a_failed_save_leaves_no_file_and_no_id, .init = setup, .fini = teardown) {
    write_file(path_of("%s", "evals"), "a file where the directory should be");
    cJSON *r = response(1, 1);
    char id[ALC_EVAL_ID_MAX], err[512] = "";
    cr_assert_eq(alc_eval_store_save(g_home, "cot", r, 5, id, err, sizeof err), ALC_E_IO);
    cr_assert(strstr(err, "evals"), "%s", err);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "eval_id"));
    cJSON_Delete(r);
}

Test(eval_store, comparison_cache_round_trips, .init = setup, .fini = teardown) {
    char *text = NULL, err[512];
    size_t len = 0;
    cr_assert_eq(alc_eval_store_compare_read(g_home, "a_1_0000", "b_2_0000", &text, &len, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_eq(alc_eval_store_compare_write(g_home, "a_1_0000", "b_2_0000", "{\"x\":1}", 7, err, sizeof err), ALC_OK);
    cr_assert_eq(alc_eval_store_compare_read(g_home, "a_1_0000", "b_2_0000", &text, &len, err, sizeof err), ALC_OK);
    cr_assert_str_eq(text, "{\"x\":1}");
    free(text);
    struct stat st;
    cr_assert_eq(stat(path_of("evals/%s", "compare_a_1_0000_vs_b_2_0000.json"), &st), 0);
    cr_assert_eq(alc_eval_store_compare_write(g_home, "a/..", "b", "{}", 2, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_eval_store_compare_read(g_home, "a", "..", &text, &len, err, sizeof err), ALC_E_INVAL);
}

Test(eval_store, scenarios_install_list_and_read_locally, .init = setup, .fini = teardown) {
    char *src = alc_test_tmpdir();
    char p[1024];
    snprintf(p, sizeof p, "%s/one.lua", src);
    write_file(p, "return { cases = { { input = 1, expected = 1 } } }\n");
    snprintf(p, sizeof p, "%s/bad name.lua", src);
    write_file(p, "return {}\n");
    snprintf(p, sizeof p, "%s/readme.md", src);
    write_file(p, "x\n");
    char link[1024];
    snprintf(link, sizeof link, "%s/link.lua", src);
    snprintf(p, sizeof p, "%s/one.lua", src);
    cr_assert_eq(symlink(p, link), 0);

    cJSON *rep = NULL;
    char err[512];
    cr_assert_eq(alc_eval_store_scenario_install(g_home, src, &rep, err, sizeof err), ALC_OK, "%s", err);
    cJSON *inst = cJSON_GetObjectItemCaseSensitive(rep, "installed");
    cr_assert_eq(cJSON_GetArraySize(inst), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(inst, 0)->valuestring, "one");
    cJSON *fails = cJSON_GetObjectItemCaseSensitive(rep, "failures");
    cr_assert_eq(cJSON_GetArraySize(fails), 2, "the bad name and the symlink");
    cJSON_Delete(rep);

    // a single file
    char *src2 = alc_test_tmpdir();
    snprintf(p, sizeof p, "%s/two.lua", src2);
    write_file(p, "return { cases = { { input = 2, expected = 2 } } }\n");
    cr_assert_eq(alc_eval_store_scenario_install(g_home, p, &rep, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rep, "installed"), 0)->valuestring, "two");
    cJSON_Delete(rep);

    cJSON *list = NULL;
    cr_assert_eq(alc_eval_store_scenario_list(g_home, &list, err, sizeof err), ALC_OK);
    cJSON *sc = cJSON_GetObjectItemCaseSensitive(list, "scenarios");
    cr_assert_eq(cJSON_GetArraySize(sc), 2);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sc, 0), "name")->valuestring, "one");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sc, 1), "name")->valuestring, "two");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sc, 0), "size_bytes")->valuedouble, 51);
    cJSON_Delete(list);

    char *text = NULL, *path = NULL;
    size_t len = 0;
    cr_assert_eq(alc_eval_store_scenario_read(g_home, "one", &text, &len, &path, err, sizeof err), ALC_OK);
    cr_assert_str_eq(text, "return { cases = { { input = 1, expected = 1 } } }\n");
    cr_assert_str_eq(path, path_of("scenarios/%s", "one.lua"));
    free(text);
    free(path);
    cr_assert_eq(alc_eval_store_scenario_read(g_home, "nope", &text, &len, &path, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert(strstr(err, "Scenario 'nope' not found at "), "%s", err);
    cr_assert_eq(alc_eval_store_scenario_read(g_home, "../one", &text, &len, &path, err, sizeof err), ALC_E_INVAL);

    // errors
    char *empty = alc_test_tmpdir();
    cr_assert_eq(alc_eval_store_scenario_install(g_home, empty, &rep, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_str_eq(err, "No .lua scenario files found in source.");
    cr_assert_eq(alc_eval_store_scenario_install(g_home, "/nonexistent/dir", &rep, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_eq(alc_eval_store_scenario_install(g_home, "relative/path", &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_eq(alc_eval_store_scenario_install(g_home, "-oops", &rep, err, sizeof err), ALC_E_INVAL);
    cr_assert_null(rep);
    alc_test_rmtree(empty);
    alc_test_rmtree(src);
    alc_test_rmtree(src2);
    free(empty);
    free(src);
    free(src2);
    ALC_ASSERT_NO_LEAKS();
}
