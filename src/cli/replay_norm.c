/*
 * replay_norm.c — the comparison half of `alc replay` (see alc/replay.h): the normaliser that
 * removes volatile values from protocol messages, the first-difference finder and the
 * unified-style line diff.
 *
 * Pure data processing on caller-owned cJSON trees and strings; a normaliser is single-owner.
 * Used by src/cli/replay.c and tests/test_replay.c only, on one thread.
 */
#include "alc/replay.h"

#include "alc/error.h"
#include "alc/jbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SID_LEN 34 /* "s-" + 32 hex digits */

#define MAX_PATHS 8

typedef struct norm_path {
    char *name;       /* placeholder without brackets, e.g. "home" */
    char *path;       /* without a trailing '/' */
    size_t len;
} norm_path;

struct alc_replay_norm {
    char **ids;       /* raw session ids, index i is <session-(i+1)> */
    size_t n_ids, cap_ids;
    norm_path paths[MAX_PATHS]; /* directories replaced by <name> (ALC_HOME, ...) */
    size_t n_paths;
};

/* Keys whose number or string value is a wall-clock time. */
static const char *const ts_keys[] = {
    "started_at", "last_activity_at", "requested_at", "ts", "at", "ended_at", "started_waiting_at",
    "completed_at", "timestamp", "created_at", "updated_at", "finished_at", NULL,
};
/* True for keys whose number value is a measured duration: elapsed_ms, duration_ms and
 * "<something>_elapsed_ms" (avg_elapsed_ms, ...) except the configured max_elapsed_ms. */
static bool is_elapsed_key(const char *key) {
    static const char suffix[] = "_elapsed_ms";
    if (!key) return false;
    if (strcmp(key, "elapsed_ms") == 0 || strcmp(key, "duration_ms") == 0) return true;
    size_t len = strlen(key);
    return len > sizeof suffix - 1 && strcmp(key + len - (sizeof suffix - 1), suffix) == 0 &&
           strncmp(key, "max_", 4) != 0;
}

static bool in_list(const char *key, const char *const *list) {
    if (!key) return false;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(key, list[i]) == 0) return true;
    return false;
}

/* Returns a new normaliser; see replay.h. */
alc_replay_norm *alc_replay_norm_new(void) {
    return calloc(1, sizeof(alc_replay_norm));
}

/* Frees n (owns); NULL is a no-op. */
void alc_replay_norm_free(alc_replay_norm *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n_ids; i++) free(n->ids[i]);
    free(n->ids);
    for (size_t i = 0; i < n->n_paths; i++) {
        free(n->paths[i].name);
        free(n->paths[i].path);
    }
    free(n);
}

/* Sets the directory replaced by "<name>" (both copied); NULL/"" removes it. ALC_OK,
 * ALC_E_NOMEM, or ALC_E_LIMIT when more than MAX_PATHS names are in use. */
int alc_replay_norm_set_path(alc_replay_norm *n, const char *name, const char *path) {
    size_t k = 0;
    while (k < n->n_paths && strcmp(n->paths[k].name, name) != 0) k++;
    if (k < n->n_paths) { /* drop the old value */
        free(n->paths[k].name);
        free(n->paths[k].path);
        n->paths[k] = n->paths[--n->n_paths];
    }
    if (!path || !*path) return ALC_OK;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    if (len < 2) return ALC_OK; /* "/" would swallow every path */
    if (n->n_paths == MAX_PATHS) return ALC_E_LIMIT;
    norm_path *np = &n->paths[n->n_paths];
    np->name = strdup(name);
    np->path = malloc(len + 1);
    if (!np->name || !np->path) {
        free(np->name);
        free(np->path);
        return ALC_E_NOMEM;
    }
    memcpy(np->path, path, len);
    np->path[len] = '\0';
    np->len = len;
    n->n_paths++;
    return ALC_OK;
}

/* Sets the ALC_HOME replaced by <home>; see replay.h. */
int alc_replay_norm_set_home(alc_replay_norm *n, const char *home) {
    return alc_replay_norm_set_path(n, "home", home);
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* True iff s[i..] starts a session id "s-" + 32 lowercase hex digits that is not part of a
 * longer word. */
static bool sid_at(const char *s, size_t len, size_t i) {
    if (i + SID_LEN > len || s[i] != 's' || s[i + 1] != '-') return false;
    if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '_')) return false;
    for (size_t k = 2; k < SID_LEN; k++)
        if (!is_hex(s[i + k])) return false;
    return i + SID_LEN == len || !is_alnum(s[i + SID_LEN]);
}

