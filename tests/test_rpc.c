/* Unit tests for JSON-RPC validation and line building (src/server/rpc.c). */
#include "alc/error.h"
#include "alc/rpc.h"
#include "helpers.h"

static int parse(const char *line, alc_rpc_msg *m, char **err) {
    size_t n;
    return alc_rpc_parse(line, strlen(line), m, err, &n);
}

/* Parses a line that must fail and returns its error object (cJSON). */
static cJSON *expect_error(const char *line, int code) {
    alc_rpc_msg m;
    char *err = NULL;
    int rc = parse(line, &m, &err);
    cr_assert_neq(rc, ALC_OK, "expected a failure for %s", line);
    cr_assert_not_null(err, "an error reply is expected for %s", line);
    cJSON *j = cJSON_Parse(err);
    free(err);
    cr_assert_not_null(j);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_eq((int)cJSON_GetObjectItem(e, "code")->valuedouble, code, "code for %s", line);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(e, "message")));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "jsonrpc")->valuestring, "2.0");
    return j;
}

Test(rpc, request_notification_and_response_are_told_apart) {
    alc_rpc_msg m;
    char *err = NULL;
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", &m, &err), ALC_OK);
    cr_assert_eq(m.kind, ALC_MSG_REQUEST);
    cr_assert_str_eq(m.method, "ping");
    cr_assert_eq(m.id->valuedouble, 0);
    alc_rpc_msg_deinit(&m);
    cr_assert_eq(parse("{\"method\":\"notifications/initialized\",\"jsonrpc\":\"2.0\"}", &m, &err), ALC_OK);
    cr_assert_eq(m.kind, ALC_MSG_NOTIFICATION);
    cr_assert_null(m.id);
    alc_rpc_msg_deinit(&m);
    cr_assert_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}", &m, &err), ALC_OK);
    cr_assert_eq(m.kind, ALC_MSG_RESPONSE);
    alc_rpc_msg_deinit(&m);
    ALC_ASSERT_NO_LEAKS();
}

Test(rpc, parse_errors_have_no_id) {
    const char *bad[] = {"not json", "{\"jsonrpc\":\"2.0\",\"id\":1", "{\"a\":1} trailing", "{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"ping\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *j = expect_error(bad[i], -32700);
        cr_assert_null(cJSON_GetObjectItem(j, "id"), "no id for %s", bad[i]);
        cJSON_Delete(j);
    }
}

Test(rpc, nul_byte_is_a_parse_error) {
    const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\0ng\"}";
    alc_rpc_msg m;
    char *err = NULL;
    size_t n;
    cr_assert_eq(alc_rpc_parse(line, sizeof line - 1, &m, &err, &n), ALC_E_PARSE);
    cr_assert_not_null(strstr(err, "-32700"));
    free(err);
}

Test(rpc, invalid_requests_keep_a_readable_id_and_drop_an_invalid_one) {
    struct { const char *line; bool has_id; } rows[] = {
        {"{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"ping\"}", true},
        {"{\"id\":3,\"method\":\"ping\"}", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":7.5,\"method\":\"ping\"}", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":5}", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"extra\":1}", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":[1]}", true},
        {"{\"jsonrpc\":\"2.0\",\"id\":3,\"id\":4,\"method\":\"ping\"}", true},
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", false},
        {"42", false},
        {"{\"jsonrpc\":\"2.0\",\"id\":1e300,\"method\":\"ping\"}", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        cJSON *j = expect_error(rows[i].line, -32600);
        cr_assert_eq(cJSON_GetObjectItem(j, "id") != NULL, rows[i].has_id, "id presence for %s", rows[i].line);
        cJSON_Delete(j);
    }
}

Test(rpc, ids_are_echoed_with_their_json_type) {
    const char *ids[] = {"0", "7", "\"7\"", "\"s-6\"", "9007199254740991", "-5", "\"\""};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char line[128];
        snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", ids[i]);
        alc_rpc_msg m;
        char *err = NULL;
        cr_assert_eq(parse(line, &m, &err), ALC_OK, "%s", line);
        size_t n;
        char *out = alc_rpc_result_line(m.id, "{}", &n);
        char want[128];
        snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids[i]);
        cr_assert_str_eq(out, want);
        cr_assert_eq(n, strlen(want));
        free(out);
        alc_rpc_msg_deinit(&m);
    }
}

Test(rpc, error_objects_have_code_message_and_optional_data) {
    cJSON *id = cJSON_CreateString("a");
    size_t n;
    char *line = alc_rpc_error_line(id, -32601, "Method not found: x", NULL, &n);
    cr_assert_str_eq(line, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32601,\"message\":\"Method not found: x\"}}");
    free(line);
    line = alc_rpc_error_line(NULL, -32700, "bad \"quote\"\n", "{\"k\":1}", &n);
    cr_assert_str_eq(line, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"bad \\\"quote\\\"\\n\",\"data\":{\"k\":1}}}");
    free(line);
    cJSON_Delete(id);
}

