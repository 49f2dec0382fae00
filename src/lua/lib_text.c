/*
 * lib_text.c — Layer-0 text helpers: alc.match_enum, alc.match_bool, alc.chunk
 * (spec §4.4.4 and §4.4.2).
 *
 * Owns: nothing beyond the Lua functions it registers. Scratch memory is always a Lua userdata
 * (collected by the VM), so a Lua error raised halfway through never leaks C memory
 * (convention 12).
 * Threads: every function runs on the thread that owns the lua_State it is called with; the
 * module has no global mutable state.
 *
 * Text model. Lua strings are byte strings. Case folding is ASCII plus a length-preserving
 * subset of Unicode (Latin-1, Latin Extended-A, basic Greek and Cyrillic capitals), so byte
 * offsets in the folded copy equal those in the input. Whitespace and "alphanumeric" for
 * match_enum's tokeniser are decided per UTF-8 scalar; an invalid byte is one unit of its own
 * and counts as non-alphanumeric. Jaro–Winkler similarity is computed over bytes.
 */
#include "alc/lua_libs.h"

#include <lauxlib.h>
#include <lua.h>

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BAD_CP 0xFFFFFFFFu /* marker for a byte that does not start a valid UTF-8 scalar */

/* ---------------------------------------------------------------- UTF-8 and folding */

/* Decodes one unit at s (n > 0 bytes left). Returns its byte length (1..4) and stores the
 * scalar in *cp, or BAD_CP with length 1 for an invalid or truncated sequence. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;      // no overlong forms
        else if (c == 0xED) hi = 0x9F; // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0) lo = 0x90;      // no overlong forms
        else if (c == 0xF4) hi = 0x8F; // nothing above U+10FFFF
    } else {
        *cp = BAD_CP;
        return 1;
    }
    if (n <= need) {
        *cp = BAD_CP;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned b = s[k];
        unsigned blo = (k == 1) ? lo : 0x80, bhi = (k == 1) ? hi : 0xBF;
        if (b < blo || b > bhi) {
            *cp = BAD_CP;
            return 1;
        }
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return need + 1;
}

/* Lower-case mapping restricted to pairs whose UTF-8 encodings have the same length. */
static uint32_t fold_cp(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0xC0) return c;
    if (c <= 0xDE) return c == 0xD7 ? c : c + 0x20; // Latin-1 capitals except ×
    if (c >= 0x100 && c <= 0x17F) {                 // Latin Extended-A
        if (c == 0x130 || c == 0x138) return c;     // İ lengthens when folded; ĸ has no pair
        if (c == 0x178) return 0xFF;                // Ÿ -> ÿ
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 0x25;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 0x3F;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    return c;
}

/* Writes the folded copy of src[0..n) to dst (n bytes; same length by construction). */
static void fold_lower(const unsigned char *src, size_t n, unsigned char *dst) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_next(src + i, n - i, &cp);
        if (len == 1) {
            dst[i] = (cp != BAD_CP) ? (unsigned char)fold_cp(cp) : src[i];
        } else if (len == 2) {
            uint32_t f = fold_cp(cp);
            assert(f >= 0x80 && f < 0x800);
            dst[i] = (unsigned char)(0xC0 | (f >> 6));
            dst[i + 1] = (unsigned char)(0x80 | (f & 0x3F));
        } else {
            memcpy(dst + i, src + i, len);
        }
        i += len;
    }
}

/* Unicode White_Space (what Rust's split_whitespace splits on). */
static int is_space_cp(uint32_t c) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Approximates Unicode Alphanumeric: ASCII letters and digits; for other scalars everything
 * except the common punctuation / symbol blocks. Invalid bytes are not alphanumeric. */
