/*
 * lib_math.c — the optional numeric library alc.math (spec §4.4.2).
 *
 * Owns: the Lua functions under alc.math and the RNG userdata type "alc.math.rng" (a
 * xoshiro256** state, collected by the VM). Array arguments are copied into Lua userdata
 * scratch buffers, so a Lua error never leaks C memory (convention 12).
 * Threads: every function runs on the thread that owns the lua_State it is called with. There
 * is no global mutable state. ln Γ, ln B, the incomplete beta function and the Welch t-test
 * core come from src/engine/stats.c (alc/stats.h), shared with alc_eval_compare.
 *
 * Differences from the original (mlua-mathlib over Rust rand/statrs), all deliberate:
 *  - RNG: xoshiro256** seeded through splitmix64 from the 64-bit seed, not ChaCha12, so the
 *    exact sequences differ; samplers use their own algorithms (Marsaglia polar for normals,
 *    Marsaglia–Tsang for gamma), so sampled values differ too. Distributions are the same.
 *  - wilson_ci's third argument is optional: nil means confidence 0.95; a value in (0, 1) is a
 *    confidence level (as in the original); a value >= 1 is taken as the z score itself.
 *  - welch_t_test returns both `t` and `t_stat`; zero variance in both samples gives t = 0,
 *    p = 1 (equal means) or t = +-inf, p = 0 (different means) instead of an error.
 *  - softmax takes an optional temperature; the samplers are also reachable under short
 *    names (normal, gamma, uniform, exponential, categorical, and beta(rng, a, b), which
 *    dispatches on its first argument so that beta(a, b) stays the Beta function).
 *
 * Deliberately left out of §4.4.2 (no bundled package uses them): poisson_sample,
 * binomial_sample, covariance, correlation, histogram, the cdf/ppf family except normal_cdf
 * and normal_ppf (beta_cdf, gamma_cdf, poisson_cdf, beta_ppf, normal_inverse_cdf), beta_mean,
 * beta_variance, regularized_incomplete_gamma, digamma, factorial, ln_factorial,
 * mann_whitney_u, chi_squared_test, ks_test, rank, spearman_correlation, kendall_tau, ndcg,
 * mrr, kl_divergence, js_divergence, cross_entropy, moving_average, ewma, autocorrelation,
 * permutations, shuffle, sample_with_replacement.
 */
#include "alc/lua_libs.h"
#include "alc/stats.h"

#include <lauxlib.h>
#include <lua.h>

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RNG_META "alc.math.rng"

static const double SQRT2 = 1.41421356237309504880168872420969808;
static const double SQRT2PI = 2.50662827463100050241576528481104525;

/* ---------------------------------------------------------------- RNG */

typedef struct rng_state {
    uint64_t s[4];
} rng_state;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_state *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Uniform double in [0, 1) with 53 random bits. */
static double rng_unit(rng_state *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, span] without modulo bias (rejection of the short top range). */
static uint64_t rng_upto(rng_state *r, uint64_t span) {
    if (span == UINT64_MAX) return rng_next(r);
    uint64_t width = span + 1;
    uint64_t limit = (0 - width) % width; // 2^64 mod width
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= limit) return x % width;
    }
}

/* Standard normal deviate (Marsaglia polar method; the second deviate is discarded). */
static double std_normal(rng_state *r) {
    for (;;) {
        double u = 2.0 * rng_unit(r) - 1.0, v = 2.0 * rng_unit(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);
    }
}