/* Number (1-based) of session id sid, assigning the next one on first sight; 0 on OOM. */
static size_t sid_number(alc_replay_norm *n, const char *sid) {
    for (size_t i = 0; i < n->n_ids; i++)
        if (memcmp(n->ids[i], sid, SID_LEN) == 0) return i + 1;
    if (n->n_ids == n->cap_ids) {
        size_t cap = n->cap_ids ? n->cap_ids * 2 : 8;
        char **p = realloc(n->ids, cap * sizeof *p);
        if (!p) return 0;
        n->ids = p;
        n->cap_ids = cap;
    }
    char *copy = malloc(SID_LEN + 1);
    if (!copy) return 0;
    memcpy(copy, sid, SID_LEN);
    copy[SID_LEN] = '\0';
    n->ids[n->n_ids++] = copy;
    return n->n_ids;
}

/* True iff s is exactly "running (<digits> s elapsed)" (the heartbeat progress message). */
static bool is_heartbeat(const char *s) {
    static const char pre[] = "running (", post[] = " s elapsed)";
    if (strncmp(s, pre, sizeof pre - 1) != 0) return false;
    const char *p = s + sizeof pre - 1;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') p++;
    return strcmp(p, post) == 0;
}

/* Returns a new string with home paths and session ids replaced, or NULL on OOM. */
static char *norm_string(alc_replay_norm *n, const char *s) {
    if (is_heartbeat(s)) return strdup("running (<n> s elapsed)");
    size_t len = strlen(s);
    alc_jbuf b;
    alc_jbuf_init(&b);
    size_t i = 0;
    while (i < len) {
        const norm_path *best = NULL; /* the longest directory that starts here, as a whole name */
        for (size_t k = 0; k < n->n_paths; k++) {
            const norm_path *p = &n->paths[k];
            if (len - i >= p->len && memcmp(s + i, p->path, p->len) == 0 &&
                (i + p->len == len || !is_alnum(s[i + p->len])) && (!best || p->len > best->len))
                best = p;
        }
        if (best) {
            alc_jbuf_printf(&b, "<%s>", best->name);
            i += best->len;
        } else if (sid_at(s, len, i)) {
            size_t num = sid_number(n, s + i);
            if (!num) { alc_jbuf_deinit(&b); return NULL; }
            alc_jbuf_printf(&b, "<session-%zu>", num);
            i += SID_LEN;
        } else {
            alc_jbuf_put(&b, s + i, 1);
            i++;
        }
    }
    if (len == 0) alc_jbuf_puts(&b, "");
    return alc_jbuf_take(&b, NULL);
}

/* Turns item into a string item holding s (copied). ALC_OK or ALC_E_NOMEM. */
static int set_string(cJSON *item, const char *s) {
    size_t len = strlen(s);
    char *copy = cJSON_malloc(len + 1);
    if (!copy) return ALC_E_NOMEM;
    memcpy(copy, s, len + 1);
    if (cJSON_IsString(item) && item->valuestring) cJSON_free(item->valuestring);
    item->type = cJSON_String;
    item->valuestring = copy;
    item->valueint = 0;
    item->valuedouble = 0;
    return ALC_OK;
}

/* Moves the value of src (an object or array, owned, freed here) into item, keeping item's key. */
static void become(cJSON *item, cJSON *src) {
    if (cJSON_IsString(item) && item->valuestring) cJSON_free(item->valuestring);
    item->valuestring = NULL;
    item->type = src->type;
    item->child = src->child;
    src->child = NULL;
    cJSON_Delete(src);
}

/* Parses s when it is a JSON object or array (nothing else around it); returns new or NULL. */
static cJSON *parse_embedded(const char *s) {
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p != '{' && *p != '[') return NULL;
    return cJSON_ParseWithOpts(s, NULL, 1);
}

static int walk(alc_replay_norm *n, cJSON *node);

