/*
 * test_lib_text.c — alc.match_enum, alc.match_bool and alc.chunk (spec §4.4.4, §4.4.2),
 * exercised through a real lua_State.
 */
#include "helpers.h"

#include "alc/lua_libs.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* A fresh VM with global `alc` holding the text library. */
static lua_State *vm_new(void) {
    lua_State *L = luaL_newstate();
    cr_assert_not_null(L);
    luaL_openlibs(L);
    lua_newtable(L);
    alc_lua_open_text(L);
    cr_assert_eq(lua_gettop(L), 1, "alc_lua_open_text must leave the stack balanced");
    lua_setglobal(L, "alc");
    return L;
}

/* Runs code, which must succeed; its results are left on the (otherwise empty) stack. */
static void vm_run(lua_State *L, const char *code) {
    lua_settop(L, 0);
    int rc = luaL_dostring(L, code);
    cr_assert_eq(rc, LUA_OK, "Lua error: %s\n  in: %s", rc ? lua_tostring(L, -1) : "", code);
}

/* Runs code, which must raise; returns the error message (valid until the next run). */
static const char *vm_error(lua_State *L, const char *code) {
    lua_settop(L, 0);
    int rc = luaL_dostring(L, code);
    cr_assert_neq(rc, LUA_OK, "expected an error from: %s", code);
    const char *msg = lua_tostring(L, -1);
    cr_assert_not_null(msg);
    return msg;
}

/* Asserts that the single result of code is the string want. */
static void expect_string(lua_State *L, const char *code, const char *want) {
    vm_run(L, code);
    cr_assert_eq(lua_type(L, 1), LUA_TSTRING, "%s: expected a string, got %s", code,
                 luaL_typename(L, 1));
    cr_assert_str_eq(lua_tostring(L, 1), want, "%s", code);
}

static void expect_nil(lua_State *L, const char *code) {
    vm_run(L, code);
    cr_assert_eq(lua_type(L, 1), LUA_TNIL, "%s: expected nil, got %s", code, luaL_typename(L, 1));
}

/* Asserts that code returns a plain sequence equal to want[0..n). */
static void expect_chunks(lua_State *L, const char *code, const char *const *want, size_t n) {
    vm_run(L, code);
    cr_assert_eq(lua_type(L, 1), LUA_TTABLE, "%s: expected a table", code);
    cr_assert_not(lua_getmetatable(L, 1), "%s: result must be a plain table", code);
    cr_assert_eq(lua_rawlen(L, 1), n, "%s: got %zu chunks, want %zu", code, (size_t)lua_rawlen(L, 1), n);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        size_t len;
        const char *got = lua_tolstring(L, -1, &len);
        cr_assert_not_null(got, "%s: chunk %zu is not a string", code, i + 1);
        cr_assert(len == strlen(want[i]) && memcmp(got, want[i], len) == 0,
                  "%s: chunk %zu is \"%s\", want \"%s\"", code, i + 1, got, want[i]);
        lua_pop(L, 1);
    }
}

#define CHUNKS(L, code, ...)                                                                    \
    do {                                                                                        \
        static const char *const want_[] = {__VA_ARGS__};                                       \
        expect_chunks((L), (code), want_, sizeof want_ / sizeof *want_);                        \
    } while (0)

#define NO_CHUNKS(L, code) expect_chunks((L), (code), NULL, 0)

/* ------------------------------------------------------------------ match_bool */

