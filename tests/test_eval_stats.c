/*
 * test_eval_stats.c — Welch's t-test of src/engine/eval_stats.c against values worked out by
 * hand (closed forms for t and df) and against p-values computed independently at 40 digits
 * (mpmath betainc). The Student t tail itself is tested in tests/test_stats.c.
 */
#include "helpers.h"

#include "alc/error.h"
#include "alc/eval_stats.h"

#include <math.h>

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void near(double got, double want, double tol, const char *what) {
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (tol %g)", what, got, want, tol);
}

Test(eval_stats, mean_and_sample_variance_use_n_minus_one) {
    double v[] = {2, 4, 6, 8, 10, 12};
    double m, var;
    alc_eval_stats_mean_var(v, N(v), &m, &var);
    near(m, 7.0, 1e-15, "mean");
    near(var, 14.0, 1e-13, "variance = 70 / 5");
    alc_eval_stats_mean_var(v, 1, &m, &var);
    near(m, 2.0, 0, "one value: mean");
    near(var, 0.0, 0, "one value: variance 0");
    alc_eval_stats_mean_var(NULL, 0, &m, &var);
    cr_assert(m == 0.0 && var == 0.0, "empty sample gives zeros");
}

/* a = 1..5 (mean 3, var 2.5), b = 2,4,..,12 (mean 7, var 14): se² = 2.5/5 + 14/6 = 17/6,
 * t = -4 / sqrt(17/6), df = (17/6)² / ((1/2)²/4 + (7/3)²/5) = 5780/829; p (mpmath) =
 * 0.049284338206730520766 — just below 0.05, so significant. */
Test(eval_stats, welch_matches_hand_computed_values_with_unequal_n_and_variance) {
    double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 6, 8, 10, 12};
    alc_welch w;
    cr_assert_eq(alc_eval_stats_welch(a, N(a), b, N(b), 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_OK);
    cr_assert(w.na == 5 && w.nb == 6);
    near(w.mean_a, 3.0, 1e-15, "mean a");
    near(w.mean_b, 7.0, 1e-15, "mean b");
    near(w.var_a, 2.5, 1e-14, "var a");
    near(w.var_b, 14.0, 1e-13, "var b");
    near(w.t, -4.0 / sqrt(17.0 / 6.0), 1e-13, "t");
    near(w.df, 5780.0 / 829.0, 1e-12, "df");
    near(w.p, 0.049284338206730520766, 1e-12, "p");
    cr_assert(w.significant, "p < 0.05");
    cr_assert(!w.t_infinite);

    // the same data at alpha 0.01 is not significant; swapping a and b flips t only
    cr_assert_eq(alc_eval_stats_welch(a, N(a), b, N(b), 0.01, &w), ALC_OK);
    cr_assert(!w.significant, "p > 0.01");
    cr_assert_eq(alc_eval_stats_welch(b, N(b), a, N(a), 0.05, &w), ALC_OK);
    near(w.t, 4.0 / sqrt(17.0 / 6.0), 1e-13, "t swapped");
    near(w.df, 5780.0 / 829.0, 1e-12, "df symmetric");
}