static int is_alnum_cp(uint32_t c) {
    if (c == BAD_CP) return 0;
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c <= 0xBF) // Latin-1 punctuation and symbols, except ª ² ³ µ ¹ º ¼ ½ ¾
        return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
               (c >= 0xBC && c <= 0xBE);
    if (c == 0xD7 || c == 0xF7) return 0;
    if (c >= 0x2000 && c <= 0x206F) return 0; // general punctuation
    if (c >= 0x20A0 && c <= 0x20CF) return 0; // currency
    if (c >= 0x2190 && c <= 0x23FF) return 0; // arrows, mathematical operators, technical
    if (c >= 0x2500 && c <= 0x27BF) return 0; // box drawing, shapes, dingbats
    if (c >= 0x2E00 && c <= 0x2E7F) return 0; // supplemental punctuation
    if ((c >= 0x3000 && c <= 0x3004) || (c >= 0x3008 && c <= 0x3020)) return 0; // CJK punctuation
    if ((c >= 0xFE10 && c <= 0xFE1F) || (c >= 0xFE30 && c <= 0xFE4F)) return 0;
    if ((c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
        (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
        return 0; // full-width punctuation
    if (c >= 0x1F000 && c <= 0x1FAFF) return 0; // emoji and pictographs
    return 1;
}

static int ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char ascii_lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* ---------------------------------------------------------------- Jaro–Winkler */

/* Jaro–Winkler similarity of byte strings a and b, in [0, 1]. fa and fb are scratch flag
 * arrays of at least la and lb bytes. Match window floor(max(la, lb) / 2) - 1 (at least 0),
 * transpositions counted as half the out-of-order matches, Winkler prefix of up to 4 bytes
 * with scaling 0.1 applied without a boost threshold. Two empty strings score 1. */
static double jaro_winkler(const unsigned char *a, size_t la, const unsigned char *b, size_t lb,
                           unsigned char *fa, unsigned char *fb) {
    if (la == 0 && lb == 0) return 1.0;
    if (la == 0 || lb == 0) return 0.0;
    size_t longest = la > lb ? la : lb;
    size_t window = longest / 2 > 0 ? longest / 2 - 1 : 0;
    memset(fa, 0, la);
    memset(fb, 0, lb);
    size_t matches = 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        for (size_t j = lo; j < hi; j++) {
            if (!fb[j] && a[i] == b[j]) {
                fa[i] = fb[j] = 1;
                matches++;
                break;
            }
        }
    }
    if (matches == 0) return 0.0;
    size_t out_of_order = 0, k = 0;
    for (size_t i = 0; i < la; i++) {
        if (!fa[i]) continue;
        while (!fb[k]) k++;
        if (a[i] != b[k]) out_of_order++;
        k++;
    }
    double m = (double)matches;
    double jaro = (m / (double)la + m / (double)lb + (m - (double)out_of_order / 2.0) / m) / 3.0;
    size_t prefix = 0;
    while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix]) prefix++;
    double jw = jaro + (double)prefix * 0.1 * (1.0 - jaro);
    return jw > 1.0 ? 1.0 : jw;
}

/* ---------------------------------------------------------------- alc.match_enum */

/* Last byte offset of needle in hay, as Rust's str::rfind: an empty needle is found at hlen.
 * Returns 1 and sets *pos when found, 0 otherwise. */
static int rfind(const unsigned char *hay, size_t hlen, const unsigned char *needle, size_t nlen,
                 size_t *pos) {
    if (nlen > hlen) return 0;
    for (size_t p = hlen - nlen + 1; p-- > 0;) {
        if (memcmp(hay + p, needle, nlen) == 0) {
            *pos = p;
            return 1;
        }
    }
    return 0;
}

/* Candidate i (0-based) of the table at index 2, as a string left on the stack top. */
static const char *push_candidate(lua_State *L, size_t i, size_t *len) {
    lua_rawgeti(L, 2, (lua_Integer)i + 1); // ... cand
    return lua_tolstring(L, -1, len);      // numbers are converted in this stack slot only
}