Test(lib_text, match_bool_follows_the_last_whole_word_across_a_table_of_tricky_inputs) {
    static const struct {
        const char *text;
        int want; /* 1 true, 0 false, -1 nil */
    } rows[] = {
        {"Yes.", 1},
        {"no", 0},
        {"NO!", 0},
        {"passed", -1},                    // "pass" followed by a letter
        {"bypass", -1},                    // "pass" preceded by a letter
        {"token", -1},                     // "ok" inside a word
        {"okay", -1},
        {"I agree, LGTM", 1},
        {"not ok", 1},                     // "ok" is the last word; negation is not parsed
        {"approved but then rejected", 0},
        {"rejected at first, approved in the end", 1},
        {"", -1},
        {"42", -1},
        {"ok1", -1},                       // digits are word characters
        {"1ok", -1},
        {"(ok)", 1},                       // punctuation is a boundary
        {"deny_access", 0},                // '_' is a boundary (ASCII alphanumerics only)
        {"yes/no", 0},
        {"no-yes", 1},
        {"TRUE", 1},
        {"False", 0},
        {"I disagree", 0},                 // "agree" inside "disagree" is not a word
        {"The process failed gracefully", -1},
        {"Great innovation in technology", -1},
        {"Accepted", -1},                  // not in the word list; "accept" is followed by 'e'
        {"lgtm!!!", 1},
        {"blocked", -1},
        {"Block", 0},
        {"yes\nno", 0},
        {"confirm: yes; fail: no", 0},
        {"No issues found. Approved.", 1},
        {"I need more information about the design", -1},
        {"caf\xc3\xa9 yes", 1},            // UTF-8 before the word is a boundary
        {"yes\xc3\xa9", 1},                // non-ASCII after the word is a boundary too
    };
    lua_State *L = vm_new();
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        lua_settop(L, 0);
        lua_getglobal(L, "alc");
        lua_getfield(L, -1, "match_bool");
        lua_pushstring(L, rows[i].text);
        cr_assert_eq(lua_pcall(L, 1, 1, 0), LUA_OK, "match_bool(\"%s\") raised", rows[i].text);
        if (rows[i].want < 0) {
            cr_assert(lua_isnil(L, -1), "match_bool(\"%s\"): want nil, got %s", rows[i].text,
                      luaL_tolstring(L, -1, NULL));
        } else {
            cr_assert_eq(lua_type(L, -1), LUA_TBOOLEAN, "match_bool(\"%s\"): want a boolean, got %s",
                         rows[i].text, luaL_typename(L, -1));
            cr_assert_eq(lua_toboolean(L, -1), rows[i].want, "match_bool(\"%s\")", rows[i].text);
        }
    }
    lua_close(L);
}

Test(lib_text, match_bool_coerces_numbers_and_rejects_other_types) {
    lua_State *L = vm_new();
    expect_nil(L, "return alc.match_bool(12)");
    cr_assert(strstr(vm_error(L, "return alc.match_bool(nil)"), "bad argument #1") != NULL);
    cr_assert(strstr(vm_error(L, "return alc.match_bool({})"), "string expected") != NULL);
    lua_close(L);
}

/* ------------------------------------------------------------------ match_enum */

Test(lib_text, match_enum_prefers_the_candidate_whose_last_occurrence_is_furthest_right) {
    lua_State *L = vm_new();
    expect_string(L, "return alc.match_enum('Initially BLOCKED, but after review: PASS', {'PASS', 'BLOCKED'})", "PASS");
    expect_string(L, "return alc.match_enum('PASS at first, then BLOCKED', {'PASS', 'BLOCKED'})", "BLOCKED");
    // The last occurrence counts, not the first: PASS appears first and last.
    expect_string(L, "return alc.match_enum('pass? blocked? final: pass', {'BLOCKED', 'PASS'})", "PASS");
    expect_string(L, "return alc.match_enum('Verdict: BLOCKED. Fix the issues.', {'PASS', 'BLOCKED'})", "BLOCKED");
    // Phase 1 is a plain substring search: "no" is found inside "nothing".
    expect_string(L, "return alc.match_enum('nothing to add', {'yes', 'no'})", "no");
    lua_close(L);
}

Test(lib_text, match_enum_breaks_ties_in_favour_of_the_earlier_candidate) {
    lua_State *L = vm_new();
    // "block" and "blocked" both last occur at offset 0.
    expect_string(L, "return alc.match_enum('blocked', {'blocked', 'block'})", "blocked");
    expect_string(L, "return alc.match_enum('blocked', {'block', 'blocked'})", "block");
    // Two spellings of one word tie as well; the first listed wins with its own casing.
    expect_string(L, "return alc.match_enum('it is pass', {'Pass', 'PASS'})", "Pass");
    lua_close(L);
}

Test(lib_text, match_enum_is_case_insensitive_and_returns_the_original_casing) {
    lua_State *L = vm_new();
    expect_string(L, "return alc.match_enum('verdict: pass. all good.', {'PaSs', 'BLOCKED'})", "PaSs");
    expect_string(L, "return alc.match_enum('VERDICT: ACCEPT', {'reject', 'accept'})", "accept");
    // Latin-1 capitals fold too (UTF-8 "ÉCHEC" vs "échec").
    expect_string(L, "return alc.match_enum('R\\xc3\\xa9sultat: \\xc3\\x89CHEC', {'succ\\xc3\\xa8s', '\\xc3\\xa9chec'})",
                  "\xc3\xa9" "chec");
    lua_close(L);
}

