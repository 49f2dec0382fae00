/* Unit tests for Lua <-> JSON conversion (include/alc/json_conv.h). */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>

#include "alc/error.h"
#include "alc/json_conv.h"
#include "helpers.h"

/* ---- helpers ---------------------------------------------------------------------------- */

// A state with the standard libraries and a global `alc` holding null, json_encode, json_decode.
static lua_State *new_state(void) {
    lua_State *L = luaL_newstate();
    cr_assert_not_null(L);
    luaL_openlibs(L);
    alc_json_conv_open(L);
    lua_newtable(L);
    alc_json_push_null(L);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, alc_lua_json_encode);
    lua_setfield(L, -2, "json_encode");
    lua_pushcfunction(L, alc_lua_json_decode);
    lua_setfield(L, -2, "json_decode");
    lua_setglobal(L, "alc");
    return L;
}

// Runs a chunk that must succeed; its results stay on the stack.
static void run(lua_State *L, const char *code) {
    int rc = luaL_dostring(L, code);
    cr_assert_eq(rc, LUA_OK, "chunk failed: %s\n%s", lua_tostring(L, -1), code);
}

typedef struct {
    int n;
    char msgs[32][512];
} warns;

static void record_warning(void *ud, const char *msg) {
    warns *w = ud;
    if (w->n < 32) snprintf(w->msgs[w->n], sizeof w->msgs[0], "%s", msg);
    w->n++;
}

// Evaluates `code` (a chunk returning one value), encodes it and compares with expected.
static void assert_encodes_w(lua_State *L, const char *code, const char *expected, warns *w) {
    run(L, code);
    int top = lua_gettop(L);
    char *out = NULL, err[256];
    size_t len = 0;
    int rc = alc_json_encode_lua(L, -1, &out, &len, w ? record_warning : NULL, w, err, sizeof err);
    cr_assert_eq(rc, ALC_OK, "encode of %s failed: %s", code, err);
    cr_assert_eq(lua_gettop(L), top, "encoder changed the stack");
    cr_assert_eq(strlen(out), len);
    cr_assert_str_eq(out, expected, "encode of %s", code);
    free(out);
    lua_pop(L, 1);
}

static void assert_encodes(lua_State *L, const char *code, const char *expected) {
    assert_encodes_w(L, code, expected, NULL);
}

// Evaluates `code`, expects the encode to fail with rc and an error containing `needle`.
static void assert_encode_fails(lua_State *L, const char *code, int want_rc, const char *needle) {
    run(L, code);
    int top = lua_gettop(L);
    char *out = (char *)"sentinel", err[256] = "unset";
    size_t len = 99;
    int rc = alc_json_encode_lua(L, -1, &out, &len, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, want_rc, "encode of %s: rc %d (%s)", code, rc, err);
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert_eq(lua_gettop(L), top);
    cr_assert(strstr(err, needle) != NULL, "error '%s' lacks '%s'", err, needle);
    lua_pop(L, 1);
}

// Decodes text (with explicit length), re-encodes and compares with expected.
static void assert_roundtrip_len(lua_State *L, const char *text, size_t tlen, const char *expected) {
    char err[256] = "";
    int top = lua_gettop(L);
    int rc = alc_json_decode_push(L, text, tlen, err, sizeof err);
    cr_assert_eq(rc, ALC_OK, "decode of %s failed: %s", text, err);
    cr_assert_eq(lua_gettop(L), top + 1);
    char *out = NULL;
    size_t len = 0;
    rc = alc_json_encode_lua(L, -1, &out, &len, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, ALC_OK, "re-encode of %s failed: %s", text, err);
    cr_assert_eq(len, strlen(expected), "length of %s: got %s", text, out);
    cr_assert(memcmp(out, expected, len) == 0, "round trip of %s gave %s", text, out);
    free(out);
    lua_pop(L, 1);
}

static void assert_roundtrip(lua_State *L, const char *text, const char *expected) {
    assert_roundtrip_len(L, text, strlen(text), expected);
}

static void assert_decode_fails_len(lua_State *L, const char *text, size_t tlen, const char *needle) {
    char err[256] = "";
    int top = lua_gettop(L);
    int rc = alc_json_decode_push(L, text, tlen, err, sizeof err);
    cr_assert_eq(rc, ALC_E_PARSE, "decode of '%s' should fail, rc %d", text, rc);
    cr_assert_eq(lua_gettop(L), top, "a failed decode pushed something");
    cr_assert(strstr(err, needle) != NULL, "decode of '%s': error '%s' lacks '%s'", text, err,
              needle);
    cr_assert(strncmp(err, "JSON parse error at byte ", 25) == 0, "bad prefix: %s", err);
}

static void assert_decode_fails(lua_State *L, const char *text, const char *needle) {
    assert_decode_fails_len(L, text, strlen(text), needle);
}

