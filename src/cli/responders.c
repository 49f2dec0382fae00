/*
 * responders.c — the three ways `alc run` / `alc advice` answer a session's prompts:
 *
 *  - reader:  answers typed (or piped) on a file descriptor, one per prompt, each ended by a
 *             line holding a single "." or by end of input; with show_prompts the prompt and
 *             its system text are written to stderr first (the interactive responder).
 *  - answers: canned answers from a file: JSONL (or one JSON array) of rules
 *             {"match": M, "response": R}, tried in order, where M matches when the prompt
 *             contains it as plain text or matches it as a Lua pattern; and of plain answers
 *             (a JSON string, or an object without "match") used in sequence when no rule
 *             matches. Matching runs string.find in a private lua_State.
 *  - command: `/bin/sh -c CMD` once per prompt (responder_cmd.c does the work).
 *
 * Every wait polls the driver's cancel fd, so Ctrl-C stops a responder at once.
 *
 * Threads: a responder is created, used and freed by the driver thread. The matcher
 * lua_State of the answers responder is private to it (used only on that thread).
 * alc__cli_msgf and alc__cli_fd_ready are reentrant and used by the command workers too.
 */
#include "cli_internal.h"

#include "alc/error.h"
#include "alc/fsutil.h"
#include "alc/jbuf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ANSWERS_FILE (64u << 20)   /* an answers file larger than this is refused */
#define PROMPT_QUOTE_MAX 2000          /* prompt bytes quoted in an error message */
#define MATCHER_MEM_LIMIT (256u << 20) /* heap of the private matcher lua_State */

typedef struct rule {
    char *match;       /* NULL for a sequential answer */
    size_t match_len;
    char *response;
    size_t response_len;
} rule;

typedef struct line_reader {
    int fd;
    char *buf;
    size_t len, cap;   /* bytes held in buf[0..len) */
    bool eof;
} line_reader;

struct alc_cli_responder {
    alc_cli_resp_kind kind;
    /* reader */
    line_reader rd;
    /* answers */
    char *path;
    rule *rules;       /* match rules and sequential answers, in file order */
    size_t n_rules;
    size_t next_seq;   /* index into rules of the next unused sequential answer */
    lua_State *L;
    int matcher_ref;
    size_t lua_mem;
    /* command */
    char *cmd;
    int parallel;
};

/* The kind of r (borrowed), e.g. so that the driver hands the terminal to the interactive
 * responder. Any thread. */
alc_cli_resp_kind alc__cli_resp_kind(const alc_cli_responder *r) { return r->kind; }

/* Returns a new message (free()) from a printf format; NULL on OOM. Any thread. */
char *alc__cli_msgf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Appends up to max bytes of s to b, marking a cut. */
static void put_quoted(alc_jbuf *b, const char *s, size_t len, size_t max) {
    if (len <= max) {
        alc_jbuf_put(b, s, len);
    } else {
        alc_jbuf_put(b, s, max);
        alc_jbuf_printf(b, "\n[... %zu more bytes]", len - max);
    }
}

/* Writes all of s to fd (stderr), ignoring errors: the terminal is best effort. */
static void write_all(int fd, const char *s, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        len -= (size_t)w;
    }
}

/* True once fd (a cancel or stop pipe) is readable; false for fd < 0. Any thread. */
bool alc__cli_fd_ready(int cancel_fd) {
    if (cancel_fd < 0) return false;
    struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

/*
 * Parses text[0..len) (borrowed) as exactly one JSON value, surrounded by optional
 * whitespace. Returns a new tree (cJSON_Delete), or NULL with *errpos (may be NULL) set to
 * the byte offset where parsing failed.
 */
cJSON *alc__cli_json_parse(const char *text, size_t len, size_t *errpos) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    if (j) {
        while (at < len && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) at++;
        if (at == len) return j;
        cJSON_Delete(j);
    }
    if (errpos) *errpos = at;
    return NULL;
}

/* ---- reader responder ----------------------------------------------------------------- */

/*
 * Creates a responder that reads answers from fd (borrowed; normally 0). With show_prompts
 * each prompt is first written to stderr with instructions (the interactive responder).
 * *out returns new (alc__cli_resp_free). Returns ALC_OK or ALC_E_NOMEM.
 */
int alc__cli_resp_new_reader(int fd, bool show_prompts, alc_cli_responder **out) {
    alc_cli_responder *r = calloc(1, sizeof *r);
    if (!r) return ALC_E_NOMEM;
    r->kind = show_prompts ? ALC_CLI_RESP_INTERACTIVE : ALC_CLI_RESP_STDIN;
    r->rd.fd = fd;
    *out = r;
    return ALC_OK;
}

