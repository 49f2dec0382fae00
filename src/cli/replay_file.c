/*
 * replay_file.c — the transcript file of `alc replay` (format in src/server/record.h): parsing
 * FILE into records (the exact bytes of each input line, the recorded output messages and
 * their match keys, the server starts) and writing records in the recorder's format for
 * `--update`.
 *
 * Pure data handling on caller-owned structures; main thread of `alc replay` only.
 */
#include "replay_internal.h"

#include "alc/error.h"
#include "alc/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRANSCRIPT (1u << 30)

/* The match key of an output message within its run; see replay_internal.h. Returns new or NULL. */
char *alc__replay_message_key(const cJSON *msg, alc__replay_key_count **counts, size_t *n_counts, size_t *n_notes) {
    char buf[64];
    if (cJSON_IsObject(msg) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "method"))) {
        snprintf(buf, sizeof buf, "N%zu", ++*n_notes);
        return strdup(buf);
    }
    const cJSON *id = cJSON_IsObject(msg) ? cJSON_GetObjectItemCaseSensitive(msg, "id") : NULL;
    char *idtext = id ? cJSON_PrintUnformatted(id) : NULL;
    const char *it = idtext ? idtext : (id ? "?" : "none");
    size_t k;
    for (k = 0; k < *n_counts; k++)
        if (strcmp((*counts)[k].id, it) == 0) break;
    if (k == *n_counts) {
        alc__replay_key_count *p = realloc(*counts, (*n_counts + 1) * sizeof *p);
        char *dup = strdup(it);
        if (!p || !dup) { free(dup); if (p) *counts = p; cJSON_free(idtext); return NULL; }
        *counts = p;
        p[k].id = dup;
        p[k].n = 0;
        (*n_counts)++;
    }
    size_t need = strlen(it) + 32;
    char *key = malloc(need);
    if (key) snprintf(key, need, "R%s#%zu", it, ++(*counts)[k].n);
    cJSON_free(idtext);
    return key;
}

/* Frees a counter array (owns). */
void alc__replay_counts_free(alc__replay_key_count *c, size_t n) {
    for (size_t i = 0; i < n; i++) free(c[i].id);
    free(c);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* True iff text[0..len) is one JSON value (whitespace around allowed) without NUL, valid UTF-8. */
static bool is_json_text(const char *text, size_t len) {
    if (memchr(text, '\0', len) || !alc_utf8_valid(text, len)) return false;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!v) return false;
    cJSON_Delete(v);
    while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    return end == text + len;
}

/* Fills e (an "in" record) with the exact bytes to send. line: the transcript line. */
static int load_in(alc__replay_entry *e, const char *line, size_t len, const cJSON *rec, char *err, size_t errlen) {
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(rec, "msg");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(rec, "raw");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(rec, "raw_hex");
    e->nowait = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "nowait"));
    if (cJSON_IsObject(msg) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "method"))) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
        char *printed = id ? cJSON_PrintUnformatted(id) : NULL;
        e->req_id = printed ? strdup(printed) : NULL;
        cJSON_free(printed);
        if (id && !e->req_id) return ALC_E_NOMEM;
    }
    if (msg) {
        /* the recorder embeds the received line verbatim: take those bytes when it did */
        static const char prefix[] = "{\"dir\":\"in\",\"msg\":";
        size_t end = len;
        while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\r' || line[end - 1] == '\t')) end--;
        if (len > sizeof prefix && strncmp(line, prefix, sizeof prefix - 1) == 0 && line[end - 1] == '}') {
            const char *p = line + sizeof prefix - 1;
            size_t n = (size_t)(line + end - 1 - p);
            cJSON *again = n ? cJSON_ParseWithLengthOpts(p, n, NULL, 0) : NULL;
            bool same = again && cJSON_Compare(again, msg, 1) && is_json_text(p, n);
            cJSON_Delete(again);
            if (same) {
                e->bytes = malloc(n + 1);
                if (!e->bytes) return ALC_E_NOMEM;
                memcpy(e->bytes, p, n);
                e->bytes[n] = '\0';
                e->len = n;
                return ALC_OK;
            }
        }
        char *printed = cJSON_PrintUnformatted(msg);
        e->bytes = printed ? strdup(printed) : NULL;
        cJSON_free(printed);
        if (!e->bytes) return ALC_E_NOMEM;
        e->len = strlen(e->bytes);
        return ALC_OK;
    }
    if (cJSON_IsString(raw)) {
        e->bytes = strdup(raw->valuestring);
        if (!e->bytes) return ALC_E_NOMEM;
        e->len = strlen(e->bytes);
        return ALC_OK;
    }
    if (cJSON_IsString(hex)) {
        size_t n = strlen(hex->valuestring);
        if (n % 2) { snprintf(err, errlen, "raw_hex has an odd number of digits"); return ALC_E_INVAL; }
        e->bytes = malloc(n / 2 + 1);
        if (!e->bytes) return ALC_E_NOMEM;
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hexval(hex->valuestring[2 * i]), lo = hexval(hex->valuestring[2 * i + 1]);
            if (hi < 0 || lo < 0) { snprintf(err, errlen, "raw_hex is not hexadecimal"); return ALC_E_INVAL; }
            e->bytes[i] = (char)(hi * 16 + lo);
        }
        e->bytes[n / 2] = '\0';
        e->len = n / 2;
        return ALC_OK;
    }
    snprintf(err, errlen, "an \"in\" record needs msg, raw or raw_hex");
    return ALC_E_INVAL;
}

