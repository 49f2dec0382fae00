/*
 * test_toml.c — the TOML subset parser (src/store/toml.c): the shapes of alc.toml, alc.lock and
 * alc.local.toml, value types, TOML's redefinition rules, and errors with line numbers.
 */
#include "helpers.h"

#include "alc/error.h"
#include "alc/toml.h"

#include <cjson/cJSON.h>

static cJSON *parse_ok(const char *text) {
    cJSON *out = NULL;
    char err[256] = "";
    int line = -1;
    int rc = alc_toml_parse(text, strlen(text), &out, &line, err, sizeof err);
    cr_assert_eq(rc, ALC_OK, "parse failed: %s\n--- input ---\n%s", err, text);
    cr_assert_not_null(out);
    return out;
}

/* Expects a parse error on line `line` whose message contains `needle`. */
static void parse_err(const char *text, int line, const char *needle) {
    cJSON *out = (cJSON *)0x1;
    char err[256] = "";
    int got_line = -1;
    int rc = alc_toml_parse(text, strlen(text), &out, &got_line, err, sizeof err);
    cr_assert_eq(rc, ALC_E_PARSE, "expected a parse error for:\n%s", text);
    cr_assert_null(out, "no tree on error");
    cr_assert_eq(got_line, line, "error line %d, expected %d (%s)", got_line, line, err);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "line %d: ", line);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "message '%s' should start with '%s'", err, prefix);
    cr_assert(strstr(err, needle), "message '%s' should mention '%s'", err, needle);
}

static const cJSON *path(const cJSON *o, const char *a, const char *b, const char *c) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b && v) v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c && v) v = cJSON_GetObjectItemCaseSensitive(v, c);
    return v;
}

static void assert_str(const cJSON *v, const char *want) {
    cr_assert(cJSON_IsString(v), "expected the string '%s'", want);
    cr_assert_str_eq(v->valuestring, want);
}

Test(toml, empty_and_comment_only_documents_are_empty_tables) {
    cJSON *a = parse_ok("");
    cr_assert(cJSON_IsObject(a) && a->child == NULL);
    cJSON_Delete(a);
    cJSON *b = parse_ok("# just a comment\n\n   \t\n# another\r\n");
    cr_assert(cJSON_IsObject(b) && b->child == NULL);
    cJSON_Delete(b);
    ALC_ASSERT_NO_LEAKS();
}

Test(toml, alc_toml_with_empty_packages_table) {
    cJSON *t = parse_ok("# alc project file\n[packages]\n");
    const cJSON *p = path(t, "packages", NULL, NULL);
    cr_assert(cJSON_IsObject(p) && p->child == NULL, "[packages] is an empty table");
    cJSON_Delete(t);
}

Test(toml, alc_local_toml_package_paths) {
    cJSON *t = parse_ok("[packages.my_cot]\npath = \"variants/cot\"  # local fork\n\n"
                        "[packages.\"quoted-name\"]\npath = '/abs/dir'\n");
    assert_str(path(t, "packages", "my_cot", "path"), "variants/cot");
    assert_str(path(t, "packages", "quoted-name", "path"), "/abs/dir");
    cJSON_Delete(t);
}

Test(toml, alc_lock_arrays_of_tables_with_inline_source) {
    cJSON *t = parse_ok("version = 1\n\n"
                        "[[package]]\nname = \"cot\"\nversion = \"0.1.0\"\nsource = { type = \"path\", path = \"vendor\" }\n\n"
                        "[[package]]\nname = \"sc\"\nsource = {type=\"installed\"}\n");
    const cJSON *v = path(t, "version", NULL, NULL);
    cr_assert(cJSON_IsNumber(v) && v->valuedouble == 1);
    const cJSON *arr = path(t, "package", NULL, NULL);
    cr_assert(cJSON_IsArray(arr));
    cr_assert_eq(cJSON_GetArraySize(arr), 2);
    const cJSON *p0 = cJSON_GetArrayItem(arr, 0), *p1 = cJSON_GetArrayItem(arr, 1);
    assert_str(path(p0, "name", NULL, NULL), "cot");
    assert_str(path(p0, "source", "type", NULL), "path");
    assert_str(path(p0, "source", "path", NULL), "vendor");
    assert_str(path(p1, "source", "type", NULL), "installed");
    cJSON_Delete(t);
}

