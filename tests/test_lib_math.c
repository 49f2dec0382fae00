/*
 * test_lib_math.c — alc.math (spec §4.4.2), exercised through a real lua_State.
 * Reference values were computed independently with mpmath at 30 digits, and the RNG
 * sequence with a separate implementation of splitmix64 + xoshiro256**.
 */
#include "helpers.h"

#include "alc/lua_libs.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>

/* A fresh VM with global `alc` holding alc.math, and `m` as a shortcut for it. */
static lua_State *vm_new(void) {
    lua_State *L = luaL_newstate();
    cr_assert_not_null(L);
    luaL_openlibs(L);
    lua_newtable(L);
    alc_lua_open_math(L);
    cr_assert_eq(lua_gettop(L), 1, "alc_lua_open_math must leave the stack balanced");
    lua_setglobal(L, "alc");
    cr_assert_eq(luaL_dostring(L, "m = alc.math"), LUA_OK);
    return L;
}

static void vm_run(lua_State *L, const char *code) {
    lua_settop(L, 0);
    int rc = luaL_dostring(L, code);
    cr_assert_eq(rc, LUA_OK, "Lua error: %s\n  in: %s", rc ? lua_tostring(L, -1) : "", code);
}

static const char *vm_error(lua_State *L, const char *code) {
    lua_settop(L, 0);
    int rc = luaL_dostring(L, code);
    cr_assert_neq(rc, LUA_OK, "expected an error from: %s", code);
    const char *msg = lua_tostring(L, -1);
    cr_assert_not_null(msg);
    return msg;
}

/* Asserts that code raises an error whose message contains want. */
static void expect_error(lua_State *L, const char *code, const char *want) {
    const char *msg = vm_error(L, code);
    cr_assert(strstr(msg, want) != NULL, "%s\n  raised \"%s\", want it to contain \"%s\"", code, msg, want);
}

/* Result i (1-based) of the last run as a number. */
static double num_at(lua_State *L, int i) {
    cr_assert_eq(lua_type(L, i), LUA_TNUMBER, "result %d is a %s, not a number", i, luaL_typename(L, i));
    return (double)lua_tonumber(L, i);
}

/* Asserts |got - want| <= tol for the single numeric result of code. */
static void expect_near(lua_State *L, const char *code, double want, double tol) {
    vm_run(L, code);
    double got = num_at(L, 1);
    cr_assert(fabs(got - want) <= tol, "%s = %.17g, want %.17g (tol %g)", code, got, want, tol);
}

/* ------------------------------------------------------------------ descriptive statistics */

Test(lib_math, mean_variance_and_stddev_match_hand_computed_values) {
    lua_State *L = vm_new();
    expect_near(L, "return m.mean({10, 20, 30, 40, 50})", 30.0, 1e-12);
    expect_near(L, "return m.variance({10, 20, 30, 40, 50})", 250.0, 1e-9); // sample, n - 1
    expect_near(L, "return m.stddev({10, 20, 30, 40, 50})", 15.811388300841896, 1e-12);
    expect_near(L, "return m.variance({2, 4, 4, 4, 5, 5, 7, 9})", 32.0 / 7.0, 1e-12);
    expect_near(L, "return m.mean({2.5})", 2.5, 0);
    expect_near(L, "return m.variance({2.5})", 0.0, 0); // one value: 0, as in the original
    lua_close(L);
}