/* Reads the next line (without '\n'; a trailing '\r' is dropped) into *line / *len, which
 * point into the reader's buffer until the next call. Returns 1 for a line, 0 at end of
 * input, ALC_E_CANCELLED when cancel_fd became readable, ALC_E_IO / ALC_E_NOMEM. */
static int read_line(line_reader *rd, size_t *consumed, int cancel_fd, const char **line, size_t *len) {
    /* drop the line handed out last time */
    if (*consumed) {
        memmove(rd->buf, rd->buf + *consumed, rd->len - *consumed);
        rd->len -= *consumed;
        *consumed = 0;
    }
    for (;;) {
        char *nl = rd->len ? memchr(rd->buf, '\n', rd->len) : NULL;
        if (nl || (rd->eof && rd->len)) {
            size_t n = nl ? (size_t)(nl - rd->buf) : rd->len;
            *consumed = nl ? n + 1 : n;
            if (n && rd->buf[n - 1] == '\r') n--;
            *line = rd->buf;
            *len = n;
            return 1;
        }
        if (rd->eof) return 0;
        struct pollfd p[2] = {{.fd = rd->fd, .events = POLLIN}, {.fd = cancel_fd, .events = POLLIN}};
        int pr = poll(p, cancel_fd >= 0 ? 2 : 1, -1);
        if (pr < 0) {
            if (errno == EINTR) {
                if (alc__cli_fd_ready(cancel_fd)) return ALC_E_CANCELLED;
                continue;
            }
            return ALC_E_IO;
        }
        if (cancel_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) return ALC_E_CANCELLED;
        if (rd->cap - rd->len < 4096) {
            size_t cap = rd->cap ? rd->cap * 2 : 8192;
            char *nb = realloc(rd->buf, cap);
            if (!nb) return ALC_E_NOMEM;
            rd->buf = nb;
            rd->cap = cap;
        }
        ssize_t got = read(rd->fd, rd->buf + rd->len, rd->cap - rd->len);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return ALC_E_IO;
        }
        if (got == 0) rd->eof = true;
        rd->len += (size_t)got;
    }
}

static void show_prompt(const alc_query *q, size_t i, size_t n) {
    alc_jbuf b;
    alc_jbuf_init(&b);
    alc_jbuf_printf(&b, "\n=== alc asks (%s", q->id);
    if (n > 1) alc_jbuf_printf(&b, ", %zu of %zu", i + 1, n);
    alc_jbuf_printf(&b, ", max_tokens %lld) ===\n", q->max_tokens);
    if (q->system) {
        alc_jbuf_puts(&b, "--- system ---\n");
        alc_jbuf_puts(&b, q->system);
        alc_jbuf_puts(&b, "\n--- prompt ---\n");
    }
    alc_jbuf_put(&b, q->prompt, q->prompt_len);
    alc_jbuf_puts(&b, "\n--- your answer: end it with a line holding only \".\" (or end of input) ---\n");
    if (!b.oom) write_all(STDERR_FILENO, b.data, b.len);
    alc_jbuf_deinit(&b);
}

static int reader_answer(alc_cli_responder *r, const alc_cli_ctl *ctl, const alc_query *q,
                         size_t n, char **texts, size_t *lens, char **errmsg) {
    size_t consumed = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->kind == ALC_CLI_RESP_INTERACTIVE) show_prompt(&q[i], i, n);
        alc_jbuf b;
        alc_jbuf_init(&b);
        bool any = false, ended = false;
        for (;;) {
            const char *line;
            size_t len;
            int rc = read_line(&r->rd, &consumed, ctl->cancel_fd, &line, &len);
            if (rc == 0) break;
            if (rc < 0) {
                alc_jbuf_deinit(&b);
                if (rc != ALC_E_CANCELLED) *errmsg = alc__cli_msgf("cannot read answers from stdin: %s", alc_err_message(rc));
                goto fail;
            }
            if (len == 1 && line[0] == '.') { ended = true; break; }
            if (any) alc_jbuf_puts(&b, "\n");
            alc_jbuf_put(&b, line, len);
            any = true;
        }
        /* the line handed out last stays in the buffer until the next read: drop it now */
        if (consumed) {
            memmove(r->rd.buf, r->rd.buf + consumed, r->rd.len - consumed);
            r->rd.len -= consumed;
            consumed = 0;
        }
        if (!any && !ended) {
            alc_jbuf_deinit(&b);
            alc_jbuf m;
            alc_jbuf_init(&m);
            alc_jbuf_printf(&m, "stdin ended before an answer to %s was given; the prompt was:\n", q[i].id);
            put_quoted(&m, q[i].prompt, q[i].prompt_len, PROMPT_QUOTE_MAX);
            alc_jbuf_puts(&m, "\n(give answers on stdin, each ended by a line holding only \".\", or use --answers FILE or --responder CMD)");
            *errmsg = alc_jbuf_take(&m, NULL);
            goto fail;
        }
        size_t tl = 0;
        texts[i] = b.data ? alc_jbuf_take(&b, &tl) : strdup("");
        if (!texts[i]) { alc_jbuf_deinit(&b); *errmsg = alc__cli_msgf("out of memory"); goto fail; }
        lens[i] = tl;
    }
    return ALC_OK;
