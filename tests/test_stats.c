/*
 * test_stats.c — the shared special functions and Welch core of src/engine/stats.c against
 * published Student t table values, closed forms (Abramowitz & Stegun 26.7.3/26.7.4 for integer
 * df, elementary cases of ln Γ and I_x(a, b)) and values computed independently at 40 digits
 * with mpmath (betainc, loggamma). The callers (alc.math, alc_eval_compare) are tested in
 * tests/test_lib_math.c and tests/test_eval_stats.c.
 */
#include "helpers.h"

#include "alc/stats.h"

#include <math.h>

#define N(x) (sizeof(x) / sizeof((x)[0]))

static const double PI = 3.14159265358979323846;

static void near(double got, double want, double tol, const char *what) {
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (tol %g)", what, got, want, tol);
}

static void near_rel(double got, double want, double rel, const char *what) {
    cr_assert(fabs(got - want) <= rel * fabs(want), "%s: got %.17g, want %.17g (rel %g)", what, got, want, rel);
}

/* ------------------------------------------------------------------ Student t tail */

Test(stats, t_tail_gives_the_published_table_critical_values) {
    // two-sided critical values from any t table: P(|T| >= t) = alpha (rounded to 3 decimals)
    struct { double t, df, alpha, exact; } rows[] = {
        {2.228, 10, 0.05, 0.050011771817111365362},
        {3.169, 10, 0.01, 0.010004633364384851611},
        {2.086, 20, 0.05, 0.049996354457440224503},
        {12.706, 1, 0.05, 0.050000802358133187905},
        {4.303, 2, 0.05, 0.049992524985214501984},
    };
    for (size_t i = 0; i < N(rows); i++) {
        double p = alc_stats_t_two_sided(rows[i].t, rows[i].df);
        near(p, rows[i].alpha, 1e-3 * rows[i].alpha, "table value (0.1 % relative)");
        near(p, rows[i].exact, 1e-14, "40-digit value");
        // the one-sided CDF follows from the tail: F(t) = 1 - p/2 for t > 0
        near(1.0 - p / 2.0, 1.0 - rows[i].alpha / 2.0, 1e-4, "cdf");
    }
}

Test(stats, t_tail_matches_closed_forms_for_one_and_two_degrees_of_freedom) {
    // df = 1 (Cauchy): P(|T| >= t) = 1 - (2/pi) atan(t)
    near(alc_stats_t_two_sided(1.0, 1.0), 0.5, 1e-13, "df 1, t 1");
    near(alc_stats_t_two_sided(-3.0, 1.0), 1.0 - 2.0 / PI * atan(3.0), 1e-13, "df 1, t -3");
    // df = 2: P(|T| >= t) = 1 - t / sqrt(2 + t^2)
    near(alc_stats_t_two_sided(1.0, 2.0), 1.0 - 1.0 / sqrt(3.0), 1e-13, "df 2, t 1");
    near(alc_stats_t_two_sided(4.0, 2.0), 1.0 - 4.0 / sqrt(18.0), 1e-13, "df 2, t 4");
    // df = 3: 1 - (2/pi)(theta + sin(theta)cos(theta)), theta = atan(t / sqrt(3))
    double th = atan(2.0 / sqrt(3.0));
    near(alc_stats_t_two_sided(2.0, 3.0), 1.0 - 2.0 / PI * (th + sin(th) * cos(th)), 1e-13, "df 3, t 2");
}

Test(stats, t_tail_matches_reference_values_for_fractional_df_and_far_tails) {
    near(alc_stats_t_two_sided(2.5, 7.5), 0.038820258273625557183, 1e-13, "df 7.5");
    near(alc_stats_t_two_sided(1.0, 0.5), 0.60224322168264416311, 1e-13, "df 0.5");
    near(alc_stats_t_two_sided(0.5, 5.0), 0.63829887164092900671, 1e-13, "df 5, p near 1");
    near_rel(alc_stats_t_two_sided(6.0, 30.0), 1.3942768767204742702e-6, 1e-11, "df 30, small p");
    near_rel(alc_stats_t_two_sided(40.0, 3.0), 3.4380680789158528283e-5, 1e-11, "df 3, t 40");
    near(alc_stats_t_two_sided(3.0, 1e6), 0.0026998625414217970587, 1e-10, "df 1e6 (fraction)");
    // huge df: the normal limit, P(|Z| >= 1.959963984540054) = 0.05
    near(alc_stats_t_two_sided(1.959963984540054, 1e9), 0.05, 1e-9, "normal limit");
}

