/*
 * run.c — the `alc run` and `alc advice` sub-commands: their options and help, reading the
 * script / strategy and ctx, choosing the responder (responders.c), then handing over to the
 * driver (drive.c), which runs the session on the same engine as the MCP server and prints
 * the result as JSON on stdout.
 *
 * Threads: main thread only (the driver starts and joins everything else).
 */
#include "cli_internal.h"

#include "alc/advice.h"
#include "alc/cli.h"
#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"
#include "alc/project.h"
#include "alc/session.h"
#include "alc/thread.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUT_FILE (64u << 20)   /* scripts and ctx files */
#define MAX_PARALLEL 256

/* ---- options -------------------------------------------------------------------------- */

typedef struct cli_opts {
    const char *cmd;          /* "run" | "advice" (for messages) */
    const char *file;         /* run: FILE.lua */
    const char *code;         /* run: -e CODE */
    const char *ctx_json, *ctx_file;     /* run: --ctx / --ctx-file */
    const char *strategy;     /* advice: STRATEGY */
    const char *task;         /* advice: --task */
    const char *opts_json, *opts_file;   /* advice: --opts / --opts-file */
    const char *answers, *responder;
    bool interactive;
    int parallel;
    bool json, quiet, verbose;
    const char *project_root;
} cli_opts;

static const char run_help[] =
    "usage: alc run FILE.lua [options]\n"
    "       alc run -e CODE [options]\n"
    "\n"
    "Runs a Lua strategy on the same engine as the MCP server (same sessions, budgets,\n"
    "cancellation) and answers its alc.llm prompts from the command line. The script's\n"
    "return value is printed as JSON on stdout.\n"
    "\n"
    "options:\n"
    "  -e CODE              run CODE instead of a file\n"
    "  --ctx JSON           the script's ctx (a JSON object; default {})\n"
    "  --ctx-file FILE      read ctx from FILE\n"
    "  --project-root DIR   the project for require(): DIR/packages and the paths of its\n"
    "                       alc.local.toml / alc.lock are searched first (default:\n"
    "                       $ALC_PROJECT_ROOT, else the nearest alc.toml above the cwd)\n";

static const char advice_help[] =
    "usage: alc advice STRATEGY [--task TEXT] [--opts JSON | --opts-file FILE] [options]\n"
    "\n"
    "Runs the installed strategy package STRATEGY (its run(ctx)) with ctx = opts plus\n"
    "{task = TEXT}, on the same engine as the MCP tool alc_advice, and answers its prompts\n"
    "from the command line. The result is printed as JSON on stdout.\n"
    "\n"
    "options:\n"
    "  --task TEXT          the task handed to the strategy as ctx.task\n"
    "  --opts JSON          further ctx fields (a JSON object)\n"
    "  --opts-file FILE     read opts from FILE\n"
    "  --project-root DIR   the project: DIR/packages and the paths of its alc.local.toml /\n"
    "                       alc.lock are searched first (default: $ALC_PROJECT_ROOT, else\n"
    "                       the nearest alc.toml above the cwd)\n";

static const char common_help[] =
    "  --json               print the result as compact JSON (default: indented)\n"
    "  -q, --quiet          no progress line on stderr\n"
    "  -v, --verbose        copy the script's alc.log and print output to stderr\n"
    "  -h, --help           show this help\n"
    "\n"
    "responders (how prompts are answered; at most one):\n"
    "  (none given)         stdin is a terminal: --interactive. Otherwise the answers are\n"
    "                       read from stdin the same way, without showing the prompts, so\n"
    "                       `printf 'yes\\n.\\n' | alc run x.lua` answers one prompt.\n"
    "  --interactive        show each prompt (and its system text) on stderr and read the\n"
    "                       answer from stdin up to a line holding only \".\" or end of\n"
    "                       input; a batch is answered item by item\n"
    "  --answers FILE       canned answers, one JSON value per line (or one JSON array):\n"
    "                       {\"match\": M, \"response\": R} rules are tried in order (M matches\n"
    "                       as plain text or as a Lua pattern); plain answers (\"text\" or\n"
    "                       {\"response\": R}) are used in sequence when no rule matches;\n"
    "                       '#' lines are comments. A prompt nothing answers is an error.\n"
    "  --responder CMD      run `/bin/sh -c CMD` once per prompt with the prompt on stdin and\n"
    "                       ALC_SYSTEM, ALC_MAX_TOKENS, ALC_QUERY_ID, ALC_SESSION_ID set; its\n"
    "                       stdout, without trailing newlines, is the answer. A failing\n"
    "                       command is retried once, then the run fails with its stderr.\n"
    "                       E.g. --responder 'llm -m gpt-4o', 'ollama run llama3', 'claude -p'\n"
    "  --parallel N         with --responder: answer up to N prompts of a batch at once\n"
    "                       (default 1)\n"
    "\n"
    "Budgets go in ctx, e.g. --ctx '{\"budget\":{\"max_llm_calls\":5}}' (advice: in --opts).\n"
    "Sessions are logged as the server logs them (ALC_LOG_DIR, default <ALC_HOME>/logs).\n"
    "\n"
    "exit status: 0 completed; 1 script error, responder failure or cancelled session;\n"
    "2 usage error (bad option, unreadable file, invalid JSON, unknown strategy);\n"
    "3 budget exceeded; 130 interrupted by Ctrl-C (the session is cancelled cooperatively;\n"
    "a second Ctrl-C exits at once); 143 terminated by SIGTERM; 129 SIGHUP, also sent\n"
    "(on Linux) when the parent process dies, so an orphaned run does not keep going.\n";