Test(lib_text, match_enum_falls_back_to_jaro_winkler_on_typos_above_the_threshold) {
    lua_State *L = vm_new();
    expect_string(L, "return alc.match_enum('BLOKED', {'PASS', 'BLOCKED'})", "BLOCKED");
    expect_string(L, "return alc.match_enum('After careful review the final verdict is BLCKED due to missing tests.', {'PASS', 'BLOCKED'})",
                  "BLOCKED");
    expect_string(L, "return alc.match_enum('I think this is aproved', {'approved', 'rejected'})", "approved");
    // "pss" scores 0.925 against "pass"; the rest of the words score 0.
    expect_string(L, "return alc.match_enum('the result: pss', {'PASS', 'FAIL'})", "PASS");
    lua_close(L);
}

Test(lib_text, match_enum_returns_nil_when_no_token_reaches_the_threshold) {
    lua_State *L = vm_new();
    expect_nil(L, "return alc.match_enum('The weather is nice today', {'PASS', 'BLOCKED'})");
    expect_nil(L, "return alc.match_enum('maybe', {'approved'})"); // 0.55
    expect_nil(L, "return alc.match_enum('', {'yes', 'no'})");
    expect_nil(L, "return alc.match_enum('anything', {})");
    lua_close(L);
}

Test(lib_text, match_enum_honours_a_custom_threshold) {
    lua_State *L = vm_new();
    // jw("apple", "approved") = 0.8367: accepted by default, rejected at 0.9.
    expect_string(L, "return alc.match_enum('apple', {'approved'})", "approved");
    expect_nil(L, "return alc.match_enum('apple', {'approved'}, {threshold = 0.9})");
    // jw("pasx", "pass") = 0.8833.
    expect_string(L, "return alc.match_enum('pasx', {'PASS'}, {threshold = 0.88})", "PASS");
    expect_nil(L, "return alc.match_enum('pasx', {'PASS'}, {threshold = 0.89})");
    // Numeric strings convert; unconvertible thresholds mean the default.
    expect_nil(L, "return alc.match_enum('pasx', {'PASS'}, {threshold = '0.89'})");
    expect_string(L, "return alc.match_enum('apple', {'approved'}, {threshold = 'high'})", "approved");
    lua_close(L);
}

Test(lib_text, match_enum_strips_punctuation_around_tokens_before_scoring) {
    lua_State *L = vm_new();
    // Trimmed, "bloked" scores 0.9667 >= 0.95; "**bloked**!!" untrimmed would not.
    expect_string(L, "return alc.match_enum('verdict: **BLOKED**!!', {'PASS', 'BLOCKED'}, {threshold = 0.95})", "BLOCKED");
    // Curly quotes and an em dash are punctuation too.
    expect_string(L, "return alc.match_enum('\\u{201C}BLOKED\\u{201D}\\u{2014}', {'PASS', 'BLOCKED'}, {threshold = 0.95})", "BLOCKED");
    // A token of punctuation only is skipped instead of scoring against anything.
    expect_nil(L, "return alc.match_enum('!!! ?!?', {'PASS'}, {threshold = 0})");
    lua_close(L);
}

Test(lib_text, match_enum_fuzzy_ties_keep_the_first_best_candidate) {
    lua_State *L = vm_new();
    // "pasc" scores the same against "pasa" and "pasb".
    expect_string(L, "return alc.match_enum('pasc', {'pasa', 'pasb'})", "pasa");
    expect_string(L, "return alc.match_enum('pasc', {'pasb', 'pasa'})", "pasb");
    // An earlier token with the same best score wins over a later one: "zasc" scores 0.8833
    // against "zasa", and "pasc" scores the same against "pasa".
    expect_string(L, "return alc.match_enum('zasc pasc', {'pasa', 'zasa'})", "zasa");
    expect_string(L, "return alc.match_enum('pasc zasc', {'zasa', 'pasa'})", "pasa");
    lua_close(L);
}

Test(lib_text, match_enum_converts_number_candidates_and_finds_an_empty_candidate_at_the_end) {
    lua_State *L = vm_new();
    expect_string(L, "return alc.match_enum('option 2', {1, 2})", "2");
    // As with str::rfind, the empty string's last occurrence is at the end of the text.
    expect_string(L, "return alc.match_enum('abc', {'zzz', '', 'abc'})", "");
    lua_close(L);
}

