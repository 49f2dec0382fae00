/*
 * embed_bytecode.c — build-time generator: compiles a Lua source file with the same Lua
 * library the server links, and writes the bytecode (debug information kept, so tracebacks
 * still name the source's lines) as C byte arrays.
 *
 * Usage: embed_bytecode INPUT OUTPUT SYMBOL CHUNKNAME
 *
 * Without `--@group NAME` lines the whole file is one chunk: `SYMBOL[]` and `SYMBOL_len`.
 *
 * With them the file is cut into groups: the text before the first group line is the header
 * (locals shared by all groups), and each group is compiled as header + group, padded with
 * blank lines so that every line keeps its number in INPUT. Writes, per group i,
 * `SYMBOL_g<i>[]`, then `SYMBOL_groups[]` (alc_embedded_group: name, code, len) and
 * `SYMBOL_fields[]` (alc_embedded_field: field, group; sorted by field for bsearch): every
 * `function alc.FIELD(` at the start of a line inside a group. A field defined twice, or a group without a field (other than
 * `eager`), is a build error.
 *
 * Loading precompiled bytecode saves parsing the prelude in every session.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 32
#define MAX_FIELDS 256

typedef struct out_state {
    FILE *f;
    size_t n;
} out_state;

typedef struct field {
    char name[64];
    int group;
} field;

static int writer(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    out_state *o = ud;
    const unsigned char *b = p;
    for (size_t i = 0; i < sz; i++) {
        if (fprintf(o->f, "%d,%s", b[i], (++o->n % 24) ? "" : "\n") < 0) return 1;
    }
    return 0;
}

/* Compiles src[0..len) and writes it as `static const unsigned char sym[]`; returns its
 * length, or 0 after printing the error. */
static size_t emit_chunk(lua_State *L, FILE *out, const char *sym, const char *src, size_t len, const char *chunkname) {
    if (luaL_loadbufferx(L, src, len, chunkname, "t") != LUA_OK) {
        fprintf(stderr, "embed_bytecode: %s\n", lua_tostring(L, -1));
        return 0;
    }
    out_state o = {out, 0};
    fprintf(out, "static const unsigned char %s[] = {\n", sym);
    int rc = lua_dump(L, writer, &o, 0);
    fprintf(out, "0};\n");
    lua_pop(L, 1);
    return rc == 0 ? o.n : 0;
}

static int cmp_field(const void *a, const void *b) { return strcmp(((const field *)a)->name, ((const field *)b)->name); }

/* Start offsets of the lines of src that begin with prefix. */
static size_t find_lines(const char *src, size_t len, const char *prefix, size_t *at, size_t max) {
    size_t n = 0, pl = strlen(prefix);
    for (size_t i = 0; i < len; i = (size_t)((const char *)memchr(src + i, '\n', len - i) - src) + 1) {
        if (len - i >= pl && memcmp(src + i, prefix, pl) == 0) {
            if (n == max) return max + 1;
            at[n++] = i;
        }
        if (!memchr(src + i, '\n', len - i)) break;
    }
    return n;
}

static size_t count_newlines(const char *p, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += p[i] == '\n';
    return c;
}

/* Refuses the ways of defining an alc field that the field list would miss: an indented
 * `function alc.X(`, an assignment `alc.X = ` at the start of a line, and any definition in
 * the header (which runs again with every group). Returns 0 or 1 after printing the line. */