Test(lib_math, median_and_percentile_interpolate_between_closest_ranks) {
    lua_State *L = vm_new();
    expect_near(L, "return m.median({3, 1, 2, 4})", 2.5, 1e-15);
    expect_near(L, "return m.median({5, 1, 3})", 3.0, 0);
    expect_near(L, "return m.median({7})", 7.0, 0);
    expect_near(L, "return m.percentile({1,2,3,4,5,6,7,8,9,10}, 90)", 9.1, 1e-12);
    expect_near(L, "return m.percentile({10,9,8,7,6,5,4,3,2,1}, 0)", 1.0, 0);
    expect_near(L, "return m.percentile({1,2,3,4,5,6,7,8,9,10}, 100)", 10.0, 0);
    expect_near(L, "return m.percentile({4, 1, 3, 2}, 25)", 1.75, 1e-15);
    expect_near(L, "return m.iqr({1,2,3,4,5,6,7,8,9,10})", 4.5, 1e-12);
    // The caller's table is not reordered.
    vm_run(L, "local t = {3, 1, 2} m.median(t) return t[1], t[2], t[3]");
    cr_assert(num_at(L, 1) == 3 && num_at(L, 2) == 1 && num_at(L, 3) == 2);
    lua_close(L);
}

Test(lib_math, huge_values_give_infinities_or_numbers_but_never_nan) {
    lua_State *L = vm_new();
    expect_near(L, "return m.mean({1e308, 1e308})", 1e308, 1e293);
    vm_run(L, "local v = m.variance({1e308, -1e308}) return v == v, v");
    cr_assert(lua_toboolean(L, 1), "variance must not be NaN");
    cr_assert(isinf(num_at(L, 2)));
    expect_near(L, "return m.median({-1.7e308, 1.7e308})", 0.0, 1e293);
    lua_close(L);
}

/* ------------------------------------------------------------------ transforms */

Test(lib_math, softmax_logsumexp_and_log_normalize_match_reference_values) {
    lua_State *L = vm_new();
    vm_run(L, "local p = m.softmax({1, 2, 3}) return #p, p[1], p[2], p[3]");
    cr_assert_eq(lua_tointeger(L, 1), 3);
    cr_assert_float_eq(num_at(L, 2), 0.090030573170380458, 1e-15);
    cr_assert_float_eq(num_at(L, 3), 0.24472847105479765, 1e-15);
    cr_assert_float_eq(num_at(L, 4), 0.66524095577482189, 1e-15);
    vm_run(L, "local p = m.softmax({1, 2, 3}, 2) return p[1], p[2], p[3]");
    cr_assert_float_eq(num_at(L, 1), 0.18632372322584758, 1e-15);
    cr_assert_float_eq(num_at(L, 2), 0.3071958857184984, 1e-15);
    cr_assert_float_eq(num_at(L, 3), 0.50648039105565403, 1e-15);
    // Extreme inputs stay finite: the maximum always contributes exp(0).
    vm_run(L, "local p = m.softmax({-1e308, 1e308}, 1e-300) return p[1], p[2]");
    cr_assert(num_at(L, 1) == 0.0 && num_at(L, 2) == 1.0);
    expect_near(L, "return m.logsumexp({1, 2, 3})", 3.4076059644443803, 1e-14);
    expect_near(L, "return m.logsumexp({1000, 1000})", 1000.0 + log(2.0), 1e-12);
    vm_run(L, "local p = m.log_normalize({1, 10, 100, 1000}) return p[1], p[2], p[3], p[4]");
    cr_assert_float_eq(num_at(L, 1), 10.032881506161207, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 34.708067508455471, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 66.801046849410673, 1e-12);
    cr_assert_float_eq(num_at(L, 4), 100.0, 1e-12);
    vm_run(L, "local p = m.log_normalize({-3, 0, 9}) return p[1], p[2], p[3]");
    cr_assert(num_at(L, 1) == 0.0 && num_at(L, 2) == 0.0 && fabs(num_at(L, 3) - 100.0) < 1e-12);
    lua_close(L);
}

Test(lib_math, entropy_is_in_nats_and_requires_a_distribution) {
    lua_State *L = vm_new();
    expect_near(L, "return m.entropy({0.5, 0.5})", log(2.0), 1e-15);
    expect_near(L, "return m.entropy({0.25, 0.25, 0.25, 0.25})", log(4.0), 1e-15);
    expect_near(L, "return m.entropy({1, 0, 0})", 0.0, 0);
    expect_error(L, "return m.entropy({0.5, 0.6})", "alc.math.entropy: probabilities sum to");
    expect_error(L, "return m.entropy({-0.5, 1.5})", "alc.math.entropy: element 1 is negative");
    lua_close(L);
}