/* alc.match_enum(text, candidates, opts?) -> string|nil (spec §4.4.4). */
static int l_match_enum(lua_State *L) {
    size_t tlen;
    const unsigned char *text = (const unsigned char *)luaL_checklstring(L, 1, &tlen);
    luaL_checktype(L, 2, LUA_TTABLE);
    double threshold = 0.7;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "threshold"); // ... thr
        int isnum = 0;
        lua_Number v = lua_tonumberx(L, -1, &isnum);
        if (isnum && !isnan(v)) threshold = (double)v; // unconvertible values mean "absent"
        lua_pop(L, 1);
    }
    lua_settop(L, 2); // text cands

    // Pass 1: validate the candidates and size the scratch area.
    size_t n = 0, total = 0, maxc = 0;
    for (;;) {
        int t = lua_rawgeti(L, 2, (lua_Integer)n + 1); // text cands c
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (t != LUA_TSTRING && t != LUA_TNUMBER) {
            const char *msg = lua_pushfstring(L, "candidate %I is a %s, expected a string",
                                              (lua_Integer)n + 1, luaL_typename(L, -1));
            return luaL_argerror(L, 2, msg);
        }
        size_t cl;
        lua_tolstring(L, -1, &cl);
        lua_pop(L, 1);
        if (cl > SIZE_MAX / 4 - total) return luaL_error(L, "alc.match_enum: candidates too large");
        total += cl;
        if (cl > maxc) maxc = cl;
        if (n >= (SIZE_MAX / sizeof(size_t)) / 4) return luaL_error(L, "alc.match_enum: too many candidates");
        n++;
    }
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    if (tlen > SIZE_MAX / 4) return luaL_error(L, "alc.match_enum: text too large");

    // Scratch: offsets[n+1] | folded text | folded candidates | flags for text | flags for cand.
    size_t off_bytes = (n + 1) * sizeof(size_t);
    size_t bytes = off_bytes + tlen + total + tlen + maxc + 1;
    size_t *off = lua_newuserdatauv(L, bytes, 0); // text cands scratch
    unsigned char *low_text = (unsigned char *)off + off_bytes;
    unsigned char *low_cands = low_text + tlen;
    unsigned char *flags_a = low_cands + total;
    unsigned char *flags_b = flags_a + tlen;

    fold_lower(text, tlen, low_text);
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t cl;
        const char *c = push_candidate(L, i, &cl); // text cands scratch c
        if (cl > total - off[i]) return luaL_error(L, "alc.match_enum: candidates changed");
        fold_lower((const unsigned char *)c, cl, low_cands + off[i]);
        off[i + 1] = off[i] + cl;
        lua_pop(L, 1);
    }

    // Phase 1: the candidate whose last occurrence is furthest right; ties keep the earlier one.
    int found = 0;
    size_t best = 0, best_pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pos;
        if (rfind(low_text, tlen, low_cands + off[i], off[i + 1] - off[i], &pos) &&
            (!found || pos > best_pos)) {
            found = 1;
            best = i;
            best_pos = pos;
        }
    }

    // Phase 2: Jaro–Winkler per whitespace token, punctuation trimmed; first best wins ties.
    if (!found) {
        double best_sim = 0.0;
        size_t i = 0;
        while (i < tlen) {
            uint32_t cp;
            size_t len = utf8_next(low_text + i, tlen - i, &cp);
            if (is_space_cp(cp)) {
                i += len;
                continue;
            }
            // One token: [i, j). Track the first and last alphanumeric units inside it.
            size_t j = i, ts = 0, te = 0;
            int any = 0;
            while (j < tlen) {
                size_t l2 = utf8_next(low_text + j, tlen - j, &cp);
                if (is_space_cp(cp)) break;
                if (is_alnum_cp(cp)) {
                    if (!any) ts = j;
                    any = 1;
                    te = j + l2;
                }
                j += l2;
            }
            if (any) {
                for (size_t c = 0; c < n; c++) {
                    double sim = jaro_winkler(low_text + ts, te - ts, low_cands + off[c],
                                              off[c + 1] - off[c], flags_a, flags_b);
                    if (sim >= threshold && (!found || sim > best_sim)) {
                        found = 1;
                        best = c;
                        best_sim = sim;
                    }
                }
            }
            i = j;
        }
    }

    if (!found) {
        lua_pushnil(L);
        return 1;
    }
    size_t cl;
    push_candidate(L, best, &cl); // text cands scratch cand (original casing, as a string)
    return 1;
}

/* ---------------------------------------------------------------- alc.match_bool */

static const char *const positive_words[] = {"approved", "yes",  "ok",    "accept", "pass",
                                             "confirm",  "agree", "true", "lgtm"};
static const char *const negative_words[] = {"rejected", "no",     "deny",     "block",
                                             "fail",     "refuse", "disagree", "false"};

/* Largest start offset of a whole-word, case-insensitive occurrence of word in s, whose
 * neighbours are not ASCII alphanumerics. Returns 1 and sets *pos if there is one. */
static int last_whole_word(const unsigned char *s, size_t n, const char *word, size_t *pos) {
    size_t wl = strlen(word);
    if (wl > n) return 0;
    for (size_t p = n - wl + 1; p-- > 0;) {
        size_t k = 0;
        while (k < wl && ascii_lower(s[p + k]) == (unsigned char)word[k]) k++;
        if (k < wl) continue;
        if (p > 0 && ascii_alnum(s[p - 1])) continue;
        if (p + wl < n && ascii_alnum(s[p + wl])) continue;
        *pos = p;
        return 1;
    }
    return 0;
}

/* alc.match_bool(text) -> true|false|nil (spec §4.4.4). */
static int l_match_bool(lua_State *L) {
    size_t n;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
    int found = 0, polarity = 0;
    size_t best = 0;
    // Positives are scanned first and only a strictly larger offset replaces the current
    // winner, so a tie keeps the positive reading.
    for (int group = 0; group < 2; group++) {
        const char *const *words = group == 0 ? positive_words : negative_words;
        size_t count = group == 0 ? sizeof positive_words / sizeof *positive_words
                                  : sizeof negative_words / sizeof *negative_words;
        for (size_t w = 0; w < count; w++) {
            size_t pos;
            if (last_whole_word(s, n, words[w], &pos) && (!found || pos > best)) {
                found = 1;
                best = pos;
                polarity = group == 0;
            }
        }
    }
    if (found) lua_pushboolean(L, polarity);
    else lua_pushnil(L);
    return 1;
}

