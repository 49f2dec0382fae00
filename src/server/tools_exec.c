/*
 * tools_exec.c — the execution tools: alc_run, alc_continue, alc_status, alc_cancel.
 *
 * Handlers run on the reader thread and never wait for Lua: alc_run and alc_continue hand
 * the call to the engine as a waiter (inflight.c), which answers it at the session's next
 * pause or end. alc_run and alc_advice resolve the project root of the call first
 * (alc_project_resolve_root: explicit, $ALC_PROJECT_ROOT, cwd walk for alc.toml; cached 1 s).
 */
#include "inflight.h"

#include "alc/advice.h"
#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/pkg.h"
#include "alc/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CODE_FILE (64u << 20)

/* Starts a session for c with the given code; answers c (now or later). */
/* Starts the session of spec for the waiting call f; answers f when the start fails. */
void alc_inflight_start_session(alc_server *srv, alc_inflight *f, const alc_session_spec *spec) {
    alc_waiter w = alc_inflight_waiter(f);
    char id[40], err[512];
    /* the session may answer before start returns; the caller's reference keeps f valid */
    int rc = alc_session_start(srv->reg, spec, &w, id, err, sizeof err);
    if (rc != ALC_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "Session start failed: %s", err);
        alc_inflight_fail(f, msg);
        return;
    }
    alc_inflight_set_session(f, id);
}

static void start_session(alc_call *c, const char *code, size_t len, const char *chunkname,
                          const cJSON *ctx, const char *strategy, const char *project_root) {
    alc_inflight *f = alc_inflight_begin(c->srv->inflight, c);
    if (!f) { alc_call_fail(c, "out of memory"); return; }
    alc_session_spec spec = {
        .code = code, .code_len = len, .chunkname = chunkname, .ctx = ctx,
        .strategy = strategy, .project_root = project_root,
    };
    alc_inflight_start_session(c->srv, f, &spec);
}

void alc_tool_run(alc_call *c) {
    const char *code, *code_file, *project_root;
    const cJSON *ctx;
    if (!alc_arg_string(c, "code", false, &code) || !alc_arg_string(c, "code_file", false, &code_file) ||
        !alc_arg_object(c, "ctx", false, &ctx) || !alc_arg_string(c, "project_root", false, &project_root) ||
        !alc_arg_llm_mode(c))
        return;
    if (code && code_file) { alc_call_fail(c, "Provide either `code` or `code_file`, not both."); return; }
    if (!code && !code_file) { alc_call_fail(c, "Either `code` or `code_file` must be provided."); return; }
    char *root = NULL, err[512];
    if (alc_project_resolve_root(project_root, &root, err, sizeof err) != ALC_OK) { alc_call_fail(c, "%s", err); return; }
    if (code) {
        start_session(c, code, strlen(code), "=code", ctx, NULL, root);
        free(root);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    if (alc_fs_read_file(code_file, MAX_CODE_FILE, &text, &len, err, sizeof err) != ALC_OK) {
        alc_call_fail(c, "Failed to read %s: %s", code_file, err);
        free(root);
        return;
    }
    char chunk[600];
    snprintf(chunk, sizeof chunk, "@%s", code_file);
    start_session(c, text, len, chunk, ctx, NULL, root);
    free(text);
    free(root);
}

static bool read_usage(alc_call *c, const cJSON *u, alc_answer *a) {
    a->prompt_tokens = a->completion_tokens = -1;
    if (!u || cJSON_IsNull(u)) return true;
    if (!cJSON_IsObject(u)) { alc_call_fail(c, "Invalid arguments: 'usage' must be an object"); return false; }
    const char *keys[2] = {"prompt_tokens", "completion_tokens"};
    long long *dst[2] = {&a->prompt_tokens, &a->completion_tokens};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, keys[i]);
        if (!v || cJSON_IsNull(v)) continue;
        long long iv;
        if (!cJSON_IsNumber(v) || !alc_double_to_ll(v->valuedouble, &iv) || iv < 0) {
            alc_call_fail(c, "Invalid arguments: 'usage.%s' must be a non-negative integer", keys[i]);
            return false;
        }
        *dst[i] = iv;
        a->has_usage = true;
    }
    return true;
}