// Decodes text into global `v`.
static void decode_global(lua_State *L, const char *text) {
    char err[256] = "";
    int rc = alc_json_decode_push(L, text, strlen(text), err, sizeof err);
    cr_assert_eq(rc, ALC_OK, "decode of %s failed: %s", text, err);
    lua_setglobal(L, "v");
}

// Runs a chunk that must return true (a Lua-side assertion with a message on failure).
static void check(lua_State *L, const char *code) {
    run(L, code);
    cr_assert(lua_toboolean(L, -1), "check failed: %s", code);
    lua_pop(L, 1);
}

/* ---- sentinel and metatable -------------------------------------------------------------- */

Test(json_conv, null_sentinel_is_light_userdata_null_and_nothing_else_is_null) {
    lua_State *L = new_state();
    alc_json_push_null(L);
    cr_assert(alc_json_is_null(L, -1));
    cr_assert_eq(lua_type(L, -1), LUA_TLIGHTUSERDATA);
    static int other;
    lua_pushlightuserdata(L, &other);
    lua_pushnil(L);
    lua_pushinteger(L, 0);
    lua_pushboolean(L, 0);
    cr_assert_not(alc_json_is_null(L, -1));
    cr_assert_not(alc_json_is_null(L, -2));
    cr_assert_not(alc_json_is_null(L, -3));
    cr_assert_not(alc_json_is_null(L, -4));
    cr_assert(alc_json_is_null(L, -5));
    lua_close(L);
}

Test(json_conv, mark_array_makes_an_empty_table_encode_as_array) {
    lua_State *L = new_state();
    lua_newtable(L);
    alc_json_mark_array(L, -1);
    lua_setglobal(L, "arr");
    assert_encodes(L, "return arr", "[]");
    assert_encodes(L, "return {}", "{}");
    assert_encodes(L, "return {a = arr, b = {}}", "{\"a\":[],\"b\":{}}");
    lua_close(L);
}

/* ---- encoder: scalars and numbers -------------------------------------------------------- */

Test(json_conv, scalars_encode_to_their_json_forms) {
    lua_State *L = new_state();
    assert_encodes(L, "return nil", "null");
    assert_encodes(L, "return alc.null", "null");
    assert_encodes(L, "return true", "true");
    assert_encodes(L, "return false", "false");
    assert_encodes(L, "return 42", "42");
    assert_encodes(L, "return -7", "-7");
    assert_encodes(L, "return 1.5", "1.5");
    assert_encodes(L, "return 'hi'", "\"hi\"");
    assert_encodes(L, "return ''", "\"\"");
    lua_close(L);
}

Test(json_conv, integers_and_floats_keep_their_kind) {
    lua_State *L = new_state();
    assert_encodes(L, "return 1", "1");
    assert_encodes(L, "return 1.0", "1.0");
    assert_encodes(L, "return -0.0", "-0.0");
    assert_encodes(L, "return 100.0", "100.0");
    assert_encodes(L, "return math.maxinteger", "9223372036854775807");
    assert_encodes(L, "return math.mininteger", "-9223372036854775808");
    assert_encodes(L, "return 1e300", "1e+300");
    assert_encodes(L, "return 1e20", "1e+20");
    assert_encodes(L, "return 1e15", "1e+15");
    assert_encodes(L, "return 0.1", "0.1");
    assert_encodes(L, "return 0.1 + 0.2", "0.30000000000000004");
    assert_encodes(L, "return 2^53", "9007199254740992.0");
    assert_encodes(L, "return 5e-324", "4.94065645841247e-324");

    // Decoding keeps the distinction.
    check(L, "return math.type(alc.json_decode('1')) == 'integer'");
    check(L, "return math.type(alc.json_decode('1.0')) == 'float'");
    check(L, "return math.type(alc.json_decode('1e2')) == 'float'");
    check(L, "local z = alc.json_decode('-0') return math.type(z) == 'float' and 1/z == -math.huge");
    check(L, "return alc.json_decode('9223372036854775807') == math.maxinteger");
    check(L, "return alc.json_decode('-9223372036854775808') == math.mininteger");
    check(L, "local x = alc.json_decode('9223372036854775808') "
             "return math.type(x) == 'float' and x == 2^63");
    check(L, "return math.type(alc.json_decode('123456789012345678901234567890')) == 'float'");
    lua_close(L);
}

Test(json_conv, floats_round_trip_exactly_through_text) {
    lua_State *L = new_state();
    check(L, "for _, x in ipairs({0.1, 1/3, 2/3, 1e300, -1e-300, 123456.789, math.pi, 2^-1074,"
             "  1.7976931348623157e308, 0.30000000000000004, -0.0, 5e-324, 1e21}) do "
             "  local y = alc.json_decode(alc.json_encode(x)) "
             "  if y ~= x or math.type(y) ~= 'float' then return false end "
             "end return true");
    assert_roundtrip(L, "[1,1.0,-0.0,0.1,1e300,2.5e-8]", "[1,1.0,-0.0,0.1,1e+300,2.5e-08]");
    lua_close(L);
}