/* Parses the transcript at path into f; see replay_internal.h. */
int alc__replay_file_load(const char *path, alc__replay_file *f) {
    char *data = NULL, err[512];
    size_t len = 0;
    int rc = alc_fs_read_file(path, MAX_TRANSCRIPT, &data, &len, err, sizeof err);
    if (rc != ALC_OK) {
        fprintf(stderr, "alc replay: %s\n", err);
        return rc;
    }
    size_t cap = 16;
    f->ents = calloc(cap, sizeof *f->ents);
    if (!f->ents) { free(data); return ALC_E_NOMEM; }
    alc__replay_key_count *counts = NULL;
    size_t n_counts = 0, n_notes = 0;
    int run = -1, line_no = 0;
    rc = ALC_OK;
    for (size_t pos = 0; pos < len && rc == ALC_OK;) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        line_no++;
        size_t t = 0;
        while (t < llen && (line[t] == ' ' || line[t] == '\t' || line[t] == '\r')) t++;
        if (t == llen) continue;
        cJSON *rec = cJSON_ParseWithLengthOpts(line, llen, NULL, 0);
        const cJSON *dir = rec ? cJSON_GetObjectItemCaseSensitive(rec, "dir") : NULL;
        if (!cJSON_IsObject(rec) || !cJSON_IsString(dir)) {
            fprintf(stderr, "alc replay: %s:%d: not a transcript record (expected {\"dir\":..., ...})\n", path, line_no);
            cJSON_Delete(rec);
            rc = ALC_E_INVAL;
            break;
        }
        if (f->n_ents == cap) {
            alc__replay_entry *p = realloc(f->ents, cap * 2 * sizeof *p);
            if (!p) { cJSON_Delete(rec); rc = ALC_E_NOMEM; break; }
            memset(p + cap, 0, cap * sizeof *p);
            f->ents = p;
            cap *= 2;
        }
        alc__replay_entry *e = &f->ents[f->n_ents];
        e->line_no = line_no;
        e->matched = -1;
        const char *d = dir->valuestring;
        if (strcmp(d, "start") == 0) {
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(rec, "alc_home");
            const cJSON *bd = cJSON_GetObjectItemCaseSensitive(rec, "bundled_dir");
            const cJSON *xd = cJSON_GetObjectItemCaseSensitive(rec, "bin_dir");
            e->kind = ENT_START;
            e->run = ++run;
            if ((cJSON_IsString(h) && !(e->home = strdup(h->valuestring))) ||
                (cJSON_IsString(bd) && !(e->bundled = strdup(bd->valuestring))) ||
                (cJSON_IsString(xd) && !(e->bindir = strdup(xd->valuestring))))
                rc = ALC_E_NOMEM;
            alc__replay_counts_free(counts, n_counts);
            counts = NULL;
            n_counts = n_notes = 0;
            f->n_ents++;
        } else if (strcmp(d, "in") == 0 || strcmp(d, "out") == 0) {
            if (run < 0) run = 0; /* no start record: one implicit server start */
            e->run = run;
            if (d[0] == 'i') {
                e->kind = ENT_IN;
                rc = load_in(e, line, llen, rec, err, sizeof err);
                if (rc == ALC_E_INVAL) fprintf(stderr, "alc replay: %s:%d: %s\n", path, line_no, err);
            } else {
                e->kind = ENT_OUT;
                cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(rec, "msg");
                if (!m) {
                    fprintf(stderr, "alc replay: %s:%d: an \"out\" record needs msg\n", path, line_no);
                    rc = ALC_E_INVAL;
                } else {
                    e->msg = m;
                    char *printed = cJSON_PrintUnformatted(m);
                    e->text = printed ? strdup(printed) : NULL;
                    cJSON_free(printed);
                    e->key = alc__replay_message_key(m, &counts, &n_counts, &n_notes);
                    if (!e->text || !e->key) rc = ALC_E_NOMEM;
                }
            }
            f->n_ents++;
        } /* other "dir" values are ignored (room for later extensions) */
        cJSON_Delete(rec);
    }
    alc__replay_counts_free(counts, n_counts);
    free(data);
    if (rc == ALC_E_NOMEM) fprintf(stderr, "alc replay: out of memory reading %s\n", path);
    f->n_runs = run + 1;
    return rc;
}

/* Appends the record of one protocol line to b (borrowed); see replay_internal.h. */
void alc__replay_encode_line(alc_jbuf *b, bool in, const char *line, size_t len) {
    if (!in || is_json_text(line, len)) {
        alc_jbuf_puts(b, in ? "{\"dir\":\"in\",\"msg\":" : "{\"dir\":\"out\",\"msg\":");
        alc_jbuf_put(b, line, len);
    } else if (!memchr(line, '\0', len) && alc_utf8_valid(line, len)) {
        alc_jbuf_puts(b, "{\"dir\":\"in\",\"raw\":");
        alc_jbuf_json_str(b, line, len);
    } else {
        alc_jbuf_puts(b, "{\"dir\":\"in\",\"raw_hex\":\"");
        for (size_t i = 0; i < len; i++) alc_jbuf_printf(b, "%02x", (unsigned char)line[i]);
        alc_jbuf_puts(b, "\"");
    }
    alc_jbuf_puts(b, "}\n");
}

/* Frees what f holds (f itself is the caller's). */
void alc__replay_file_deinit(alc__replay_file *f) {
    for (size_t i = 0; i < f->n_ents; i++) {
        free(f->ents[i].bytes);
        cJSON_Delete(f->ents[i].msg);
        free(f->ents[i].text);
        free(f->ents[i].key);
        free(f->ents[i].home);
        free(f->ents[i].bundled);
        free(f->ents[i].bindir);
        free(f->ents[i].req_id);
    }
    free(f->ents);
    memset(f, 0, sizeof *f);
}