Test(toml, value_types) {
    cJSON *t = parse_ok("a = 42\nb = -7\nc = +3\nd = 1_000\ne = 0x1F\nf = 0o17\ng = 0b101\n"
                        "h = 3.5\ni = 1e3\nj = -2.5E-1\nk = true\nl = false\n"
                        "m = [1, \"two\", [3], {x = 4}]\nn = [\n  1,  # one\n  2,\n]\no = []\np = {}\n");
    struct { const char *k; double v; } nums[] = {
        {"a", 42}, {"b", -7}, {"c", 3}, {"d", 1000}, {"e", 31}, {"f", 15}, {"g", 5}, {"h", 3.5}, {"i", 1000}, {"j", -0.25},
    };
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        const cJSON *v = path(t, nums[i].k, NULL, NULL);
        cr_assert(cJSON_IsNumber(v), "%s is a number", nums[i].k);
        cr_assert_float_eq(v->valuedouble, nums[i].v, 1e-12, "%s = %g", nums[i].k, v->valuedouble);
    }
    cr_assert(cJSON_IsTrue(path(t, "k", NULL, NULL)));
    cr_assert(cJSON_IsFalse(path(t, "l", NULL, NULL)));
    const cJSON *m = path(t, "m", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(m), 4);
    assert_str(cJSON_GetArrayItem(m, 1), "two");
    cr_assert(cJSON_IsArray(cJSON_GetArrayItem(m, 2)));
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 3), "x")->valuedouble, 4);
    cr_assert_eq(cJSON_GetArraySize(path(t, "n", NULL, NULL)), 2, "multi-line array with comments and trailing comma");
    cr_assert(cJSON_IsArray(path(t, "o", NULL, NULL)) && cJSON_GetArraySize(path(t, "o", NULL, NULL)) == 0);
    cr_assert(cJSON_IsObject(path(t, "p", NULL, NULL)));
    cJSON_Delete(t);
    ALC_ASSERT_NO_LEAKS();
}

Test(toml, string_escapes_and_literal_strings) {
    cJSON *t = parse_ok("a = \"tab\\there \\\"q\\\" back\\\\slash\\n\"\n"
                        "b = 'C:\\no\\escapes'\n"
                        "c = \"\\u00e9\\U0001F600\"\n"
                        "d = \"# not a comment\"\n");
    assert_str(path(t, "a", NULL, NULL), "tab\there \"q\" back\\slash\n");
    assert_str(path(t, "b", NULL, NULL), "C:\\no\\escapes");
    assert_str(path(t, "c", NULL, NULL), "\xC3\xA9\xF0\x9F\x98\x80");
    assert_str(path(t, "d", NULL, NULL), "# not a comment");
    cJSON_Delete(t);
}

Test(toml, dotted_keys_and_implicit_tables) {
    cJSON *t = parse_ok("a.b.c = 1\na.b.d = 2\n[x.y.z]\nw = 3\n[x]\nv = 4\n[x.y.other]\nu = 5\n");
    cr_assert_eq(path(t, "a", "b", "c")->valuedouble, 1);
    cr_assert_eq(path(t, "a", "b", "d")->valuedouble, 2);
    cr_assert_eq(path(t, "x", "y", "z")->child->valuedouble, 3);
    cr_assert_eq(path(t, "x", "v", NULL)->valuedouble, 4, "an implicit table may be opened once later");
    cr_assert_eq(path(t, "x", "y", "other")->child->valuedouble, 5);
    cJSON_Delete(t);
}

Test(toml, nested_array_of_tables_appends_to_last_element) {
    cJSON *t = parse_ok("[[a]]\nn = 1\n[a.sub]\nk = 'one'\n[[a]]\nn = 2\n");
    const cJSON *a = path(t, "a", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(a), 2);
    assert_str(path(cJSON_GetArrayItem(a, 0), "sub", "k", NULL), "one");
    cr_assert_null(path(cJSON_GetArrayItem(a, 1), "sub", NULL, NULL));
    cJSON_Delete(t);
}

