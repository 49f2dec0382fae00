/*
 * eval_stats.c — numbers for alc_eval_compare: mean / sample variance and Welch's t-test with
 * the result kinds the tool reports. The t, df and p arithmetic and the Student t tail are in
 * src/engine/stats.c (shared with alc.math).
 *
 * Owns no state. Every function is pure and may be called from any thread.
 */
#include "alc/eval_stats.h"

#include "alc/error.h"
#include "alc/stats.h"

#include <math.h>

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
    alc_stats_welch r;
    alc_stats_welch_from_moments(out->mean_a, out->var_a, na, out->mean_b, out->var_b, nb, &r);
    out->kind = r.no_variance ? ALC_WELCH_NO_VARIANCE : ALC_WELCH_OK;
    out->t = r.t;
    out->t_infinite = isinf(r.t); /* no variance under different means, or a tiny variance */
    out->df = r.df;
    out->p = r.p;
    out->significant = out->p < alpha;
    return ALC_OK;
}
