/*
 * test_replay.c — the normaliser, first-difference finder and line diff behind `alc replay`
 * (src/cli/replay_norm.c). The process side of replay is covered by the `transcripts` e2e test.
 */
#include "helpers.h"

#include "alc/replay.h"

#define SID_A "s-0123456789abcdef0123456789abcdef"
#define SID_B "s-fedcba9876543210fedcba9876543210"

/* Normalises the JSON text js with n and returns the printed result (malloc'd). */
static char *norm(alc_replay_norm *n, const char *js) {
    cJSON *m = cJSON_Parse(js);
    cr_assert_not_null(m, "test input is not JSON: %s", js);
    char *out = alc_replay_normalize_text(n, m);
    cJSON_Delete(m);
    cr_assert_not_null(out);
    return out;
}

static void expect_norm(alc_replay_norm *n, const char *in, const char *want) {
    char *got = norm(n, in);
    cr_expect_str_eq(got, want);
    free(got);
}

Test(replay, session_ids_are_numbered_in_order_of_first_appearance_across_messages) {
    alc_replay_norm *n = alc_replay_norm_new();
    cr_assert_not_null(n);
    expect_norm(n, "{\"session_id\":\"" SID_B "\"}", "{\"session_id\":\"<session-1>\"}");
    expect_norm(n, "{\"a\":\"" SID_A "\",\"b\":\"" SID_B "\"}", "{\"a\":\"<session-2>\",\"b\":\"<session-1>\"}");
    expect_norm(n, "[\"" SID_A "\"]", "[\"<session-2>\"]");
    alc_replay_norm_free(n);
    ALC_ASSERT_NO_LEAKS();
}

Test(replay, two_runs_with_different_ids_normalise_to_the_same_text) {
    alc_replay_norm *x = alc_replay_norm_new(), *y = alc_replay_norm_new();
    char *a = norm(x, "{\"id\":1,\"result\":{\"s\":\"" SID_A "\",\"t\":\"" SID_B "\"}}");
    char *b = norm(y, "{\"id\":1,\"result\":{\"s\":\"" SID_B "\",\"t\":\"" SID_A "\"}}");
    cr_expect_str_eq(a, b);
    free(a);
    free(b);
    alc_replay_norm_free(x);
    alc_replay_norm_free(y);
}

Test(replay, ids_inside_prose_get_the_same_number_as_elsewhere) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "{\"session_id\":\"" SID_A "\"}", "{\"session_id\":\"<session-1>\"}");
    expect_norm(n, "{\"text\":\"Continue failed: session '" SID_A "' not found\"}",
                "{\"text\":\"Continue failed: session '<session-1>' not found\"}");
    alc_replay_norm_free(n);
}

Test(replay, json_text_inside_content_is_parsed_and_normalised) {
    alc_replay_norm *n = alc_replay_norm_new();
    const char *msg =
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"{\\\"status\\\":\\\"completed\\\",\\\"session_id\\\":\\\"" SID_A "\\\",\\\"stats\\\":{\\\"auto\\\":{\\\"elapsed_ms\\\":17}}}\"}],"
        "\"isError\":false}}";
    expect_norm(n, msg,
                "{\"id\":3,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":{\"session_id\":\"<session-1>\","
                "\"stats\":{\"auto\":{\"elapsed_ms\":\"<elapsed>\"}},\"status\":\"completed\"},\"type\":\"text\"}],"
                "\"isError\":false}}");
    alc_replay_norm_free(n);
}

Test(replay, text_that_is_not_a_json_object_stays_a_string) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "{\"text\":\"{not json\"}", "{\"text\":\"{not json\"}");
    expect_norm(n, "{\"text\":\"42\"}", "{\"text\":\"42\"}");
    expect_norm(n, "{\"text\":\"\"}", "{\"text\":\"\"}");
    alc_replay_norm_free(n);
}