static int usage_error(const cli_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const cli_opts *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "alc %s: ", o->cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'alc %s --help'.\n", o->cmd);
    return 2;
}

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past the value.
 * Returns 1 with *val set, 0 if argv[*i] is another option, -1 if the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') { *val = a + n + 1; return 1; }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

/* Parses the arguments of `alc run` (advice = false) or `alc advice`. Returns -1 to go on,
 * or the exit status to return now (0 after --help, 2 on a usage error). */
static int parse_args(cli_opts *o, bool advice, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->cmd = advice ? "advice" : "run";
    o->parallel = 1;
    bool no_more_opts = false;
    const char *positional = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (no_more_opts || a[0] != '-' || strcmp(a, "-") == 0) {
            if (positional) return usage_error(o, "unexpected argument '%s'", a);
            positional = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { no_more_opts = true; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(advice ? advice_help : run_help, stdout);
            fputs(common_help, stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0) { o->json = true; continue; }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) { o->quiet = true; continue; }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) { o->verbose = true; continue; }
        if (strcmp(a, "--interactive") == 0) { o->interactive = true; continue; }
        struct { const char *name; const char **dst; bool run_only, advice_only; } vals[] = {
            {"-e", &o->code, true, false},
            {"--ctx", &o->ctx_json, true, false},
            {"--ctx-file", &o->ctx_file, true, false},
            {"--task", &o->task, false, true},
            {"--opts", &o->opts_json, false, true},
            {"--opts-file", &o->opts_file, false, true},
            {"--answers", &o->answers, false, false},
            {"--responder", &o->responder, false, false},
            {"--project-root", &o->project_root, false, false},
        };
        const char *par = NULL;
        int got = opt_value(argc, argv, &i, "--parallel", &par);
        if (got < 0) return usage_error(o, "--parallel needs a value");
        if (got > 0) {
            char *end;
            errno = 0;
            long v = strtol(par, &end, 10);
            if (errno || end == par || *end || v < 1 || v > MAX_PARALLEL)
                return usage_error(o, "--parallel expects a number from 1 to %d, got '%s'", MAX_PARALLEL, par);
            o->parallel = (int)v;
            continue;
        }
        bool matched = false;
        for (size_t k = 0; k < sizeof vals / sizeof vals[0] && !matched; k++) {
            const char *v = NULL;
            got = opt_value(argc, argv, &i, vals[k].name, &v);
            if (got == 0) continue;
            if (got < 0) return usage_error(o, "%s needs a value", vals[k].name);
            if ((vals[k].run_only && advice) || (vals[k].advice_only && !advice))
                return usage_error(o, "%s is not an option of 'alc %s'", vals[k].name, o->cmd);
            if (*vals[k].dst) return usage_error(o, "%s given twice", vals[k].name);
            *vals[k].dst = v;
            matched = true;
        }
        if (!matched) return usage_error(o, "unknown option '%s'", a);
    }
    if (advice) {
        if (!positional) return usage_error(o, "missing STRATEGY (the name of an installed strategy package)");
        o->strategy = positional;
        if (o->opts_json && o->opts_file) return usage_error(o, "give --opts or --opts-file, not both");
    } else {
        if (positional && o->code) return usage_error(o, "give FILE or -e CODE, not both");
        if (!positional && !o->code) return usage_error(o, "missing FILE.lua (or -e CODE)");
        o->file = positional;
        if (o->ctx_json && o->ctx_file) return usage_error(o, "give --ctx or --ctx-file, not both");
    }
    int nresp = (o->answers != NULL) + (o->responder != NULL) + o->interactive;
    if (nresp > 1) return usage_error(o, "choose one responder: --interactive, --answers or --responder");
    if (o->responder && !*o->responder) return usage_error(o, "--responder needs a command");
    return -1;
}