Test(lib_text, match_enum_raises_argument_errors_for_bad_inputs) {
    lua_State *L = vm_new();
    cr_assert(strstr(vm_error(L, "return alc.match_enum(nil, {'a'})"), "bad argument #1") != NULL);
    cr_assert(strstr(vm_error(L, "return alc.match_enum('x', 'a')"), "bad argument #2") != NULL);
    const char *msg = vm_error(L, "return alc.match_enum('x', {'a', true})");
    cr_assert(strstr(msg, "bad argument #2") != NULL && strstr(msg, "candidate 2") != NULL, "%s", msg);
    cr_assert(strstr(vm_error(L, "return alc.match_enum('x', {'a'}, 0.5)"), "bad argument #3") != NULL);
    lua_close(L);
}

/* ------------------------------------------------------------------ chunk */

Test(lib_text, chunk_splits_lines_into_windows_of_size_lines) {
    lua_State *L = vm_new();
    CHUNKS(L, "return alc.chunk('a\\nb\\nc\\nd\\ne', {size = 2})", "a\nb", "c\nd", "e");
    CHUNKS(L, "return alc.chunk('a\\nb\\nc\\nd', {size = 2})", "a\nb", "c\nd");
    CHUNKS(L, "return alc.chunk('a\\nb\\nc')", "a\nb\nc"); // default size 50
    CHUNKS(L, "return alc.chunk('a\\nb\\nc', {mode = 'lines', size = 100})", "a\nb\nc");
    CHUNKS(L, "return alc.chunk('hello', {size = 1})", "hello");
    lua_close(L);
}

Test(lib_text, chunk_uses_fifty_lines_by_default) {
    lua_State *L = vm_new();
    vm_run(L, "local t = {} for i = 1, 120 do t[i] = 'l' .. i end "
              "local c = alc.chunk(table.concat(t, '\\n')) "
              "return #c, select(2, c[1]:gsub('\\n', '')), c[2]:match('^l51\\n') ~= nil, c[3]");
    cr_assert_eq(lua_tointeger(L, 1), 3);
    cr_assert_eq(lua_tointeger(L, 2), 49, "first chunk must hold 50 lines");
    cr_assert(lua_toboolean(L, 3), "second chunk must start at line 51");
    cr_assert_str_eq(lua_tostring(L, 4), "l101\nl102\nl103\nl104\nl105\nl106\nl107\nl108\nl109\nl110\n"
                                         "l111\nl112\nl113\nl114\nl115\nl116\nl117\nl118\nl119\nl120");
    lua_close(L);
}

Test(lib_text, chunk_overlap_sets_the_step_and_stops_after_the_window_reaching_the_end) {
    lua_State *L = vm_new();
    CHUNKS(L, "return alc.chunk('a\\nb\\nc\\nd\\ne', {size = 3, overlap = 1})", "a\nb\nc", "c\nd\ne");
    CHUNKS(L, "return alc.chunk('a\\nb\\nc\\nd', {size = 2, overlap = 1})", "a\nb", "b\nc", "c\nd");
    // overlap >= size means step 1.
    CHUNKS(L, "return alc.chunk('a\\nb\\nc', {size = 2, overlap = 5})", "a\nb", "b\nc");
    CHUNKS(L, "return alc.chunk('abcdef', {mode = 'chars', size = 3, overlap = 1})", "abc", "cde", "ef");
    CHUNKS(L, "return alc.chunk('abcde', {mode = 'chars', size = 3, overlap = 1})", "abc", "cde");
    CHUNKS(L, "return alc.chunk('abc', {mode = 'chars', size = 2, overlap = 3})", "ab", "bc");
    lua_close(L);
}

Test(lib_text, chunk_strips_carriage_returns_and_ignores_the_final_newline) {
    lua_State *L = vm_new();
    CHUNKS(L, "return alc.chunk('a\\r\\nb\\r\\nc\\r\\n', {size = 2})", "a\nb", "c");
    CHUNKS(L, "return alc.chunk('a\\nb\\n', {size = 1})", "a", "b");
    CHUNKS(L, "return alc.chunk('a\\n\\nb', {size = 1})", "a", "", "b");
    CHUNKS(L, "return alc.chunk('a\\n\\n', {size = 5})", "a\n");
    CHUNKS(L, "return alc.chunk('\\n', {size = 2})", "");
    CHUNKS(L, "return alc.chunk('\\r\\n')", "");
    CHUNKS(L, "return alc.chunk('a\\r')", "a"); // every line loses one trailing '\r'
    CHUNKS(L, "return alc.chunk('a\\rb')", "a\rb"); // a bare '\r' inside a line stays
    lua_close(L);
}