void alc_tool_continue(alc_call *c) {
    const char *sid, *response, *qid;
    const cJSON *responses;
    if (!alc_arg_string(c, "session_id", true, &sid) || !alc_arg_string(c, "response", false, &response) ||
        !alc_arg_string(c, "query_id", false, &qid) || !alc_arg_array(c, "responses", false, &responses))
        return;
    size_t n = responses ? (size_t)cJSON_GetArraySize(responses) : 1;
    if (responses && n == 0) { alc_call_fail(c, "Empty responses array"); return; }
    if (!responses && !response) { alc_call_fail(c, "Either 'response' or 'responses' must be provided"); return; }
    alc_answer *ans = calloc(n, sizeof *ans);
    if (!ans) { alc_call_fail(c, "out of memory"); return; }
    if (responses) {
        size_t i = 0;
        for (const cJSON *e = responses->child; e; e = e->next, i++) {
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "query_id");
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "response");
            if (!cJSON_IsObject(e) || !cJSON_IsString(q) || !cJSON_IsString(r)) {
                alc_call_fail(c, "Invalid arguments: responses[%zu] must be an object with string 'query_id' and 'response'", i);
                free(ans);
                return;
            }
            ans[i].query_id = q->valuestring;
            ans[i].response = r->valuestring;
            ans[i].response_len = strlen(r->valuestring);
            if (!read_usage(c, cJSON_GetObjectItemCaseSensitive(e, "usage"), &ans[i])) { free(ans); return; }
        }
    } else {
        ans[0].query_id = qid;
        ans[0].response = response;
        ans[0].response_len = strlen(response);
        if (!read_usage(c, cJSON_GetObjectItemCaseSensitive(c->args, "usage"), &ans[0])) { free(ans); return; }
    }
    alc_session *s = alc_registry_find(c->srv->reg, sid);
    if (!s) {
        alc_call_fail(c, "Continue failed: session '%s' not found (it may have finished more than the retention window ago, or never existed)", sid);
        free(ans);
        return;
    }
    alc_inflight *f = alc_inflight_begin(c->srv->inflight, c);
    if (!f) { alc_call_fail(c, "out of memory"); alc_session_unref(s); free(ans); return; }
    alc_inflight_set_session(f, sid);
    alc_waiter w = alc_inflight_waiter(f);
    size_t remaining = 0;
    char err[512];
    int rc = alc_session_continue(s, ans, n, &w, &remaining, err, sizeof err);
    free(ans);
    if (rc != ALC_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "Continue failed: %s", err);
        alc_inflight_fail(f, msg);
    } else if (remaining > 0) {
        char text[160];
        int len = snprintf(text, sizeof text, "{\"remaining\":%zu,\"session_id\":\"%s\",\"status\":\"accepted\"}", remaining, sid);
        alc_inflight_reply_text(f, text, (size_t)len);
    }
    /* else: the engine answers through the waiter */
    alc_session_unref(s);
}

static bool parse_filter(alc_call *c, alc_status_opts *o) {
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(c->args, "pending_filter");
    if (!pf || cJSON_IsNull(pf)) return true;
    if (cJSON_IsString(pf)) {
        if (strcmp(pf->valuestring, "meta") == 0) o->pending_mode = 1;
        else if (strcmp(pf->valuestring, "preview") == 0) o->pending_mode = 2;
        else if (strcmp(pf->valuestring, "full") == 0) o->pending_mode = 3;
        else {
            alc_call_fail(c, "unknown pending_filter preset '%s' (valid: \"meta\" | \"preview\" | \"full\")", pf->valuestring);
            return false;
        }
        return true;
    }
    if (cJSON_IsObject(pf)) {
        /* object form: prompt mode decides the level of detail */
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(pf, "prompt");
        const cJSON *mode = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "mode") : NULL;
        o->pending_mode = 1;
        if (cJSON_IsString(mode) && strcmp(mode->valuestring, "full") == 0) o->pending_mode = 3;
        else if (cJSON_IsString(mode) && strcmp(mode->valuestring, "preview") == 0) {
            o->pending_mode = 2;
            const cJSON *ch = cJSON_GetObjectItemCaseSensitive(p, "chars");
            long long chars;
            if (cJSON_IsNumber(ch) && alc_double_to_ll(ch->valuedouble, &chars) && chars >= 0)
                o->preview_chars = chars > 1000000 ? 1000000 : (size_t)chars;
        }
        return true;
    }
    alc_call_fail(c, "pending_filter must be a preset name (string) or filter object, got %s",
                  cJSON_IsBool(pf) ? "bool" : cJSON_IsNumber(pf) ? "number" : "array");
    return false;
}

void alc_tool_status(alc_call *c) {
    const char *sid;
    bool hist = false;
    if (!alc_arg_string(c, "session_id", false, &sid) || !alc_arg_bool(c, "include_history", false, &hist, NULL)) return;
    alc_status_opts o = {.include_history = hist, .preview_chars = c->srv->cfg->preview_chars};
    if (!parse_filter(c, &o)) return;
    if (sid) {
        alc_session *s = alc_registry_find(c->srv->reg, sid);
        if (!s) { alc_call_fail(c, "session '%s' not found (may have completed)", sid); return; }
        cJSON *snap = alc_session_snapshot(s, &o);
        alc_session_unref(s);
        if (!snap) { alc_call_fail(c, "out of memory"); return; }
        alc_call_reply_json(c, snap);
        return;
    }
    cJSON *list = alc_registry_snapshot(c->srv->reg, &o);
    cJSON *root = cJSON_CreateObject();
    if (!list || !root) { cJSON_Delete(list); cJSON_Delete(root); alc_call_fail(c, "out of memory"); return; }
    size_t active = 0;
    for (const cJSON *e = list->child; e; e = e->next) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "state");
        if (cJSON_IsString(st) && (strcmp(st->valuestring, "running") == 0 || strcmp(st->valuestring, "paused") == 0)) active++;
    }
    cJSON_AddNumberToObject(root, "active_sessions", (double)active);
    cJSON_AddItemToObject(root, "sessions", list);
    alc_call_reply_json(c, root);
}