/* ---------------------------------------------------------------- alc.chunk */

/* opts[key] as a non-negative count; values that are absent or cannot be converted (not a
 * number or numeric string, NaN, <= -1) give dflt. Fractions are truncated; huge values are
 * clamped to 2^53. */
static size_t opt_count(lua_State *L, int opts, const char *key, size_t dflt) {
    lua_getfield(L, opts, key); // ... v
    int isnum = 0;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || isnan(v) || v <= -1) return dflt;
    if (v >= 9007199254740992.0) return (size_t)9007199254740992.0;
    return v < 1 ? 0 : (size_t)v;
}

/* alc.chunk(text, opts?) -> string[] (spec §4.4.2). */
static int l_chunk(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int chars = 0;
    size_t size = 50, overlap = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "mode"); // text opts mode
        size_t ml;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *m = lua_tolstring(L, -1, &ml);
            chars = (ml == 5 && memcmp(m, "chars", 5) == 0);
        }
        lua_pop(L, 1);
        size = opt_count(L, 2, "size", 50);
        overlap = opt_count(L, 2, "overlap", 0);
    }
    lua_settop(L, 1); // text
    if (size == 0 || n == 0) {
        lua_createtable(L, 0, 0);
        return 1;
    }
    size_t step = overlap < size ? size - overlap : 1;

    // Units: for chars, unit k is s[off[k] .. off[k+1]); for lines, line k is
    // s[off[2k] .. off[2k] + off[2k+1]) (start, length), '\r' already trimmed.
    size_t units = 0;
    size_t *off;
    if (chars) {
        for (size_t i = 0; i < n; units++) {
            uint32_t cp;
            i += utf8_next((const unsigned char *)s + i, n - i, &cp);
        }
        off = lua_newuserdatauv(L, (units + 1) * sizeof(size_t), 0); // text scratch
        size_t i = 0;
        for (size_t k = 0; k < units; k++) {
            uint32_t cp;
            off[k] = i;
            i += utf8_next((const unsigned char *)s + i, n - i, &cp);
        }
        off[units] = n;
    } else {
        for (size_t i = 0; i < n; i++)
            if (s[i] == '\n') units++;
        if (s[n - 1] != '\n') units++; // a final newline produces no empty line
        if (units > SIZE_MAX / (2 * sizeof(size_t))) return luaL_error(L, "alc.chunk: text too large");
        off = lua_newuserdatauv(L, 2 * units * sizeof(size_t), 0); // text scratch
        size_t start = 0, k = 0;
        for (size_t i = 0; i <= n && k < units; i++) {
            if (i == n || s[i] == '\n') {
                size_t len = i - start;
                if (len > 0 && s[start + len - 1] == '\r') len--;
                off[2 * k] = start;
                off[2 * k + 1] = len;
                k++;
                start = i + 1;
            }
        }
        assert(k == units);
    }

    size_t windows = units <= size ? 1 : 1 + (units - size + step - 1) / step;
    lua_createtable(L, windows > INT_MAX ? INT_MAX : (int)windows, 0); // text scratch out
    lua_Integer slot = 1;
    for (size_t i = 0;; i += step) {
        size_t end = size < units - i ? i + size : units;
        if (chars) {
            lua_pushlstring(L, s + off[i], off[end] - off[i]); // text scratch out piece
        } else {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (size_t k = i; k < end; k++) {
                if (k > i) luaL_addchar(&b, '\n');
                luaL_addlstring(&b, s + off[2 * k], off[2 * k + 1]);
            }
            luaL_pushresult(&b); // text scratch out piece
        }
        lua_rawseti(L, 3, slot++);
        if (end == units) break;
    }
    return 1;
}

/* ---------------------------------------------------------------- registration */

/*
 * Sets alc.match_enum, alc.match_bool and alc.chunk into the table at the top of L's stack.
 * Borrows L; the stack is left balanced. Call on the thread that owns L.
 * May raise only on memory exhaustion (Lua "not enough memory").
 */
void alc_lua_open_text(lua_State *L) {
    int top = lua_gettop(L);
    assert(lua_istable(L, -1));
    static const luaL_Reg fns[] = {
        {"match_enum", l_match_enum},
        {"match_bool", l_match_bool},
        {"chunk", l_chunk},
        {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0); // alc
    assert(lua_gettop(L) == top);
    (void)top;
}