/* Gamma(shape, 1) deviate, shape > 0 (Marsaglia–Tsang; shape < 1 via the U^(1/shape) boost). */
static double gamma_draw(rng_state *r, double shape) {
    if (shape < 1.0) {
        double u = rng_unit(r);
        return gamma_draw(r, shape + 1.0) * pow(u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = std_normal(r), v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = rng_unit(r);
        if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
    }
}

/* Beta(a, b) deviate from two gamma deviates; never NaN. */
static double beta_draw(rng_state *r, double a, double b) {
    double x = gamma_draw(r, a), y = gamma_draw(r, b), s = x + y;
    if (s == 0.0) return rng_unit(r) < a / (a + b) ? 1.0 : 0.0; // both underflowed: the limit law
    if (!isfinite(s)) return 1.0 / (1.0 + y / x);
    return x / s;
}

/* ---------------------------------------------------------------- special functions */

static double std_normal_cdf(double z) { return 0.5 * erfc(-z / SQRT2); }

/* Standard normal quantile: Abramowitz–Stegun 26.2.23 start, then Halley steps on Φ. */
static double std_normal_ppf(double p) {
    if (p <= 0.0) return -HUGE_VAL;
    if (p >= 1.0) return HUGE_VAL;
    if (p == 0.5) return 0.0;
    double q = p < 0.5 ? p : 1.0 - p; // lower-tail probability, solve Φ(x) = q with x < 0
    double t = sqrt(-2.0 * log(q));
    double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                         (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    double ln_q = log(q);
    for (int i = 0; i < 5; i++) {
        // u = (Φ(x) - q) / φ(x), written so that neither factor overflows in the far tail.
        double u = (std_normal_cdf(x) / q - 1.0) * exp(ln_q + 0.5 * x * x) * SQRT2PI;
        double nx = x - u / (1.0 + 0.5 * x * u);
        if (!isfinite(nx)) break;
        x = nx;
    }
    return p < 0.5 ? x : -x;
}

/* ---------------------------------------------------------------- argument helpers */

/* Raises "alc.math.<fn>: <formatted message>" with the caller's position, like luaL_error.
 * Never returns; typed int so that `return math_error(...)` reads naturally. */
static int math_error(lua_State *L, const char *fn, const char *fmt, ...) {
    va_list ap;
    luaL_where(L, 1);                       // where
    lua_pushfstring(L, "alc.math.%s: ", fn); // where prefix
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap); // where prefix msg
    va_end(ap);
    lua_concat(L, 3);
    return lua_error(L);
}

/* Argument arg as a finite number; raises with a message naming fn and the parameter. */
static double check_finite(lua_State *L, int arg, const char *fn, const char *name) {
    double v = (double)luaL_checknumber(L, arg);
    if (!isfinite(v)) math_error(L, fn, "%s must be a finite number", name);
    return v;
}

static double check_positive(lua_State *L, int arg, const char *fn, const char *name) {
    double v = check_finite(L, arg, fn, name);
    if (!(v > 0.0)) math_error(L, fn, "%s must be > 0", name);
    return v;
}

/* Copies the array at arg (a non-empty sequence of finite numbers, length by lua_rawlen) into a
 * new userdata pushed on the stack. Returns the copy and its length in *n; raises otherwise. */
static double *check_array(lua_State *L, int arg, const char *fn, size_t *n) {
    luaL_checktype(L, arg, LUA_TTABLE);
    size_t len = (size_t)lua_rawlen(L, arg);
    if (len == 0) math_error(L, fn, "empty array");
    if (len > ((size_t)-1) / sizeof(double)) math_error(L, fn, "array too large");
    double *v = lua_newuserdatauv(L, len * sizeof(double), 0); // ... buf
    for (size_t i = 0; i < len; i++) {
        if (lua_rawgeti(L, arg, (lua_Integer)i + 1) != LUA_TNUMBER) // ... buf x
            math_error(L, fn, "element %I is a %s, expected a number", (lua_Integer)i + 1,
                       luaL_typename(L, -1));
        double x = (double)lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (!isfinite(x)) math_error(L, fn, "element %I is NaN or infinite", (lua_Integer)i + 1);
        v[i] = x;
    }
    *n = len;
    return v;
}

static void push_array(lua_State *L, const double *v, size_t n) {
    lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0); // ... t
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, (lua_Number)v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static void set_number(lua_State *L, const char *key, double v) {
    lua_pushnumber(L, (lua_Number)v); // ... t v
    lua_setfield(L, -2, key);
}

static rng_state *check_rng(lua_State *L, int arg) { return luaL_checkudata(L, arg, RNG_META); }

/* ---------------------------------------------------------------- descriptive statistics */

/* 1, or max|v| when the values are so large that sums or squares could overflow. */
static double scale_of(const double *v, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i]) > m) m = fabs(v[i]);
    return m > 1e150 ? m : 1.0;
}