Test(toml, crlf_line_endings_and_bom) {
    cJSON *t = parse_ok("\xEF\xBB\xBF[packages]\r\nx = \"1\"\r\n");
    assert_str(path(t, "packages", "x", NULL), "1");
    cJSON_Delete(t);
}

Test(toml, errors_name_the_line) {
    parse_err("a = 1\nb 2\n", 2, "expected '='");
    parse_err("a = 1\na = 2\n", 2, "duplicate key 'a'");
    parse_err("[t]\nx = 1\n\n[t]\n", 4, "more than once");
    parse_err("s = \"open\nnext = 1\n", 1, "unterminated string");
    parse_err("\n\nv = nope\n", 3, "invalid value");
    parse_err("d = 1979-05-27\n", 1, "dates and times are not supported");
    parse_err("m = \"\"\"multi\"\"\"\n", 1, "multi-line strings");
    parse_err("x = 1 2\n", 1, "expected the end of the line");
    parse_err("arr = [1, 2\n", 2, "unterminated array");
    parse_err("t = {a = 1\n", 1, "unterminated inline table");
    parse_err("t = {a = 1}\nt.b = 2\n", 2, "already defined");
    parse_err("a = 1\n[a]\n", 2, "already a value");
    parse_err("a = [1]\n[[a]]\n", 2, "not an array of tables");
    parse_err("n = 007\n", 1, "leading zeros");
    parse_err("n = 1__0\n", 1, "between two digits");
    parse_err("n = 99999999999999999999\n", 1, "out of range");
    parse_err("e = \"bad \\q escape\"\n", 1, "unknown escape");
    parse_err("e = \"\\u0000\"\n", 1, "not allowed");
    parse_err("[unclosed\n", 1, "expected ']'");
    parse_err("= 1\n", 1, "expected a key");
    parse_err("k = \n", 1, "expected a value");
    parse_err("a.b = 1\n[a.b]\n", 2, "more than once");
    parse_err("[t]\n[t.x]\ny = 1\n[[t.x]]\n", 4, "not an array of tables");
    ALC_ASSERT_NO_LEAKS();
}

Test(toml, nul_byte_is_an_error_with_its_line) {
    const char text[] = "a = 1\nb = \"x\0y\"\n";
    cJSON *out = NULL;
    char err[128];
    int line = 0;
    cr_assert_eq(alc_toml_parse(text, sizeof text - 1, &out, &line, err, sizeof err), ALC_E_PARSE);
    cr_assert_null(out);
    cr_assert_eq(line, 2);
    cr_assert(strstr(err, "NUL"), "%s", err);
}

Test(toml, deep_nesting_is_refused_not_crashing) {
    char buf[400];
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "x = ");
    for (int i = 0; i < 100; i++) buf[n++] = '[';
    for (int i = 0; i < 100; i++) buf[n++] = ']';
    buf[n++] = '\n';
    buf[n] = '\0';
    parse_err(buf, 1, "nested more than");
}

Test(toml, parse_file_reports_path_and_line_and_missing_file) {
    char *dir = alc_test_tmpdir();
    char p[600];
    snprintf(p, sizeof p, "%s/alc.lock", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("version = 1\n[[package]]\nname = \"x\"\nsource = {type = \"path\" path = \"y\"}\n", f);
    fclose(f);
    cJSON *out = NULL;
    char err[768];
    cr_assert_eq(alc_toml_parse_file(p, &out, err, sizeof err), ALC_E_PARSE);
    cr_assert_null(out);
    char want[700];
    snprintf(want, sizeof want, "%s:4: ", p);
    cr_assert(strncmp(err, want, strlen(want)) == 0, "'%s' should start with '%s'", err, want);
    cr_assert(strstr(err, "expected ',' or '}'"), "%s", err);

    snprintf(p, sizeof p, "%s/missing.toml", dir);
    cr_assert_eq(alc_toml_parse_file(p, &out, err, sizeof err), ALC_E_NOT_FOUND);
    cr_assert_null(out);
    alc_test_rmtree(dir);
    free(dir);
    ALC_ASSERT_NO_LEAKS();
}
