/*
 * tools_eval.c — the evaluation tools: alc_eval (run a scenario through a strategy in one
 * session), alc_eval_history, alc_eval_detail, alc_eval_compare (Welch's t-test on per-case
 * scores) and alc_scenario_list / _show / _install. Files live in the eval store
 * (alc/eval_store.h); the statistics are in alc/eval_stats.h; the framework that runs and
 * grades the cases is the Lua package `evalframe`, reached through alc.eval (prelude).
 *
 * alc_eval starts an ordinary session (strategy recorded as the session's strategy) running a
 * fixed launcher; the scenario source, the strategy name and strategy_opts reach it only as
 * ctx data, never spliced into Lua source. A done hook on the in-flight call (inflight.h)
 * saves the result when the session completes, whichever call receives the end, and adds
 * eval_id (or save_warning) to the answer.
 *
 * Handlers run on the reader thread and block only on the stores' file I/O (and git, for
 * alc_scenario_install). The done hook runs on the session thread with no lock held.
 */
#include "inflight.h"

#include "alc/advice.h"
#include "alc/error.h"
#include "alc/eval_stats.h"
#include "alc/eval_store.h"
#include "alc/fsutil.h"
#include "alc/pkg.h"
#include "alc/project.h"
#include "alc/thread.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RO "{\"readOnlyHint\":true,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"
#define RUN_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":false,\"openWorldHint\":false}"
#define CACHE_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":false}"
#define INSTALL_ANN "{\"readOnlyHint\":false,\"destructiveHint\":false,\"idempotentHint\":true,\"openWorldHint\":true}"

#define DEFAULT_HISTORY_LIMIT 20
#define ALPHA 0.05

/* The program of every eval session. Everything variable comes from ctx (data):
 * ctx._eval = {strategy, scenario_code, scenario_chunk}, ctx.strategy_opts. The scenario is
 * compiled as text in its own environment (globals it defines stay there). */
static const char EVAL_LAUNCHER[] =
    "local e = ctx._eval\n"
    "if type(e) ~= 'table' or type(e.scenario_code) ~= 'string' then\n"
    "  error('alc_eval: the launcher data is missing from ctx', 0)\n"
    "end\n"
    "local env = setmetatable({}, { __index = _G })\n"
    "local chunk, err = load(e.scenario_code, e.scenario_chunk, 't', env)\n"
    "if not chunk then error('alc_eval: the scenario does not compile: ' .. tostring(err), 0) end\n"
    "local ok, scenario = pcall(chunk)\n"
    "if not ok then error('alc_eval: the scenario raised an error: ' .. tostring(scenario), 0) end\n"
    "if type(scenario) ~= 'table' then\n"
    "  error('alc_eval: the scenario must return a table, got ' .. type(scenario), 0)\n"
    "end\n"
    "local opts = ctx.strategy_opts\n"
    "if opts == alc.null then opts = nil end\n"
    "return alc.eval(scenario, e.strategy, { strategy_opts = opts })\n";

/* ---- alc_eval ---------------------------------------------------------------------- */

/* What the done hook needs to save a finished eval (owned by the hook). */
typedef struct eval_job {
    char *home;
    char *strategy;
} eval_job;

static void eval_job_free(void *ud) {
    eval_job *j = ud;
    if (!j) return;
    free(j->home);
    free(j->strategy);
    free(j);
}

/* Done hook: saves a completed eval and answers with eval_id (or save_warning) added. */
static char *on_eval_done(void *ud, const alc_outcome *o, const char *text, size_t len, size_t *out_len) {
    eval_job *j = ud;
    if (o->kind != ALC_OUT_DONE) return NULL;
    cJSON *resp = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
    if (!cJSON_IsObject(resp)) {
        cJSON_Delete(resp);
        return NULL;
    }
    char id[ALC_EVAL_ID_MAX], err[700];
    int rc = alc_eval_store_save(j->home, j->strategy, resp, alc_wall_ms(), id, err, sizeof err);
    if (rc != ALC_OK) {
        char warn[800];
        snprintf(warn, sizeof warn, "the evaluation result was not saved: %s", err);
        cJSON_AddStringToObject(resp, "save_warning", warn);
    }
    char *out = alc_json_print_sorted(resp);
    cJSON_Delete(resp);
    if (out) *out_len = strlen(out);
    return out;
}