Test(replay, timestamps_become_ts_but_null_and_other_numbers_stay) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n,
                "{\"started_at\":1795524658231,\"last_activity_at\":1,\"requested_at\":2,\"ts\":3,\"at\":4,"
                "\"ended_at\":5,\"started_waiting_at\":6,\"completed_at\":null,\"timestamp\":\"2026-01-01T00:00:00Z\","
                "\"seq\":7,\"max_tokens\":1024}",
                "{\"at\":\"<ts>\",\"completed_at\":null,\"ended_at\":\"<ts>\",\"last_activity_at\":\"<ts>\","
                "\"max_tokens\":1024,\"requested_at\":\"<ts>\",\"seq\":7,\"started_at\":\"<ts>\","
                "\"started_waiting_at\":\"<ts>\",\"timestamp\":\"<ts>\",\"ts\":\"<ts>\"}");
    alc_replay_norm_free(n);
}

Test(replay, elapsed_ms_becomes_elapsed_at_any_depth) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "{\"a\":[{\"elapsed_ms\":12},{\"b\":{\"elapsed_ms\":0}}],\"max_elapsed_ms\":500}",
                "{\"a\":[{\"elapsed_ms\":\"<elapsed>\"},{\"b\":{\"elapsed_ms\":\"<elapsed>\"}}],\"max_elapsed_ms\":500}");
    alc_replay_norm_free(n);
}

Test(replay, home_path_is_replaced_in_strings_and_nested_json) {
    alc_replay_norm *n = alc_replay_norm_new();
    cr_assert_eq(alc_replay_norm_set_home(n, "/tmp/alc-replay-abc/home/"), 0);
    expect_norm(n, "{\"alc_home\":\"/tmp/alc-replay-abc/home\",\"log_dir\":\"/tmp/alc-replay-abc/home/logs\"}",
                "{\"alc_home\":\"<home>\",\"log_dir\":\"<home>/logs\"}");
    expect_norm(n, "{\"text\":\"{\\\"packages_dir\\\":\\\"/tmp/alc-replay-abc/home/packages\\\"}\"}",
                "{\"text\":{\"packages_dir\":\"<home>/packages\"}}");
    expect_norm(n, "{\"m\":\"Searched: /tmp/alc-replay-abc/home/packages. Install it\"}",
                "{\"m\":\"Searched: <home>/packages. Install it\"}");
    alc_replay_norm_free(n);
}

Test(replay, a_longer_name_that_starts_with_the_home_path_is_left_alone) {
    alc_replay_norm *n = alc_replay_norm_new();
    alc_replay_norm_set_home(n, "/x/home");
    expect_norm(n, "[\"/x/home2/a\",\"/x/home\"]", "[\"/x/home2/a\",\"<home>\"]");
    cr_assert_eq(alc_replay_norm_set_home(n, NULL), 0);
    expect_norm(n, "[\"/x/home\"]", "[\"/x/home\"]");
    alc_replay_norm_free(n);
}

Test(replay, other_directories_get_their_own_names_and_the_longest_match_wins) {
    alc_replay_norm *n = alc_replay_norm_new();
    cr_assert_eq(alc_replay_norm_set_path(n, "bundled", "/src/alc/packages"), 0);
    cr_assert_eq(alc_replay_norm_set_path(n, "bindir", "/src/alc/build"), 0);
    cr_assert_eq(alc_replay_norm_set_path(n, "root", "/src/alc"), 0);
    expect_norm(n, "[\"installed from /src/alc/packages (15 packages)\",\"/src/alc/build/../share\",\"/src/alc/README.md\"]",
                "[\"installed from <bundled> (15 packages)\",\"<bindir>/../share\",\"<root>/README.md\"]");
    cr_assert_eq(alc_replay_norm_set_path(n, "bundled", NULL), 0);
    expect_norm(n, "[\"/src/alc/packages\"]", "[\"<root>/packages\"]");
    cr_assert_eq(alc_replay_norm_set_path(n, "root", "/"), 0); /* too broad: ignored */
    expect_norm(n, "[\"/src/alc/packages\"]", "[\"/src/alc/packages\"]");
    alc_replay_norm_free(n);
    ALC_ASSERT_NO_LEAKS();
}