Test(lib_text, chunk_in_chars_mode_counts_utf8_scalars_and_single_invalid_bytes) {
    lua_State *L = vm_new();
    CHUNKS(L, "return alc.chunk('abcdef', {mode = 'chars', size = 3})", "abc", "def");
    CHUNKS(L, "return alc.chunk('abcde', {mode = 'chars', size = 3})", "abc", "de");
    CHUNKS(L, "return alc.chunk('abcdef', {mode = 'chars', size = 4, overlap = 2})", "abcd", "cdef");
    CHUNKS(L, "return alc.chunk('\\u{3042}\\u{3044}\\u{3046}\\u{3048}\\u{304A}', {mode = 'chars', size = 2})",
           "\xe3\x81\x82\xe3\x81\x84", "\xe3\x81\x86\xe3\x81\x88", "\xe3\x81\x8a");
    CHUNKS(L, "return alc.chunk('a\\xffb', {mode = 'chars', size = 1})", "a", "\xff", "b");
    CHUNKS(L, "return alc.chunk('\\xe3\\x81', {mode = 'chars', size = 1})", "\xe3", "\x81"); // truncated
    CHUNKS(L, "return alc.chunk('\\xed\\xa0\\x80', {mode = 'chars', size = 2})", "\xed\xa0", "\x80"); // surrogate
    CHUNKS(L, "return alc.chunk('\\u{1F600}x', {mode = 'chars', size = 1})", "\xf0\x9f\x98\x80", "x");
    // chars mode keeps line breaks as characters.
    CHUNKS(L, "return alc.chunk('a\\r\\nb', {mode = 'chars', size = 10})", "a\r\nb");
    lua_close(L);
}

Test(lib_text, chunk_returns_an_empty_table_for_empty_text_or_size_zero) {
    lua_State *L = vm_new();
    NO_CHUNKS(L, "return alc.chunk('')");
    NO_CHUNKS(L, "return alc.chunk('', {mode = 'chars', size = 5})");
    NO_CHUNKS(L, "return alc.chunk('a\\nb\\nc', {size = 0})");
    NO_CHUNKS(L, "return alc.chunk('abc', {mode = 'chars', size = 0})");
    lua_close(L);
}

Test(lib_text, chunk_treats_unconvertible_options_as_absent) {
    lua_State *L = vm_new();
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = '2'})", "ab", "cd");
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = 2.7})", "ab", "cd"); // truncated
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = -5})", "abcd"); // default 50
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = 'big'})", "abcd");
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = 2, overlap = 'x'})", "ab", "cd");
    CHUNKS(L, "return alc.chunk('abcd', {mode = 'chars', size = 3, overlap = 1.5})", "abc", "cd");
    CHUNKS(L, "return alc.chunk('ab\\ncd', {mode = 'CHARS', size = 1})", "ab", "cd"); // not "chars": lines
    CHUNKS(L, "return alc.chunk('ab\\ncd', {mode = 5, size = 1})", "ab", "cd");
    CHUNKS(L, "return alc.chunk(12345, {mode = 'chars', size = 2})", "12", "34", "5");
    lua_close(L);
}

Test(lib_text, chunk_raises_argument_errors_for_bad_inputs) {
    lua_State *L = vm_new();
    cr_assert(strstr(vm_error(L, "return alc.chunk(nil)"), "bad argument #1") != NULL);
    cr_assert(strstr(vm_error(L, "return alc.chunk({})"), "bad argument #1") != NULL);
    cr_assert(strstr(vm_error(L, "return alc.chunk('abc', 'chars')"), "bad argument #2") != NULL);
    lua_close(L);
}

Test(lib_text, text_library_frees_everything_with_the_state) {
    lua_State *L = vm_new();
    vm_run(L, "for i = 1, 50 do "
              "  alc.chunk(string.rep('line\\n', 200), {size = 7, overlap = 3}) "
              "  alc.match_enum(string.rep('word ', 100) .. 'blokd', {'blocked', 'pass'}) "
              "  pcall(alc.match_enum, 'x', {'a', {}}) "
              "end");
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}
