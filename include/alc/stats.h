/*
 * stats.h — the special functions and the Welch t-test core shared by alc.math
 * (src/lua/lib_math.c) and alc_eval_compare (src/engine/eval_stats.c): ln Γ, ln B, the
 * regularised incomplete beta function, the two-sided Student t tail, and Welch's t / df / p
 * from the summary statistics of two samples.
 *
 * Threads: pure functions of their arguments; any thread. No global state (libm's lgamma,
 * which writes the global signgam, is not used).
 */
#ifndef ALC_STATS_H
#define ALC_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* ln|Γ(x)| for any x; +inf at the poles 0, -1, -2, ... and for ±inf; NaN stays NaN. */
double alc_stats_ln_gamma(double x);

/* ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b). */
double alc_stats_ln_beta(double a, double b);

/* Regularised incomplete beta I_x(a, b) for a, b > 0; x <= 0 gives 0, x >= 1 gives 1. */
double alc_stats_inc_beta(double x, double a, double b);

/* Two-sided tail P(|T| >= |t|) of Student's t with df degrees of freedom, in [0, 1]. t = ±inf
 * gives 0; NaN t or df <= 0 (or NaN) gives 1; df > 1e7 uses the normal limit. */
double alc_stats_t_two_sided(double t, double df);

/* Welch's t-test computed from the summary statistics of two samples. */
typedef struct alc_stats_welch {
    double t;          /* (mean_a - mean_b) / sqrt(var_a/na + var_b/nb); ±inf when no_variance
                          and the means differ, 0 when no_variance and they are equal */
    double df;         /* Welch–Satterthwaite degrees of freedom; na + nb - 2 when no_variance */
    double p;          /* two-sided p-value in [0, 1] (1 or 0 when no_variance) */
    bool no_variance;  /* var_a/na + var_b/nb is 0: both samples are constant */
} alc_stats_welch;

/* Welch's t, df and two-sided p of sample a (mean_a, sample variance var_a >= 0, na >= 2
 * values) against sample b (likewise); fills *out. Never produces NaN from finite input. */
void alc_stats_welch_from_moments(double mean_a, double var_a, size_t na, double mean_b, double var_b, size_t nb,
                                  alc_stats_welch *out);

#endif