/* Makes sure evalframe and the strategy can be required; answers c and returns false if not.
 * First use installs the bundled collection into an empty $ALC_HOME/packages (as alc_advice
 * does); a missing evalframe is installed from the bundled collection on its own. */
static bool ensure_packages(alc_call *c, const char *strategy, const char *project_root) {
    const alc_config *cfg = c->srv->cfg;
    cJSON *boot = NULL;
    char err[768] = "";
    (void)alc_pkg_install_bundled(cfg, false, true, &boot, err, sizeof err);
    cJSON_Delete(boot);
    alc_jbuf tried;
    alc_jbuf_init(&tried);
    if (!alc_advice_find(cfg, project_root, "evalframe", &tried)) {
        char *dir = NULL, *src = NULL;
        cJSON *rep = NULL;
        int rc = alc_pkg_bundled_dir(&dir, err, sizeof err);
        if (rc == ALC_OK && !(src = alc_fs_join(dir, "evalframe"))) rc = ALC_E_NOMEM;
        if (rc == ALC_OK) rc = alc_pkg_install(cfg, src, "evalframe", false, &rep, err, sizeof err);
        cJSON_Delete(rep);
        free(src);
        free(dir);
        alc_jbuf_deinit(&tried);
        alc_jbuf_init(&tried);
        if (!alc_advice_find(cfg, project_root, "evalframe", &tried)) {
            alc_call_fail(c, "evalframe (the evaluation framework) is not installed and the bundled copy could not be "
                             "installed: %s. Searched: %s. Install it with alc_pkg_install or `alc init`.",
                          rc == ALC_OK ? "it was installed but cannot be found" : err,
                          tried.data ? tried.data : "(no roots)");
            alc_jbuf_deinit(&tried);
            return false;
        }
    }
    alc_jbuf_deinit(&tried);
    alc_jbuf_init(&tried);
    if (!alc_advice_find(cfg, project_root, strategy, &tried)) {
        alc_call_fail(c, "Package '%s' not found. Searched: %s. Install it with alc_pkg_install (a local path or git URL), "
                         "or see what is installed with alc_pkg_list.",
                      strategy, tried.data ? tried.data : "(no roots)");
        alc_jbuf_deinit(&tried);
        return false;
    }
    alc_jbuf_deinit(&tried);
    return true;
}

/* Builds the eval session's ctx. Returns new or NULL (out of memory). */
static cJSON *eval_ctx(const char *strategy, const char *code, size_t code_len, const char *chunk,
                       const cJSON *strategy_opts) {
    cJSON *ctx = cJSON_CreateObject();
    cJSON *e = ctx ? cJSON_AddObjectToObject(ctx, "_eval") : NULL;
    char *copy = malloc(code_len + 1);
    bool ok = e && copy && cJSON_AddStringToObject(e, "strategy", strategy) && cJSON_AddStringToObject(e, "scenario_chunk", chunk);
    if (ok) {
        memcpy(copy, code, code_len);
        copy[code_len] = '\0';
        ok = cJSON_AddStringToObject(e, "scenario_code", copy) != NULL;
    }
    free(copy);
    if (ok && strategy_opts) {
        cJSON *o = cJSON_Duplicate(strategy_opts, 1);
        ok = o && cJSON_AddItemToObject(ctx, "strategy_opts", o);
        if (!ok) cJSON_Delete(o);
    }
    if (!ok) {
        cJSON_Delete(ctx);
        return NULL;
    }
    return ctx;
}

