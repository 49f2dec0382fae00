/*
 * End-to-end tests of MCP resources: alc://types/alc.d.lua, alc://packages/{name}/init.lua,
 * alc://packages/{name}/meta (read without running the package), alc://logs/{session_id},
 * and the -32002 / -32602 error codes (traversal refused).
 */
#include "harness/proc.h"
#include "helpers.h"

#include <sys/stat.h>

static alc_proc *start(char **home) {
    *home = alc_test_tmpdir();
    char pkg[600];
    snprintf(pkg, sizeof pkg, "%s/packages/trap", *home);
    char cmd[8192];
    /* a package whose top-level code would leave a marker file if it ever ran */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && printf '%%s\\n' "
             "'local f = io.open(\"%s/RAN\", \"w\"); if f then f:write(\"x\") f:close() end' "
             "'local M = {}' 'M.meta = { name = \"trap\", version = \"1.2.3\", tags = {\"a\", \"b\"}, n = 2 }' "
             "'function M.run(ctx) return ctx end' 'return M' > '%s/init.lua'", pkg, *home, pkg);
    cr_assert_eq(system(cmd), 0);
    alc_proc *p = alc_proc_spawn_alc(*home, NULL, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(p);
    cr_assert_eq(alc_proc_initialize(p), 0);
    return p;
}

static cJSON *call(alc_proc *p, const char *line) {
    cJSON *r = alc_proc_request(p, line, 10000);
    cr_assert_not_null(r, "no reply to %s", line);
    return r;
}

static int error_code(const cJSON *r) {
    const cJSON *e = cJSON_GetObjectItem(r, "error");
    return e ? (int)cJSON_GetObjectItem(e, "code")->valuedouble : 0;
}

static void stop(alc_proc *p, char *home) {
    alc_proc_close_stdin(p);
    int st = -1;
    cr_assert_eq(alc_proc_wait(p, 5000, &st), 0);
    cr_assert_eq(st, 0);
    alc_proc_free(p);
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_resources, initialize_declares_resources_and_templates_are_listed) {
    char *home;
    alc_proc *p = start(&home);
    cJSON *r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/templates/list\"}");
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "resourceTemplates");
    cr_assert_eq(cJSON_GetArraySize(t), 3);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "uriTemplate")->valuestring, "alc://packages/{name}/init.lua");
    cJSON_Delete(r);
    r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/list\"}");
    const cJSON *list = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "resources");
    bool src = false, meta = false;
    for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
        const char *u = cJSON_GetObjectItem(e, "uri")->valuestring;
        if (strcmp(u, "alc://packages/trap/init.lua") == 0) src = true;
        if (strcmp(u, "alc://packages/trap/meta") == 0) meta = true;
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(e, "name")));
    }
    cr_assert(src && meta, "the installed package is listed");
    cJSON_Delete(r);
    stop(p, home);
}

Test(e2e_resources, package_meta_is_read_without_running_the_package) {
    char *home;
    alc_proc *p = start(&home);
    cJSON *r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"alc://packages/trap/meta\"}}");
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "contents"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(c, "mimeType")->valuestring, "application/json");
    cJSON *meta = cJSON_Parse(cJSON_GetObjectItem(c, "text")->valuestring);
    cr_assert_str_eq(cJSON_GetObjectItem(meta, "version")->valuestring, "1.2.3");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(meta, "tags")), 2);
    cJSON_Delete(meta);
    cJSON_Delete(r);
    char marker[1024];
    struct stat st;
    snprintf(marker, sizeof marker, "%s/RAN", home);
    cr_assert_neq(stat(marker, &st), 0, "the package's code did not run");
    r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{\"uri\":\"alc://packages/trap/init.lua\"}}");
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "contents"), 0);
    cr_assert_not_null(strstr(cJSON_GetObjectItem(c, "text")->valuestring, "M.meta = { name = \"trap\""));
    cJSON_Delete(r);
    stop(p, home);
}

Test(e2e_resources, logs_are_readable_after_a_session_with_llm_calls) {
    char *home;
    alc_proc *p = start(&home);
    cJSON *r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return alc.llm('q')\"}}}");
    cJSON *payload = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "content"), 0), "text")->valuestring);
    char sid[64];
    snprintf(sid, sizeof sid, "%s", cJSON_GetObjectItem(payload, "session_id")->valuestring);
    cJSON_Delete(payload);
    cJSON_Delete(r);
    char line[512];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\",\"arguments\":{\"session_id\":\"%s\",\"response\":\"a\"}}}", sid);
    cJSON_Delete(call(p, line));
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/read\",\"params\":{\"uri\":\"alc://logs/%s\"}}", sid);
    r = call(p, line);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "contents"), 0);
    cJSON *log = cJSON_Parse(cJSON_GetObjectItem(c, "text")->valuestring);
    cr_assert_not_null(log);
    cr_assert_str_eq(cJSON_GetObjectItem(log, "session_id")->valuestring, sid);
    cJSON_Delete(log);
    cJSON_Delete(r);
    stop(p, home);
}

Test(e2e_resources, bad_and_unknown_uris_get_the_right_codes) {
    char *home;
    alc_proc *p = start(&home);
    struct { const char *uri; int code; } rows[] = {
        {"alc://packages/nope/init.lua", -32002},
        {"alc://logs/s-00000000000000000000000000000000", -32002},
        {"alc://packages/../etc/meta", -32602},
        {"alc://packages/a%2f..%2fb/init.lua", -32602},
        {"alc://logs/../../etc/passwd", -32602},
        {"alc://logs/x/../y", -32602},
        {"file:///etc/passwd", -32602},
        {"alc://nothing", -32602},
        {"alc://packages/trap/other.lua", -32602},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char line[512];
        snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"resources/read\",\"params\":{\"uri\":\"%s\"}}", 10 + i, rows[i].uri);
        cJSON *r = call(p, line);
        cr_assert_eq(error_code(r), rows[i].code, "%s", rows[i].uri);
        cJSON_Delete(r);
    }
    cJSON *r = call(p, "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"resources/read\",\"params\":{}}");
    cr_assert_eq(error_code(r), -32602);
    cJSON_Delete(r);
    stop(p, home);
}