/* ------------------------------------------------------------------ wilson_ci */

Test(lib_math, wilson_ci_matches_reference_intervals) {
    lua_State *L = vm_new();
    vm_run(L, "local c = m.wilson_ci(50, 100, 0.95) return c.lower, c.upper, c.center");
    cr_assert_float_eq(num_at(L, 1), 0.40383153036599563, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 0.59616846963400437, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 0.5, 1e-15);
    // No third argument means 95 %.
    vm_run(L, "local c = m.wilson_ci(8, 10) return c.lower, c.upper, c.center");
    cr_assert_float_eq(num_at(L, 1), 0.49016247153664170, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 0.94331784854562475, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 0.71674016004113322, 1e-12);
    // A third argument >= 1 is a z score.
    vm_run(L, "local c = m.wilson_ci(8, 10, 1.96) return c.lower, c.upper, c.center");
    cr_assert_float_eq(num_at(L, 1), 0.49015684672072339, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 0.94331905201930666, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 0.71673794937001503, 1e-12);
    // Zero successes: the lower bound is clamped to exactly 0.
    vm_run(L, "local c = m.wilson_ci(0, 10, 0.95) return c.lower, c.upper");
    cr_assert(num_at(L, 1) == 0.0);
    cr_assert_float_eq(num_at(L, 2), 0.27753279986288925, 1e-12);
    lua_close(L);
}

Test(lib_math, wilson_ci_rejects_impossible_counts) {
    lua_State *L = vm_new();
    expect_error(L, "return m.wilson_ci(0, 0, 0.95)", "alc.math.wilson_ci: total must be > 0");
    expect_error(L, "return m.wilson_ci(11, 10)", "successes must be in [0, total]");
    expect_error(L, "return m.wilson_ci(-1, 10)", "successes must be in [0, total]");
    expect_error(L, "return m.wilson_ci(1, 10, -0.5)", "confidence must be");
    expect_error(L, "return m.wilson_ci(0/0, 10)", "successes must be a finite number");
    lua_close(L);
}

/* ------------------------------------------------------------------ welch_t_test */

Test(lib_math, welch_t_test_reproduces_the_textbook_example) {
    lua_State *L = vm_new();
    // The classic unequal-variance example (15 vs 15 observations).
    vm_run(L, "local r = m.welch_t_test("
              "{27.5,21.0,19.0,23.6,17.0,17.9,16.9,20.1,21.9,22.6,23.1,19.6,19.0,21.7,21.4},"
              "{27.1,22.0,20.8,23.4,23.4,23.5,25.8,22.0,24.8,20.2,21.9,22.1,22.9,20.5,24.4})"
              "return r.t, r.t_stat, r.df, r.p_value");
    cr_assert_float_eq(num_at(L, 1), -2.4553563982860051, 1e-9);
    cr_assert_float_eq(num_at(L, 2), num_at(L, 1), 0);
    cr_assert_float_eq(num_at(L, 3), 24.988529290231414, 1e-9);
    cr_assert_float_eq(num_at(L, 4), 0.021378001462867032, 1e-4);
    cr_assert_float_eq(num_at(L, 4), 0.021378001462867032, 1e-12, "p should be far better than 1e-4");
    lua_close(L);
}