static double mean_of(const double *v, size_t n) {
    double s = scale_of(v, n), sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += v[i] / s;
    return sum / (double)n * s;
}

/* Sample variance (n - 1 denominator, Welford); 0 for a single value, as in the original. */
static double variance_of(const double *v, size_t n) {
    if (n < 2) return 0.0;
    double s = scale_of(v, n), mean = 0.0, m2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i] / s, delta = x - mean;
        mean += delta / (double)(i + 1);
        m2 += delta * (x - mean);
    }
    double var = m2 / (double)(n - 1) * s * s;
    return var < 0.0 ? 0.0 : var;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile of sorted[0..n) for p in [0, 100]: rank p/100·(n-1), linear interpolation. */
static double percentile_sorted(const double *v, size_t n, double p) {
    if (n == 1) return v[0];
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    if (lo + 1 >= n) return v[n - 1];
    double frac = rank - (double)lo, diff = v[lo + 1] - v[lo];
    if (!isfinite(diff)) return (1.0 - frac) * v[lo] + frac * v[lo + 1];
    return v[lo] + frac * diff;
}

static int l_mean(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "mean", &n);
    lua_pushnumber(L, mean_of(v, n));
    return 1;
}

static int l_variance(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "variance", &n);
    lua_pushnumber(L, variance_of(v, n));
    return 1;
}

static int l_stddev(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "stddev", &n);
    lua_pushnumber(L, sqrt(variance_of(v, n)));
    return 1;
}

static int l_median(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "median", &n);
    qsort(v, n, sizeof *v, cmp_double);
    lua_pushnumber(L, percentile_sorted(v, n, 50.0));
    return 1;
}

static int l_percentile(lua_State *L) {
    double p = (double)luaL_checknumber(L, 2);
    if (!(p >= 0.0 && p <= 100.0))
        return math_error(L, "percentile", "p must be in [0, 100], got %f", (lua_Number)p);
    size_t n;
    double *v = check_array(L, 1, "percentile", &n);
    qsort(v, n, sizeof *v, cmp_double);
    lua_pushnumber(L, percentile_sorted(v, n, p));
    return 1;
}

static int l_iqr(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "iqr", &n);
    qsort(v, n, sizeof *v, cmp_double);
    lua_pushnumber(L, percentile_sorted(v, n, 75.0) - percentile_sorted(v, n, 25.0));
    return 1;
}

/* ---------------------------------------------------------------- transforms */

/* softmax(xs, temperature = 1): exp((x - max) / T) normalised; never NaN. */
static int l_softmax(lua_State *L) {
    double temp = 1.0;
    if (!lua_isnoneornil(L, 2)) temp = check_positive(L, 2, "softmax", "temperature");
    size_t n;
    double *v = check_array(L, 1, "softmax", &n);
    double mx = v[0], sum = 0.0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > mx) mx = v[i];
    for (size_t i = 0; i < n; i++) {
        v[i] = exp((v[i] - mx) / temp); // (x - max) <= 0, so this is in [0, 1]
        sum += v[i];
    }
    for (size_t i = 0; i < n; i++) v[i] /= sum; // sum >= 1: the maximum contributes exp(0)
    push_array(L, v, n);
    return 1;
}

/* log_normalize(xs): ln(1 + x) / ln(1 + max) · 100 for x > 0 and 0 for x <= 0 (original's
 * [0, 100] scale); raises unless max > 0. */
