/*
 * End-to-end tests of alc.state across server processes: values written by one server are
 * read by the next one on the same ALC_HOME, two servers incrementing one key concurrently
 * lose nothing, and files are private (0600 / 0700).
 */
#include "harness/proc.h"
#include "helpers.h"

#include <sys/stat.h>
#include <sys/wait.h>

/* Runs code in a fresh server on home and returns the parsed tool-result payload. */
static cJSON *run_code(const char *home, const char *code) {
    alc_proc *p = alc_proc_spawn_alc(home, NULL, ALC_PROC_STDERR_CAPTURE);
    cr_assert_not_null(p);
    cr_assert_eq(alc_proc_initialize(p), 0);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", 1);
    cJSON_AddStringToObject(req, "method", "tools/call");
    cJSON *params = cJSON_AddObjectToObject(req, "params");
    cJSON_AddStringToObject(params, "name", "alc_run");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(params, "arguments"), "code", code);
    char *line = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cJSON *resp = alc_proc_request(p, line, 60000);
    free(line);
    cr_assert_not_null(resp, "no reply");
    const cJSON *text = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "result"), "content"), 0);
    cJSON *payload = cJSON_Parse(cJSON_GetObjectItem(text, "text")->valuestring);
    cJSON_Delete(resp);
    cr_assert_not_null(payload);
    alc_proc_close_stdin(p);
    int status = -1;
    cr_assert_eq(alc_proc_wait(p, 5000, &status), 0);
    cr_assert_eq(status, 0);
    alc_proc_free(p);
    return payload;
}

Test(e2e_state, values_persist_across_server_processes) {
    char *home = alc_test_tmpdir();
    cJSON *a = run_code(home, "alc.state.set('k', {n = 1, list = {1, 2}}); alc.state.incr('c', 2); return true");
    cr_assert_str_eq(cJSON_GetObjectItem(a, "status")->valuestring, "completed");
    cJSON_Delete(a);
    cJSON *b = run_code(home, "return {k = alc.state.get('k'), c = alc.state.get('c'), keys = alc.state.keys()}");
    cr_assert_str_eq(cJSON_GetObjectItem(b, "status")->valuestring, "completed");
    const cJSON *r = cJSON_GetObjectItem(b, "result");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "k"), "n")->valuedouble, 1);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "k"), "list")), 2);
    cr_assert_eq(cJSON_GetObjectItem(r, "c")->valuedouble, 2);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "keys")), 2);
    cJSON_Delete(b);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/state/default.json", home);
    cr_assert_eq(stat(path, &st), 0, "state file exists");
    cr_assert_eq(st.st_mode & 0777, 0600, "state file is private");
    snprintf(path, sizeof path, "%s/state", home);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "state dir is private");
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_state, two_servers_incrementing_one_key_lose_nothing, .timeout = 120) {
    char *home = alc_test_tmpdir();
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            cJSON *r = run_code(home, "for i = 1, 200 do alc.state.incr('shared') end return true");
            int ok = strcmp(cJSON_GetObjectItem(r, "status")->valuestring, "completed") == 0;
            cJSON_Delete(r);
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int st = 0;
        cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child server run completed");
    }
    cJSON *r = run_code(home, "return alc.state.get('shared')");
    cr_assert_eq(cJSON_GetObjectItem(r, "result")->valuedouble, 400, "no increment lost");
    cJSON_Delete(r);
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_state, namespaces_come_from_ctx_and_bad_ones_are_refused) {
    char *home = alc_test_tmpdir();
    alc_proc *p = alc_proc_spawn_alc(home, NULL, ALC_PROC_STDERR_CAPTURE);
    cr_assert_eq(alc_proc_initialize(p), 0);
    cJSON *resp = alc_proc_request(p,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
        "{\"code\":\"alc.state.set('x', 1) return true\",\"ctx\":{\"_ns\":\"proj\"}}}}", 30000);
    cr_assert_not_null(resp);
    cJSON_Delete(resp);
    resp = alc_proc_request(p,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
        "{\"code\":\"alc.state.set('x', 1) return true\",\"ctx\":{\"_ns\":\"../escape\"}}}}", 30000);
    cr_assert_not_null(resp);
    const char *text = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "result"), "content"), 0)->child->next->valuestring;
    cr_assert_not_null(strstr(text, "Invalid namespace"), "bad namespace refused: %s", text);
    cJSON_Delete(resp);
    alc_proc_close_stdin(p);
    int status;
    alc_proc_wait(p, 5000, &status);
    alc_proc_free(p);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/state/proj.json", home);
    cr_assert_eq(stat(path, &st), 0, "namespace file proj.json written");
    snprintf(path, sizeof path, "%s/escape.json", home);
    cr_assert_neq(stat(path, &st), 0, "nothing written outside state/");
    alc_test_rmtree(home);
    free(home);
}