Test(lib_math, welch_t_test_p_values_hold_for_small_fractional_df) {
    lua_State *L = vm_new();
    vm_run(L, "local r = m.welch_t_test({1,2,3,4,5}, {2,4,6,8,10}) return r.t, r.df, r.p_value");
    cr_assert_float_eq(num_at(L, 1), -1.8973665961010276, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 5.8823529411764706, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 0.10753119493062724, 1e-12);
    vm_run(L, "local r = m.welch_t_test({1,2}, {10,12,50}) return r.t, r.df, r.p_value");
    cr_assert_float_eq(num_at(L, 1), -1.7277899135189976, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 2.0059011267020292, 1e-12);
    cr_assert_float_eq(num_at(L, 3), 0.22579972569359744, 1e-12);
    // Swapping the samples flips t and keeps p.
    vm_run(L, "local r = m.welch_t_test({2,4,6,8,10}, {1,2,3,4,5}) return r.t, r.p_value");
    cr_assert_float_eq(num_at(L, 1), 1.8973665961010276, 1e-12);
    cr_assert_float_eq(num_at(L, 2), 0.10753119493062724, 1e-12);
    lua_close(L);
}

Test(lib_math, welch_t_test_with_zero_variance_never_returns_nan) {
    lua_State *L = vm_new();
    vm_run(L, "local r = m.welch_t_test({3, 3, 3}, {3, 3, 3}) return r.t, r.df, r.p_value");
    cr_assert(num_at(L, 1) == 0.0 && num_at(L, 2) == 4.0 && num_at(L, 3) == 1.0);
    vm_run(L, "local r = m.welch_t_test({1, 1}, {2, 2, 2}) return r.t, r.df, r.p_value");
    cr_assert(isinf(num_at(L, 1)) && num_at(L, 1) < 0, "t must be -inf");
    cr_assert(num_at(L, 2) == 3.0 && num_at(L, 3) == 0.0);
    // One constant sample is fine: the other carries the variance.
    vm_run(L, "local r = m.welch_t_test({5, 5, 5}, {1, 2, 3}) return r.t, r.df, r.p_value");
    cr_assert_float_eq(num_at(L, 1), 3.0 / sqrt(1.0 / 3.0), 1e-12);
    cr_assert_float_eq(num_at(L, 2), 2.0, 1e-12);
    cr_assert(num_at(L, 3) > 0.0 && num_at(L, 3) < 0.1);
    // Huge values are scaled, not overflowed.
    vm_run(L, "local r = m.welch_t_test({1e300, 2e300, 3e300}, {-1e300, -2e300}) return r.t, r.p_value");
    cr_assert(isfinite(num_at(L, 1)) && num_at(L, 1) > 0 && num_at(L, 2) == num_at(L, 2));
    expect_error(L, "return m.welch_t_test({1}, {1, 2})", "alc.math.welch_t_test: each sample needs at least 2 values");
    lua_close(L);
}

/* ------------------------------------------------------------------ special functions */

Test(lib_math, special_functions_match_references) {
    lua_State *L = vm_new();
    expect_near(L, "return m.erf(1)", 0.84270079294971487, 1e-15);
    expect_near(L, "return m.erfc(1)", 1.0 - 0.84270079294971487, 1e-15);
    expect_near(L, "return m.beta(2, 3)", 1.0 / 12.0, 1e-15);
    expect_near(L, "return m.ln_beta(0.5, 2.5)", 0.16390063283767394, 1e-13);
    expect_near(L, "return m.regularized_incomplete_beta(0.5, 2, 3)", 11.0 / 16.0, 1e-14);
    expect_near(L, "return m.regularized_incomplete_beta(0.9, 30, 0.5)", 0.01228244849985275, 1e-13);
    expect_near(L, "return m.regularized_incomplete_beta(0.001, 0.3, 0.7)", 0.10807284733274037, 1e-13);
    expect_near(L, "return m.normal_cdf(0)", 0.5, 0);
    expect_near(L, "return m.normal_cdf(1.96)", 0.97500210485177956, 1e-15);
    expect_near(L, "return m.normal_cdf(12, 10, 2)", 0.84134474606854293, 1e-15);
    expect_near(L, "return m.normal_ppf(0.975)", 1.9599639845400542, 1e-13);
    expect_near(L, "return m.normal_ppf(0.2)", -0.84162123357291421, 1e-13);
    expect_near(L, "return m.normal_ppf(1e-10)", -6.3613409024040562, 1e-11);
    expect_near(L, "return m.normal_ppf(0.5)", 0.0, 0);
    vm_run(L, "return m.normal_ppf(0), m.normal_ppf(1)");
    cr_assert(isinf(num_at(L, 1)) && num_at(L, 1) < 0 && isinf(num_at(L, 2)) && num_at(L, 2) > 0);
    expect_near(L, "return m.expit(0)", 0.5, 0);
    expect_near(L, "return m.logit(0.5)", 0.0, 0);
    expect_near(L, "return m.expit(m.logit(0.2))", 0.2, 1e-15);
    expect_near(L, "return m.expit(-800)", 0.0, 1e-300);
    lua_close(L);
}