static int l_log_normalize(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "log_normalize", &n);
    double mx = v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i] > mx) mx = v[i];
    if (!(mx > 0.0)) return math_error(L, "log_normalize", "all values must be positive (max must be > 0)");
    double denom = log1p(mx);
    for (size_t i = 0; i < n; i++) v[i] = v[i] <= 0.0 ? 0.0 : log1p(v[i]) / denom * 100.0;
    push_array(L, v, n);
    return 1;
}

static int l_logsumexp(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "logsumexp", &n);
    double mx = v[0], sum = 0.0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > mx) mx = v[i];
    for (size_t i = 0; i < n; i++) sum += exp(v[i] - mx);
    lua_pushnumber(L, mx + log(sum));
    return 1;
}

/* entropy(ps) in nats; ps must be non-negative and sum to 1 within 2e-6·sqrt(n). */
static int l_entropy(lua_State *L) {
    size_t n;
    double *v = check_array(L, 1, "entropy", &n);
    double sum = 0.0, h = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0.0) return math_error(L, "entropy", "element %I is negative", (lua_Integer)i + 1);
        sum += v[i];
    }
    if (fabs(sum - 1.0) > 2e-6 * sqrt((double)n))
        return math_error(L, "entropy", "probabilities sum to %f, expected 1", (lua_Number)sum);
    for (size_t i = 0; i < n; i++)
        if (v[i] > 0.0) h -= v[i] * log(v[i]);
    lua_pushnumber(L, h < 0.0 ? 0.0 : h);
    return 1;
}

/* wilson_ci(successes, total, confidence_or_z?) -> {lower, upper, center}. */
static int l_wilson_ci(lua_State *L) {
    double k = check_finite(L, 1, "wilson_ci", "successes");
    double n = check_finite(L, 2, "wilson_ci", "total");
    if (!(n > 0.0)) return math_error(L, "wilson_ci", "total must be > 0");
    if (k < 0.0 || k > n) return math_error(L, "wilson_ci", "successes must be in [0, total]");
    double z = std_normal_ppf(0.975);
    if (!lua_isnoneornil(L, 3)) {
        double c = check_finite(L, 3, "wilson_ci", "confidence");
        if (!(c > 0.0)) return math_error(L, "wilson_ci", "confidence must be in (0, 1) or a z score >= 1");
        z = c < 1.0 ? std_normal_ppf(1.0 - (1.0 - c) / 2.0) : c;
    }
    double ph = k / n, z2 = z * z, denom = 1.0 + z2 / n;
    double center = (ph + z2 / (2.0 * n)) / denom;
    double margin = z * sqrt((ph * (1.0 - ph) + z2 / (4.0 * n)) / n) / denom;
    lua_createtable(L, 0, 3); // t
    set_number(L, "lower", center - margin < 0.0 ? 0.0 : center - margin);
    set_number(L, "upper", center + margin > 1.0 ? 1.0 : center + margin);
    set_number(L, "center", center);
    return 1;
}

/* welch_t_test(a, b) -> {t, t_stat, df, p_value}: two-sided, Welch–Satterthwaite df. */
static int l_welch_t_test(lua_State *L) {
    size_t na, nb;
    double *a = check_array(L, 1, "welch_t_test", &na);
    double *b = check_array(L, 2, "welch_t_test", &nb);
    if (na < 2 || nb < 2) return math_error(L, "welch_t_test", "each sample needs at least 2 values");
    // t and df are scale-invariant: scale huge inputs down so that nothing overflows.
    double sa = scale_of(a, na), sb = scale_of(b, nb), s = sa > sb ? sa : sb;
    if (s != 1.0) {
        for (size_t i = 0; i < na; i++) a[i] /= s;
        for (size_t i = 0; i < nb; i++) b[i] /= s;
    }
    alc_stats_welch w;
    alc_stats_welch_from_moments(mean_of(a, na), variance_of(a, na), na, mean_of(b, nb), variance_of(b, nb), nb, &w);
    lua_createtable(L, 0, 4); // a b t
    set_number(L, "t", w.t);
    set_number(L, "t_stat", w.t);
    set_number(L, "df", w.df);
    set_number(L, "p_value", w.p);
    return 1;
}