Test(json_conv, nan_and_infinity_encode_as_null_with_a_warning) {
    lua_State *L = new_state();
    warns w = {0};
    assert_encodes_w(L, "return {0/0, math.huge, -math.huge, 1.5}", "[null,null,null,1.5]", &w);
    cr_assert_eq(w.n, 3);
    cr_assert(strstr(w.msgs[0], "NaN at $[1]") != NULL, "%s", w.msgs[0]);
    cr_assert(strstr(w.msgs[1], "Infinity at $[2]") != NULL, "%s", w.msgs[1]);
    cr_assert(strstr(w.msgs[2], "-Infinity at $[3]") != NULL, "%s", w.msgs[2]);
    cr_assert(strstr(w.msgs[0], "encoded as null") != NULL, "%s", w.msgs[0]);
    lua_close(L);
}

Test(json_conv, warnings_are_capped_with_a_suppressed_count) {
    lua_State *L = new_state();
    warns w = {0};
    assert_encodes_w(L, "local t = {} for i = 1, 15 do t[i] = 0/0 end return t",
                     "[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null]",
                     &w);
    cr_assert_eq(w.n, ALC_JSON_MAX_WARNINGS + 1);
    cr_assert_str_eq(w.msgs[ALC_JSON_MAX_WARNINGS], "5 further warnings suppressed");
    lua_close(L);
}

/* ---- encoder: strings -------------------------------------------------------------------- */

Test(json_conv, strings_escape_quotes_backslashes_and_control_characters) {
    lua_State *L = new_state();
    assert_encodes(L, "return 'a\"b\\\\c'", "\"a\\\"b\\\\c\"");
    assert_encodes(L, "return '\\n\\r\\t\\b\\f'", "\"\\n\\r\\t\\b\\f\"");
    assert_encodes(L, "return '\\1\\31\\0'", "\"\\u0001\\u001f\\u0000\"");
    assert_encodes(L, "return '\\127/'", "\"\x7f/\"");
    assert_encodes(L, "return 'caf\\u{e9} \\u{1F600} \\u{20AC}'",
                   "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"");
    lua_close(L);
}

Test(json_conv, invalid_utf8_is_replaced_with_a_warning_in_values_and_keys) {
    lua_State *L = new_state();
    warns w = {0};
    assert_encodes_w(L, "return {s = 'a\\xffb\\xc0\\xaf', ['k\\xfe'] = 1}",
                     "{\"k\xef\xbf\xbd\":1,\"s\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"}", &w);
    cr_assert_eq(w.n, 2);
    int saw_s = 0;
    for (int i = 0; i < 2; i++) {
        cr_assert(strstr(w.msgs[i], "invalid UTF-8") != NULL, "%s", w.msgs[i]);
        if (strstr(w.msgs[i], "at $.s: 3 bytes replaced by U+FFFD")) saw_s = 1;
    }
    cr_assert(saw_s, "no warning naming $.s: %s / %s", w.msgs[0], w.msgs[1]);

    // Surrogates encoded in UTF-8 and truncated sequences are invalid too.
    w.n = 0;
    assert_encodes_w(L, "return '\\xed\\xa0\\x80|\\xe2\\x82'",
                     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"", &w);
    cr_assert_eq(w.n, 1);
    lua_close(L);
}

Test(json_conv, embedded_nul_survives_decode_and_encode) {
    lua_State *L = new_state();
    decode_global(L, "\"a\\u0000b\"");
    check(L, "return #v == 3 and v:byte(2) == 0 and v == 'a\\0b'");
    assert_encodes(L, "return v", "\"a\\u0000b\"");
    decode_global(L, "{\"k\\u0000\":1}");
    check(L, "return v['k\\0'] == 1");
    lua_close(L);
}

/* ---- encoder: tables --------------------------------------------------------------------- */

Test(json_conv, empty_plain_table_is_object_and_decoded_empty_array_stays_array) {
    lua_State *L = new_state();
    assert_encodes(L, "return {}", "{}");
    assert_roundtrip(L, "[]", "[]");
    assert_roundtrip(L, "{}", "{}");
    assert_roundtrip(L, " [ ] ", "[]");
    assert_roundtrip(L, "{\"a\":[],\"b\":{},\"c\":[[]]}", "{\"a\":[],\"b\":{},\"c\":[[]]}");
    check(L, "return getmetatable(alc.json_decode('[]')) ~= nil");
    check(L, "return getmetatable(alc.json_decode('{}')) == nil");
    lua_close(L);
}

Test(json_conv, sequences_encode_as_arrays_with_holes_as_null) {
    lua_State *L = new_state();
    assert_encodes(L, "return {1, 'two', true}", "[1,\"two\",true]");
    assert_encodes(L, "return {1, nil, 3}", "[1,null,3]");
    assert_encodes(L, "return {alc.null, alc.null}", "[null,null]");
    lua_close(L);
}

Test(json_conv, every_type_round_trips_through_text) {
    lua_State *L = new_state();
    const char *doc = "{\"a\":[1,2.5,\"x\",true,false,null,{},[]],\"b\":{\"c\":{\"d\":[[1],[2,[3]]]}},"
                      "\"n\":-12,\"s\":\"\\\"q\\\"\\n\",\"z\":null}";
    assert_roundtrip(L, doc, doc);
    assert_roundtrip(L, "\"str\"", "\"str\"");
    assert_roundtrip(L, "null", "null");
    assert_roundtrip(L, "true", "true");
    assert_roundtrip(L, "false", "false");
    assert_roundtrip(L, "-3", "-3");
    assert_roundtrip(L, "\t\r\n 7 \n", "7");
    lua_close(L);
}

Test(json_conv, nested_values_decode_to_the_expected_lua_shapes) {
    lua_State *L = new_state();
    decode_global(L, "{\"steps\":[{\"name\":\"a\",\"score\":0.5},{\"name\":\"b\",\"tags\":[]}],"
                     "\"meta\":{\"n\":2,\"none\":null}}");
    check(L, "return v.steps[1].name == 'a' and v.steps[1].score == 0.5 and v.steps[2].name == 'b'");
    check(L, "return #v.steps == 2 and #v.steps[2].tags == 0");
    check(L, "return math.type(v.meta.n) == 'integer' and v.meta.none == alc.null");
    check(L, "return type(v.meta.none) == 'userdata'");
    lua_close(L);
}

Test(json_conv, object_keys_are_sorted_by_byte_order) {
    lua_State *L = new_state();
    assert_encodes(L, "return {b = 1, a = 2, B = 3, ['a b'] = 4, aa = 5, [''] = 6, ['\\xc3\\xa9'] = 7}",
                   "{\"\":6,\"B\":3,\"a\":2,\"a b\":4,\"aa\":5,\"b\":1,\"\xc3\xa9\":7}");
    assert_roundtrip(L, "{\"z\":1,\"y\":{\"b\":1,\"a\":2},\"x\":[{\"d\":1,\"c\":2}]}",
                     "{\"x\":[{\"c\":2,\"d\":1}],\"y\":{\"a\":2,\"b\":1},\"z\":1}");
    lua_close(L);
}

Test(json_conv, mixed_table_encodes_the_array_part_and_warns_about_dropped_keys) {
    lua_State *L = new_state();
    warns w = {0};
    assert_encodes_w(L, "return {1, 2, x = 1, y = 2}", "[1,2]", &w);
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.msgs[0], "table at $ mixes array and non-array keys; 2 non-array keys dropped");

    w.n = 0;
    assert_encodes_w(L, "return {a = {'x', [10] = 'y'}}", "{\"a\":[\"x\"]}", &w);
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.msgs[0],
                     "table at $.a mixes array and non-array keys; 1 non-array key dropped");

    // A decoded array that gained a string key keeps encoding as an array.
    w.n = 0;
    decode_global(L, "[]");
    assert_encodes_w(L, "v.extra = true return v", "[]", &w);
    cr_assert_eq(w.n, 1);

    // Without a warn callback the result is the same.
    assert_encodes(L, "return {1, 2, x = 1}", "[1,2]");
    lua_close(L);
}

