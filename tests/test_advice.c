/*
 * test_advice.c — the strategy launcher shared by the alc_advice tool and `alc advice`:
 * package-name validation, lookup over the search roots, the launcher program and the ctx.
 */
#include "helpers.h"

#include "alc/advice.h"
#include "alc/error.h"

#include <sys/stat.h>

Test(advice, accepts_package_names_with_dotted_parts) {
    const char *good[] = {"cot", "my_strategy", "self-refine", "a.b.c", "X9", NULL};
    for (int i = 0; good[i]; i++) cr_assert(alc_advice_valid_name(good[i]), "%s should be valid", good[i]);
}

Test(advice, rejects_names_that_could_escape_a_path_or_a_string_literal) {
    char too_long[ALC_ADVICE_NAME_MAX + 2];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    const char *bad[] = {"", ".", "a..b", ".a", "a.", "../x", "a/b", "a\"b", "a b", "a\\b", "ü", too_long, NULL};
    for (int i = 0; bad[i]; i++) cr_assert_not(alc_advice_valid_name(bad[i]), "'%s' should be rejected", bad[i]);
    cr_assert_not(alc_advice_valid_name(NULL));
}

static void touch(const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs("return {}\n", f);
    fclose(f);
}

Test(advice, finds_init_lua_or_name_lua_and_lists_the_roots_it_searched) {
    char *root = alc_test_tmpdir();
    char *proj = alc_test_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/deep", root);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/deep/pkg", root);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/deep/pkg/init.lua", root);
    touch(path);
    snprintf(path, sizeof path, "%s/flat.lua", root);
    touch(path);
    snprintf(path, sizeof path, "%s/packages", proj);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/packages/local_only.lua", proj);
    touch(path);

    char *roots[] = {root};
    alc_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.package_paths = roots;
    cfg.n_package_paths = 1;
    alc_jbuf tried;
    alc_jbuf_init(&tried);
    cr_assert(alc_advice_find(&cfg, NULL, "deep.pkg", &tried));
    cr_assert(alc_advice_find(&cfg, NULL, "flat", &tried));
    cr_assert(alc_advice_find(&cfg, proj, "local_only", &tried));
    cr_assert_not(alc_advice_find(&cfg, NULL, "local_only", &tried));
    cr_assert_str_eq(tried.data, root);
    alc_jbuf_deinit(&tried);
    alc_jbuf_init(&tried);
    cr_assert_not(alc_advice_find(&cfg, proj, "missing", &tried));
    snprintf(path, sizeof path, "%s/packages", proj);
    const char *p_at = strstr(tried.data, path), *r_at = strstr(tried.data, root);
    cr_assert(p_at && r_at && p_at < r_at, "the project's packages come before the roots: %s", tried.data);
    alc_jbuf_deinit(&tried);
    alc_test_rmtree(root);
    alc_test_rmtree(proj);
    free(root);
    free(proj);
    ALC_ASSERT_NO_LEAKS();
}

Test(advice, program_requires_the_package_and_returns_run_ctx) {
    char code[ALC_ADVICE_CODE_MAX], chunk[ALC_ADVICE_CHUNK_MAX];
    size_t len = 0;
    cr_assert_eq(alc_advice_program("a.b", code, sizeof code, &len, chunk, sizeof chunk), ALC_OK);
    cr_assert_eq(len, strlen(code));
    cr_assert(strstr(code, "require(\"a.b\")") && strstr(code, "return m.run(ctx)"), "%s", code);
    cr_assert_str_eq(chunk, "=advice:a.b");
    cr_assert_eq(alc_advice_program("../x", code, sizeof code, &len, chunk, sizeof chunk), ALC_E_INVAL);
    cr_assert_eq(alc_advice_program("abc", code, 10, &len, chunk, sizeof chunk), ALC_E_TOO_LARGE);
    cr_assert_eq(alc_advice_program("abc", code, sizeof code, &len, chunk, 4), ALC_E_TOO_LARGE);
    char longest[ALC_ADVICE_NAME_MAX + 1];
    memset(longest, 'n', ALC_ADVICE_NAME_MAX);
    longest[ALC_ADVICE_NAME_MAX] = '\0';
    cr_assert_eq(alc_advice_program(longest, code, sizeof code, &len, chunk, sizeof chunk), ALC_OK,
                 "the documented buffer sizes must fit the longest name");
}

Test(advice, ctx_copies_opts_and_sets_the_task) {
    cJSON *opts = cJSON_Parse("{\"task\":\"old\",\"n\":3}");
    cJSON *ctx = NULL;
    cr_assert_eq(alc_advice_ctx(opts, "new task", &ctx), ALC_OK);
    char *text = alc_json_print_sorted(ctx);
    cr_assert_str_eq(text, "{\"n\":3,\"task\":\"new task\"}");
    free(text);
    cJSON_Delete(ctx);
    cr_assert_eq(alc_advice_ctx(opts, NULL, &ctx), ALC_OK);
    text = alc_json_print_sorted(ctx);
    cr_assert_str_eq(text, "{\"n\":3,\"task\":\"old\"}", "without a task, opts stay as given");
    free(text);
    cJSON_Delete(ctx);
    cr_assert_eq(alc_advice_ctx(NULL, NULL, &ctx), ALC_OK);
    cr_assert(cJSON_IsObject(ctx) && ctx->child == NULL);
    cJSON_Delete(ctx);
    cJSON *arr = cJSON_Parse("[1]");
    cr_assert_eq(alc_advice_ctx(arr, "t", &ctx), ALC_E_INVAL);
    cr_assert_null(ctx);
    cJSON_Delete(arr);
    cJSON_Delete(opts);
    ALC_ASSERT_NO_LEAKS();
}