/* ---------------------------------------------------------------- special-function wrappers */

static int l_erf(lua_State *L) {
    lua_pushnumber(L, erf(check_finite(L, 1, "erf", "x")));
    return 1;
}

static int l_erfc(lua_State *L) {
    lua_pushnumber(L, erfc(check_finite(L, 1, "erfc", "x")));
    return 1;
}

static int l_lgamma(lua_State *L) {
    lua_pushnumber(L, alc_stats_ln_gamma(check_finite(L, 1, "lgamma", "x")));
    return 1;
}

static int l_ln_beta(lua_State *L) {
    double a = check_positive(L, 1, "ln_beta", "a"), b = check_positive(L, 2, "ln_beta", "b");
    lua_pushnumber(L, alc_stats_ln_beta(a, b));
    return 1;
}

static int l_regularized_incomplete_beta(lua_State *L) {
    const char *fn = "regularized_incomplete_beta";
    double x = check_finite(L, 1, fn, "x");
    double a = check_positive(L, 2, fn, "a"), b = check_positive(L, 3, fn, "b");
    if (x < 0.0 || x > 1.0) return math_error(L, fn, "x must be in [0, 1]");
    lua_pushnumber(L, alc_stats_inc_beta(x, a, b));
    return 1;
}

static int l_normal_cdf(lua_State *L) {
    double x = check_finite(L, 1, "normal_cdf", "x");
    double mu = lua_isnoneornil(L, 2) ? 0.0 : check_finite(L, 2, "normal_cdf", "mu");
    double sigma = lua_isnoneornil(L, 3) ? 1.0 : check_positive(L, 3, "normal_cdf", "sigma");
    lua_pushnumber(L, std_normal_cdf((x - mu) / sigma));
    return 1;
}

static int l_normal_ppf(lua_State *L) {
    double p = check_finite(L, 1, "normal_ppf", "p");
    if (p < 0.0 || p > 1.0) return math_error(L, "normal_ppf", "p must be in [0, 1]");
    lua_pushnumber(L, std_normal_ppf(p));
    return 1;
}

static int l_logit(lua_State *L) {
    double p = check_finite(L, 1, "logit", "p");
    if (p < 0.0 || p > 1.0) return math_error(L, "logit", "p must be in [0, 1]");
    lua_pushnumber(L, log(p) - log1p(-p));
    return 1;
}

static int l_expit(lua_State *L) {
    double x = check_finite(L, 1, "expit", "x");
    double e = exp(-fabs(x));
    lua_pushnumber(L, x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
    return 1;
}

/* ---------------------------------------------------------------- RNG functions and samplers */

/* rng_create(seed) -> rng: seed is any Lua integer (negative values wrap modulo 2^64). */
static int l_rng_create(lua_State *L) {
    uint64_t x = (uint64_t)luaL_checkinteger(L, 1);
    rng_state *r = lua_newuserdatauv(L, sizeof *r, 0); // rng
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    luaL_setmetatable(L, RNG_META);
    return 1;
}

static int l_rng_float(lua_State *L) {
    lua_pushnumber(L, rng_unit(check_rng(L, 1)));
    return 1;
}

/* rng_int(rng, lo, hi) -> integer uniformly in [lo, hi]. */
static int l_rng_int(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
    if (lo > hi) return math_error(L, "rng_int", "min (%I) must be <= max (%I)", lo, hi);
    uint64_t u = (uint64_t)lo + rng_upto(r, (uint64_t)hi - (uint64_t)lo);
    // Map back to a signed value without relying on implementation-defined conversion.
    lua_Integer v = u <= (uint64_t)LUA_MAXINTEGER ? (lua_Integer)u : -(lua_Integer)(~u) - 1;
    lua_pushinteger(L, v);
    return 1;
}

static int l_rng_tostring(lua_State *L) {
    check_rng(L, 1);
    lua_pushliteral(L, "alc.math.rng (xoshiro256**)");
    return 1;
}

static int l_normal_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double mean = check_finite(L, 2, "normal_sample", "mean");
    double sd = check_finite(L, 3, "normal_sample", "stddev");
    if (sd < 0.0) return math_error(L, "normal_sample", "stddev must be >= 0");
    lua_pushnumber(L, mean + sd * std_normal(r));
    return 1;
}

