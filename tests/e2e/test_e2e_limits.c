/*
 * test_e2e_limits.c — runaway scripts against the real binary ($ALC_BIN): memory bombs, infinite
 * loops, infinite and C-stack-deep recursion (up to Lua's 200-level C-call guard), a million
 * tiny tables, 10,000 pending batch queries, forks that bomb, loop or nest, and the session
 * count limit. Each must end as a clear failure of that session only (a paused bystander
 * session is answered afterwards and completes), within the configured limits, and the server
 * must stay healthy for the next call (rel_alive).
 *
 * Threads: Criterion runs each test in its own process; only the test thread talks to a server.
 */
#include "rel_util.h"

TestSuite(e2e_limits, .fini = rel_teardown, .timeout = 240);

/* A session paused at alc.llm that must still complete at the end of a test. */
static void bystander_start(rel_srv *s, char *sid) {
    cJSON *p = rel_run(s, "local a = alc.llm('bystander') return 'bystander:' .. a", NULL);
    cr_assert_str_eq(rel_status(p), "needs_response");
    rel_sid(p, sid);
    cJSON_Delete(p);
}

static void bystander_finish(rel_srv *s, const char *sid) {
    cJSON *r = rel_ok_json(rel_call_fmt(s, "alc_continue", "{\"session_id\":\"%s\",\"response\":\"fine\"}", sid));
    cr_assert_str_eq(rel_status(r), "completed", "the bystander session was affected");
    cr_assert_str_eq(rel_str(r, "result"), "bystander:fine");
    cJSON_Delete(r);
}

/* Writes <home>/packages/<name>/init.lua. */
static void add_package(const char *home, const char *name, const char *source) {
    char *dir = rel_fmt("%s/packages/%s", home, name);
    rel_mkdirs(dir);
    char *file = rel_fmt("%s/init.lua", dir);
    rel_write_file(file, source);
    free(file);
    free(dir);
}

/* Session id of the only running session (waits up to 5 s for it to show). */
static void running_sid(rel_srv *s, char *sid) {
    long long deadline = rel_now_ms() + 5000;
    for (;;) {
        cJSON *l = rel_ok_json(rel_call_json(s, "alc_status", "{}"));
        bool found = false;
        for (const cJSON *e = rel_get(l, "sessions")->child; e && !found; e = e->next)
            if (strcmp(rel_str(e, "state"), "running") == 0) {
                strcpy(sid, rel_str(e, "session_id"));
                found = true;
            }
        cJSON_Delete(l);
        if (found) return;
        cr_assert_lt(rel_now_ms(), deadline, "no running session");
        rel_sleep_ms(20);
    }
}

/* ------------------------------------------------------------------ memory */