Test(eval_stats, welch_matches_reference_values_for_score_samples) {
    struct {
        double a[10], b[10];
        size_t na, nb;
        double t, df, p;
        bool sig;
    } cases[] = {
        // pass/fail scores of two 10-case evals: 7/10 against 2/10
        {{1, 1, 0, 1, 0, 1, 1, 1, 0, 1}, {0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 10, 10,
         2.4659848095803593334, 17.677187948350071736, 0.02414327299606552969, true},
        // partial scores, 4 against 7 cases, very different variances
        {{0.9, 0.8, 1.0, 0.7}, {0.2, 0.9, 0.4, 0.6, 0.1, 0.5, 0.3}, 4, 7,
         3.4989531175923215206, 8.9147012337813500867, 0.0068342177320295912357, true},
        // small samples, no significant difference
        {{0.5, 0.6}, {0.5, 0.7, 0.9}, 2, 3,
         -1.1920791213585394414, 2.6350364963503646938, 0.32946068568630537887, false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        alc_welch w;
        cr_assert_eq(alc_eval_stats_welch(cases[i].a, cases[i].na, cases[i].b, cases[i].nb, 0.05, &w), ALC_OK);
        cr_assert_eq(w.kind, ALC_WELCH_OK, "case %zu", i);
        near(w.t, cases[i].t, 1e-12, "t");
        near(w.df, cases[i].df, 1e-10, "df");
        near(w.p, cases[i].p, 1e-12, "p");
        cr_assert_eq(w.significant, cases[i].sig, "case %zu significance", i);
    }
}

Test(eval_stats, identical_samples_give_t_zero_and_p_one) {
    double a[] = {0.2, 0.4, 0.9}, b[] = {0.2, 0.4, 0.9};
    alc_welch w;
    cr_assert_eq(alc_eval_stats_welch(a, 3, b, 3, 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_OK);
    cr_assert_eq(w.t, 0.0);
    near(w.df, 4.0, 1e-12, "equal variances and n: df = 2n - 2");
    near(w.p, 1.0, 1e-15, "p");
    cr_assert(!w.significant);
}

Test(eval_stats, constant_samples_never_give_nan) {
    double ones[] = {1, 1, 1, 1}, same[] = {1, 1, 1}, zeros[] = {0, 0, 0};
    alc_welch w;
    cr_assert_eq(alc_eval_stats_welch(ones, 4, same, 3, 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_NO_VARIANCE);
    cr_assert(w.t == 0.0 && w.p == 1.0 && !w.significant && !w.t_infinite, "equal constants: no difference");
    cr_assert_eq(w.df, 5.0, "df = na + nb - 2");

    cr_assert_eq(alc_eval_stats_welch(ones, 4, zeros, 3, 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_NO_VARIANCE);
    cr_assert(w.t_infinite && w.t > 0, "t = +inf");
    cr_assert(w.p == 0.0 && w.significant, "different constants are a certain difference");
    cr_assert(!isnan(w.df) && !isnan(w.p));

    cr_assert_eq(alc_eval_stats_welch(zeros, 3, ones, 4, 0.05, &w), ALC_OK);
    cr_assert(w.t_infinite && w.t < 0, "t = -inf");
}

Test(eval_stats, a_sample_of_fewer_than_two_is_no_test) {
    double one[] = {0.5}, many[] = {0.1, 0.9, 0.4};
    alc_welch w;
    cr_assert_eq(alc_eval_stats_welch(one, 1, many, 3, 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_TOO_FEW);
    cr_assert(w.p == 1.0 && w.t == 0.0 && w.df == 0.0 && !w.significant);
    near(w.mean_b, 1.4 / 3.0, 1e-15, "means are still filled in");
    cr_assert_eq(alc_eval_stats_welch(NULL, 0, many, 3, 0.05, &w), ALC_OK);
    cr_assert_eq(w.kind, ALC_WELCH_TOO_FEW, "an empty sample is no test either");
}

Test(eval_stats, bad_input_is_rejected) {
    double ok[] = {1, 2}, bad[] = {1, NAN}, inf[] = {INFINITY, 1};
    alc_welch w;
    cr_assert_eq(alc_eval_stats_welch(ok, 2, bad, 2, 0.05, &w), ALC_E_INVAL, "NaN value");
    cr_assert_eq(alc_eval_stats_welch(inf, 2, ok, 2, 0.05, &w), ALC_E_INVAL, "infinite value");
    cr_assert_eq(alc_eval_stats_welch(NULL, 2, ok, 2, 0.05, &w), ALC_E_INVAL, "NULL with a count");
    cr_assert_eq(alc_eval_stats_welch(ok, 2, ok, 2, 0.0, &w), ALC_E_INVAL, "alpha 0");
    cr_assert_eq(alc_eval_stats_welch(ok, 2, ok, 2, 1.0, &w), ALC_E_INVAL, "alpha 1");
    cr_assert_eq(alc_eval_stats_welch(ok, 2, ok, 2, 0.05, NULL), ALC_E_INVAL, "no output");
}
