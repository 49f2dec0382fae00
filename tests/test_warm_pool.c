/* Unit tests for the pool of prepared Lua states (include/alc/warm_pool.h). */
#include "alc/warm_pool.h"

#include "alc/config.h"
#include "alc/error.h"
#include "alc/thread.h"
#include "helpers.h"

#include <lauxlib.h>
#include <lualib.h>

static alc_config g_cfg;
static char *g_home;

static void setup(void) {
    g_home = alc_test_tmpdir();
    setenv("ALC_HOME", g_home, 1);
    unsetenv("ALC_WARM_STATES");
    unsetenv("ALC_SANDBOX");
    char err[256];
    cr_assert_eq(alc_config_load(&g_cfg, err, sizeof err), ALC_OK, "%s", err);
}

static void teardown(void) {
    alc_config_deinit(&g_cfg);
    alc_test_rmtree(g_home);
    free(g_home);
}

TestSuite(warm_pool, .init = setup, .fini = teardown, .timeout = 30);

/* Takes a state, waiting up to 5 s for the builder, ticking the pool as the registry's
 * housekeeping thread does (more often: every 10 ms). */
static lua_State *take_waiting(alc_warm_pool *p, alc_lua_mem *mem) {
    for (int i = 0; i < 500; i++) {
        lua_State *L = alc_warm_pool_take(p, mem);
        if (L) return L;
        alc_sleep_ms(10);
        alc_warm_pool_tick(p);
    }
    return NULL;
}

static const alc_lua_host NO_HOST = {0};

/* Runs code (a chunk returning one string) on L and returns a copy of the result. */
static char *run(lua_State *L, const char *code) {
    cr_assert_eq(luaL_loadstring(L, code), LUA_OK, "%s", lua_tostring(L, -1));
    int st = lua_pcall(L, 0, 1, 0);
    cr_assert_eq(st, LUA_OK, "%s", lua_tostring(L, -1));
    char *out = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
    lua_pop(L, 1);
    return out;
}

/* The names of the globals and of alc's fields, sorted: what a script can see of its state. */
static const char *SURFACE =
    "local t = {}\n"
    "for k, v in pairs(_G) do t[#t + 1] = 'G.' .. tostring(k) .. ':' .. type(v) end\n"
    "for k, v in pairs(alc) do t[#t + 1] = 'alc.' .. tostring(k) .. ':' .. type(v) end\n"
    "for k, v in pairs(string) do t[#t + 1] = 'string.' .. tostring(k) end\n"
    "table.sort(t)\n"
    "return table.concat(t, ' ')";