fail:
    for (size_t i = 0; i < n; i++) { free(texts[i]); texts[i] = NULL; }
    return *errmsg ? ALC_E_INVAL : ALC_E_CANCELLED;
}

/* ---- answers responder ---------------------------------------------------------------- */

/* Accounting allocator of the matcher state: refuses growth past MATCHER_MEM_LIMIT. */
static void *matcher_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    alc_cli_responder *r = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        r->lua_mem -= old;
        return NULL;
    }
    if (nsize > old && r->lua_mem - old + nsize > MATCHER_MEM_LIMIT) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) r->lua_mem = r->lua_mem - old + nsize;
    return p;
}

static const char matcher_src[] =
    "local find = string.find\n"
    "return function(s, p)\n"
    "  if find(s, p, 1, true) then return true end\n"
    "  local ok, r = pcall(find, s, p)\n"
    "  return ok and r ~= nil\n"
    "end\n";

/* Protected body of one match: [s, p lightuserdata] -> boolean. */
typedef struct match_args {
    const char *s, *p;
    size_t sl, pl;
    int ref;
} match_args;

static int match_body(lua_State *L) {
    const match_args *a = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->ref);                      // a fn
    lua_pushlstring(L, a->s, a->sl);                                // a fn s
    lua_pushlstring(L, a->p, a->pl);                                // a fn s p
    lua_call(L, 2, 1);                                              // a ok
    return 1;
}

/* True if rule m matches prompt q (plain substring or Lua pattern). */
static bool rule_matches(alc_cli_responder *r, const rule *m, const alc_query *q) {
    match_args a = {.s = q->prompt, .sl = q->prompt_len, .p = m->match, .pl = m->match_len, .ref = r->matcher_ref};
    lua_State *L = r->L;
    lua_pushcfunction(L, match_body);                               // body
    lua_pushlightuserdata(L, &a);                                   // body a
    bool ok = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_toboolean(L, -1); // result|err
    lua_pop(L, 1);                                                  //
    return ok;
}

/* Protected body that compiles the matcher and stores it in the registry. */
static int matcher_setup(lua_State *L) {
    luaL_requiref(L, "string", luaopen_string, 1);                  // string
    luaL_requiref(L, "_G", luaopen_base, 1);                        // string _G
    lua_pop(L, 2);
    if (luaL_loadbufferx(L, matcher_src, sizeof matcher_src - 1, "=matcher", "t") != LUA_OK) return lua_error(L);
    lua_call(L, 0, 1);                                              // fn
    lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));             // ref
    return 1;
}

/* Turns one parsed item into a rule; returns false with err filled when it is neither a
 * JSON string nor an object with a "response". */
static bool item_to_rule(const cJSON *it, rule *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const cJSON *resp = it;
    if (cJSON_IsObject(it)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "match");
        resp = cJSON_GetObjectItemCaseSensitive(it, "response");
        if (!resp) { snprintf(err, errlen, "an object needs a \"response\" member"); return false; }
        if (m && !cJSON_IsNull(m)) {
            if (!cJSON_IsString(m)) {
                snprintf(err, errlen, "\"match\" must be a string");
                return false;
            }
            out->match = strdup(m->valuestring);
            if (!out->match) goto oom;
            out->match_len = strlen(out->match);
        }
    } else if (!cJSON_IsString(it)) {
        snprintf(err, errlen, "expected {\"match\": \"...\", \"response\": \"...\"} or a JSON string");
        return false;
    }
    if (cJSON_IsString(resp)) out->response = strdup(resp->valuestring);
    else out->response = cJSON_PrintUnformatted(resp); /* a JSON answer, given as its text */
    if (!out->response) goto oom;
    out->response_len = strlen(out->response);
    return true;
oom:
    free(out->match);
    out->match = NULL;
    snprintf(err, errlen, "out of memory");
    return false;
}