Test(stats, t_tail_is_symmetric_monotone_and_never_nan) {
    near(alc_stats_t_two_sided(-2.228, 10), alc_stats_t_two_sided(2.228, 10), 0, "symmetric in t");
    double prev = 1.0;
    for (double t = 0.0; t < 20.0; t += 0.25) {
        double p = alc_stats_t_two_sided(t, 4.5);
        cr_assert(p >= 0.0 && p <= prev, "t %g: p %.17g must not rise (prev %.17g)", t, p, prev);
        prev = p;
    }
    cr_assert_eq(alc_stats_t_two_sided(0.0, 7.5), 1.0, "t 0 gives p 1");
    cr_assert_eq(alc_stats_t_two_sided(INFINITY, 3.0), 0.0, "infinite t gives p 0");
    cr_assert_eq(alc_stats_t_two_sided(-INFINITY, 3.0), 0.0, "-inf too");
    cr_assert_eq(alc_stats_t_two_sided(1e200, 3.0), 0.0, "t squared overflows: p 0, not NaN");
    cr_assert_eq(alc_stats_t_two_sided(NAN, 3.0), 1.0, "NaN t gives p 1, not NaN");
    cr_assert_eq(alc_stats_t_two_sided(2.0, 0.0), 1.0, "df 0 gives p 1");
    cr_assert_eq(alc_stats_t_two_sided(2.0, -4.0), 1.0, "negative df gives p 1");
    cr_assert_eq(alc_stats_t_two_sided(2.0, NAN), 1.0, "NaN df gives p 1");
}

/* ------------------------------------------------------------------ ln Γ, ln B, I_x(a, b) */

Test(stats, ln_gamma_matches_factorials_and_reference_values) {
    near(alc_stats_ln_gamma(1.0), 0.0, 1e-14, "ln 0!");
    near(alc_stats_ln_gamma(10.0), log(362880.0), 1e-13, "ln 9!");
    near(alc_stats_ln_gamma(0.5), 0.5 * log(PI), 1e-14, "ln sqrt(pi)");
    near(alc_stats_ln_gamma(-0.5), 1.2655121234846453965, 1e-14, "ln |Gamma(-1/2)| = ln 2 sqrt(pi)");
    near(alc_stats_ln_gamma(-2.5), -0.056243716497674050673, 1e-14, "reflection");
    near_rel(alc_stats_ln_gamma(-100.3), -363.76620618267625945, 1e-14, "far negative");
    near_rel(alc_stats_ln_gamma(100.5), 361.43554046777762156, 1e-15, "Stirling range");
    near(alc_stats_ln_gamma(1e-5), 11.512919692895825626, 1e-13, "small x");
    cr_assert(isinf(alc_stats_ln_gamma(0.0)) && isinf(alc_stats_ln_gamma(-3.0)), "poles are +inf");
    cr_assert(isinf(alc_stats_ln_gamma(INFINITY)) && isinf(alc_stats_ln_gamma(-INFINITY)), "inf gives +inf");
    cr_assert(isnan(alc_stats_ln_gamma(NAN)), "NaN stays NaN");
    near(alc_stats_ln_beta(2.0, 3.0), log(1.0 / 12.0), 1e-14, "B(2, 3) = 1/12");
    near(alc_stats_ln_beta(0.5, 0.5), log(PI), 1e-14, "B(1/2, 1/2) = pi");
}