Test(json_conv, number_keys_become_decimal_string_keys) {
    lua_State *L = new_state();
    assert_encodes(L, "return {[5] = 'x'}", "{\"5\":\"x\"}");
    assert_encodes(L, "return {[-3] = 1, [10] = 2, [2] = 3}", "{\"-3\":1,\"10\":2,\"2\":3}");
    assert_encodes(L, "return {[1.5] = true, k = false}", "{\"1.5\":true,\"k\":false}");
    assert_encode_fails(L, "return {[5] = 1, ['5'] = 2}", ALC_E_INVAL, "duplicate object key \"5\"");
    assert_encode_fails(L, "return {[math.huge] = 1}", ALC_E_INVAL, "non-finite");
    lua_close(L);
}

Test(json_conv, unsupported_keys_and_values_fail_with_the_json_path) {
    lua_State *L = new_state();
    assert_encode_fails(L, "return {a = {1, print}}", ALC_E_INVAL,
                        "cannot encode value of type function at $.a[2]");
    assert_encode_fails(L, "return {[true] = 1}", ALC_E_INVAL,
                        "cannot encode table key of type boolean at $");
    assert_encode_fails(L, "return {x = {[{}] = 1}}", ALC_E_INVAL,
                        "cannot encode table key of type table at $.x");
    assert_encode_fails(L, "return {co = coroutine.create(print)}", ALC_E_INVAL,
                        "cannot encode value of type thread at $.co");
    assert_encode_fails(L, "return {['odd key'] = {io.stdout}}", ALC_E_INVAL,
                        "cannot encode value of type userdata at $[\"odd key\"][1]");
    assert_encode_fails(L, "return print", ALC_E_INVAL, "cannot encode value of type function at $");

    static int dummy;
    lua_pushlightuserdata(L, &dummy);
    lua_setglobal(L, "lud");
    assert_encode_fails(L, "return {lud}", ALC_E_INVAL, "cannot encode value of type userdata at $[1]");
    lua_close(L);
}