/* Starts the eval session for c with a done hook that saves the result; answers c. */
static void start_eval(alc_call *c, const cJSON *ctx, const char *strategy, const char *project_root) {
    eval_job *job = calloc(1, sizeof *job);
    if (!job || !(job->home = strdup(c->srv->cfg->home)) || !(job->strategy = strdup(strategy))) {
        eval_job_free(job);
        alc_call_fail(c, "out of memory");
        return;
    }
    alc_inflight *f = alc_inflight_begin(c->srv->inflight, c);
    if (!f) {
        eval_job_free(job);
        alc_call_fail(c, "out of memory");
        return;
    }
    if (alc_inflight_set_done(f, on_eval_done, job, eval_job_free) != ALC_OK) {
        eval_job_free(job);
        alc_inflight_fail(f, "out of memory");
        return;
    }
    char chunk[ALC_ADVICE_CHUNK_MAX];
    snprintf(chunk, sizeof chunk, "=eval:%s", strategy);
    alc_session_spec spec = {
        .code = EVAL_LAUNCHER, .code_len = sizeof EVAL_LAUNCHER - 1, .chunkname = chunk, .ctx = ctx,
        .strategy = strategy, .project_root = project_root,
    };
    alc_inflight_start_session(c->srv, f, &spec);
}

/* alc_eval {strategy, scenario | scenario_file | scenario_name, strategy_opts?, project_root?} */
static void alc_tool_eval(alc_call *c) {
    const char *strategy, *scenario, *scenario_file, *scenario_name, *project_root;
    const cJSON *strategy_opts;
    if (!alc_arg_string(c, "strategy", true, &strategy) || !alc_arg_string(c, "scenario", false, &scenario) ||
        !alc_arg_string(c, "scenario_file", false, &scenario_file) ||
        !alc_arg_string(c, "scenario_name", false, &scenario_name) ||
        !alc_arg_object(c, "strategy_opts", false, &strategy_opts) ||
        !alc_arg_string(c, "project_root", false, &project_root) || !alc_arg_llm_mode(c))
        return;
    int sources = (scenario != NULL) + (scenario_file != NULL) + (scenario_name != NULL);
    if (sources == 0) { alc_call_fail(c, "Provide one of: scenario, scenario_file, or scenario_name."); return; }
    if (sources > 1) { alc_call_fail(c, "Provide only one of: scenario, scenario_file, or scenario_name."); return; }
    if (!alc_advice_valid_name(strategy)) {
        alc_call_fail(c, "Invalid arguments: 'strategy' must be a package name (letters, digits, '_', '-', '.' between parts), got '%.100s'", strategy);
        return;
    }
    char *text = NULL, *path = NULL, err[700];
    size_t len = 0;
    char chunk[4200];
    if (scenario) {
        snprintf(chunk, sizeof chunk, "=scenario");
    } else if (scenario_file) {
        int rc = alc_fs_read_file(scenario_file, ALC_EVAL_SCENARIO_MAX_BYTES, &text, &len, err, sizeof err);
        if (rc != ALC_OK) { alc_call_fail(c, "Failed to read scenario_file %s: %s", scenario_file, err); return; }
        snprintf(chunk, sizeof chunk, "@%s", scenario_file);
    } else {
        int rc = alc_eval_store_scenario_read(c->srv->cfg->home, scenario_name, &text, &len, &path, err, sizeof err);
        if (rc != ALC_OK) { alc_call_fail(c, "%s", err); return; }
        snprintf(chunk, sizeof chunk, "@%s", path);
        free(path);
    }
    /* the project of the call: explicit, $ALC_PROJECT_ROOT or the cwd walk (project.h) */
    char *root = NULL;
    if (alc_project_resolve_root(project_root, &root, err, sizeof err) != ALC_OK) { free(text); alc_call_fail(c, "%s", err); return; }
    if (!ensure_packages(c, strategy, root)) { free(text); free(root); return; }
    cJSON *ctx = scenario ? eval_ctx(strategy, scenario, strlen(scenario), chunk, strategy_opts)
                          : eval_ctx(strategy, text, len, chunk, strategy_opts);
    free(text);
    if (!ctx) { free(root); alc_call_fail(c, "out of memory"); return; }
    start_eval(c, ctx, strategy, root);
    cJSON_Delete(ctx);
    free(root);
}

/* ---- history / detail ------------------------------------------------------------- */

static void fail_store(alc_call *c, int rc, const char *what, const char *err) {
    if (rc == ALC_E_INVAL || rc == ALC_E_NOT_FOUND) alc_call_fail(c, "%s", err);
    else alc_call_fail(c, "%s: %s", what, err);
}