/* Reads a JSON object from text or from a file. Returns ALC_OK with *out new, or the exit
 * status 2 after printing why. what: "--ctx" / "--opts". */
static int load_object(const cli_opts *o, const char *what, const char *text, const char *file, cJSON **out) {
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    char err[512];
    if (file) {
        if (alc_fs_read_file(file, MAX_INPUT_FILE, &buf, &len, err, sizeof err) != ALC_OK)
            return usage_error(o, "%s-file: cannot read %s", what, err);
        text = buf;
    } else {
        len = strlen(text);
    }
    size_t at = 0;
    cJSON *j = alc__cli_json_parse(text, len, &at);
    if (!j) {
        free(buf);
        return usage_error(o, "%s%s is not valid JSON (error near byte %zu)", what, file ? "-file" : "", at);
    }
    free(buf);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return usage_error(o, "%s%s must be a JSON object", what, file ? "-file" : "");
    }
    *out = j;
    return ALC_OK;
}

/* Creates the responder the options ask for. Returns ALC_OK, or the exit status 2. */
static int make_responder(const cli_opts *o, int in_fd, alc_cli_responder **out) {
    char err[768];
    int rc;
    if (o->answers) {
        rc = alc__cli_resp_new_answers(o->answers, out, err, sizeof err);
        if (rc != ALC_OK) return usage_error(o, "--answers: %s", err);
        return ALC_OK;
    }
    if (o->responder) rc = alc__cli_resp_new_command(o->responder, o->parallel, out);
    else rc = alc__cli_resp_new_reader(in_fd, o->interactive || isatty(in_fd), out);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc %s: %s\n", o->cmd, alc_err_message(rc));
        return 1;
    }
    return ALC_OK;
}

/* The project of a command: --project-root (which must be a directory), else
 * $ALC_PROJECT_ROOT, else the nearest directory above the cwd that holds alc.toml, else none
 * (the server's rule, alc_project_resolve_root). *root returns new or NULL. Returns -1 when
 * found, else the exit status (2 for a bad --project-root, 1 out of memory). */
static int resolve_project(const cli_opts *o, char **root) {
    *root = NULL;
    struct stat st;
    if (o->project_root && (stat(o->project_root, &st) != 0 || !S_ISDIR(st.st_mode))) {
        usage_error(o, "--project-root %.300s: not a directory", o->project_root);
        return 2;
    }
    char err[256];
    if (alc_project_resolve_root(o->project_root, root, err, sizeof err) != ALC_OK) {
        fprintf(stderr, "alc %s: %s\n", o->cmd, err);
        return 1;
    }
    return -1;
}

/*
 * `alc run FILE.lua | -e CODE [options]`: runs a script and prints its result (see run_help).
 * cfg: borrowed, loaded by main. argv[0] is "run". Returns the process exit status:
 * 0 completed, 1 script error / responder failure, 2 usage, 3 budget exceeded,
 * 129 (SIGHUP or parent death) / 130 (SIGINT) / 143 (SIGTERM) interrupted. Main thread only;
 * arms the parent-death signal first, installs SIGINT, SIGTERM and SIGHUP handlers for its
 * duration and points fd 1 at stderr while the script runs.
 */