Test(e2e_limits, memory_bombs_fail_with_kind_memory_and_only_that_session) {
    const char *env[] = {"ALC_MAX_MEMORY=32M", NULL};
    rel_srv *s = rel_start(env);
    char by[64];
    bystander_start(s, by);
    static const char *const bombs[] = {
        "local s = 'x' while true do s = s .. s end",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local t = {} for i = 1, 1e9 do t[#t + 1] = tostring(i) .. string.rep('y', 100) end",
        "local parts = {} for i = 1, 1e7 do parts[i] = 'abcdefghij' end return #table.concat(parts)",
        "local s = string.rep('a', 1e6) while true do s = s:gsub('a', 'aa') end",
        "local t = {} for i = 1, 1e6 do t[i] = {i, i} end return #alc.json_encode(t)",
        "local s = string.rep('x', 2^40)",
    };
    int ids[sizeof bombs / sizeof *bombs];
    long long t0 = rel_now_ms();
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) ids[i] = rel_send_run(s, bombs[i], NULL);
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) {
        cJSON *r = rel_ok_json(rel_wait_within(s, ids[i], 120000));
        const char *kind = rel_str(r, "kind");
        cr_assert(kind && (strcmp(kind, "memory") == 0 || (strcmp(kind, "lua_error") == 0 && rel_contains_ci(rel_str(r, "error"), "too large"))),
                  "bomb %zu must fail with kind memory: %.300s", i, rel_str(r, "error"));
        cJSON_Delete(r);
    }
    long long ms = rel_now_ms() - t0;
    long hwm = rel_proc_status_field(s, "VmHWM");
    fprintf(stderr, "7 concurrent memory bombs (32 MiB each): failed in %lld ms, server peak RSS %ld kB\n", ms, hwm);
    if (!rel_sanitized(s))
        cr_assert_lt(hwm, 7 * 32 * 1024 * 3 / 2 + 64 * 1024, "peak RSS %ld kB is beyond the per-session limits", hwm);
    // memory errors caught in a loop do not accumulate
    cJSON *r = rel_run_within(s, "local n = 0 for i = 1, 30 do if not pcall(string.rep, 'x', 64 * 1024 * 1024) then n = n + 1 end end return n",
                              NULL, 120000);
    cr_assert_str_eq(rel_status(r), "completed");
    cr_assert_eq(rel_get(r, "result")->valuedouble, 30, "each oversized allocation fails and is caught");
    cJSON_Delete(r);
    bystander_finish(s, by);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_limits, a_million_tiny_tables_fit_the_default_limit_and_fail_cleanly_under_a_small_one) {
    rel_srv *s = rel_start(NULL);
    cJSON *r = rel_run_within(s, "local t = {} for i = 1, 1e6 do t[i] = {} end return #t", NULL, 120000);
    cr_assert_str_eq(rel_status(r), "completed");
    cr_assert_eq(rel_get(r, "result")->valuedouble, 1e6);
    cJSON_Delete(r);
    r = rel_run_within(s, "for i = 1, 1e7 do local t = {i} end return 'garbage collected'", NULL, 120000);
    cr_assert_str_eq(rel_status(r), "completed", "short-lived tables are collected");
    cJSON_Delete(r);
    rel_finish(s);
    const char *env[] = {"ALC_MAX_MEMORY=16M", NULL};
    s = rel_start(env);
    char by[64];
    bystander_start(s, by);
    r = rel_run_within(s, "local t = {} for i = 1, 1e6 do t[i] = {} end return #t", NULL, 120000);
    rel_expect_failed(r, "memory", "ALC_MAX_MEMORY", "a million tables under 16 MiB");
    cJSON_Delete(r);
    bystander_finish(s, by);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ time */

Test(e2e_limits, infinite_loops_are_stopped_by_cancel_and_nothing_else_waits_for_them) {
    rel_srv *s = rel_start(NULL);
    char by[64];
    bystander_start(s, by);
    static const char *const loops[] = {
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end",
        "local t = setmetatable({}, {__index = function(t, k) return k end}) local i = 0 while true do i = t[i] end",
    };
    for (size_t i = 0; i < sizeof loops / sizeof *loops; i++) {
        int id = rel_send_run(s, loops[i], NULL);
        char sid[64];
        running_sid(s, sid);
        // the server answers other calls while the loop spins
        long long t0 = rel_now_ms();
        cJSON_Delete(rel_ok_json(rel_call_json(s, "alc_info", "{}")));
        cr_assert_lt(rel_now_ms() - t0, 2000, "alc_info waited for a busy loop");
        t0 = rel_now_ms();
        cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", sid)));
        cJSON *r = rel_ok_json(rel_wait_within(s, id, 5000));
        cr_assert_str_eq(rel_status(r), "cancelled", "loop %zu", i);
        cr_assert_lt(rel_now_ms() - t0, 2000, "loop %zu took %lld ms to stop", i, rel_now_ms() - t0);
        cJSON_Delete(r);
    }
    bystander_finish(s, by);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_limits, a_busy_loop_ends_within_its_elapsed_time_budget) {
    // ctx.budget.max_elapsed_ms is the configured time limit of a session; a script that never
    // calls alc.llm again must not outlive it by much.
    rel_srv *s = rel_start(NULL);
    long long t0 = rel_now_ms();
    int id = rel_send_run(s, "while true do end", "{\"budget\":{\"max_elapsed_ms\":300}}");
    long long deadline = t0 + 5000;
    const cJSON *m = NULL;
    while (!(m = rel_find(s, id)) && rel_now_ms() < deadline) rel_pump(s, 100);
    if (!m) {
        char sid[64];
        running_sid(s, sid);
        cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", sid)));
        cr_assert_fail("a busy loop with max_elapsed_ms = 300 was still running after 5 s");
    }
    cJSON *r = rel_ok_json(m);
    const char *st = rel_status(r);
    cr_assert(strcmp(st, "error") == 0 || strcmp(st, "cancelled") == 0, "ends as a failure: %s", st);
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ recursion and the C stack */

static const char *const deep[] = {
    "local function f(n) return 1 + f(n + 1) end return f(1)",
    "local t = setmetatable({}, {}) getmetatable(t).__index = function(_, k) return t[k + 1] end return t[1]",
    "local mt = {} mt.__tostring = function(v) return tostring(setmetatable({}, mt)) end return tostring(setmetatable({}, mt))",
    "local mt = {} mt.__concat = function(a, b) return setmetatable({}, mt) .. 'x' end return setmetatable({}, mt) .. 'x'",
    "local function f() return coroutine.wrap(f)() end return f()",
    "local function f() local t = {2, 1} table.sort(t, function(a, b) f() return a < b end) end return f()",
    "local function f(s) return (s:gsub('.', f)) end return f('ab')",
    "local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end return f()",
    "local function f() return select(2, xpcall(f, function(m) return m end)) end local r = f() error(r)",
    "return load('return ' .. string.rep('(', 1e5) .. '1' .. string.rep(')', 1e5))()",
    "return assert(load('return ' .. string.rep('{', 1e5) .. string.rep('}', 1e5)))()",
    "local s = 'return ' .. string.rep('not ', 1e5) .. 'nil' return assert(load(s))()",
    "return alc.json_decode(string.rep('[', 1e5) .. string.rep(']', 1e5))",
    "local t = {} local c = t for i = 1, 1e5 do c[1] = {} c = c[1] end return alc.json_encode(t)",
    "local function f(s) return (s:gsub('.', function(c) return coroutine.wrap(function() return f(c .. c) end)() end)) end return f('a')",
    "return require('selfreq')",
    "return string.rep('x', 1e5):gsub('(x)', function(c) return alc.json_encode({c}) end):len()",
};

Test(e2e_limits, infinite_and_c_stack_deep_recursion_fails_as_a_lua_error_never_a_crash) {
    char *home = alc_test_tmpdir();
    add_package(home, "selfreq", "return require('selfreq')\n");
    rel_srv *s = rel_start_home(home, NULL, true);
    char by[64];
    bystander_start(s, by);
    size_t n = sizeof deep / sizeof *deep;
    int ids[sizeof deep / sizeof *deep];
    for (size_t i = 0; i < n; i++) ids[i] = rel_send_run(s, deep[i], NULL);
    for (size_t i = 0; i < n; i++) {
        cJSON *r = rel_ok_json(rel_wait_within(s, ids[i], 120000));
        const char *st = rel_status(r);
        // the last case is merely heavy, not deep: it may complete
        if (i == n - 1 && strcmp(st, "completed") == 0) {
            cJSON_Delete(r);
            continue;
        }
        rel_expect_failed(r, NULL, NULL, deep[i]);
        cJSON_Delete(r);
    }
    bystander_finish(s, by);
    rel_alive(s);
    rel_finish(s);
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_limits, json_extract_of_a_hostile_one_megabyte_answer_finishes_quickly) {
    // An LLM answer is untrusted input. alc.json_extract documents that its scan is linear, so a
    // 1 MB answer of nested brackets must not keep the session busy for minutes.
    rel_srv *s = rel_start(NULL);
    int id = rel_send_run(s, "local s = string.rep('[1,', 250000) .. 'x' .. string.rep(']', 250000) local t = alc.time()\n"
                             "local r = alc.json_extract(s) return {r == nil, alc.time() - t}", NULL);
    long long deadline = rel_now_ms() + 20000;
    const cJSON *m = NULL;
    while (!(m = rel_find(s, id)) && rel_now_ms() < deadline) rel_pump(s, 200);
    if (!m) {
        char sid[64];
        running_sid(s, sid);
        cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", sid)));
        cr_assert_fail("alc.json_extract of a 1 MB nested answer ran for more than 20 s");
    }
    cJSON *r = rel_ok_json(m);
    cr_assert_str_eq(rel_status(r), "completed");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ batches */

Test(e2e_limits, ten_thousand_pending_batch_queries_are_served_and_answered_in_chunks) {
    rel_srv *s = rel_start(NULL);
    cJSON *p = rel_run(s, "local q = {} for i = 1, 10000 do q[i] = {prompt = 'question ' .. i .. string.rep('.', 100)} end\n"
                          "local r = alc.llm_batch(q) for i = 1, 10000 do assert(r[i] == 'a' .. (i - 1)) end return #r", NULL);
    cr_assert_str_eq(rel_status(p), "needs_response");
    cr_assert_eq(cJSON_GetArraySize(rel_get(p, "queries")), 10000);
    char sid[64];
    rel_sid(p, sid);
    cJSON_Delete(p);
    cJSON *st = rel_ok_json(rel_call_fmt(s, "alc_status", "{\"session_id\":\"%s\"}", sid));
    cr_assert_eq(rel_get(st, "pending_queries")->valuedouble, 10000);
    cJSON_Delete(st);
    for (int chunk = 0; chunk < 10; chunk++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "session_id", sid);
        cJSON *arr = cJSON_AddArrayToObject(a, "responses");
        for (int i = chunk * 1000; i < (chunk + 1) * 1000; i++) {
            cJSON *e = cJSON_CreateObject();
            char q[32], v[32];
            snprintf(q, sizeof q, "q-%d", i);
            snprintf(v, sizeof v, "a%d", i);
            cJSON_AddStringToObject(e, "query_id", q);
            cJSON_AddStringToObject(e, "response", v);
            cJSON_AddItemToArray(arr, e);
        }
        cJSON *r = rel_ok_json(rel_call(s, "alc_continue", a));
        if (chunk < 9) {
            cr_assert_str_eq(rel_status(r), "accepted");
            cr_assert_eq(rel_get(r, "remaining")->valuedouble, 10000 - (chunk + 1) * 1000);
        } else {
            cr_assert_str_eq(rel_status(r), "completed");
            cr_assert_eq(rel_get(r, "result")->valuedouble, 10000);
        }
        cJSON_Delete(r);
        rel_forget(s);
    }
    cJSON *r = rel_run(s, "local q = {} for i = 1, 100001 do q[i] = {prompt = 'p'} end return alc.llm_batch(q)", NULL);
    rel_expect_failed(r, "lua_error", "too many", "a batch over the item limit");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ forks and session counts */

Test(e2e_limits, forks_that_bomb_loop_or_nest_fail_per_child_and_leave_no_threads) {
    char *home = alc_test_tmpdir();
    add_package(home, "membomb", "return { run = function(ctx) local s = 'x' while true do s = s .. s end end }\n");
    add_package(home, "cbomb", "return { run = function(ctx) local function f(s) return (s:gsub('.', f)) end return f('ab') end }\n");
    add_package(home, "spin", "return { run = function(ctx) while true do end end }\n");
    add_package(home, "forker", "return { run = function(ctx) return alc.fork({'forker', 'forker'}, ctx) end }\n");
    add_package(home, "fine", "return { run = function(ctx) return 'fine' end }\n");
    const char *env[] = {"ALC_MAX_MEMORY=16M", NULL};
    rel_srv *s = rel_start_home(home, env, true);
    char by[64];
    bystander_start(s, by);
    long threads0 = rel_proc_status_field(s, "Threads");

    // 64 children (the maximum), each bombing memory: each fails alone, the parent completes
    cJSON *r = rel_run_within(s, "local n = {} for i = 1, 64 do n[i] = 'membomb' end\n"
                                 "local r = alc.fork(n, {}) local bad = 0\n"
                                 "for i = 1, 64 do if not r[i].ok and r[i].error:find('memory') then bad = bad + 1 end end\n"
                                 "return bad", NULL, 180000);
    cr_assert_str_eq(rel_status(r), "completed", "the parent of failing children completes");
    cr_assert_eq(rel_get(r, "result")->valuedouble, 64, "every child failed with a memory error");
    cJSON_Delete(r);
    // C-stack bombs on child threads fail as errors, not crashes
    r = rel_run_within(s, "local r = alc.fork({'cbomb', 'cbomb', 'fine'}, {})\n"
                          "return {r[1].ok, r[2].ok, r[3].ok, r[3].result}", NULL, 60000);
    cr_assert_str_eq(rel_status(r), "completed");
    char *txt = cJSON_PrintUnformatted(rel_get(r, "result"));
    cr_assert_str_eq(txt, "[false,false,true,\"fine\"]");
    free(txt);
    cJSON_Delete(r);
    // a strategy that forks itself: the nested fork is refused inside each child
    r = rel_run(s, "local r = alc.fork({'forker'}, {}) return {ok = r[1].ok, e = r[1].error}", NULL);
    cr_assert(cJSON_IsFalse(rel_get(rel_get(r, "result"), "ok")));
    cr_assert(rel_contains_ci(rel_str(rel_get(r, "result"), "e"), "nested"), "%s", rel_str(rel_get(r, "result"), "e"));
    cJSON_Delete(r);
    // more than 64 strategies is refused up front
    r = rel_run(s, "local n = {} for i = 1, 65 do n[i] = 'fine' end return alc.fork(n, {})", NULL);
    rel_expect_failed(r, "lua_error", "64", "65 strategies");
    cJSON_Delete(r);
    // 64 spinning children: cancelling the parent stops all of them
    int id = rel_send_run(s, "local n = {} for i = 1, 64 do n[i] = 'spin' end return alc.fork(n, {})", NULL);
    char sid[64];
    running_sid(s, sid);
    long long deadline = rel_now_ms() + 10000;
    while (rel_proc_status_field(s, "Threads") < threads0 + 60) {
        cr_assert_lt(rel_now_ms(), deadline, "the 64 children never started");
        rel_sleep_ms(20);
    }
    long long t0 = rel_now_ms();
    cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", sid)));
    r = rel_ok_json(rel_wait_within(s, id, 10000));
    cr_assert_str_eq(rel_status(r), "cancelled");
    cJSON_Delete(r);
    deadline = rel_now_ms() + 5000;
    long th;
    while ((th = rel_proc_status_field(s, "Threads")) > threads0) {
        cr_assert_lt(rel_now_ms(), deadline, "threads left after the cancel: %ld (before: %ld)", th, threads0);
        rel_sleep_ms(20);
    }
    fprintf(stderr, "cancel of a parent with 64 spinning children: all threads gone after %lld ms\n", rel_now_ms() - t0);
    bystander_finish(s, by);
    rel_alive(s);
    rel_finish(s);
    alc_test_rmtree(home);
    free(home);
}

Test(e2e_limits, the_session_count_limit_refuses_new_sessions_clearly_and_recovers) {
    const char *env[] = {"ALC_MAX_SESSIONS=5", "ALC_SESSION_RETENTION=0", NULL};
    rel_srv *s = rel_start(env);
    char sids[5][64];
    for (int i = 0; i < 5; i++) bystander_start(s, sids[i]);
    const cJSON *m = rel_call(s, "alc_run", rel_code_args("return 1", NULL));
    rel_expect_tool_error(m, "ALC_MAX_SESSIONS", "a sixth session");
    for (int i = 0; i < 3; i++) {
        m = rel_call(s, "alc_run", rel_code_args("return 1", NULL));
        rel_expect_tool_error(m, "ALC_MAX_SESSIONS", "still full");
    }
    bystander_finish(s, sids[0]);
    long long deadline = rel_now_ms() + 10000;
    for (;;) {  // the finished session leaves the map after its (zero) retention
        int id = rel_send_run(s, "return 'room again'", NULL);
        bool e;
        const char *t = rel_tool_text(rel_wait(s, id), &e);
        if (!e) {
            cr_assert_not_null(strstr(t, "room again"));
            break;
        }
        cr_assert_lt(rel_now_ms(), deadline, "no room after a session finished: %s", t);
        rel_sleep_ms(100);
    }
    for (int i = 1; i < 5; i++) bystander_finish(s, sids[i]);
    rel_alive(s);
    rel_finish(s);
}