Test(stats, incomplete_beta_matches_closed_forms_and_reference_values) {
    for (double x = 0.05; x < 1.0; x += 0.1) {
        near(alc_stats_inc_beta(x, 2.5, 1.0), pow(x, 2.5), 1e-14, "I_x(a, 1) = x^a");
        near(alc_stats_inc_beta(x, 1.0, 3.0), 1.0 - pow(1.0 - x, 3.0), 1e-14, "I_x(1, b) = 1 - (1-x)^b");
        near(alc_stats_inc_beta(x, 2.0, 2.0), 3 * x * x - 2 * x * x * x, 1e-14, "I_x(2, 2)");
        near(alc_stats_inc_beta(x, 2.5, 3.5), 1.0 - alc_stats_inc_beta(1.0 - x, 3.5, 2.5), 1e-14, "symmetry");
    }
    near(alc_stats_inc_beta(0.3, 2.5, 3.5), 0.29675298929566639864, 1e-14, "mpmath");
    near(alc_stats_inc_beta(0.01, 0.5, 20.0), 0.47136993548501555513, 1e-13, "mpmath, small a");
    near(alc_stats_inc_beta(0.45, 50.0, 60.0), 0.46423529143060362867, 1e-12, "mpmath, large a and b");
    cr_assert_eq(alc_stats_inc_beta(0.0, 2.0, 3.0), 0.0);
    cr_assert_eq(alc_stats_inc_beta(-1.0, 2.0, 3.0), 0.0, "x below 0 clamps to 0");
    cr_assert_eq(alc_stats_inc_beta(1.0, 2.0, 3.0), 1.0);
    cr_assert_eq(alc_stats_inc_beta(7.0, 2.0, 3.0), 1.0, "x above 1 clamps to 1");
}

/* ------------------------------------------------------------------ Welch from moments */

/* a = 1..5 (mean 3, var 2.5), b = 2,4,..,12 (mean 7, var 14): se² = 17/6, t = -4/sqrt(17/6),
 * df = 5780/829; p (mpmath betainc) = 0.049284338206730520766. */
Test(stats, welch_from_moments_matches_hand_computed_values) {
    alc_stats_welch w;
    alc_stats_welch_from_moments(3.0, 2.5, 5, 7.0, 14.0, 6, &w);
    cr_assert(!w.no_variance);
    near(w.t, -4.0 / sqrt(17.0 / 6.0), 1e-14, "t");
    near(w.df, 5780.0 / 829.0, 1e-13, "df");
    near(w.p, 0.049284338206730520766, 1e-14, "p");
    alc_stats_welch s;
    alc_stats_welch_from_moments(7.0, 14.0, 6, 3.0, 2.5, 5, &s);
    cr_assert(s.t == -w.t && s.df == w.df && s.p == w.p, "swapping the samples flips t only");
    // equal variances and sizes: df = 2n - 2 (the pooled test's df)
    alc_stats_welch_from_moments(1.0, 4.0, 8, 0.0, 4.0, 8, &w);
    near(w.df, 14.0, 1e-12, "df = 2n - 2");
    near(w.p, alc_stats_t_two_sided(1.0, 14.0), 1e-15, "p is the t tail at t = 1");
}

Test(stats, welch_from_moments_with_zero_variance_gives_no_nan) {
    alc_stats_welch w;
    alc_stats_welch_from_moments(2.0, 0.0, 3, 2.0, 0.0, 4, &w);
    cr_assert(w.no_variance && w.t == 0.0 && w.p == 1.0 && w.df == 5.0, "equal constants");
    alc_stats_welch_from_moments(1.0, 0.0, 2, 2.0, 0.0, 3, &w);
    cr_assert(w.no_variance && isinf(w.t) && w.t < 0 && w.p == 0.0 && w.df == 3.0, "different constants");
    alc_stats_welch_from_moments(5.0, 0.0, 3, 2.0, 1.0, 3, &w);
    cr_assert(!w.no_variance, "one constant sample: the other carries the variance");
    near(w.t, 3.0 / sqrt(1.0 / 3.0), 1e-13, "t");
    near(w.df, 2.0, 1e-13, "df = nb - 1");
    cr_assert(w.p > 0.0 && w.p < 0.1 && !isnan(w.p));
}