Test(json_conv, cycles_fail_but_shared_subtables_are_fine) {
    lua_State *L = new_state();
    assert_encode_fails(L, "local t = {} t.x = {} t.x.y = t return t", ALC_E_INVAL,
                        "cannot encode cyclic table at $.x.y");
    assert_encode_fails(L, "local t = {1} t[2] = t return t", ALC_E_INVAL,
                        "cannot encode cyclic table at $[2]");
    assert_encodes(L, "local s = {1} return {a = s, b = s, c = {s}}",
                   "{\"a\":[1],\"b\":[1],\"c\":[[1]]}");
    lua_close(L);
}

Test(json_conv, encoder_nesting_limit_is_200_tables) {
    lua_State *L = new_state();
    char code[160];
    snprintf(code, sizeof code, "local t = 1 for i = 1, %d do t = {t} end return t",
             ALC_JSON_MAX_DEPTH);
    run(L, code);
    char *out = NULL, err[256];
    size_t len = 0;
    cr_assert_eq(alc_json_encode_lua(L, -1, &out, &len, NULL, NULL, err, sizeof err), ALC_OK, "%s",
                 err);
    cr_assert_eq(len, 2 * ALC_JSON_MAX_DEPTH + 1);
    cr_assert_eq(out[0], '[');
    cr_assert_eq(out[ALC_JSON_MAX_DEPTH], '1');
    free(out);
    lua_pop(L, 1);

    snprintf(code, sizeof code, "local t = 1 for i = 1, %d do t = {t} end return t",
             ALC_JSON_MAX_DEPTH + 1);
    assert_encode_fails(L, code, ALC_E_LIMIT, "nesting too deep at $[1][1]");
    lua_close(L);
}

/* ---- decoder ----------------------------------------------------------------------------- */

