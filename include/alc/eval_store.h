/*
 * eval_store.h — evaluation results and scenario files under $ALC_HOME:
 *   evals/<eval_id>.json        the whole alc_eval response of a finished evaluation
 *   evals/<eval_id>.meta.json   {eval_id, strategy, scenario, timestamp, pass_rate, mean_score,
 *                                total_cases, passed, llm_calls, elapsed_ms, summary, session_id}
 *   evals/compare_<a>_vs_<b>.json  cached alc_eval_compare answers
 *   scenarios/<name>.lua        installed scenarios (Lua returning a scenario table)
 * Files are written 0600 by atomic replace, directories are created 0700.
 *
 * Eval ids are "<strategy>_<unix ms>_<4 hex digits>"; a new id is reserved by creating its
 * file exclusively, so two evaluations never share an id (same strategy, same millisecond, or
 * two processes). Every id and scenario name given by a caller is checked before it becomes
 * part of a path (alc_eval_store_valid_id / _valid_scenario_name).
 *
 * Reports are cJSON trees (returns new, cJSON_Delete); error messages in err are single lines.
 * Threads: any thread; the functions block on disk I/O (and scenario_install on git for up to
 * 60 s), so never call them with an engine lock held. No function takes a lock.
 */
#ifndef ALC_EVAL_STORE_H
#define ALC_EVAL_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer size that holds every eval id (NUL included). */
#define ALC_EVAL_ID_MAX 192
/* Longest scenario name, in bytes. */
#define ALC_EVAL_SCENARIO_NAME_MAX 128
/* Longest scenario file accepted (read or installed). */
#define ALC_EVAL_SCENARIO_MAX_BYTES ((size_t)16 << 20)
/* git clone bound for alc_eval_store_scenario_install. */
#define ALC_EVAL_GIT_TIMEOUT_MS 60000

/* True if id can name a stored eval: 1..ALC_EVAL_ID_MAX-1 bytes of letters, digits, '_', '-'
 * and '.', not starting with '.', without "..". (Any such string is looked up; only ids made
 * by alc_eval_store_save exist.) */
bool alc_eval_store_valid_id(const char *id);

/* True if name can name a scenario file: 1..ALC_EVAL_SCENARIO_NAME_MAX bytes of letters,
 * digits, '_', '-' and '.', not starting with '.' or '-', without "..". */
bool alc_eval_store_valid_scenario_name(const char *name);

/* Saves a finished evaluation. response: borrowed and modified: on success its "eval_id"
 * member is set to the new id (also written to id_out, ALC_EVAL_ID_MAX bytes); on failure it
 * is left without one. strategy must be a valid package name. now_ms: Unix time in ms (the
 * id's time and the meta "timestamp"). ALC_OK, ALC_E_INVAL, ALC_E_IO, ALC_E_NOMEM. */
int alc_eval_store_save(const char *home, const char *strategy, cJSON *response, int64_t now_ms,
                        char *id_out, char *err, size_t errlen);

/* {evals: [meta...]} newest first (timestamp, then id), only strategy's when strategy is not
 * NULL, at most limit (0 = all); "warnings": [{file, error}] lists meta files that could not be
 * read. No evals directory gives {evals: []}. *out returns new. ALC_OK, ALC_E_IO, ALC_E_NOMEM. */
int alc_eval_store_history(const char *home, const char *strategy, size_t limit, cJSON **out,
                           char *err, size_t errlen);

/* The stored response text of eval id (*text returns new, free()). ALC_OK, ALC_E_INVAL (bad
 * id), ALC_E_NOT_FOUND ("Eval result not found: ID"), ALC_E_IO, ALC_E_NOMEM. */
int alc_eval_store_detail(const char *home, const char *id, char **text, size_t *len,
                          char *err, size_t errlen);

/* The cached comparison of a and b (*text returns new). ALC_E_NOT_FOUND when not cached (or
 * the ids are too long to form a file name); ALC_E_INVAL for bad ids; ALC_E_IO. */
int alc_eval_store_compare_read(const char *home, const char *a, const char *b, char **text,
                                size_t *len, char *err, size_t errlen);

/* Caches text as the comparison of a and b. ALC_OK, ALC_E_INVAL (bad ids, or too long to
 * form a file name), ALC_E_IO. */
int alc_eval_store_compare_write(const char *home, const char *a, const char *b, const char *text,
                                 size_t len, char *err, size_t errlen);

/* {scenarios: [{name, path, size_bytes}] sorted by name, failures: [{file, error}]} for the
 * *.lua files of <home>/scenarios (no directory: both empty). *out returns new. */
int alc_eval_store_scenario_list(const char *home, cJSON **out, char *err, size_t errlen);

/* Reads scenario name: *text and *path return new (free()). ALC_OK, ALC_E_INVAL (bad name),
 * ALC_E_NOT_FOUND ("Scenario 'X' not found at PATH"), ALC_E_TOO_LARGE, ALC_E_IO. */
int alc_eval_store_scenario_read(const char *home, const char *name, char **text, size_t *len,
                                 char **path, char *err, size_t errlen);

/*
 * Installs scenarios from url: an absolute path (a directory, or one .lua file) or a git URL
 * (https://, http://, ssh://, git://, file:///, git@host:path, host.tld/path), cloned with
 * `git clone --depth 1` (no shell, ALC_EVAL_GIT_TIMEOUT_MS) into <home>/tmp. From the source's
 * scenarios/ sub-directory when it has one, else its root, every regular *.lua file with a
 * valid name that is not installed yet is copied to <home>/scenarios/ (existing ones are
 * skipped, never overwritten). Report {installed: [names], skipped: [names], failures:
 * [{name, error}], source, scenarios_dir}. Errors: ALC_E_INVAL (bad url), ALC_E_NOT_FOUND (no
 * such path, git missing, or "No .lua scenario files found in source."), ALC_E_TIMEOUT,
 * ALC_E_IO, ALC_E_NOMEM. *report returns new on ALC_OK.
 */
int alc_eval_store_scenario_install(const char *home, const char *url, cJSON **report, char *err,
                                    size_t errlen);

#endif