Test(lib_math, lgamma_agrees_with_libm_over_its_domain) {
    static const double xs[] = {1e-10, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.7, 10.0, 14.99, 15.0,
                                25.3, 171.5, 1e5, 1e200, -0.5, -2.5, -10.3, -1e-8,
                                -0.99999999, -1.00000001, -2.9999999999, -1234.5678};
    lua_State *L = vm_new();
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        lua_settop(L, 0);
        lua_getglobal(L, "m");
        lua_getfield(L, -1, "lgamma");
        lua_pushnumber(L, xs[i]);
        cr_assert_eq(lua_pcall(L, 1, 1, 0), LUA_OK);
        double got = (double)lua_tonumber(L, -1), want = lgamma(xs[i]); // single-threaded test
        cr_assert(fabs(got - want) <= 1e-13 + 1e-13 * fabs(want), "lgamma(%g) = %.17g, want %.17g", xs[i], got, want);
    }
    vm_run(L, "return m.lgamma(0), m.lgamma(-3)");
    cr_assert(isinf(num_at(L, 1)) && num_at(L, 1) > 0 && isinf(num_at(L, 2)));
    lua_close(L);
}

/* ------------------------------------------------------------------ RNG */

Test(lib_math, rng_is_deterministic_for_a_seed) {
    lua_State *L = vm_new();
    // Pinned against an independent implementation of splitmix64 + xoshiro256**.
    vm_run(L, "local r = m.rng_create(42) return m.rng_float(r), m.rng_float(r), m.rng_float(r)");
    cr_assert_eq(num_at(L, 1), 0.083862971059882163);
    cr_assert_eq(num_at(L, 2), 0.37898025066266861);
    cr_assert_eq(num_at(L, 3), 0.68004341102813937);
    vm_run(L, "local r = m.rng_create(-1) return m.rng_float(r)");
    cr_assert_eq(num_at(L, 1), 0.55989270405052116);
    vm_run(L, "local a, b, c = m.rng_create(7), m.rng_create(7), m.rng_create(8) "
              "local same, differ = true, false "
              "for i = 1, 100 do local x, y, z = m.rng_int(a, 1, 1000), m.rng_int(b, 1, 1000), m.rng_int(c, 1, 1000) "
              "  same = same and x == y; differ = differ or x ~= z end "
              "return same, differ, tostring(a)");
    cr_assert(lua_toboolean(L, 1), "equal seeds must give equal sequences");
    cr_assert(lua_toboolean(L, 2), "different seeds should give different sequences");
    cr_assert(strstr(lua_tostring(L, 3), "alc.math.rng") != NULL);
    lua_close(L);
}

