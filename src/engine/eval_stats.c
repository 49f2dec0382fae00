/*
 * eval_stats.c — numbers for alc_eval_compare: mean / sample variance, Welch's t-test and the
 * two-sided Student t tail (through the regularised incomplete beta function).
 *
 * Owns no state. Every function is pure and may be called from any thread; ln Γ is computed
 * here (Lanczos) because libm's lgamma writes the global `signgam`.
 */
#include "alc/eval_stats.h"

#include "alc/error.h"

#include <math.h>

static const double SQRT2 = 1.41421356237309504880168872420969808;
static const double HALF_LN_2PI = 0.91893853320467274178032973640561764;

/* ln Γ(x) for x >= 0.5: Lanczos approximation, g = 7, nine terms (relative error ~1e-15). */
static double ln_gamma(double x) {
    static const double c[9] = {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028,
        771.32342877765313, -176.61502916214059, 12.507343278686905,
        -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    };
    x -= 1.0;
    double sum = c[0];
    for (int i = 1; i < 9; i++) sum += c[i] / (x + (double)i);
    double t = x + 7.5;
    return HALF_LN_2PI + (x + 0.5) * log(t) - t + log(sum);
}

/* Continued fraction of I_x(a, b) (modified Lentz); converges fast for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double step = d * c;
        h *= step;
        if (fabs(step - 1.0) < eps) break;
    }
    return h;
}

/* I_x(a, b) for a, b > 0, given x and y = 1 - x (both computed by the caller without
 * cancellation). */
static double inc_beta(double a, double b, double x, double y) {
    if (x <= 0.0) return 0.0;
    if (y <= 0.0) return 1.0;
    double ln_front = a * log(x) + b * log(y) - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(ln_front) * beta_cf(a, b, x) / a;
    return 1.0 - exp(ln_front) * beta_cf(b, a, y) / b;
}

/*
 * Two-sided tail of Student's t: P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2). t: any value
 * (±inf gives 0, NaN gives 1); df: > 0 (otherwise 1 is returned). Above 1e7 degrees of
 * freedom the normal limit is used. Returns a value clamped to [0, 1]. Pure; any thread.
 */
double alc_eval_stats_t_two_sided(double t, double df) {
    if (isnan(t) || !(df > 0.0)) return 1.0;
    if (isinf(t)) return 0.0;
    if (df > 1e7) return erfc(fabs(t) / SQRT2);
    double t2 = t * t;
    double x = df / (df + t2), y = t2 / (df + t2);
    double p = inc_beta(df / 2.0, 0.5, x, y);
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

/*
 * Mean and sample variance (sum of squared deviations / (n - 1), two passes) of v[0..n).
 * n = 0 gives mean 0; n < 2 gives variance 0. v: borrowed (may be NULL when n = 0).
 * mean, var: out, both required. Pure; any thread.
 */
void alc_eval_stats_mean_var(const double *v, size_t n, double *mean, double *var) {
    *mean = 0.0;
    *var = 0.0;
    if (n == 0) return;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    double m = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    if (n > 1) *var = ss / (double)(n - 1);
}

static bool all_finite(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

/*
 * Welch's unequal-variance t-test of sample a against sample b:
 *   t  = (mean_a - mean_b) / sqrt(var_a/na + var_b/nb)
 *   df = (var_a/na + var_b/nb)² / ((var_a/na)²/(na-1) + (var_b/nb)²/(nb-1))
 *   p  = two-sided Student t tail at |t| with df degrees of freedom.
 * A sample with fewer than two values gives kind ALC_WELCH_TOO_FEW (t 0, df 0, p 1, not
 * significant); two constant samples give ALC_WELCH_NO_VARIANCE (see the header); no field is
 * ever NaN. significant = p < alpha. a, b: borrowed. out: filled on ALC_OK.
 * Returns ALC_OK or ALC_E_INVAL (non-finite value, NULL data with a count, alpha outside
 * (0, 1)). Pure; any thread.
 */
int alc_eval_stats_welch(const double *a, size_t na, const double *b, size_t nb, double alpha,
                         alc_welch *out) {
    if (!out || (na && !a) || (nb && !b) || !(alpha > 0.0 && alpha < 1.0)) return ALC_E_INVAL;
    if (!all_finite(a, na) || !all_finite(b, nb)) return ALC_E_INVAL;
    *out = (alc_welch){.na = na, .nb = nb, .p = 1.0};
    alc_eval_stats_mean_var(a, na, &out->mean_a, &out->var_a);
    alc_eval_stats_mean_var(b, nb, &out->mean_b, &out->var_b);
    if (na < 2 || nb < 2) {
        out->kind = ALC_WELCH_TOO_FEW;
        return ALC_OK;
    }
    double sea = out->var_a / (double)na, seb = out->var_b / (double)nb, se = sea + seb;
    double diff = out->mean_a - out->mean_b;
    if (!(se > 0.0)) {
        out->kind = ALC_WELCH_NO_VARIANCE;
        out->df = (double)(na + nb - 2);
        if (diff != 0.0) {
            out->t = diff > 0.0 ? HUGE_VAL : -HUGE_VAL;
            out->t_infinite = true;
            out->p = 0.0;
        }
        out->significant = out->p < alpha;
        return ALC_OK;
    }
    out->kind = ALC_WELCH_OK;
    out->t = diff / sqrt(se);
    out->t_infinite = isinf(out->t); /* a tiny variance under a large difference */
    double ra = sea / se, rb = seb / se; /* shares of the variance: no square underflows */
    out->df = 1.0 / (ra * ra / (double)(na - 1) + rb * rb / (double)(nb - 1));
    out->p = alc_eval_stats_t_two_sided(out->t, out->df);
    out->significant = out->p < alpha;
    return ALC_OK;
}