/* Normalises one member or element in place. */
static int norm_item(alc_replay_norm *n, cJSON *item, bool in_object) {
    const char *key = in_object ? item->string : NULL;
    if (in_list(key, ts_keys) && (cJSON_IsNumber(item) || cJSON_IsString(item))) return set_string(item, "<ts>");
    if (is_elapsed_key(key) && cJSON_IsNumber(item)) return set_string(item, "<elapsed>");
    if (cJSON_IsString(item) && item->valuestring) {
        cJSON *inner = parse_embedded(item->valuestring);
        if (inner) {
            alc_json_sort_keys(inner);
            int rc = walk(n, inner);
            if (rc != ALC_OK) { cJSON_Delete(inner); return rc; }
            become(item, inner);
            return ALC_OK;
        }
        char *s = norm_string(n, item->valuestring);
        if (!s) return ALC_E_NOMEM;
        int rc = strcmp(s, item->valuestring) == 0 ? ALC_OK : set_string(item, s);
        free(s);
        return rc;
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) return walk(n, item);
    return ALC_OK;
}

/* Normalises the members of an object (keys too) or the elements of an array, in order. */
static int walk(alc_replay_norm *n, cJSON *node) {
    bool obj = cJSON_IsObject(node);
    for (cJSON *c = node->child; c; c = c->next) {
        if (obj && c->string && !(c->type & cJSON_StringIsConst)) {
            char *k = norm_string(n, c->string);
            if (!k) return ALC_E_NOMEM;
            if (strcmp(k, c->string) != 0) {
                size_t len = strlen(k);
                char *copy = cJSON_malloc(len + 1);
                if (!copy) { free(k); return ALC_E_NOMEM; }
                memcpy(copy, k, len + 1);
                cJSON_free(c->string);
                c->string = copy;
            }
            free(k);
        }
        int rc = norm_item(n, c, obj);
        if (rc != ALC_OK) return rc;
    }
    return ALC_OK;
}

/* Returns a new normalised copy of msg (borrowed); see replay.h. */
cJSON *alc_replay_normalize(alc_replay_norm *n, const cJSON *msg) {
    cJSON *copy = cJSON_Duplicate(msg, 1);
    if (!copy) return NULL;
    alc_json_sort_keys(copy); /* number ids in an order that does not depend on key order */
    cJSON *holder = cJSON_CreateArray();
    if (!holder) { cJSON_Delete(copy); return NULL; }
    cJSON_AddItemToArray(holder, copy); /* so that a top-level string can be rewritten too */
    int rc = walk(n, holder);
    cJSON *out = cJSON_DetachItemFromArray(holder, 0);
    cJSON_Delete(holder);
    if (rc != ALC_OK) { cJSON_Delete(out); return NULL; }
    alc_json_sort_keys(out);
    return out;
}

/* As alc_replay_normalize, printed on one line. Returns new (free()) or NULL. */
char *alc_replay_normalize_text(alc_replay_norm *n, const cJSON *msg) {
    cJSON *t = alc_replay_normalize(n, msg);
    if (!t) return NULL;
    char *s = alc_json_print_sorted(t);
    cJSON_Delete(t);
    return s;
}

/* ---- first difference ------------------------------------------------------------------ */

/* Prints v compactly, shortened to about 80 characters, into buf. */
static void short_value(const cJSON *v, char *buf, size_t buflen) {
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) { snprintf(buf, buflen, "%s", v ? "?" : "(absent)"); return; }
    if (strlen(s) > 80) snprintf(buf, buflen, "%.77s...", s);
    else snprintf(buf, buflen, "%s", s);
    cJSON_free(s);
}

