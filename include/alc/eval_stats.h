/*
 * eval_stats.h — the statistics of alc_eval_compare: mean and sample variance of a score
 * sample, Welch's two-sample t-test (Welch–Satterthwaite degrees of freedom, two-sided
 * p-value), computed with the shared core in alc/stats.h.
 *
 * Threads: pure functions of their arguments; any thread. No global state (libm's lgamma,
 * which writes the global signgam, is not used).
 */
#ifndef ALC_EVAL_STATS_H
#define ALC_EVAL_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Which form the result of alc_eval_stats_welch took. */
typedef enum {
    ALC_WELCH_OK,          /* t, df and p are finite and meaningful */
    ALC_WELCH_TOO_FEW,     /* a sample has fewer than 2 values: no test (t = 0, df = 0, p = 1) */
    ALC_WELCH_NO_VARIANCE, /* both samples are constant: equal means give t = 0, p = 1; different
                              means give t = ±inf (t_infinite), p = 0; df = na + nb - 2 */
} alc_welch_kind;

typedef struct alc_welch {
    alc_welch_kind kind;
    size_t na, nb;
    double mean_a, mean_b;
    double var_a, var_b;       /* sample variances (divisor n - 1; 0 when n < 2) */
    double t;                  /* (mean_a - mean_b) / sqrt(var_a/na + var_b/nb) */
    bool t_infinite;           /* t is ±inf (NO_VARIANCE with different means) */
    double df;                 /* Welch–Satterthwaite degrees of freedom */
    double p;                  /* two-sided p-value, in [0, 1] */
    bool significant;          /* p < alpha */
} alc_welch;

/* Mean and sample variance (divisor n - 1, 0 for n < 2) of v[0..n); n = 0 gives 0 and 0. */
void alc_eval_stats_mean_var(const double *v, size_t n, double *mean, double *var);

/* Welch's t-test of a[0..na) against b[0..nb) at significance level alpha (e.g. 0.05).
 * a, b: borrowed. Fills *out. Returns ALC_OK, or ALC_E_INVAL when a value is not finite, a
 * pointer is NULL with a non-zero count, or alpha is not in (0, 1). */
int alc_eval_stats_welch(const double *a, size_t na, const double *b, size_t nb, double alpha,
                         alc_welch *out);

#endif