Test(rpc, tool_results_escape_text_and_never_contain_a_raw_newline) {
    cJSON *id = cJSON_CreateNumber(4);
    size_t n;
    const char text[] = "line1\nline2\t\x01 \xe2\x82\xac end";
    char *line = alc_rpc_tool_result_line(id, text, sizeof text - 1, true, &n);
    cr_assert_null(strchr(line, '\n'));
    cJSON *j = cJSON_Parse(line);
    cr_assert_not_null(j);
    const cJSON *r = cJSON_GetObjectItem(j, "result");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "isError")));
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "content"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(c0, "type")->valuestring, "text");
    cr_assert_str_eq(cJSON_GetObjectItem(c0, "text")->valuestring, text);
    cJSON_Delete(j);
    free(line);
    cJSON_Delete(id);
}

Test(rpc, invalid_utf8_in_output_text_becomes_replacement_characters) {
    cJSON *id = cJSON_CreateNumber(1);
    size_t n;
    char *line = alc_rpc_tool_result_line(id, "a\xffz", 3, false, &n);
    cr_assert_not_null(strstr(line, "a\xef\xbf\xbdz"));
    cr_assert(alc_utf8_valid(line, n));
    free(line);
    cJSON_Delete(id);
}

Test(rpc, json_keys_are_sorted_recursively) {
    cJSON *t = cJSON_Parse("{\"b\":1,\"a\":{\"z\":1,\"c\":2},\"c\":[{\"y\":1,\"x\":2}]}");
    char *s = alc_json_print_sorted(t);
    cr_assert_str_eq(s, "{\"a\":{\"c\":2,\"z\":1},\"b\":1,\"c\":[{\"x\":2,\"y\":1}]}");
    free(s);
    cJSON_Delete(t);
}

/* Parses a ping request whose params.s is the JSON string literal `lit` (escapes included)
 * and returns the decoded value (new). */
static char *string_of(const char *lit) {
    char line[256];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"s\":\"%s\"}}", lit);
    alc_rpc_msg m;
    char *err = NULL;
    int rc = parse(line, &m, &err);
    cr_assert_eq(rc, ALC_OK, "%s: %s", line, err ? err : "");
    const cJSON *v_ = cJSON_GetObjectItem(m.params, "s");
    cr_assert(cJSON_IsString(v_));
    char *v = strdup(v_->valuestring);
    alc_rpc_msg_deinit(&m);
    return v;
}

Test(rpc, lone_surrogate_escapes_become_u_fffd_and_pairs_stay) {
    static const struct { const char *lit, *want; } cases[] = {
        {"a\\ud800b", "a\xEF\xBF\xBD" "b"},                      /* lone high */
        {"\\udc00", "\xEF\xBF\xBD"},                              /* lone low */
        {"\\uDBFF", "\xEF\xBF\xBD"},                              /* upper case, at the end */
        {"\\udc00\\ud800", "\xEF\xBF\xBD\xEF\xBF\xBD"},           /* a pair in the wrong order */
        {"\\ud800\\ud800\\udc00", "\xEF\xBF\xBD\xF0\x90\x80\x80"}, /* lone high, then a pair */
        {"\\ud83d\\ude00", "\xF0\x9F\x98\x80"},                   /* a pair: U+1F600 */
        {"\\ud83d\\u0041", "\xEF\xBF\xBD" "A"},                   /* high followed by a non-surrogate */
        {"\\\\ud800", "\\ud800"},                                 /* an escaped backslash, then text */
        {"\\\\\\ud800", "\\\xEF\xBF\xBD"},                        /* escaped backslash, then a lone one */
        {"\\u00e9", "\xC3\xA9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = string_of(cases[i].lit);
        cr_assert_str_eq(got, cases[i].want, "string \"%s\"", cases[i].lit);
        free(got);
    }
    ALC_ASSERT_NO_LEAKS();
}

Test(rpc, u0000_is_refused_with_the_id_and_broken_json_stays_a_parse_error) {
    cJSON *j = expect_error("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\",\"params\":{\"a\":\"b\\u0000c\\ud800\"}}", -32602);
    cr_assert_eq(cJSON_GetObjectItem(j, "id")->valuedouble, 7);
    cJSON_Delete(j);
    /* \u0000 in a line that is not JSON: a parse error, without an id */
    j = expect_error("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\\u0000\"", -32700);
    cr_assert_null(cJSON_GetObjectItem(j, "id"));
    cJSON_Delete(j);
    /* a truncated escape is still a parse error */
    j = expect_error("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"\\ud8", -32700);
    cJSON_Delete(j);
    ALC_ASSERT_NO_LEAKS();
}

Test(rpc, a_lone_surrogate_in_a_string_id_is_refused_without_the_id) {
    /* repaired, the id would no longer match the one the client waits for */
    cJSON *j = expect_error("{\"jsonrpc\":\"2.0\",\"id\":\"q\\ud800\",\"method\":\"ping\"}", -32600);
    cr_assert_null(cJSON_GetObjectItem(j, "id"));
    cr_assert(strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message")->valuestring, "surrogate"));
    cJSON_Delete(j);
    ALC_ASSERT_NO_LEAKS();
}