/* alc_eval_history {strategy?, limit?} */
static void alc_tool_eval_history(alc_call *c) {
    const char *strategy;
    long long limit = DEFAULT_HISTORY_LIMIT;
    if (!alc_arg_string(c, "strategy", false, &strategy) ||
        !alc_arg_int(c, "limit", false, 0, 1000000, &limit, NULL))
        return;
    cJSON *out = NULL;
    char err[700];
    int rc = alc_eval_store_history(c->srv->cfg->home, strategy, (size_t)limit, &out, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Failed to read the eval history", err); return; }
    alc_call_reply_json(c, out);
}

/* alc_eval_detail {eval_id} */
static void alc_tool_eval_detail(alc_call *c) {
    const char *id;
    if (!alc_arg_string(c, "eval_id", true, &id)) return;
    char *text = NULL, err[700];
    size_t len = 0;
    int rc = alc_eval_store_detail(c->srv->cfg->home, id, &text, &len, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Failed to read the eval result", err); return; }
    alc_call_reply_text(c, text, len, false);
    free(text);
}

/* ---- compare ----------------------------------------------------------------------- */

/* A loaded eval: its response tree and per-case scores. */
typedef struct loaded_eval {
    cJSON *resp;
    double *scores;
    size_t n;
} loaded_eval;

static void loaded_free(loaded_eval *e) {
    cJSON_Delete(e->resp);
    free(e->scores);
}

/* Loads eval id; answers c and returns false on failure. */
static bool load_eval(alc_call *c, const char *id, loaded_eval *out) {
    char *text = NULL, err[700];
    size_t len = 0;
    int rc = alc_eval_store_detail(c->srv->cfg->home, id, &text, &len, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Failed to read the eval result", err); return false; }
    out->resp = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
    free(text);
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(out->resp, "result");
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(result, "results");
    if (!cJSON_IsArray(results)) {
        alc_call_fail(c, "Eval %s has no per-case results (the stored file is not an alc_eval result)", id);
        return false;
    }
    size_t n = (size_t)cJSON_GetArraySize(results);
    out->scores = calloc(n ? n : 1, sizeof *out->scores);
    if (!out->scores) { alc_call_fail(c, "out of memory"); return false; }
    const cJSON *r;
    cJSON_ArrayForEach(r, results) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "score");
        if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble)) {
            alc_call_fail(c, "Eval %s: case %zu has no numeric score", id, out->n + 1);
            return false;
        }
        out->scores[out->n++] = s->valuedouble;
    }
    return true;
}