static int l_lognormal_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double mu = check_finite(L, 2, "lognormal_sample", "mu");
    double sigma = check_finite(L, 3, "lognormal_sample", "sigma");
    if (sigma < 0.0) return math_error(L, "lognormal_sample", "sigma must be >= 0");
    lua_pushnumber(L, exp(mu + sigma * std_normal(r)));
    return 1;
}

static int l_gamma_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double shape = check_positive(L, 2, "gamma_sample", "shape");
    double scale = check_positive(L, 3, "gamma_sample", "scale");
    lua_pushnumber(L, gamma_draw(r, shape) * scale);
    return 1;
}

static int l_beta_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double a = check_positive(L, 2, "beta_sample", "alpha");
    double b = check_positive(L, 3, "beta_sample", "beta");
    lua_pushnumber(L, beta_draw(r, a, b));
    return 1;
}

/* beta(rng, a, b) samples Beta(a, b); beta(a, b) is the Beta function B(a, b). */
static int l_beta(lua_State *L) {
    if (luaL_testudata(L, 1, RNG_META)) return l_beta_sample(L);
    double a = check_positive(L, 1, "beta", "a"), b = check_positive(L, 2, "beta", "b");
    lua_pushnumber(L, exp(alc_stats_ln_beta(a, b)));
    return 1;
}

static int l_exp_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double rate = check_positive(L, 2, "exp_sample", "rate");
    lua_pushnumber(L, -log1p(-rng_unit(r)) / rate);
    return 1;
}

/* uniform_sample(rng, lo, hi) -> x in [lo, hi), lo < hi. */
static int l_uniform_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double lo = check_finite(L, 2, "uniform_sample", "low");
    double hi = check_finite(L, 3, "uniform_sample", "high");
    if (!(lo < hi)) return math_error(L, "uniform_sample", "low must be < high");
    double u = rng_unit(r), x = lo * (1.0 - u) + hi * u; // no overflow even for ±DBL_MAX
    if (x >= hi) x = nextafter(hi, lo);
    if (x < lo) x = lo;
    lua_pushnumber(L, x);
    return 1;
}

static int l_chi_squared_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double df = check_positive(L, 2, "chi_squared_sample", "df");
    lua_pushnumber(L, 2.0 * gamma_draw(r, df / 2.0));
    return 1;
}

static int l_student_t_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    double df = check_positive(L, 2, "student_t_sample", "df");
    double z = std_normal(r), chi2 = 2.0 * gamma_draw(r, df / 2.0);
    double x = chi2 > 0.0 ? z / sqrt(chi2 / df) : (z == 0.0 ? 0.0 : copysign(HUGE_VAL, z));
    lua_pushnumber(L, x);
    return 1;
}

/* Index (0-based) drawn with probability w[i] / sum(w); w finite, >= 0, with a positive entry. */
static size_t categorical_draw(rng_state *r, const double *w, size_t n) {
    double s = scale_of(w, n), total = 0.0;
    for (size_t i = 0; i < n; i++) total += w[i] / s;
    double target = rng_unit(r) * total, acc = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] <= 0.0) continue;
        last = i;
        acc += w[i] / s;
        if (target < acc) return i;
    }
    return last; // rounding left target at the very top: the last positive weight
}

/* categorical_sample(rng, weights) -> 1-based index. */
static int l_categorical_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    size_t n;
    double *w = check_array(L, 2, "categorical_sample", &n);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < 0.0) return math_error(L, "categorical_sample", "weight %I is negative", (lua_Integer)i + 1);
        if (w[i] > 0.0) any = 1;
    }
    if (!any) return math_error(L, "categorical_sample", "weights must not all be zero");
    lua_pushinteger(L, (lua_Integer)categorical_draw(r, w, n) + 1);
    return 1;
}