Test(warm_pool, a_pooled_state_looks_exactly_like_a_freshly_built_one) {
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 2);
    cr_assert_not_null(p);
    cJSON *ctx = cJSON_Parse("{\"task\":\"t\"}");
    alc_lua_env env = {.cfg = &g_cfg, .ctx = ctx};
    char err[256];

    alc_lua_mem pooled_mem = {.limit = g_cfg.max_memory};
    lua_State *pooled = take_waiting(p, &pooled_mem);
    cr_assert_not_null(pooled, "the builder prepared a state");
    cr_assert_gt(pooled_mem.used, 10000, "the taker's budget accounts for the prepared heap");
    cr_assert_eq(alc_lua_setup_session(pooled, &NO_HOST, &env, err, sizeof err), ALC_OK, "%s", err);

    alc_lua_mem fresh_mem = {.limit = g_cfg.max_memory};
    lua_State *fresh = NULL;
    cr_assert_eq(alc_warm_pool_prepare(NULL, &fresh_mem, &NO_HOST, &env, &fresh, err, sizeof err), ALC_OK, "%s", err);

    char *a = run(pooled, SURFACE), *b = run(fresh, SURFACE);
    cr_assert_str_eq(a, b, "the same globals and alc fields either way");
    cr_assert_not_null(strstr(a, "alc.map:function"));
    free(a);
    free(b);

    char *r = run(pooled, "return ctx.task .. '/' .. table.concat(alc.map({1, 2}, function(x) return x * 2 end), ',')");
    cr_assert_str_eq(r, "t/2,4", "ctx and the prelude work in a pooled state");
    free(r);
    /* the budget follows the state: the taker's counter moves with its allocations */
    free(run(pooled, "big = string.rep('x', 100000) return 'ok'"));
    cr_assert_gt(pooled_mem.used, 100000);
    lua_gc(pooled, LUA_GCSTOP);
    size_t lua_count = (size_t)lua_gc(pooled, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(pooled, LUA_GCCOUNTB);
    cr_assert_eq(pooled_mem.used, lua_count, "the budget counts exactly the bytes Lua counts (%zu vs %zu)",
                 pooled_mem.used, lua_count);
    lua_close(pooled);
    cr_assert_eq(pooled_mem.used, 0, "every byte is returned to the taker's budget");
    lua_close(fresh);
    cJSON_Delete(ctx);
    alc_warm_pool_free(p);
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, the_tick_refills_only_after_a_quiet_moment) {
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 1);
    alc_lua_mem m = {.limit = g_cfg.max_memory};
    lua_State *L = take_waiting(p, &m); /* filled at start */
    cr_assert_not_null(L);
    lua_close(L);
    alc_warm_pool_tick(p); /* right after a take: too soon */
    alc_sleep_ms(200);
    cr_assert_eq(alc_warm_pool_ready(p), 0, "no build while alc_run calls may be coming in");
    alc_warm_pool_tick(p); /* 200 ms later: quiet */
    for (int i = 0; i < 500 && alc_warm_pool_ready(p) == 0; i++) alc_sleep_ms(10);
    cr_assert_eq(alc_warm_pool_ready(p), 1);
    alc_warm_pool_tick(NULL);
    alc_warm_pool_free(p);
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, a_state_is_handed_out_once_and_the_pool_refills) {
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 2);
    alc_lua_mem m1 = {.limit = g_cfg.max_memory}, m2 = m1, m3 = m1;
    lua_State *a = take_waiting(p, &m1), *b = take_waiting(p, &m2), *c = take_waiting(p, &m3);
    cr_assert(a && b && c, "the builder keeps refilling");
    cr_assert(a != b && b != c && a != c, "no state is handed out twice");
    lua_close(a);
    lua_close(b);
    lua_close(c);
    alc_warm_pool_free(p);
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, a_budget_smaller_than_a_prepared_heap_is_not_served_from_the_pool) {
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 1);
    alc_lua_mem probe = {.limit = g_cfg.max_memory};
    lua_State *L = take_waiting(p, &probe); /* wait until the builder works, then give it back */
    cr_assert_not_null(L);
    lua_close(L);
    alc_lua_mem tiny = {.limit = 4096};
    for (int i = 0; i < 200 && !(L = alc_warm_pool_take(p, &tiny)); i++) alc_sleep_ms(10); /* a ready state is refused */
    cr_assert_null(L, "a 4 KiB budget cannot take a ~30 KiB prepared state");
    char err[256];
    alc_lua_env env = {.cfg = &g_cfg};
    lua_State *out = (lua_State *)1;
    int rc = alc_warm_pool_prepare(p, &tiny, &NO_HOST, &env, &out, err, sizeof err);
    cr_assert_neq(rc, ALC_OK);
    cr_assert_null(out);
    cr_assert(strstr(err, "memory"), "the failure names memory: %s", err);
    alc_warm_pool_free(p);
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, refill_tops_up_on_the_calling_thread_but_never_past_capacity) {
    /* refill works whether or not the builder got there first */
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 2);
    for (int i = 0; i < 5; i++) alc_warm_pool_refill(p);
    for (int i = 0; i < 500 && alc_warm_pool_ready(p) < 2; i++) alc_sleep_ms(10);
    cr_assert_eq(alc_warm_pool_ready(p), 2);
    alc_sleep_ms(50);
    alc_warm_pool_refill(p);
    cr_assert_eq(alc_warm_pool_ready(p), 2, "never more than the capacity");
    alc_lua_mem m = {.limit = g_cfg.max_memory};
    lua_State *L = alc_warm_pool_take(p, &m);
    cr_assert_not_null(L);
    alc_warm_pool_refill(p); /* builds here */
    cr_assert_eq(alc_warm_pool_ready(p), 2, "topped up on this thread");
    lua_close(L);
    alc_warm_pool_refill(NULL); /* no pool: nothing to do */
    cr_assert_eq(alc_warm_pool_ready(NULL), 0);
    alc_warm_pool_free(p);
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, no_pool_for_capacity_zero_or_the_strict_sandbox) {
    cr_assert_null(alc_warm_pool_new(&g_cfg, 0));
    alc_sandbox_mode saved = g_cfg.sandbox;
    g_cfg.sandbox = ALC_SANDBOX_STRICT;
    cr_assert_null(alc_warm_pool_new(&g_cfg, 2), "strict states need the session's roots");
    char err[128];
    lua_State *L = luaL_newstate();
    cr_assert_eq(alc_lua_setup_base(L, &g_cfg, err, sizeof err), ALC_E_INVAL);
    lua_close(L);
    g_cfg.sandbox = saved;
    alc_lua_mem m = {.limit = g_cfg.max_memory};
    cr_assert_null(alc_warm_pool_take(NULL, &m));
    alc_warm_pool_free(NULL);
}

Test(warm_pool, free_closes_the_states_nobody_took) {
    alc_warm_pool *p = alc_warm_pool_new(&g_cfg, 4);
    for (int i = 0; i < 4; i++) alc_warm_pool_refill(p);
    alc_warm_pool_free(p); /* LeakSanitizer sees any state left behind */
    ALC_ASSERT_NO_LEAKS();
}

Test(warm_pool, alc_warm_states_is_read_and_checked) {
    char err[256];
    alc_config c;
    cr_assert_eq(g_cfg.warm_states, 2, "default");
    setenv("ALC_WARM_STATES", "0", 1);
    cr_assert_eq(alc_config_load(&c, err, sizeof err), ALC_OK, "%s", err);
    cr_assert_eq(c.warm_states, 0);
    alc_config_deinit(&c);
    const char *bad[] = {"-1", "65", "two", "3x", NULL};
    for (int i = 0; bad[i]; i++) {
        setenv("ALC_WARM_STATES", bad[i], 1);
        cr_assert_eq(alc_config_load(&c, err, sizeof err), ALC_E_INVAL, "%s is refused", bad[i]);
        cr_assert(strstr(err, "ALC_WARM_STATES"), "the message names the variable: %s", err);
    }
    unsetenv("ALC_WARM_STATES");
}