Test(lib_math, rng_float_and_rng_int_stay_in_range_without_bias) {
    lua_State *L = vm_new();
    vm_run(L, "local r = m.rng_create(1) local lo, hi = 1, 0 "
              "for i = 1, 10000 do local x = m.rng_float(r) lo = math.min(lo, x) hi = math.max(hi, x) end "
              "return lo >= 0, hi < 1, lo < 0.01, hi > 0.99");
    for (int i = 1; i <= 4; i++) cr_assert(lua_toboolean(L, i), "rng_float range check %d", i);
    vm_run(L, "local r = m.rng_create(2) local c = {0, 0, 0, 0, 0, 0} local bad = 0 "
              "for i = 1, 6000 do local x = m.rng_int(r, 1, 6) "
              "  if math.type(x) ~= 'integer' or x < 1 or x > 6 then bad = bad + 1 else c[x] = c[x] + 1 end end "
              "return bad, math.min(table.unpack(c)), math.max(table.unpack(c))");
    cr_assert_eq(lua_tointeger(L, 1), 0, "rng_int left [1, 6]");
    cr_assert(lua_tointeger(L, 2) > 850 && lua_tointeger(L, 3) < 1150, "die faces %lld..%lld",
              (long long)lua_tointeger(L, 2), (long long)lua_tointeger(L, 3));
    // A span of 3 * 2^62 outcomes: plain modulo reduction would put half of the draws in the
    // lowest third; rejection sampling keeps it at one third.
    vm_run(L, "local r = m.rng_create(4) local low = 0 "
              "for i = 1, 6000 do if m.rng_int(r, math.mininteger, (1 << 62) - 1) < -(1 << 62) then low = low + 1 end end "
              "return low / 6000");
    cr_assert_float_eq(num_at(L, 1), 1.0 / 3.0, 0.025);
    vm_run(L, "local r = m.rng_create(3) "
              "local a = m.rng_int(r, 7, 7) local b = m.rng_int(r, math.mininteger, math.maxinteger) "
              "local c = m.rng_int(r, -3, -1) local d = m.rng_int(r, 1.0, 2.0) "
              "return a, math.type(b), c >= -3 and c <= -1, d == 1 or d == 2");
    cr_assert_eq(lua_tointeger(L, 1), 7);
    cr_assert_str_eq(lua_tostring(L, 2), "integer");
    cr_assert(lua_toboolean(L, 3) && lua_toboolean(L, 4));
    lua_close(L);
}

Test(lib_math, rng_functions_reject_bad_arguments) {
    lua_State *L = vm_new();
    expect_error(L, "return m.rng_int(m.rng_create(1), 5, 1)", "alc.math.rng_int: min (5) must be <= max (1)");
    expect_error(L, "return m.rng_int(m.rng_create(1), 1.5, 3)", "number has no integer representation");
    expect_error(L, "return m.rng_create('seed')", "bad argument #1");
    expect_error(L, "return m.rng_create(1.5)", "number has no integer representation");
    expect_error(L, "return m.rng_float({})", "alc.math.rng expected");
    expect_error(L, "return m.normal_sample(nil, 0, 1)", "alc.math.rng expected");
    lua_close(L);
}

/* ------------------------------------------------------------------ samplers */

/* Runs a sampler 20,000 times from a fixed seed; leaves mean, variance, min, max. */
static void sample_stats(lua_State *L, const char *draw) {
    char code[512];
    snprintf(code, sizeof code,
             "local rng = m.rng_create(20240601) local xs = {} "
             "for i = 1, 20000 do xs[i] = %s end "
             "return m.mean(xs), m.variance(xs), math.min(table.unpack(xs, 1, 5000)), "
             "math.max(table.unpack(xs, 1, 5000))",
             draw);
    vm_run(L, code);
}