static bool add_item(alc_cli_responder *r, const cJSON *it, size_t *cap, char *err, size_t errlen) {
    if (r->n_rules == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        rule *nr = realloc(r->rules, nc * sizeof *nr);
        if (!nr) { snprintf(err, errlen, "out of memory"); return false; }
        r->rules = nr;
        *cap = nc;
    }
    if (!item_to_rule(it, &r->rules[r->n_rules], err, errlen)) return false;
    r->n_rules++;
    return true;
}

/* Parses the file text into r->rules; err gets "FILE:LINE: ..." on failure. */
static int parse_answers(alc_cli_responder *r, const char *text, size_t len, char *err, size_t errlen) {
    size_t cap = 0;
    char why[256];
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) i++;
    if (i < len && text[i] == '[') {
        size_t at = 0;
        cJSON *arr = alc__cli_json_parse(text, len, &at);
        if (!arr || !cJSON_IsArray(arr)) {
            snprintf(err, errlen, "%s: not a valid JSON array (error near byte %zu)", r->path, at);
            cJSON_Delete(arr);
            return ALC_E_PARSE;
        }
        size_t k = 0;
        for (const cJSON *it = arr->child; it; it = it->next, k++) {
            if (!add_item(r, it, &cap, why, sizeof why)) {
                snprintf(err, errlen, "%s: item %zu: %s", r->path, k + 1, why);
                cJSON_Delete(arr);
                return ALC_E_PARSE;
            }
        }
        cJSON_Delete(arr);
        return ALC_OK;
    }
    size_t lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        size_t a = pos, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r')) a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r')) b--;
        pos = nl ? end + 1 : len;
        if (a == b || text[a] == '#') continue;   /* blank lines and # comments */
        size_t at = 0;
        cJSON *it = alc__cli_json_parse(text + a, b - a, &at);
        if (!it) {
            snprintf(err, errlen, "%s:%zu: not valid JSON (error near column %zu)", r->path, lineno, at + 1);
            return ALC_E_PARSE;
        }
        bool ok = add_item(r, it, &cap, why, sizeof why);
        cJSON_Delete(it);
        if (!ok) {
            snprintf(err, errlen, "%s:%zu: %s", r->path, lineno, why);
            return ALC_E_PARSE;
        }
    }
    return ALC_OK;
}

/*
 * Creates the answers responder from the file at path (borrowed). The file is JSONL —
 * blank lines and lines starting with '#' are skipped — or a single JSON array; each item is
 * a rule {"match": M, "response": R}, a plain answer (a JSON string, or an object with a
 * "response" and no "match"). A non-string response is answered as its compact JSON text.
 * *out returns new (alc__cli_resp_free). Returns ALC_OK, or ALC_E_NOT_FOUND / ALC_E_IO /
 * ALC_E_PARSE / ALC_E_NOMEM with a one-line message in err naming the file and line.
 */
int alc__cli_resp_new_answers(const char *path, alc_cli_responder **out, char *err, size_t errlen) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    char ferr[512];
    alc_cli_responder *r = calloc(1, sizeof *r);
    int rc = ALC_E_NOMEM;
    if (!r) { snprintf(err, errlen, "out of memory"); return rc; }
    r->kind = ALC_CLI_RESP_ANSWERS;
    r->matcher_ref = LUA_NOREF;
    r->path = strdup(path);
    if (!r->path) { snprintf(err, errlen, "out of memory"); goto fail; }
    rc = alc_fs_read_file(path, MAX_ANSWERS_FILE, &text, &len, ferr, sizeof ferr);
    if (rc != ALC_OK) { snprintf(err, errlen, "cannot read the answers file: %s", ferr); goto fail; }
    if ((rc = parse_answers(r, text, len, err, errlen)) != ALC_OK) goto fail;
    rc = ALC_E_NOMEM;
    r->L = lua_newstate(matcher_alloc, r);
    if (!r->L) { snprintf(err, errlen, "out of memory"); goto fail; }
    lua_pushcfunction(r->L, matcher_setup);                          // setup
    if (lua_pcall(r->L, 0, 1, 0) != LUA_OK) {                        // ref|err
        snprintf(err, errlen, "cannot set up the pattern matcher: %s", lua_tostring(r->L, -1));
        goto fail;
    }
    r->matcher_ref = (int)lua_tointeger(r->L, -1);
    lua_pop(r->L, 1);
    free(text);
    *out = r;
    return ALC_OK;
fail:
    free(text);
    alc__cli_resp_free(r);
    return rc;
}