Test(json_conv, decoder_nesting_limit_is_200_containers) {
    lua_State *L = new_state();
    int d = ALC_JSON_MAX_DEPTH;
    char *ok = malloc(2 * (size_t)d + 2), *bad = malloc(2 * (size_t)d + 4);
    cr_assert_not_null(ok);
    cr_assert_not_null(bad);
    for (int i = 0; i < d; i++) ok[i] = '[', ok[d + i] = ']';
    ok[2 * d] = '\0';
    for (int i = 0; i <= d; i++) bad[i] = '[', bad[d + 1 + i] = ']';
    bad[2 * d + 2] = '\0';
    assert_roundtrip(L, ok, ok);
    assert_decode_fails(L, bad, "nesting too deep");
    // Objects count too.
    char obj[2100] = "";
    for (int i = 0; i <= d; i++) strcat(obj, "{\"a\":");
    assert_decode_fails(L, obj, "at byte 1000: nesting too deep");
    free(ok);
    free(bad);
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

Test(json_conv, decoder_reports_position_and_reason) {
    lua_State *L = new_state();
    char err[256];
    const char *text = "{\"alpha\": 1, \"b\" 2}";
    cr_assert_eq(alc_json_decode_push(L, text, strlen(text), err, sizeof err), ALC_E_PARSE);
    cr_assert_str_eq(err, "JSON parse error at byte 17: expected ':'");
    text = "{\"alpha\": 1 \"b\": 2}";
    cr_assert_eq(alc_json_decode_push(L, text, strlen(text), err, sizeof err), ALC_E_PARSE);
    cr_assert_str_eq(err, "JSON parse error at byte 12: expected ',' or '}'");
    text = "[1 2]";
    cr_assert_eq(alc_json_decode_push(L, text, strlen(text), err, sizeof err), ALC_E_PARSE);
    cr_assert_str_eq(err, "JSON parse error at byte 3: expected ',' or ']'");
    cr_assert_eq(lua_gettop(L), 0);
    lua_close(L);
}

Test(json_conv, truncated_input_is_rejected) {
    lua_State *L = new_state();
    assert_decode_fails(L, "", "unexpected end of input");
    assert_decode_fails(L, "   ", "unexpected end of input");
    assert_decode_fails(L, "{", "unexpected end of input");
    assert_decode_fails(L, "{\"a\":", "unexpected end of input");
    assert_decode_fails(L, "{\"a\"", "unexpected end of input");
    assert_decode_fails(L, "[1,2", "unexpected end of input");
    assert_decode_fails(L, "[", "unexpected end of input");
    assert_decode_fails(L, "\"abc", "unterminated string");
    assert_decode_fails(L, "\"abc\\", "unterminated string");
    assert_decode_fails(L, "\"\\u12", "unterminated string");
    assert_decode_fails(L, "tru", "unexpected end of input");
    assert_decode_fails(L, "-", "invalid number");
    assert_decode_fails(L, "1.", "expected digit after '.'");
    assert_decode_fails(L, "1e", "expected digit in exponent");
    assert_decode_fails(L, "1e+", "expected digit in exponent");
    lua_close(L);
}

Test(json_conv, non_rfc_syntax_is_rejected) {
    lua_State *L = new_state();
    assert_decode_fails(L, "[1,]", "at byte 3: expected value");
    assert_decode_fails(L, "{\"a\":1,}", "at byte 7: expected string key");
    assert_decode_fails(L, "[,1]", "expected value");
    assert_decode_fails(L, "{'a':1}", "expected string key");
    assert_decode_fails(L, "{a:1}", "expected string key");
    assert_decode_fails(L, "/* c */ 1", "expected value");
    assert_decode_fails(L, "1 // c", "unexpected characters after the value");
    assert_decode_fails(L, "01", "leading zeros are not allowed");
    assert_decode_fails(L, "-01", "leading zeros are not allowed");
    assert_decode_fails(L, "+1", "expected value");
    assert_decode_fails(L, ".5", "expected value");
    assert_decode_fails(L, "NaN", "expected value");
    assert_decode_fails(L, "Infinity", "expected value");
    assert_decode_fails(L, "-Infinity", "invalid number");
    assert_decode_fails(L, "nul", "unexpected end of input");
    assert_decode_fails(L, "nulL", "expected value");
    assert_decode_fails(L, "True", "expected value");
    assert_decode_fails(L, "\xef\xbb\xbf{}", "expected value");   // a BOM is not whitespace
    assert_decode_fails(L, "1e400", "number out of range");
    assert_decode_fails(L, "[-1e999]", "at byte 1: number out of range");
    lua_close(L);
}

Test(json_conv, trailing_garbage_is_rejected) {
    lua_State *L = new_state();
    assert_decode_fails(L, "1 2", "at byte 2: unexpected characters after the value");
    assert_decode_fails(L, "{} x", "unexpected characters after the value");
    assert_decode_fails(L, "[]]", "unexpected characters after the value");
    assert_decode_fails(L, "nullx", "unexpected characters after the value");
    assert_decode_fails(L, "\"a\"\"b\"", "unexpected characters after the value");
    assert_decode_fails_len(L, "1\0", 2, "unexpected characters after the value");
    lua_close(L);
}

Test(json_conv, bad_escapes_control_characters_and_invalid_utf8_are_rejected) {
    lua_State *L = new_state();
    assert_decode_fails(L, "\"\\x41\"", "at byte 1: invalid escape");
    assert_decode_fails(L, "\"\\'\"", "invalid escape");
    assert_decode_fails(L, "\"\\U0041\"", "invalid escape");
    assert_decode_fails(L, "\"\\u12G4\"", "invalid \\u escape");
    assert_decode_fails(L, "\"a\nb\"", "at byte 2: control character in string");
    assert_decode_fails(L, "\"a\tb\"", "control character in string");
    assert_decode_fails_len(L, "\"a\0b\"", 5, "control character in string");
    assert_decode_fails(L, "\"\xff\"", "at byte 1: invalid UTF-8 in string");
    assert_decode_fails(L, "\"\xc0\xaf\"", "invalid UTF-8 in string");        // overlong '/'
    assert_decode_fails(L, "\"\xed\xa0\x80\"", "invalid UTF-8 in string");    // raw surrogate
    assert_decode_fails(L, "\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string"); // > U+10FFFF
    assert_decode_fails(L, "\"\xe2\x82\"", "invalid UTF-8 in string");        // truncated
    assert_decode_fails(L, "{\"k\xff\":1}", "invalid UTF-8 in string");
    lua_close(L);
}

Test(json_conv, unicode_escapes_and_surrogate_pairs_decode_to_utf8) {
    lua_State *L = new_state();
    assert_roundtrip(L, "\"\\u00e9\"", "\"\xc3\xa9\"");
    assert_roundtrip(L, "\"\\u20AC\"", "\"\xe2\x82\xac\"");
    assert_roundtrip(L, "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
    assert_roundtrip(L, "\"\\uD83D\\uDE00!\"", "\"\xf0\x9f\x98\x80!\"");
    assert_roundtrip(L, "\"\\u0041\\/\\\"\\\\\\b\\f\\n\\r\\t\"", "\"A/\\\"\\\\\\b\\f\\n\\r\\t\"");
    // Lone surrogates become U+FFFD instead of failing.
    assert_roundtrip(L, "\"\\ud800\"", "\"\xef\xbf\xbd\"");
    assert_roundtrip(L, "\"\\udc00x\"", "\"\xef\xbf\xbdx\"");
    assert_roundtrip(L, "\"\\ud800\\u0041\"", "\"\xef\xbf\xbd" "A\"");
    assert_roundtrip(L, "\"\\udc00\\ud800\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    // Raw UTF-8 passes through unchanged.
    assert_roundtrip(L, "\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"",
                     "\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"");
    lua_close(L);
}

Test(json_conv, duplicate_keys_keep_the_last_value) {
    lua_State *L = new_state();
    assert_roundtrip(L, "{\"a\":1,\"a\":2}", "{\"a\":2}");
    assert_roundtrip(L, "{\"a\":1,\"b\":0,\"a\":null}", "{\"a\":null,\"b\":0}");
    lua_close(L);
}

Test(json_conv, long_numbers_and_strings_decode) {
    lua_State *L = new_state();
    char num[400];
    memset(num, '0', sizeof num);
    memcpy(num, "0.", 2);
    num[sizeof num - 2] = '5';
    num[sizeof num - 1] = '\0';
    assert_roundtrip(L, num, "0.0");   // 5e-397 underflows to 0.0
    char big[302];
    memset(big, '0', sizeof big);
    big[0] = '1';
    big[sizeof big - 1] = '\0';
    assert_roundtrip(L, big, "1e+300");   // 301 digits: too big for int64, parsed as a float
    check(L, "local s = string.rep('x\\\\n', 5000) "
             "return alc.json_decode(alc.json_encode(s)) == s");
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

/* ---- cJSON -> Lua ------------------------------------------------------------------------ */

Test(json_conv, cjson_ctx_tree_converts_with_the_same_mapping) {
    lua_State *L = new_state();
    const char *text = "{\"task\":\"summarise\",\"n\":3,\"f\":2.5,\"big\":1e20,\"neg\":-4,"
                       "\"flags\":[true,false,null],\"empty_arr\":[],\"empty_obj\":{},"
                       "\"nested\":{\"k\":[1,{\"z\":null}]},\"max\":9007199254740993}";
    // With require_null_terminated the length must include the NUL.
    cJSON *j = cJSON_ParseWithLengthOpts(text, strlen(text) + 1, NULL, 1);
    cr_assert_not_null(j);
    alc_json_push_cjson(L, j);
    cJSON_Delete(j);
    cr_assert_eq(lua_gettop(L), 1);
    lua_setglobal(L, "ctx");
    check(L, "return ctx.task == 'summarise' and math.type(ctx.n) == 'integer' and ctx.n == 3");
    check(L, "return math.type(ctx.f) == 'float' and ctx.f == 2.5 and ctx.neg == -4");
    check(L, "return math.type(ctx.big) == 'float' and ctx.big == 1e20");
    check(L, "return math.type(ctx.max) == 'float'");   // beyond 2^53: kept as float
    check(L, "return ctx.flags[1] == true and ctx.flags[2] == false and ctx.flags[3] == alc.null");
    check(L, "return #ctx.flags == 3 and getmetatable(ctx.empty_arr) ~= nil");
    check(L, "return ctx.nested.k[2].z == alc.null");
    assert_encodes(L, "return ctx",
                   "{\"big\":1e+20,\"empty_arr\":[],\"empty_obj\":{},\"f\":2.5,"
                   "\"flags\":[true,false,null],\"max\":9007199254740992.0,\"n\":3,\"neg\":-4,"
                   "\"nested\":{\"k\":[1,{\"z\":null}]},\"task\":\"summarise\"}");
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

Test(json_conv, cjson_scalars_null_and_built_trees_convert) {
    lua_State *L = new_state();
    alc_json_push_cjson(L, NULL);
    cr_assert(alc_json_is_null(L, -1));
    cJSON *n = cJSON_CreateNull();
    alc_json_push_cjson(L, n);
    cr_assert(alc_json_is_null(L, -1));
    cJSON_Delete(n);
    cJSON *num = cJSON_CreateNumber(-0.0);
    alc_json_push_cjson(L, num);
    cr_assert(!lua_isinteger(L, -1));
    cJSON_Delete(num);
    num = cJSON_CreateNumber(7.0);
    alc_json_push_cjson(L, num);
    cr_assert(lua_isinteger(L, -1));
    cr_assert_eq(lua_tointeger(L, -1), 7);
    cJSON_Delete(num);
    lua_settop(L, 0);

    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_CreateString("x"));
    cJSON_AddItemToArray(arr, cJSON_CreateRaw("{\"r\":[1.0]}"));
    cJSON_AddItemToArray(arr, cJSON_CreateRaw("not json"));
    cJSON *empty = cJSON_CreateArray();
    alc_json_push_cjson(L, empty);
    lua_setglobal(L, "e");
    alc_json_push_cjson(L, arr);
    lua_setglobal(L, "a");
    cJSON_Delete(arr);
    cJSON_Delete(empty);
    assert_encodes(L, "return e", "[]");
    assert_encodes(L, "return a", "[\"x\",{\"r\":[1.0]},\"not json\"]");
    lua_close(L);
}

/* ---- Lua-facing functions ---------------------------------------------------------------- */

Test(json_conv, lua_json_decode_raises_and_pcall_returns_the_message) {
    lua_State *L = new_state();
    check(L, "local ok, err = pcall(alc.json_decode, '{') "
             "return ok == false and err == 'alc.json_decode: JSON parse error at byte 1: "
             "unexpected end of input'");
    check(L, "local ok, err = pcall(alc.json_decode, 'not json') "
             "return not ok and err:find('alc.json_decode: JSON parse error at byte 0', 1, true)");
    check(L, "local ok, err = pcall(alc.json_decode) return not ok and err:find('string expected')");
    check(L, "local v = alc.json_decode(' {\"a\": [1, 2, {\"b\": null}]} ') "
             "return v.a[3].b == alc.null and #v.a == 3");
    cr_assert_eq(lua_gettop(L), 0);
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

Test(json_conv, lua_json_encode_returns_text_and_raises_on_bad_values) {
    lua_State *L = new_state();
    check(L, "return alc.json_encode({b = {1, 2.0}, a = 'x'}) == '{\"a\":\"x\",\"b\":[1,2.0]}'");
    check(L, "return alc.json_encode(nil) == 'null' and alc.json_encode() == 'null'");
    check(L, "return alc.json_encode(alc.json_decode('[]')) == '[]'");
    check(L, "local ok, err = pcall(alc.json_encode, {f = print}) "
             "return ok == false and err == 'alc.json_encode: cannot encode value of type "
             "function at $.f'");
    check(L, "local t = {} t.self = t local ok, err = pcall(alc.json_encode, t) "
             "return not ok and err:find('cyclic table at $.self', 1, true)");
    check(L, "local v = {x = {1, 2, {y = 'z'}}, n = alc.null, e = alc.json_decode('[]')} "
             "local s = alc.json_encode(v) return alc.json_encode(alc.json_decode(s)) == s");
    cr_assert_eq(lua_gettop(L), 0);
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

Test(json_conv, lua_json_encode_passes_warnings_to_the_registry_hook) {
    lua_State *L = new_state();
    // Without a hook warnings are dropped silently.
    check(L, "return alc.json_encode({1, x = 2}) == '[1]'");
    run(L, "W = {} return function(m) W[#W + 1] = m end");
    lua_setfield(L, LUA_REGISTRYINDEX, ALC_JSON_WARN_FIELD);
    check(L, "return alc.json_encode({1, x = 2}) == '[1]'");
    check(L, "return #W == 1 and W[1] == 'alc.json_encode: table at $ mixes array and non-array "
             "keys; 1 non-array key dropped'");
    check(L, "return alc.json_encode({0/0}) == '[null]' and #W == 2 and W[2]:find('NaN at $[1]', 1, true)");
    // A hook that raises makes json_encode raise.
    run(L, "return function(m) error('hook says no') end");
    lua_setfield(L, LUA_REGISTRYINDEX, ALC_JSON_WARN_FIELD);
    check(L, "local ok, err = pcall(alc.json_encode, {0/0}) return not ok and err:find('hook says no')");
    check(L, "return alc.json_encode({1}) == '[1]'");   // no warning, no hook call
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}

/* ---- memory pressure --------------------------------------------------------------------- */

typedef struct {
    size_t used, limit;
} mem_budget;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    mem_budget *m = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        m->used -= old;
        return NULL;
    }
    if (nsize > old && m->used - old + nsize > m->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) m->used = m->used - old + nsize;
    return p;
}

Test(json_conv, memory_errors_during_encode_and_decode_raise_without_leaking) {
    mem_budget m = {0, SIZE_MAX};
    lua_State *L = lua_newstate(limited_alloc, &m);
    cr_assert_not_null(L);
    luaL_openlibs(L);
    alc_json_conv_open(L);
    lua_newtable(L);
    lua_pushcfunction(L, alc_lua_json_encode);
    lua_setfield(L, -2, "json_encode");
    lua_pushcfunction(L, alc_lua_json_decode);
    lua_setfield(L, -2, "json_decode");
    lua_setglobal(L, "alc");
    run(L, "big = {s = string.rep('a', 1 << 20)} "
           "bigtext = '[\"' .. string.rep('b\\\\n', 1 << 18) .. '\"]' "
           "f_enc = function() return alc.json_encode(big) end "
           "f_dec = function() return alc.json_decode(bigtext) end");
    lua_gc(L, LUA_GCCOLLECT);
    m.limit = m.used + (256 << 10);   // far less than the 1 MiB result strings

    lua_getglobal(L, "f_enc");
    cr_assert_eq(lua_pcall(L, 0, 1, 0), LUA_ERRMEM);   // pushing the encoded text failed
    lua_pop(L, 1);
    lua_getglobal(L, "f_dec");
    cr_assert_eq(lua_pcall(L, 0, 1, 0), LUA_ERRMEM);   // building the decoded string failed
    lua_pop(L, 1);

    m.limit = SIZE_MAX;
    lua_getglobal(L, "f_enc");
    cr_assert_eq(lua_pcall(L, 0, 1, 0), LUA_OK);
    cr_assert_eq(lua_rawlen(L, -1), (1u << 20) + 8);
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}