static bool diff_rec(const cJSON *a, const cJSON *b, char *path, size_t plen, size_t cap, char *buf, size_t buflen) {
    char va[96], vb[96];
    const char *where = plen ? path : "(message)";
    if ((a->type & 0xFF) != (b->type & 0xFF)) {
        short_value(a, va, sizeof va);
        short_value(b, vb, sizeof vb);
        snprintf(buf, buflen, "%s: expected %s, got %s", where, va, vb);
        return true;
    }
    if (cJSON_IsObject(a)) {
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            size_t n = (size_t)snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", x->string);
            size_t np = plen + n < cap ? plen + n : cap - 1;
            if (!y) {
                short_value(x, va, sizeof va);
                snprintf(buf, buflen, "%s: missing in the live run (expected %s)", path, va);
                return true;
            }
            if (diff_rec(x, y, path, np, cap, buf, buflen)) return true;
            path[plen] = '\0';
        }
        for (const cJSON *y = b->child; y; y = y->next) {
            if (cJSON_GetObjectItemCaseSensitive(a, y->string)) continue;
            snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", y->string);
            short_value(y, vb, sizeof vb);
            snprintf(buf, buflen, "%s: not expected (live run has %s)", path, vb);
            return true;
        }
        return false;
    }
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        size_t i = 0;
        for (; x && y; x = x->next, y = y->next, i++) {
            size_t n = (size_t)snprintf(path + plen, cap - plen, "[%zu]", i);
            size_t np = plen + n < cap ? plen + n : cap - 1;
            if (diff_rec(x, y, path, np, cap, buf, buflen)) return true;
            path[plen] = '\0';
        }
        if (x || y) {
            snprintf(buf, buflen, "%s: expected %d elements, got %d", where, cJSON_GetArraySize(a), cJSON_GetArraySize(b));
            return true;
        }
        return false;
    }
    if (cJSON_Compare(a, b, 1)) return false;
    if (cJSON_IsString(a) && a->valuestring && b->valuestring) {
        /* show both strings around the first character that differs */
        const char *x = a->valuestring, *y = b->valuestring;
        size_t off = 0;
        while (x[off] && x[off] == y[off]) off++;
        size_t from = off > 24 ? off - 24 : 0;
        while (from > 0 && ((unsigned char)x[from] & 0xC0) == 0x80) from--; /* whole characters */
        cJSON *sa = cJSON_CreateString(x + from), *sb = cJSON_CreateString(y + from);
        if (sa && sb) {
            short_value(sa, va, sizeof va);
            short_value(sb, vb, sizeof vb);
            snprintf(buf, buflen, "%s: strings differ at byte %zu: expected %s%s, got %s%s", where, off,
                     from ? "..." : "", va, from ? "..." : "", vb);
        }
        cJSON_Delete(sa);
        cJSON_Delete(sb);
        if (sa && sb) return true;
    }
    short_value(a, va, sizeof va);
    short_value(b, vb, sizeof vb);
    snprintf(buf, buflen, "%s: expected %s, got %s", where, va, vb);
    return true;
}

/* Describes the first difference between a and b into buf; see replay.h. */
bool alc_replay_first_difference(const cJSON *a, const cJSON *b, char *buf, size_t buflen) {
    char path[512] = "";
    if (buflen) buf[0] = '\0';
    if (!a || !b) {
        snprintf(buf, buflen, "(message): %s", a ? "missing in the live run" : "not expected");
        return a != b;
    }
    return diff_rec(a, b, path, 0, sizeof path, buf, buflen);
}

/* ---- line diff ------------------------------------------------------------------------- */

typedef struct op { char kind; size_t a, b; } op; /* kind ' ', '-', '+' */

/* Computes the edit script of a vs b (longest common subsequence after trimming the common
 * prefix and suffix). Returns new array (free()) with *nops entries, or NULL on OOM. */
static op *edit_script(const char *const *a, size_t na, const char *const *b, size_t nb, size_t *nops) {
    size_t pre = 0, suf = 0;
    while (pre < na && pre < nb && strcmp(a[pre], b[pre]) == 0) pre++;
    while (suf < na - pre && suf < nb - pre && strcmp(a[na - 1 - suf], b[nb - 1 - suf]) == 0) suf++;
    size_t ma = na - pre - suf, mb = nb - pre - suf;
    op *ops = malloc((na + nb + 1) * sizeof *ops);
    if (!ops) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < pre; i++) ops[k++] = (op){' ', i, i};
    uint32_t *t = NULL;
    if (ma && mb && (ma + 1) <= (SIZE_MAX / sizeof *t) / (mb + 1) && (ma + 1) * (mb + 1) <= (size_t)16 << 20)
        t = calloc((ma + 1) * (mb + 1), sizeof *t);
    if (t) {
        /* t[i][j] = LCS length of a[pre+i..] and b[pre+j..] */
        for (size_t i = ma; i-- > 0;)
            for (size_t j = mb; j-- > 0;) {
                uint32_t *cell = &t[i * (mb + 1) + j];
                if (strcmp(a[pre + i], b[pre + j]) == 0) *cell = t[(i + 1) * (mb + 1) + j + 1] + 1;
                else {
                    uint32_t down = t[(i + 1) * (mb + 1) + j], right = t[i * (mb + 1) + j + 1];
                    *cell = down >= right ? down : right;
                }
            }
        size_t i = 0, j = 0;
        while (i < ma || j < mb) {
            if (i < ma && j < mb && strcmp(a[pre + i], b[pre + j]) == 0) { ops[k++] = (op){' ', pre + i, pre + j}; i++; j++; }
            else if (j < mb && (i == ma || t[i * (mb + 1) + j + 1] > t[(i + 1) * (mb + 1) + j])) { ops[k++] = (op){'+', pre + i, pre + j}; j++; }
            else { ops[k++] = (op){'-', pre + i, pre + j}; i++; } /* ties: deletions first */
        }
        free(t);
    } else {
        /* too large (or one side empty in the middle): the whole middle differs */
        for (size_t i = 0; i < ma; i++) ops[k++] = (op){'-', pre + i, pre + mb};
        for (size_t j = 0; j < mb; j++) ops[k++] = (op){'+', pre + ma, pre + j};
    }
    for (size_t i = 0; i < suf; i++) ops[k++] = (op){' ', na - suf + i, nb - suf + i};
    *nops = k;
    return ops;
}