static int answers_answer(alc_cli_responder *r, const alc_query *q, size_t n, char **texts,
                          size_t *lens, char **errmsg) {
    for (size_t i = 0; i < n; i++) {
        const rule *hit = NULL;
        for (size_t k = 0; k < r->n_rules && !hit; k++)
            if (r->rules[k].match && rule_matches(r, &r->rules[k], &q[i])) hit = &r->rules[k];
        if (!hit) {
            while (r->next_seq < r->n_rules && r->rules[r->next_seq].match) r->next_seq++;
            if (r->next_seq < r->n_rules) hit = &r->rules[r->next_seq++];
        }
        if (!hit) {
            alc_jbuf m;
            alc_jbuf_init(&m);
            alc_jbuf_printf(&m, "no answer in %s for %s: no rule matches and no plain answer is left. The prompt was:\n",
                            r->path, q[i].id);
            put_quoted(&m, q[i].prompt, q[i].prompt_len, PROMPT_QUOTE_MAX);
            alc_jbuf_puts(&m, "\n(add a line such as {\"match\": \"<text or Lua pattern>\", \"response\": \"...\"})");
            *errmsg = alc_jbuf_take(&m, NULL);
            goto fail;
        }
        texts[i] = malloc(hit->response_len + 1);
        if (!texts[i]) { *errmsg = alc__cli_msgf("out of memory"); goto fail; }
        memcpy(texts[i], hit->response, hit->response_len + 1);
        lens[i] = hit->response_len;
    }
    return ALC_OK;
fail:
    for (size_t i = 0; i < n; i++) { free(texts[i]); texts[i] = NULL; }
    return ALC_E_NOT_FOUND;
}

/* ---- command responder ---------------------------------------------------------------- */

/*
 * Creates the command responder: cmd (borrowed, copied) runs through /bin/sh -c once per
 * prompt; up to parallel (>= 1) commands of one batch run at once.
 * *out returns new (alc__cli_resp_free). Returns ALC_OK, ALC_E_INVAL or ALC_E_NOMEM.
 */
int alc__cli_resp_new_command(const char *cmd, int parallel, alc_cli_responder **out) {
    *out = NULL;
    if (!cmd || !*cmd || parallel < 1) return ALC_E_INVAL;
    alc_cli_responder *r = calloc(1, sizeof *r);
    if (!r) return ALC_E_NOMEM;
    r->kind = ALC_CLI_RESP_COMMAND;
    r->cmd = strdup(cmd);
    r->parallel = parallel;
    if (!r->cmd) { free(r); return ALC_E_NOMEM; }
    *out = r;
    return ALC_OK;
}

/* ---- dispatch ------------------------------------------------------------------------- */

/*
 * Answers the n queries q[0..n) (borrowed) of one pause, in order. On ALC_OK texts[i] holds
 * a new NUL-terminated answer (free()) of lens[i] bytes for every i; texts must come in
 * zeroed. On failure no text is left allocated and:
 *   ALC_E_CANCELLED   the run was interrupted (ctl->cancel_fd became readable); no message;
 *   other codes       *errmsg returns a new message (free()) explaining why, quoting the
 *                     prompt or the command's stderr.
 * Blocks: reads stdin (reader kinds) or waits for commands (calling ctl->tick meanwhile).
 * Driver thread only.
 */
int alc__cli_resp_answer(alc_cli_responder *r, const alc_cli_ctl *ctl, const alc_query *q,
                         size_t n, char **texts, size_t *lens, char **errmsg) {
    *errmsg = NULL;
    if (alc__cli_fd_ready(ctl->cancel_fd)) return ALC_E_CANCELLED;
    switch (r->kind) {
    case ALC_CLI_RESP_STDIN:
    case ALC_CLI_RESP_INTERACTIVE: return reader_answer(r, ctl, q, n, texts, lens, errmsg);
    case ALC_CLI_RESP_ANSWERS: return answers_answer(r, q, n, texts, lens, errmsg);
    case ALC_CLI_RESP_COMMAND: return alc__cli_cmd_answer(r->cmd, r->parallel, ctl, q, n, texts, lens, errmsg);
    }
    return ALC_E_INVAL;
}

/* Frees a responder of any kind. NULL ok. */
void alc__cli_resp_free(alc_cli_responder *r) {
    if (!r) return;
    free(r->rd.buf);
    for (size_t i = 0; i < r->n_rules; i++) {
        free(r->rules[i].match);
        free(r->rules[i].response);
    }
    free(r->rules);
    if (r->L) lua_close(r->L);
    free(r->path);
    free(r->cmd);
    free(r);
}