Test(lib_math, sampler_means_and_variances_match_their_distributions) {
    lua_State *L = vm_new();
    sample_stats(L, "m.normal_sample(rng, 5, 2)");
    cr_assert_float_eq(num_at(L, 1), 5.0, 0.1);
    cr_assert_float_eq(num_at(L, 2), 4.0, 0.25);
    sample_stats(L, "m.normal(rng, -1, 0.5)");
    cr_assert_float_eq(num_at(L, 1), -1.0, 0.03);
    sample_stats(L, "m.gamma_sample(rng, 2.5, 2)"); // mean 5, variance 10
    cr_assert_float_eq(num_at(L, 1), 5.0, 0.15);
    cr_assert_float_eq(num_at(L, 2), 10.0, 0.8);
    cr_assert(num_at(L, 3) >= 0.0);
    sample_stats(L, "m.gamma(rng, 0.5, 1)"); // shape < 1 path: mean 0.5, variance 0.5
    cr_assert_float_eq(num_at(L, 1), 0.5, 0.03);
    cr_assert_float_eq(num_at(L, 2), 0.5, 0.06);
    sample_stats(L, "m.beta(rng, 2, 5)"); // mean 2/7, variance 10/392
    cr_assert_float_eq(num_at(L, 1), 2.0 / 7.0, 0.01);
    cr_assert_float_eq(num_at(L, 2), 10.0 / 392.0, 0.002);
    cr_assert(num_at(L, 3) >= 0.0 && num_at(L, 4) <= 1.0);
    sample_stats(L, "m.beta_sample(rng, 0.3, 0.3)"); // U-shaped, mean 0.5
    cr_assert_float_eq(num_at(L, 1), 0.5, 0.02);
    sample_stats(L, "m.exponential(rng, 4)"); // mean 0.25, variance 1/16
    cr_assert_float_eq(num_at(L, 1), 0.25, 0.015);
    cr_assert_float_eq(num_at(L, 2), 0.0625, 0.008);
    cr_assert(num_at(L, 3) >= 0.0);
    sample_stats(L, "m.uniform(rng, -3, 5)"); // mean 1, variance 64/12
    cr_assert_float_eq(num_at(L, 1), 1.0, 0.1);
    cr_assert_float_eq(num_at(L, 2), 64.0 / 12.0, 0.3);
    cr_assert(num_at(L, 3) >= -3.0 && num_at(L, 4) < 5.0);
    sample_stats(L, "m.chi_squared_sample(rng, 3)"); // mean 3, variance 6
    cr_assert_float_eq(num_at(L, 1), 3.0, 0.12);
    sample_stats(L, "m.student_t_sample(rng, 10)"); // mean 0, variance 10/8
    cr_assert_float_eq(num_at(L, 1), 0.0, 0.05);
    cr_assert_float_eq(num_at(L, 2), 1.25, 0.15);
    sample_stats(L, "math.log(m.lognormal_sample(rng, 1, 0.5))");
    cr_assert_float_eq(num_at(L, 1), 1.0, 0.03);
    lua_close(L);
}

Test(lib_math, categorical_returns_one_based_indices_in_proportion_to_weights) {
    lua_State *L = vm_new();
    vm_run(L, "local r = m.rng_create(5) local c = {0, 0, 0, 0} "
              "for i = 1, 20000 do local k = m.categorical(r, {1, 0, 2, 7}) c[k] = c[k] + 1 end "
              "return c[1] / 20000, c[2], c[3] / 20000, c[4] / 20000");
    cr_assert_float_eq(num_at(L, 1), 0.1, 0.01);
    cr_assert_eq(lua_tointeger(L, 2), 0, "a zero weight must never be drawn");
    cr_assert_float_eq(num_at(L, 3), 0.2, 0.015);
    cr_assert_float_eq(num_at(L, 4), 0.7, 0.015);
    vm_run(L, "return m.categorical_sample(m.rng_create(1), {0, 0, 3})");
    cr_assert_eq(lua_tointeger(L, 1), 3);
    vm_run(L, "local d = m.dirichlet_sample(m.rng_create(9), {1, 2, 3}) return #d, d[1] + d[2] + d[3]");
    cr_assert_eq(lua_tointeger(L, 1), 3);
    cr_assert_float_eq(num_at(L, 2), 1.0, 1e-12);
    lua_close(L);
}

Test(lib_math, short_sampler_names_are_the_same_functions) {
    lua_State *L = vm_new();
    vm_run(L, "return m.normal == m.normal_sample, m.gamma == m.gamma_sample, m.uniform == m.uniform_sample, "
              "m.exponential == m.exp_sample, m.categorical == m.categorical_sample, "
              "m.beta(m.rng_create(3), 2, 2) == m.beta_sample(m.rng_create(3), 2, 2)");
    for (int i = 1; i <= 6; i++) cr_assert(lua_toboolean(L, i), "alias check %d", i);
    lua_close(L);
}