static int check_definitions(const char *src, size_t from, size_t to, bool header) {
    size_t line = 1;
    for (size_t i = 0; i < from; i++) line += src[i] == '\n';
    for (size_t i = from; i < to; line++) {
        const char *nl = memchr(src + i, '\n', to - i);
        size_t end = nl ? (size_t)(nl - src) : to;
        const char *p = src + i;
        size_t n = end - i, ws = 0;
        while (ws < n && (p[ws] == ' ' || p[ws] == '\t')) ws++;
        bool fn = n - ws >= 13 && memcmp(p + ws, "function alc.", 13) == 0;
        bool assign = false;
        if (ws == 0 && n >= 4 && memcmp(p, "alc.", 4) == 0) {
            size_t k = 4;
            while (k < n && (p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9'))) k++;
            while (k < n && p[k] == ' ') k++;
            assign = k < n && p[k] == '=' && (k + 1 >= n || p[k + 1] != '=');
        }
        if (assign || (fn && (ws > 0 || header))) {
            fprintf(stderr, "embed_bytecode: line %zu: %s\n", line,
                    header ? "alc fields cannot be defined before the first --@group line"
                           : "define alc fields as `function alc.NAME(` at the start of a line (the lazy loader finds them that way)");
            return 1;
        }
        i = nl ? end + 1 : to;
    }
    return 0;
}

static int emit_groups(lua_State *L, FILE *out, const char *sym, const char *src, size_t len, const char *chunkname,
                       const size_t *starts, size_t ng) {
    if (check_definitions(src, 0, starts[0], true)) return 1;
    static field fields[MAX_FIELDS];
    size_t nf = 0, lens[MAX_GROUPS];
    char names[MAX_GROUPS][64];
    size_t header_len = starts[0];
    for (size_t g = 0; g < ng; g++) {
        size_t from = starts[g], to = g + 1 < ng ? starts[g + 1] : len;
        const char *nl = memchr(src + from, '\n', to - from);
        size_t name_end = nl ? (size_t)(nl - src) : to, name_from = from + strlen("--@group ");
        if (name_end <= name_from || name_end - name_from >= sizeof names[g]) {
            fprintf(stderr, "embed_bytecode: bad group line\n");
            return 1;
        }
        memcpy(names[g], src + name_from, name_end - name_from);
        names[g][name_end - name_from] = '\0';
        if (strcmp(names[g], "eager") != 0 && check_definitions(src, from, to, false)) return 1;
        /* the fields this group defines */
        size_t at[MAX_FIELDS + 1];
        size_t k = find_lines(src + from, to - from, "function alc.", at, MAX_FIELDS);
        if (k > MAX_FIELDS) { fprintf(stderr, "embed_bytecode: too many fields\n"); return 1; }
        for (size_t i = 0; i < k; i++) {
            const char *p = src + from + at[i] + strlen("function alc.");
            size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            if (p[n] != '(' || n == 0 || n >= sizeof fields[0].name || nf == MAX_FIELDS) continue; /* alc.x.y: not a field of alc */
            memcpy(fields[nf].name, p, n);
            fields[nf].name[n] = '\0';
            fields[nf].group = (int)g;
            nf++;
        }
        bool has = false;
        for (size_t i = 0; i < nf; i++) has = has || fields[i].group == (int)g;
        if (!has && strcmp(names[g], "eager") != 0) {
            fprintf(stderr, "embed_bytecode: group %s defines no alc field\n", names[g]);
            return 1;
        }
        /* header + blank lines up to the group's first line + the group */
        size_t pad = count_newlines(src + header_len, from - header_len);
        size_t total = header_len + pad + (to - from);
        char *chunk = malloc(total);
        if (!chunk) return 1;
        memcpy(chunk, src, header_len);
        memset(chunk + header_len, '\n', pad);
        memcpy(chunk + header_len + pad, src + from, to - from);
        char gsym[200];
        snprintf(gsym, sizeof gsym, "%s_g%zu", sym, g);
        lens[g] = emit_chunk(L, out, gsym, chunk, total, chunkname);
        free(chunk);
        if (lens[g] == 0) return 1;
    }
    qsort(fields, nf, sizeof *fields, cmp_field);
    for (size_t i = 1; i < nf; i++)
        if (strcmp(fields[i - 1].name, fields[i].name) == 0) {
            fprintf(stderr, "embed_bytecode: alc.%s is defined twice\n", fields[i].name);
            return 1;
        }
    fprintf(out, "#ifndef ALC_EMBEDDED_GROUP_TYPES\n#define ALC_EMBEDDED_GROUP_TYPES\n"
                 "typedef struct alc_embedded_group { const char *name; const unsigned char *code; size_t len; } alc_embedded_group;\n"
                 "typedef struct alc_embedded_field { const char *name; int group; } alc_embedded_field;\n#endif\n");
    fprintf(out, "static const alc_embedded_group %s_groups[] = {\n", sym);
    for (size_t g = 0; g < ng; g++) fprintf(out, "  {\"%s\", %s_g%zu, %zu},\n", names[g], sym, g, lens[g]);
    fprintf(out, "};\nstatic const size_t %s_n_groups = %zu;\n", sym, ng);
    fprintf(out, "static const alc_embedded_field %s_fields[] = {\n", sym);
    for (size_t i = 0; i < nf; i++) fprintf(out, "  {\"%s\", %d},\n", fields[i].name, fields[i].group);
    fprintf(out, "};\nstatic const size_t %s_n_fields = %zu;\n", sym, nf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: embed_bytecode INPUT OUTPUT SYMBOL CHUNKNAME\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L) { fprintf(stderr, "embed_bytecode: cannot create a Lua state\n"); return 1; }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) luaL_addlstring(&b, buf, got);
    fclose(in);
    luaL_pushresult(&b);
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    FILE *out = fopen(argv[2], "wb");
    if (!out) { perror(argv[2]); return 1; }
    fprintf(out, "/* generated by scripts/embed_bytecode.c from %s; do not edit */\n#include <stddef.h>\n", argv[1]);
    size_t starts[MAX_GROUPS + 1];
    size_t ng = find_lines(src, len, "--@group ", starts, MAX_GROUPS);
    int bad;
    if (ng > MAX_GROUPS) {
        fprintf(stderr, "embed_bytecode: more than %d groups\n", MAX_GROUPS);
        bad = 1;
    } else if (ng == 0) {
        size_t n = emit_chunk(L, out, argv[3], src, len, argv[4]);
        fprintf(out, "static const size_t %s_len = %zu;\n", argv[3], n);
        bad = n == 0;
    } else {
        bad = emit_groups(L, out, argv[3], src, len, argv[4], starts, ng);
    }
    if (ferror(out)) bad = 1;
    if (fclose(out) != 0) bad = 1;
    if (bad) remove(argv[2]);
    lua_close(L);
    return bad ? 1 : 0;
}