/* dirichlet_sample(rng, alphas) -> probability vector (at least 2 alphas, all > 0). */
static int l_dirichlet_sample(lua_State *L) {
    rng_state *r = check_rng(L, 1);
    size_t n;
    double *a = check_array(L, 2, "dirichlet_sample", &n);
    if (n < 2) return math_error(L, "dirichlet_sample", "need at least 2 alpha values");
    for (size_t i = 0; i < n; i++)
        if (!(a[i] > 0.0)) return math_error(L, "dirichlet_sample", "alpha %I must be > 0", (lua_Integer)i + 1);
    double *g = lua_newuserdatauv(L, n * sizeof(double), 0); // rng alphas abuf gbuf
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        g[i] = gamma_draw(r, a[i]);
        sum += g[i];
    }
    if (sum == 0.0 || !isfinite(sum)) {
        // Every deviate underflowed (tiny alphas) or overflowed: use the limit, a vertex of the
        // simplex chosen with probability alpha_i / sum(alpha).
        size_t k = categorical_draw(r, a, n);
        for (size_t i = 0; i < n; i++) g[i] = i == k ? 1.0 : 0.0;
    } else {
        for (size_t i = 0; i < n; i++) g[i] /= sum;
    }
    push_array(L, g, n);
    return 1;
}

/* ---------------------------------------------------------------- registration */

static const luaL_Reg math_fns[] = {
    {"rng_create", l_rng_create},
    {"rng_float", l_rng_float},
    {"rng_int", l_rng_int},
    {"normal_sample", l_normal_sample},
    {"normal", l_normal_sample},
    {"lognormal_sample", l_lognormal_sample},
    {"gamma_sample", l_gamma_sample},
    {"gamma", l_gamma_sample},
    {"beta_sample", l_beta_sample},
    {"beta", l_beta},
    {"exp_sample", l_exp_sample},
    {"exponential", l_exp_sample},
    {"uniform_sample", l_uniform_sample},
    {"uniform", l_uniform_sample},
    {"chi_squared_sample", l_chi_squared_sample},
    {"student_t_sample", l_student_t_sample},
    {"categorical_sample", l_categorical_sample},
    {"categorical", l_categorical_sample},
    {"dirichlet_sample", l_dirichlet_sample},
    {"mean", l_mean},
    {"variance", l_variance},
    {"stddev", l_stddev},
    {"median", l_median},
    {"percentile", l_percentile},
    {"iqr", l_iqr},
    {"softmax", l_softmax},
    {"log_normalize", l_log_normalize},
    {"logsumexp", l_logsumexp},
    {"entropy", l_entropy},
    {"wilson_ci", l_wilson_ci},
    {"welch_t_test", l_welch_t_test},
    {"erf", l_erf},
    {"erfc", l_erfc},
    {"lgamma", l_lgamma},
    {"ln_beta", l_ln_beta},
    {"regularized_incomplete_beta", l_regularized_incomplete_beta},
    {"normal_cdf", l_normal_cdf},
    {"normal_ppf", l_normal_ppf},
    {"logit", l_logit},
    {"expit", l_expit},
    {NULL, NULL},
};

/*
 * Sets alc.math (a new table of the functions above) into the table at the top of L's stack
 * and registers the "alc.math.rng" metatable in the Lua registry. Borrows L; the stack is left
 * balanced. Call on the thread that owns L. May raise only on memory exhaustion.
 */
void alc_lua_open_math(lua_State *L) {
    int top = lua_gettop(L);
    assert(lua_istable(L, -1));
    if (luaL_newmetatable(L, RNG_META)) { // alc mt
        lua_pushcfunction(L, l_rng_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);        // alc
    luaL_newlib(L, math_fns); // alc math
    lua_setfield(L, -2, "math"); // alc
    assert(lua_gettop(L) == top);
    (void)top;
}