Test(lib_math, samplers_reject_invalid_parameters) {
    lua_State *L = vm_new();
    vm_run(L, "r = m.rng_create(1)");
    expect_error(L, "return m.normal_sample(r, 0/0, 1)", "alc.math.normal_sample: mean must be a finite number");
    expect_error(L, "return m.normal_sample(r, 0, -1)", "stddev must be >= 0");
    expect_error(L, "return m.gamma_sample(r, 0, 1)", "alc.math.gamma_sample: shape must be > 0");
    expect_error(L, "return m.gamma_sample(r, 1, math.huge)", "scale must be a finite number");
    expect_error(L, "return m.beta(r, 1, -2)", "beta must be > 0");
    expect_error(L, "return m.beta(0, 1)", "alc.math.beta: a must be > 0");
    expect_error(L, "return m.exp_sample(r, 0)", "rate must be > 0");
    expect_error(L, "return m.uniform(r, 1, 1)", "low must be < high");
    expect_error(L, "return m.categorical(r, {0, 0})", "weights must not all be zero");
    expect_error(L, "return m.categorical(r, {1, -1})", "weight 2 is negative");
    expect_error(L, "return m.categorical(r, {})", "alc.math.categorical_sample: empty array");
    expect_error(L, "return m.dirichlet_sample(r, {1})", "need at least 2 alpha values");
    lua_close(L);
}

/* ------------------------------------------------------------------ array errors */

Test(lib_math, array_functions_reject_empty_non_numeric_and_non_finite_input) {
    lua_State *L = vm_new();
    expect_error(L, "return m.mean({})", "alc.math.mean: empty array");
    expect_error(L, "return m.median({})", "alc.math.median: empty array");
    expect_error(L, "return m.mean({1, 'x'})", "alc.math.mean: element 2 is a string, expected a number");
    expect_error(L, "return m.variance({1, 0/0})", "alc.math.variance: element 2 is NaN or infinite");
    expect_error(L, "return m.stddev({math.huge})", "element 1 is NaN or infinite");
    expect_error(L, "return m.softmax({-math.huge, 1})", "alc.math.softmax: element 1 is NaN or infinite");
    expect_error(L, "return m.softmax({1, 2}, 0)", "temperature must be > 0");
    expect_error(L, "return m.mean(nil)", "bad argument #1");
    expect_error(L, "return m.percentile({1, 2}, 101)", "alc.math.percentile: p must be in [0, 100]");
    expect_error(L, "return m.percentile({1, 2}, 0/0)", "p must be in [0, 100]");
    expect_error(L, "return m.log_normalize({-1, 0})", "all values must be positive");
    expect_error(L, "return m.logsumexp({})", "alc.math.logsumexp: empty array");
    expect_error(L, "return m.lgamma(0/0)", "alc.math.lgamma: x must be a finite number");
    expect_error(L, "return m.normal_ppf(1.5)", "p must be in [0, 1]");
    expect_error(L, "return m.regularized_incomplete_beta(2, 1, 1)", "x must be in [0, 1]");
    // Error messages carry the caller's position like luaL_error.
    expect_error(L, "return m.mean({})", "]:1: alc.math.mean");
    lua_close(L);
}

Test(lib_math, math_library_frees_everything_with_the_state) {
    lua_State *L = vm_new();
    vm_run(L, "local r = m.rng_create(1) for i = 1, 200 do "
              "  local xs = {} for j = 1, 50 do xs[j] = m.rng_float(r) end "
              "  m.median(xs) m.softmax(xs) m.welch_t_test(xs, {1, 2, 3}) m.dirichlet_sample(r, {1, 1}) "
              "  pcall(m.mean, {1, 'x'}) "
              "end");
    lua_close(L);
    ALC_ASSERT_NO_LEAKS();
}