Test(replay, things_that_only_look_like_session_ids_are_left_alone) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "[\"s-0123\",\"xs-0123456789abcdef0123456789abcdef\",\"s-0123456789ABCDEF0123456789abcdef\","
                   "\"" SID_A "0\"]",
                "[\"s-0123\",\"xs-0123456789abcdef0123456789abcdef\",\"s-0123456789ABCDEF0123456789abcdef\","
                "\"" SID_A "0\"]");
    alc_replay_norm_free(n);
}

Test(replay, ids_in_object_keys_are_mapped_too) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "{\"" SID_A "\":1,\"x\":\"" SID_A "\"}", "{\"<session-1>\":1,\"x\":\"<session-1>\"}");
    alc_replay_norm_free(n);
}

Test(replay, heartbeat_messages_lose_their_seconds) {
    alc_replay_norm *n = alc_replay_norm_new();
    expect_norm(n, "{\"message\":\"running (20 s elapsed)\"}", "{\"message\":\"running (<n> s elapsed)\"}");
    expect_norm(n, "{\"message\":\"running (x s elapsed)\"}", "{\"message\":\"running (x s elapsed)\"}");
    expect_norm(n, "{\"message\":\"step 1/2: half\"}", "{\"message\":\"step 1/2: half\"}");
    alc_replay_norm_free(n);
}

Test(replay, key_order_does_not_matter) {
    alc_replay_norm *x = alc_replay_norm_new(), *y = alc_replay_norm_new();
    char *a = norm(x, "{\"b\":{\"d\":\"" SID_B "\",\"c\":\"" SID_A "\"},\"a\":1}");
    char *b = norm(y, "{\"a\":1,\"b\":{\"c\":\"" SID_A "\",\"d\":\"" SID_B "\"}}");
    cr_expect_str_eq(a, b);
    cr_expect_str_eq(a, "{\"a\":1,\"b\":{\"c\":\"<session-1>\",\"d\":\"<session-2>\"}}");
    free(a);
    free(b);
    alc_replay_norm_free(x);
    alc_replay_norm_free(y);
}

Test(replay, a_top_level_string_is_normalised_and_the_input_is_not_modified) {
    alc_replay_norm *n = alc_replay_norm_new();
    cJSON *s = cJSON_CreateString("line " SID_A);
    char *out = alc_replay_normalize_text(n, s);
    cr_expect_str_eq(out, "\"line <session-1>\"");
    cr_expect_str_eq(s->valuestring, "line " SID_A);
    free(out);
    cJSON_Delete(s);
    cr_expect_null(alc_replay_normalize(n, NULL));
    alc_replay_norm_free(n);
    alc_replay_norm_free(NULL);
    ALC_ASSERT_NO_LEAKS();
}

Test(replay, first_difference_names_the_path_and_both_values) {
    cJSON *a = cJSON_Parse("{\"result\":{\"content\":[{\"text\":{\"status\":\"completed\"}}]}}");
    cJSON *b = cJSON_Parse("{\"result\":{\"content\":[{\"text\":{\"status\":\"error\"}}]}}");
    char buf[300];
    cr_assert(alc_replay_first_difference(a, b, buf, sizeof buf));
    cr_expect(strstr(buf, "result.content[0].text.status") != NULL, "%s", buf);
    cr_expect(strstr(buf, "\"completed\"") && strstr(buf, "\"error\""), "%s", buf);
    cr_expect_not(alc_replay_first_difference(a, a, buf, sizeof buf));
    cr_expect_str_eq(buf, "");
    cJSON_Delete(a);
    cJSON_Delete(b);
}