void alc_tool_cancel(alc_call *c) {
    const char *sid, *reason;
    if (!alc_arg_string(c, "session_id", true, &sid) || !alc_arg_string(c, "reason", false, &reason)) return;
    alc_session *s = alc_registry_find(c->srv->reg, sid);
    if (!s) { alc_call_fail(c, "session '%s' not found", sid); return; }
    alc_state st;
    alc_session_cancel(s, "user", reason, &st);
    alc_session_unref(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "session_id", sid);
    cJSON_AddStringToObject(o, "state", alc_state_name(st));
    alc_call_reply_json(c, o);
}

void alc_tool_advice(alc_call *c) {
    const char *strategy, *task, *project_root;
    const cJSON *opts;
    if (!alc_arg_string(c, "strategy", true, &strategy) || !alc_arg_string(c, "task", false, &task) ||
        !alc_arg_object(c, "opts", false, &opts) || !alc_arg_string(c, "project_root", false, &project_root) ||
        !alc_arg_llm_mode(c))
        return;
    if (!alc_advice_valid_name(strategy)) {
        alc_call_fail(c, "Invalid arguments: 'strategy' must be a package name (letters, digits, '_', '-', '.' between parts), got '%.100s'", strategy);
        return;
    }
    /* first use: a missing or empty $ALC_HOME/packages gets the bundled collection (the
     * check is one opendir; nothing happens once packages exist) */
    cJSON *boot = NULL;
    char boot_err[768] = "";
    int boot_rc = alc_pkg_install_bundled(c->srv->cfg, false, true, &boot, boot_err, sizeof boot_err);
    char *root = NULL, rerr[256];
    if (alc_project_resolve_root(project_root, &root, rerr, sizeof rerr) != ALC_OK) {
        cJSON_Delete(boot);
        alc_call_fail(c, "%s", rerr);
        return;
    }
    alc_jbuf tried;
    alc_jbuf_init(&tried);
    if (!alc_advice_find(c->srv->cfg, root, strategy, &tried)) {
        const char *roots = tried.data ? tried.data : "(no roots)";
        if (boot_rc != ALC_OK) {
            alc_call_fail(c, "Package '%s' not found. Searched: %s. $ALC_HOME/packages is empty and the bundled collection "
                             "could not be installed: %s. Install packages with alc_pkg_install (a local path or git URL) "
                             "or `alc init`, or link a checkout with alc_pkg_link.",
                          strategy, roots, boot_err);
        } else if (boot) {
            const cJSON *src = cJSON_GetObjectItemCaseSensitive(boot, "source_dir");
            alc_call_fail(c, "Package '%s' not found, not even in the bundled collection just installed from %s (%d packages). "
                             "Searched: %s. Install it with alc_pkg_install (a local path or git URL), or see what is "
                             "available with alc_pkg_list.",
                          strategy, cJSON_IsString(src) ? src->valuestring : "?",
                          cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(boot, "installed")), roots);
        } else {
            alc_call_fail(c, "Package '%s' not found. Searched: %s. Install it with alc_pkg_install (a local path or git "
                             "URL), link a checkout with alc_pkg_link, or put <root>/%s/init.lua in one of those "
                             "directories; alc_pkg_list shows what is installed.",
                          strategy, roots, strategy);
        }
        alc_jbuf_deinit(&tried);
        cJSON_Delete(boot);
        free(root);
        return;
    }
    alc_jbuf_deinit(&tried);
    cJSON_Delete(boot);
    cJSON *ctx = NULL;
    if (alc_advice_ctx(opts, task, &ctx) != ALC_OK) { free(root); alc_call_fail(c, "out of memory"); return; }
    char code[ALC_ADVICE_CODE_MAX], chunk[ALC_ADVICE_CHUNK_MAX];
    size_t n = 0;
    if (alc_advice_program(strategy, code, sizeof code, &n, chunk, sizeof chunk) != ALC_OK) {
        cJSON_Delete(ctx);
        free(root);
        alc_call_fail(c, "internal error: cannot build the launcher for '%s'", strategy);
        return;
    }
    start_session(c, code, n, chunk, ctx, strategy, root);
    cJSON_Delete(ctx);
    free(root);
}