static void put_line(FILE *out, char mark, const char *s, size_t max_width) {
    size_t len = strlen(s);
    if (max_width && len > max_width) fprintf(out, "%c%.*s ... (%zu more characters)\n", mark, (int)max_width, s, len - max_width);
    else fprintf(out, "%c%s\n", mark, s);
}

/* Prints the first-difference hints for a block of '-' lines followed by '+' lines. */
static void put_hints(FILE *out, const char *const *a, const char *const *b, const op *ops, size_t from, size_t to) {
    size_t dels[64], adds[64], nd = 0, na = 0;
    for (size_t k = from; k < to; k++) {
        if (ops[k].kind == '-' && nd < 64) dels[nd++] = ops[k].a;
        if (ops[k].kind == '+' && na < 64) adds[na++] = ops[k].b;
    }
    for (size_t i = 0; i < nd && i < na; i++) {
        cJSON *x = cJSON_Parse(a[dels[i]]), *y = cJSON_Parse(b[adds[i]]);
        char buf[400];
        if (x && y && alc_replay_first_difference(x, y, buf, sizeof buf))
            fprintf(out, "   # message %zu: %s\n", dels[i] + 1, buf);
        cJSON_Delete(x);
        cJSON_Delete(y);
    }
}

/* Unified-style diff of two line lists; see replay.h. Returns the number of changed lines. */
size_t alc_replay_diff(FILE *out, const char *const *a, size_t na, const char *const *b, size_t nb,
                       size_t max_width) {
    size_t nops = 0;
    op *ops = edit_script(a, na, b, nb, &nops);
    if (!ops) {
        fputs("(out of memory computing the diff)\n", out);
        return na + nb;
    }
    size_t changed = 0;
    const size_t ctx = 2;
    size_t k = 0;
    while (k < nops) {
        if (ops[k].kind == ' ') { k++; continue; }
        /* a hunk: from ctx lines before this change to ctx lines after the last change that
         * is at most 2*ctx unchanged lines away */
        size_t start = k > ctx ? k - ctx : 0, end = k;
        while (end < nops) {
            if (ops[end].kind != ' ') { end++; continue; }
            size_t run = end;
            while (run < nops && ops[run].kind == ' ') run++;
            if (run == nops || run - end > 2 * ctx) { end = end + ctx < run ? end + ctx : run; break; }
            end = run;
        }
        size_t a0 = ops[start].a, b0 = ops[start].b, ca = 0, cb = 0;
        for (size_t i = start; i < end; i++) {
            if (ops[i].kind != '+') ca++;
            if (ops[i].kind != '-') cb++;
        }
        fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n", a0 + 1, ca, b0 + 1, cb);
        size_t block = start;
        for (size_t i = start; i < end; i++) {
            if (ops[i].kind == ' ') put_line(out, ' ', a[ops[i].a], max_width ? (max_width < 200 ? max_width : 200) : 0);
            else { put_line(out, ops[i].kind, ops[i].kind == '-' ? a[ops[i].a] : b[ops[i].b], max_width); changed++; }
            bool block_ends = i + 1 == end || ops[i + 1].kind == ' ' || (ops[i].kind == '+' && ops[i + 1].kind == '-');
            if (ops[i].kind == ' ') block = i + 1;
            else if (block_ends) { put_hints(out, a, b, ops, block, i + 1); block = i + 1; }
        }
        k = end;
    }
    free(ops);
    return changed;
}
