/*
 * stats.c — special functions and the Welch t-test core used by both alc.math
 * (src/lua/lib_math.c) and alc_eval_compare (src/engine/eval_stats.c): ln Γ (reflection +
 * Stirling series), ln B, the regularised incomplete beta function (Lentz continued fraction),
 * the two-sided Student t tail, and Welch's t / df / p from summary statistics.
 *
 * Owns no state. Every function is pure and may be called from any thread; ln Γ is computed
 * here because libm's lgamma writes the global `signgam`. Nothing allocates, locks or raises.
 */
#include "alc/stats.h"

#include <assert.h>
#include <math.h>

static const double PI = 3.14159265358979323846264338327950288;
static const double SQRT2 = 1.41421356237309504880168872420969808;
static const double HALF_LN_2PI = 0.91893853320467274178032973640561764;

/* ln Γ(x) for x >= 15 by the Stirling series (error below 1e-16 relative). */
static double lgamma_stirling(double x) {
    double r = 1.0 / x, r2 = r * r;
    double series =
        r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 -
             r2 * (1.0 / 1188 - r2 * (691.0 / 360360 - r2 / 156.0))))));
    return (x - 0.5) * log(x) - x + HALF_LN_2PI + series;
}

/*
 * ln|Γ(x)| for any double x. Returns +inf at the poles (0, -1, -2, ...) and for ±inf, NaN for
 * NaN. Negative x goes through the reflection formula, small positive x is shifted up to 15
 * and finished with the Stirling series. Pure; any thread; does not raise.
 */
double alc_stats_ln_gamma(double x) {
    if (isnan(x)) return x;
    if (isinf(x)) return HUGE_VAL;
    if (x <= 0.0 && x == floor(x)) return HUGE_VAL;
    if (x < 0.0) {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx). Reduce x to r in [-1/2, 1/2] with
        // |sin(πr)| = |sin(πx)| using only exact subtractions (Sterbenz), so the result keeps
        // its relative precision next to the poles.
        double r = x - 2.0 * round(x / 2.0); // [-1, 1]
        if (r > 0.5) r = 1.0 - r;
        else if (r < -0.5) r = -1.0 - r;
        return log(PI / fabs(sin(PI * r))) - alc_stats_ln_gamma(1.0 - x);
    }
    if (x < 1e-300) return -log(x);
    double prod = 1.0;
    while (x < 15.0) {
        prod *= x;
        x += 1.0;
    }
    return lgamma_stirling(x) - log(prod);
}

/*
 * ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b); meant for a, b > 0 (other values follow the
 * formula with ln|Γ|). Pure; any thread; does not raise.
 */
double alc_stats_ln_beta(double a, double b) {
    return alc_stats_ln_gamma(a) + alc_stats_ln_gamma(b) - alc_stats_ln_gamma(a + b);
}

/* Continued fraction for the incomplete beta (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double inc_beta_cf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 20000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)); // even step d_{2m}
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)); // odd step d_{2m+1}
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < eps) break;
    }
    return h;
}

/* I_x(a, b) for 0 < x < 1 given y = 1 - x and ln_y = ln(1 - x), both computed by the caller
 * as precisely as it can (no cancellation). */
static double inc_beta_xy(double a, double b, double x, double y, double ln_y) {
    double ln_front = a * log(x) + b * ln_y - alc_stats_ln_beta(a, b);
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(ln_front) * inc_beta_cf(a, b, x) / a;
    return 1.0 - exp(ln_front) * inc_beta_cf(b, a, y) / b;
}

/*
 * Regularised incomplete beta function I_x(a, b). a, b: > 0 (the caller checks); x: x <= 0
 * gives 0, x >= 1 gives 1, in between the continued fraction is used on the side where it
 * converges. Pure; any thread; does not raise.
 */
double alc_stats_inc_beta(double x, double a, double b) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    return inc_beta_xy(a, b, x, 1.0 - x, log1p(-x));
}

/*
 * Two-sided tail of Student's t: P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2), with the
 * complement t²/(df+t²) formed directly so that small p-values keep their precision.
 * t: any value (±inf gives 0, NaN gives 1); df: > 0 (otherwise 1 is returned); above 1e7
 * degrees of freedom the normal limit erfc(|t|/√2) is used (the fraction converges slowly
 * there). Returns a value clamped to [0, 1]. Pure; any thread; does not raise.
 */
double alc_stats_t_two_sided(double t, double df) {
    if (isnan(t) || !(df > 0.0)) return 1.0;
    if (isinf(t)) return 0.0;
    if (df > 1e7) return erfc(fabs(t) / SQRT2);
    double t2 = t * t;
    double x = df / (df + t2), y = t2 / (df + t2);
    if (y <= 0.0) return 1.0; // t = 0, or t² negligible next to df
    if (x <= 0.0) return 0.0; // t² overflows next to df
    double p = inc_beta_xy(df / 2.0, 0.5, x, y, log(y));
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

/*
 * Welch's unequal-variance t-test from summary statistics:
 *   t  = (mean_a - mean_b) / sqrt(var_a/na + var_b/nb)
 *   df = (var_a/na + var_b/nb)² / ((var_a/na)²/(na-1) + (var_b/nb)²/(nb-1))
 *   p  = alc_stats_t_two_sided(t, df).
 * When var_a/na + var_b/nb is 0 (both samples constant) no_variance is set, df = na + nb - 2,
 * and equal means give t = 0, p = 1 while different means give t = ±inf, p = 0. A tiny variance
 * under a large difference may give t = ±inf with no_variance false (then p = 0).
 * mean_*, var_*: the caller's mean and sample variance (divisor n - 1, >= 0), finite; na, nb:
 * sample sizes, at least 2 each (asserted: a smaller sample is the caller's case to handle).
 * out: borrowed, filled. Pure; any thread; does not raise.
 */
void alc_stats_welch_from_moments(double mean_a, double var_a, size_t na, double mean_b, double var_b, size_t nb,
                                  alc_stats_welch *out) {
    assert(out && na >= 2 && nb >= 2);
    double sea = var_a / (double)na, seb = var_b / (double)nb, se = sea + seb;
    double diff = mean_a - mean_b;
    if (!(se > 0.0)) {
        out->no_variance = true;
        out->df = (double)(na + nb - 2);
        if (diff == 0.0) {
            out->t = 0.0;
            out->p = 1.0;
        } else {
            out->t = diff > 0.0 ? HUGE_VAL : -HUGE_VAL;
            out->p = 0.0;
        }
        return;
    }
    out->no_variance = false;
    out->t = diff / sqrt(se);
    double ra = sea / se, rb = seb / se; // shares of the variance, so no square underflows
    out->df = 1.0 / (ra * ra / (double)(na - 1) + rb * rb / (double)(nb - 1));
    out->p = alc_stats_t_two_sided(out->t, out->df);
}