Test(replay, first_difference_reports_missing_extra_members_and_lengths) {
    cJSON *a = cJSON_Parse("{\"a\":1,\"b\":[1,2]}"), *b = cJSON_Parse("{\"b\":[1,2]}");
    cJSON *c = cJSON_Parse("{\"a\":1,\"b\":[1,2,3]}"), *d = cJSON_Parse("{\"a\":1,\"b\":[1,2],\"z\":true}");
    char buf[300];
    cr_assert(alc_replay_first_difference(a, b, buf, sizeof buf));
    cr_expect(strstr(buf, "a: missing") != NULL, "%s", buf);
    cr_assert(alc_replay_first_difference(a, c, buf, sizeof buf));
    cr_expect(strstr(buf, "b: expected 2 elements, got 3") != NULL, "%s", buf);
    cr_assert(alc_replay_first_difference(a, d, buf, sizeof buf));
    cr_expect(strstr(buf, "z: not expected") != NULL, "%s", buf);
    cr_assert(alc_replay_first_difference(a, NULL, buf, sizeof buf));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
}

/* Runs the diff into a string. */
static char *diff_text(const char *const *a, size_t na, const char *const *b, size_t nb, size_t *changed) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    *changed = alc_replay_diff(f, a, na, b, nb, 0);
    fclose(f);
    return buf;
}

Test(replay, diff_of_equal_lists_is_empty) {
    const char *a[] = {"{\"a\":1}", "{\"b\":2}"};
    size_t changed = 99;
    char *out = diff_text(a, 2, a, 2, &changed);
    cr_expect_eq(changed, 0);
    cr_expect_str_eq(out, "");
    free(out);
}

Test(replay, diff_shows_changed_missing_and_extra_messages_with_a_hint) {
    const char *a[] = {"{\"id\":1}", "{\"id\":2,\"r\":\"x\"}", "{\"id\":3}", "{\"id\":4}"};
    const char *b[] = {"{\"id\":1}", "{\"id\":2,\"r\":\"y\"}", "{\"id\":4}", "{\"id\":5}"};
    size_t changed = 0;
    char *out = diff_text(a, 4, b, 4, &changed);
    cr_expect_eq(changed, 4, "changed %zu:\n%s", changed, out);
    cr_expect(strstr(out, "\n-{\"id\":2,\"r\":\"x\"}\n") != NULL, "%s", out);
    cr_expect(strstr(out, "\n+{\"id\":2,\"r\":\"y\"}\n") != NULL, "%s", out);
    cr_expect(strstr(out, "-{\"id\":3}\n") != NULL, "%s", out);
    cr_expect(strstr(out, "+{\"id\":5}\n") != NULL, "%s", out);
    cr_expect(strstr(out, " {\"id\":4}\n") != NULL, "%s", out);
    cr_expect(strstr(out, "r: strings differ at byte 0: expected \"x\", got \"y\"") != NULL, "%s", out);
    cr_expect(strncmp(out, "@@ -1,", 6) == 0, "%s", out);
    free(out);
}

Test(replay, diff_against_an_empty_side_lists_every_line) {
    const char *a[] = {"{\"id\":1}", "{\"id\":2}"};
    size_t changed = 0;
    char *out = diff_text(a, 2, NULL, 0, &changed);
    cr_expect_eq(changed, 2);
    cr_expect(strstr(out, "-{\"id\":1}\n-{\"id\":2}\n") != NULL, "%s", out);
    free(out);
    out = diff_text(NULL, 0, a, 2, &changed);
    cr_expect_eq(changed, 2);
    cr_expect(strstr(out, "+{\"id\":1}\n+{\"id\":2}\n") != NULL, "%s", out);
    free(out);
}

Test(replay, long_lines_are_shortened_when_a_width_is_given) {
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *a[] = {big}, *b[] = {"x"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_expect_eq(alc_replay_diff(f, a, 1, b, 1, 100), 2);
    fclose(f);
    cr_expect(strstr(buf, "(2899 more characters)") != NULL, "%s", buf);
    cr_expect(len < 400, "output is %zu bytes", len);
    free(buf);
}