int alc_cli_run(const alc_config *cfg, int argc, char **argv) {
    alc__cli_watch_parent();
    cli_opts o;
    int st = parse_args(&o, false, argc, argv);
    if (st >= 0) return st;
    cJSON *ctx = NULL;
    char *code = NULL;
    size_t len = 0;
    char *chunk = NULL;
    alc_cli_responder *resp = NULL;
    alc_cli_stdio g = {-1, -1};
    char *root = NULL;
    int status = 2;
    if ((st = resolve_project(&o, &root)) >= 0) return st;
    if ((o.ctx_json || o.ctx_file) && load_object(&o, "--ctx", o.ctx_json, o.ctx_file, &ctx) != ALC_OK) goto out;
    if (o.file) {
        char err[512];
        if (alc_fs_read_file(o.file, MAX_INPUT_FILE, &code, &len, err, sizeof err) != ALC_OK) {
            usage_error(&o, "%s", err);
            goto out;
        }
        /* a first line "#!..." is allowed, as lua(1) does; keep the line count */
        if (len > 0 && code[0] == '#')
            for (size_t i = 0; i < len && code[i] != '\n'; i++) code[i] = ' ';
        size_t cl = strlen(o.file) + 2;
        chunk = malloc(cl);
        if (!chunk) { fprintf(stderr, "alc run: out of memory\n"); status = 1; goto out; }
        snprintf(chunk, cl, "@%s", o.file);
    } else {
        len = strlen(o.code);
        code = malloc(len + 1);
        chunk = strdup("=(command line)");
        if (!code || !chunk) { fprintf(stderr, "alc run: out of memory\n"); status = 1; goto out; }
        memcpy(code, o.code, len + 1);
    }
    if (alc__cli_stdio_protect(o.cmd, &g) != ALC_OK) { status = 1; goto out; }
    if ((st = make_responder(&o, g.in_fd, &resp)) != ALC_OK) { status = st; goto out; }
    alc_session_spec spec = {
        .code = code, .code_len = len, .chunkname = chunk, .ctx = ctx, .strategy = NULL,
        .project_root = root,
    };
    alc_cli_out out = {.cmd = o.cmd, .json = o.json, .quiet = o.quiet, .verbose = o.verbose};
    status = alc__cli_drive(cfg, &out, resp, &spec, g.out_fd);
out:
    alc__cli_stdio_restore(&g);
    alc__cli_resp_free(resp);
    free(root);
    free(chunk);
    free(code);
    cJSON_Delete(ctx);
    return status;
}

/*
 * `alc advice STRATEGY [--task TEXT] [--opts JSON] [options]`: runs an installed strategy
 * package like the alc_advice tool and prints its result (see advice_help). Same contract,
 * exit statuses and threading as alc_cli_run; an invalid or unknown strategy is status 2.
 */
int alc_cli_advice(const alc_config *cfg, int argc, char **argv) {
    alc__cli_watch_parent();
    cli_opts o;
    int st = parse_args(&o, true, argc, argv);
    if (st >= 0) return st;
    cJSON *opts = NULL, *ctx = NULL;
    alc_cli_responder *resp = NULL;
    alc_jbuf tried;
    alc_jbuf_init(&tried);
    alc_cli_stdio g = {-1, -1};
    char *root = NULL;
    int status = 2;
    if ((st = resolve_project(&o, &root)) >= 0) {
        alc_jbuf_deinit(&tried);
        return st;
    }
    if (!alc_advice_valid_name(o.strategy)) {
        usage_error(&o, "'%.100s' is not a package name (letters, digits, '_', '-', with '.' between parts)", o.strategy);
        goto out;
    }
    if ((o.opts_json || o.opts_file) && load_object(&o, "--opts", o.opts_json, o.opts_file, &opts) != ALC_OK) goto out;
    if (!alc_advice_find(cfg, root, o.strategy, &tried)) {
        usage_error(&o, "strategy package '%s' not found. Searched: %s. Install it with `alc init`, or put "
                        "<root>/%s/init.lua in one of those directories (ALC_PACKAGES_PATH adds roots).",
                    o.strategy, tried.data ? tried.data : "(no roots)", o.strategy);
        goto out;
    }
    if (alc_advice_ctx(opts, o.task, &ctx) != ALC_OK) { fprintf(stderr, "alc advice: out of memory\n"); status = 1; goto out; }
    char code[ALC_ADVICE_CODE_MAX], chunk[ALC_ADVICE_CHUNK_MAX];
    size_t len = 0;
    if (alc_advice_program(o.strategy, code, sizeof code, &len, chunk, sizeof chunk) != ALC_OK) {
        fprintf(stderr, "alc advice: cannot build the launcher for '%s'\n", o.strategy);
        status = 1;
        goto out;
    }
    if (alc__cli_stdio_protect(o.cmd, &g) != ALC_OK) { status = 1; goto out; }
    if ((st = make_responder(&o, g.in_fd, &resp)) != ALC_OK) { status = st; goto out; }
    alc_session_spec spec = {
        .code = code, .code_len = len, .chunkname = chunk, .ctx = ctx, .strategy = o.strategy,
        .project_root = root,
    };
    alc_cli_out out = {.cmd = o.cmd, .json = o.json, .quiet = o.quiet, .verbose = o.verbose};
    status = alc__cli_drive(cfg, &out, resp, &spec, g.out_fd);
out:
    alc__cli_stdio_restore(&g);
    alc_jbuf_deinit(&tried);
    alc__cli_resp_free(resp);
    free(root);
    cJSON_Delete(opts);
    cJSON_Delete(ctx);
    return status;
}