static bool add_num_or_null(cJSON *o, const char *key, double v, bool present) {
    return present && isfinite(v) ? cJSON_AddNumberToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

/* Adds a copy of src (or null) as key. */
static bool add_dup(cJSON *o, const char *key, const cJSON *src) {
    cJSON *v = src ? cJSON_Duplicate(src, 1) : cJSON_CreateNull();
    if (!v || !cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

/* The "a" / "b" side of a comparison. */
static cJSON *side(const char *id, const loaded_eval *e, double mean, double var) {
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(e->resp, "result");
    const cJSON *agg = cJSON_GetObjectItemCaseSensitive(result, "aggregated");
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "eval_id", id) &&
              add_dup(o, "strategy", cJSON_GetObjectItemCaseSensitive(result, "strategy")) &&
              add_dup(o, "scenario", cJSON_GetObjectItemCaseSensitive(result, "scenario")) &&
              cJSON_AddNumberToObject(o, "n", (double)e->n) && add_num_or_null(o, "mean", mean, e->n > 0) &&
              add_num_or_null(o, "std_dev", sqrt(var), e->n > 0) &&
              add_dup(o, "pass_rate", cJSON_GetObjectItemCaseSensitive(agg, "pass_rate")) &&
              add_dup(o, "pass_at_1", cJSON_GetObjectItemCaseSensitive(agg, "pass_at_1")) &&
              add_dup(o, "ci_95", cJSON_GetObjectItemCaseSensitive(agg, "ci_95")) &&
              add_dup(o, "summary", cJSON_GetObjectItemCaseSensitive(result, "summary"));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The comparison object of a vs b from a Welch result. Returns new or NULL (oom). */
static cJSON *comparison(const alc_welch *w) {
    double delta = w->mean_a - w->mean_b;
    const char *dir = delta > 0 ? "a>b" : delta < 0 ? "a<b" : "equal";
    const char *winner = w->significant ? (delta > 0 ? "a" : "b") : "none";
    bool test = w->kind != ALC_WELCH_TOO_FEW;
    cJSON *cmp = cJSON_CreateObject();
    cJSON *wt = cmp ? cJSON_AddObjectToObject(cmp, "welch_t") : NULL;
    bool ok = wt && cJSON_AddNumberToObject(cmp, "delta_mean", delta) &&
              add_num_or_null(wt, "t_stat", w->t, test && !w->t_infinite) &&
              add_num_or_null(wt, "df", w->df, test) && add_num_or_null(wt, "p_value", w->p, test) &&
              cJSON_AddBoolToObject(wt, "significant", w->significant) &&
              cJSON_AddNumberToObject(wt, "alpha", ALPHA) && cJSON_AddStringToObject(wt, "direction", dir) &&
              cJSON_AddStringToObject(cmp, "winner", winner);
    const char *note = NULL;
    if (w->kind == ALC_WELCH_TOO_FEW) note = "Welch's t-test needs at least 2 scored cases in each eval; no test was made";
    else if (w->kind == ALC_WELCH_NO_VARIANCE && w->t_infinite)
        note = "both evals have constant scores with different means: t is infinite (t_stat null) and p is 0";
    else if (w->kind == ALC_WELCH_NO_VARIANCE) note = "both evals have the same constant score: no difference";
    else if (w->t_infinite) note = "t is too large to represent (t_stat null)";
    if (ok && note) ok = cJSON_AddStringToObject(wt, "note", note) != NULL;
    char sum[600];
    if (w->kind == ALC_WELCH_TOO_FEW)
        snprintf(sum, sizeof sum, "mean a %.3f vs b %.3f (delta %+.3f); too few cases for Welch's t-test; no winner",
                 w->mean_a, w->mean_b, delta);
    else if (w->t_infinite)
        snprintf(sum, sizeof sum, "mean a %.3f vs b %.3f (delta %+.3f); t infinite, p = 0: significant at %.2f; winner: %s",
                 w->mean_a, w->mean_b, delta, ALPHA, winner);
    else
        snprintf(sum, sizeof sum, "mean a %.3f vs b %.3f (delta %+.3f); Welch t = %.3f, df = %.2f, p = %.4g: %s at %.2f; %s%s",
                 w->mean_a, w->mean_b, delta, w->t, w->df, w->p, w->significant ? "significant" : "not significant",
                 ALPHA, w->significant ? "winner: " : "no winner", w->significant ? winner : "");
    if (ok) ok = cJSON_AddStringToObject(cmp, "summary", sum) != NULL;
    if (!ok) {
        cJSON_Delete(cmp);
        return NULL;
    }
    return cmp;
}

/* alc_eval_compare {eval_id_a, eval_id_b} */
static void alc_tool_eval_compare(alc_call *c) {
    const char *a, *b;
    if (!alc_arg_string(c, "eval_id_a", true, &a) || !alc_arg_string(c, "eval_id_b", true, &b)) return;
    const char *home = c->srv->cfg->home;
    for (int i = 0; i < 2; i++) {
        const char *id = i ? b : a;
        if (!alc_eval_store_valid_id(id)) {
            alc_call_fail(c, "Invalid %s '%.200s': letters, digits, '_', '-' and '.' only (no '/' or '..')",
                          i ? "eval_id_b" : "eval_id_a", id);
            return;
        }
    }
    char *text = NULL, err[700];
    size_t len = 0;
    if (alc_eval_store_compare_read(home, a, b, &text, &len, err, sizeof err) == ALC_OK) {
        alc_call_reply_text(c, text, len, false);
        free(text);
        return;
    }
    loaded_eval ea = {0}, eb = {0};
    cJSON *root = NULL;
    if (!load_eval(c, a, &ea) || !load_eval(c, b, &eb)) goto done;
    alc_welch w;
    if (alc_eval_stats_welch(ea.scores, ea.n, eb.scores, eb.n, ALPHA, &w) != ALC_OK) {
        alc_call_fail(c, "Scores of %s or %s are not finite numbers", a, b);
        goto done;
    }
    root = cJSON_CreateObject();
    cJSON *sa = side(a, &ea, w.mean_a, w.var_a), *sb = side(b, &eb, w.mean_b, w.var_b), *cmp = comparison(&w);
    bool ok = root && sa && sb && cmp;
    if (ok && (ok = cJSON_AddItemToObject(root, "a", sa))) sa = NULL;
    if (ok && (ok = cJSON_AddItemToObject(root, "b", sb))) sb = NULL;
    if (ok && (ok = cJSON_AddItemToObject(root, "comparison", cmp))) cmp = NULL;
    cJSON_Delete(sa);
    cJSON_Delete(sb);
    cJSON_Delete(cmp);
    char *out = ok ? alc_json_print_sorted(root) : NULL;
    if (!out) { alc_call_fail(c, "out of memory"); goto done; }
    int rc = alc_eval_store_compare_write(home, a, b, out, strlen(out), err, sizeof err);
    if (rc != ALC_OK && rc != ALC_E_INVAL) {
        free(out);
        char warn[800];
        snprintf(warn, sizeof warn, "the comparison was not cached: %s", err);
        cJSON_AddStringToObject(root, "cache_warning", warn);
        out = alc_json_print_sorted(root);
        if (!out) { alc_call_fail(c, "out of memory"); goto done; }
    }
    alc_call_reply_text(c, out, strlen(out), false);
    free(out);
done:
    cJSON_Delete(root);
    loaded_free(&ea);
    loaded_free(&eb);
}

/* ---- scenarios --------------------------------------------------------------------- */

/* alc_scenario_list {} */
static void alc_tool_scenario_list(alc_call *c) {
    cJSON *out = NULL;
    char err[700];
    int rc = alc_eval_store_scenario_list(c->srv->cfg->home, &out, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Failed to list the scenarios", err); return; }
    alc_call_reply_json(c, out);
}

/* alc_scenario_show {name} */
static void alc_tool_scenario_show(alc_call *c) {
    const char *name;
    if (!alc_arg_string(c, "name", true, &name)) return;
    char *text = NULL, *path = NULL, err[700];
    size_t len = 0;
    int rc = alc_eval_store_scenario_read(c->srv->cfg->home, name, &text, &len, &path, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Failed to read the scenario", err); return; }
    alc_call_reply_text(c, text, len, false);
    free(text);
    free(path);
}

/* alc_scenario_install {url} */
static void alc_tool_scenario_install(alc_call *c) {
    const char *url;
    if (!alc_arg_string(c, "url", true, &url)) return;
    cJSON *rep = NULL;
    char err[700];
    int rc = alc_eval_store_scenario_install(c->srv->cfg->home, url, &rep, err, sizeof err);
    if (rc != ALC_OK) { fail_store(c, rc, "Scenario install failed", err); return; }
    alc_call_reply_json(c, rep);
}

/* The evaluation tools (registered in tools.c). */
const alc_tool_def alc_tools_eval[] = {
    {"alc_eval",
     "Evaluate a strategy on a scenario: every case runs through require(strategy).run(ctx) (ctx = strategy_opts + "
     "case.ctx + task = case.input) in one session and is graded. Strategy and judge prompts pause like alc_run "
     "(answer with alc_continue). The completed result has eval_id (saved under ALC_HOME/evals) and result = "
     "{aggregated {total, passed, pass_rate, scores {n, mean, std_dev, min, max, median}, ci_95, by_tag}, results, "
     "failures, summary}. A scenario is Lua returning {name?, cases = {{input, expected?, tags?, ctx?}}, graders? = "
     "{\"exact_match\" | \"contains\" | \"regex\" | \"numeric_close\" | \"json_field\" | \"llm_judge\" | function}}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"strategy\":{\"type\":\"string\",\"description\":\"Strategy package to evaluate, e.g. cot.\"},"
     "\"llm\":{\"type\":\"string\",\"enum\":[\"pause\",\"sampling\",\"auto\"],\"description\":\"How prompts are answered: pause (alc_continue), sampling (MCP sampling/createMessage; one call returns the final result), auto. Default: ALC_LLM_MODE or pause.\"},"
     "\"scenario\":{\"type\":\"string\",\"description\":\"Inline Lua that returns the scenario table.\"},"
     "\"scenario_file\":{\"type\":\"string\",\"description\":\"Path of a Lua file that returns the scenario table.\"},"
     "\"scenario_name\":{\"type\":\"string\",\"description\":\"Name of an installed scenario (ALC_HOME/scenarios/<name>.lua).\"},"
     "\"strategy_opts\":{\"type\":\"object\",\"description\":\"ctx fields given to the strategy for every case (e.g. {steps: 2}).\"},"
     "\"project_root\":{\"type\":\"string\",\"description\":\"Project directory whose layers (alc.local.toml, alc.lock, packages/) are searched first (default: $ALC_PROJECT_ROOT, else the nearest directory above the server's cwd with an alc.toml).\"}"
     "},\"required\":[\"strategy\"],\"additionalProperties\":false}",
     RUN_ANN, alc_tool_eval},
    {"alc_eval_history",
     "List saved evaluations, newest first: {evals:[{eval_id, strategy, scenario, timestamp, pass_rate, mean_score, "
     "total_cases, passed, llm_calls, elapsed_ms, summary, session_id}]}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"strategy\":{\"type\":\"string\",\"description\":\"Only evaluations of this strategy.\"},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"At most this many (default 20; 0 = all).\"}"
     "},\"additionalProperties\":false}",
     RO, alc_tool_eval_history},
    {"alc_eval_detail",
     "Show one saved evaluation: the whole alc_eval result (per-case results, failures, aggregated, summary, stats).",
     "{\"type\":\"object\",\"properties\":{"
     "\"eval_id\":{\"type\":\"string\",\"description\":\"An eval_id from alc_eval or alc_eval_history.\"}"
     "},\"required\":[\"eval_id\"],\"additionalProperties\":false}",
     RO, alc_tool_eval_detail},
    {"alc_eval_compare",
     "Compare two saved evaluations with Welch's t-test on their per-case scores: {a, b, comparison {delta_mean, "
     "welch_t {t_stat, df, p_value, significant, alpha, direction}, winner: \"a\"|\"b\"|\"none\", summary}}. "
     "A winner is named only when the difference is significant at 0.05. The answer is cached.",
     "{\"type\":\"object\",\"properties\":{"
     "\"eval_id_a\":{\"type\":\"string\",\"description\":\"First evaluation.\"},"
     "\"eval_id_b\":{\"type\":\"string\",\"description\":\"Second evaluation.\"}"
     "},\"required\":[\"eval_id_a\",\"eval_id_b\"],\"additionalProperties\":false}",
     CACHE_ANN, alc_tool_eval_compare},
    {"alc_scenario_list",
     "List installed scenarios (ALC_HOME/scenarios/*.lua): {scenarios:[{name, path, size_bytes}], failures}.",
     "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
     RO, alc_tool_scenario_list},
    {"alc_scenario_show",
     "Show the Lua source of an installed scenario.",
     "{\"type\":\"object\",\"properties\":{"
     "\"name\":{\"type\":\"string\",\"description\":\"Scenario name (file name without .lua).\"}"
     "},\"required\":[\"name\"],\"additionalProperties\":false}",
     RO, alc_tool_scenario_show},
    {"alc_scenario_install",
     "Install scenarios from an absolute local path (a directory or one .lua file) or a git URL (cloned with "
     "--depth 1): the *.lua files of its scenarios/ folder (or root) that are not installed yet are copied to "
     "ALC_HOME/scenarios. Returns {installed, skipped, failures, source, scenarios_dir}.",
     "{\"type\":\"object\",\"properties\":{"
     "\"url\":{\"type\":\"string\",\"description\":\"Absolute path or git URL.\"}"
     "},\"required\":[\"url\"],\"additionalProperties\":false}",
     INSTALL_ANN, alc_tool_scenario_install},
    {NULL, NULL, NULL, NULL, NULL},
};
