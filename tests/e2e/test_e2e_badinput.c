/*
 * test_e2e_badinput.c — hostile and malformed input through the real binary ($ALC_BIN): every
 * case must get a clear answer (a JSON-RPC error, an isError tool result or a failed session
 * with a message) and the server must keep serving (rel_alive: a ping and a trivial script).
 *
 * Complements test_e2e_protocol.c (framing, ids, invalid requests, small-limit oversized lines,
 * NUL and invalid UTF-8 in ping lines) and test_e2e_engine.c (continue races on one query):
 * here the bad input reaches the tools and the engine — truncated tool calls, 100,000-deep
 * nesting, a 100 MB line, invalid UTF-8 and U+0000 in tool arguments and script output,
 * numbers out of range, duplicate keys, a wrong type for every argument of every listed tool,
 * unknown and malformed session / query ids, continue on every kind of finished session,
 * 1,000 pipelined continues on one session, 10 MB prompts and responses, results that cannot
 * be JSON, errors inside error handlers and error() with table values.
 *
 * Threads: Criterion runs each test in its own process; the pipelined tests add one sender
 * thread (rel_bulk) that only writes.
 */
#include "rel_util.h"

TestSuite(e2e_badinput, .fini = rel_teardown, .timeout = 240);

/* Sends line (a newline is appended) and returns the next response (borrowed). */
static const cJSON *raw_request(rel_srv *s, const char *line, size_t len) {
    size_t before = s->n;
    rel_send_raw(s, line, len);
    rel_send_raw(s, "\n", 1);
    long long deadline = rel_now_ms() + REL_RECV_MS;
    for (;;) {
        for (size_t i = before; i < s->n; i++)
            if (!rel_get(s->log[i], "method")) return s->log[i];
        long long left = deadline - rel_now_ms();
        cr_assert_gt(left, 0, "no reply to: %.200s", line);
        rel_pump(s, (int)left);
    }
}

static int error_code(const cJSON *m) {
    const cJSON *e = rel_get(m, "error");
    return e ? (int)rel_get(e, "code")->valuedouble : 0;
}

/* Number of sessions alc_status lists. */
static int session_count(rel_srv *s) {
    cJSON *j = rel_ok_json(rel_call_json(s, "alc_status", "{}"));
    int n = cJSON_GetArraySize(rel_get(j, "sessions"));
    cJSON_Delete(j);
    return n;
}

/* Starts a script that pauses at alc.llm; returns its session id in sid. */
static void start_paused(rel_srv *s, const char *code, char *sid) {
    cJSON *p = rel_run(s, code, NULL);
    cr_assert_str_eq(rel_status(p), "needs_response", "the script should pause");
    rel_sid(p, sid);
    cJSON_Delete(p);
}

/* ------------------------------------------------------------------ malformed JSON */

Test(e2e_badinput, every_prefix_of_a_tool_call_is_a_parse_error_and_starts_nothing) {
    rel_srv *s = rel_start(NULL);
    const char *full = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
                       "\"arguments\":{\"code\":\"alc.state.set('k', 1) return alc.llm('x')\",\"ctx\":{\"a\":[1,2.5,null,true]}}}}";
    size_t n = strlen(full);
    for (size_t cut = 1; cut < n; cut++) {
        const cJSON *m = raw_request(s, full, cut);
        cr_assert_eq(error_code(m), -32700, "prefix of %zu bytes should be a parse error", cut);
        cr_assert_null(rel_get(m, "id"), "a parse error carries no id");
        rel_forget(s);
    }
    cr_assert_eq(session_count(s), 0, "no truncated call may start a session");
    struct stat st;
    char *state = rel_fmt("%s/state/default.json", s->home);
    cr_assert_neq(stat(state, &st), 0, "no truncated call may run the script");
    free(state);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, nesting_100000_deep_is_refused_everywhere_without_crashing) {
    rel_srv *s = rel_start(NULL);
    size_t depth = 100000;
    char *opens = malloc(depth + 1), *closes = malloc(depth + 1), *objs = malloc(depth * 5 + 1);
    memset(opens, '[', depth);
    opens[depth] = '\0';
    memset(closes, ']', depth);
    closes[depth] = '\0';
    for (size_t i = 0; i < depth; i++) memcpy(objs + i * 5, "{\"a\":", 5);
    objs[depth * 5] = '\0';
    char *obj_close = malloc(depth + 1);
    memset(obj_close, '}', depth);
    obj_close[depth] = '\0';
    char *lines[] = {
        rel_fmt("%s%s", opens, closes),
        rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%s1%s,\"method\":\"ping\"}", opens, closes),
        rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":%s1%s}", objs, obj_close),
        rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
                "{\"code\":\"return 1\",\"ctx\":{\"x\":%s%s}}}}", opens, closes),
        rel_fmt("%s", opens),  // unterminated
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        const cJSON *m = raw_request(s, lines[i], strlen(lines[i]));
        int code = error_code(m);
        cr_assert(code == -32700 || code == -32600, "line %zu: expected a parse/invalid-request error, got %d", i, code);
        free(lines[i]);
    }
    cr_assert_eq(session_count(s), 0);
    // the same depth inside a script: the Lua decoder refuses it with a catchable error
    char *code = rel_fmt("local ok, e = pcall(alc.json_decode, string.rep('[', %zu) .. string.rep(']', %zu))\n"
                         "return {ok = ok, e = tostring(e)}", depth, depth);
    cJSON *r = rel_run(s, code, NULL);
    cr_assert_str_eq(rel_status(r), "completed");
    cr_assert(cJSON_IsFalse(rel_get(rel_get(r, "result"), "ok")), "decoding 100,000 brackets must fail");
    cr_assert(rel_contains_ci(rel_str(rel_get(r, "result"), "e"), "deep"), "the message names the depth: %s",
              rel_str(rel_get(r, "result"), "e"));
    cJSON_Delete(r);
    free(code);
    // a ctx the protocol accepts (cJSON's limit is 1000 for the whole message) but deeper than
    // the Lua encoder's 200
    char *ctx = malloc(999 * 6 + 1000 + 64);
    size_t k = 0;
    k += (size_t)sprintf(ctx + k, "{\"d\":");
    for (int i = 0; i < 900; i++) ctx[k++] = '[';
    ctx[k++] = '1';
    for (int i = 0; i < 900; i++) ctx[k++] = ']';
    ctx[k++] = '}';
    ctx[k] = '\0';
    r = rel_run(s, "local d, n = ctx.d, 0 while type(d) == 'table' do d, n = d[1], n + 1 end alc.state.set('n', n) return ctx", ctx);
    rel_expect_failed(r, "engine_error", "deep", "returning a 901-deep ctx");
    cJSON_Delete(r);
    r = rel_run(s, "return alc.state.get('n')", NULL);
    cr_assert_eq(rel_get(r, "result")->valuedouble, 900, "the script saw the whole 900-deep array");
    cJSON_Delete(r);
    free(ctx);
    free(opens);
    free(closes);
    free(objs);
    free(obj_close);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, line_of_100_mb_is_rejected_without_buffering_it_and_the_stream_continues) {
    rel_srv *s = rel_start(NULL);
    size_t size = (size_t)100 << 20;
    const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return 1 --";
    char *big = malloc(size + 1);
    cr_assert_not_null(big);
    memcpy(big, head, sizeof head - 1);
    memset(big + sizeof head - 1, 'x', size - (sizeof head - 1) - 4);
    memcpy(big + size - 4, "\"}}}", 4);
    big[size] = '\n';
    long hwm_before = rel_proc_status_field(s, "VmHWM");
    rel_bulk b;
    rel_bulk_start(&b, s, big, size + 1);
    long long deadline = rel_now_ms() + 120000;
    while (s->n == 0) {
        cr_assert_lt(rel_now_ms(), deadline, "no answer to the 100 MB line");
        rel_pump(s, 1000);
    }
    rel_bulk_join(&b);
    free(big);
    const cJSON *m = s->log[0];
    cr_assert_eq(error_code(m), -32600, "a 100 MB line is an invalid request");
    cr_assert(rel_contains_ci(rel_str(rel_get(m, "error"), "message"), "ALC_MAX_LINE"),
              "the message names the limit");
    cr_assert_eq(s->n, 1, "exactly one reply for the whole line");
    long hwm = rel_proc_status_field(s, "VmHWM");
    if (!rel_sanitized(s))
        cr_assert_lt(hwm - hwm_before, 48 * 1024, "the 100 MB line must not be buffered (peak grew by %ld kB)",
                     hwm - hwm_before);
    cr_assert_eq(session_count(s), 0, "nothing of the line was executed");
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ strings */

Test(e2e_badinput, invalid_utf8_in_tool_arguments_is_a_parse_error_and_runs_nothing) {
    rel_srv *s = rel_start(NULL);
    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return '\xff'\"}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return 1\",\"ctx\":{\"k\xc3\":1}}}}",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return '\xed\xa0\x80'\"}}}",  // UTF-8 surrogate
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return '\xf4\x90\x80\x80'\"}}}",  // > U+10FFFF
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":{\"code\":\"return '\xe0\x80\xaf'\"}}}",  // overlong
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const cJSON *m = raw_request(s, bad[i], strlen(bad[i]));
        cr_assert_eq(error_code(m), -32700, "case %zu: invalid UTF-8 must be a parse error", i);
    }
    cr_assert_eq(session_count(s), 0);
    char sid[64];
    start_paused(s, "return alc.llm('x')", sid);
    char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                         "\"arguments\":{\"session_id\":\"%s\",\"response\":\"ok\xc3\x28\"}}}", sid);
    cr_assert_eq(error_code(raw_request(s, line, strlen(line))), -32700);
    free(line);
    // the session is still paused and takes a valid answer with 4-byte UTF-8
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "session_id", sid);
    cJSON_AddStringToObject(a, "response", "caf\xc3\xa9 \xf0\x9f\x98\x80");
    cJSON *r = rel_ok_json(rel_call(s, "alc_continue", a));
    cr_assert_str_eq(rel_status(r), "completed");
    cr_assert_str_eq(rel_str(r, "result"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, invalid_utf8_made_by_a_script_never_reaches_the_wire) {
    rel_srv *s = rel_start(NULL);
    const char *codes[] = {
        "return '\\xff\\xfe tail'",
        "return {['\\xc0k'] = '\\xed\\xa0\\x80'}",
        "error('\\xff in error')",
        "error(setmetatable({}, {__tostring = function() return '\\xfe' end}))",
        "alc.log('warn', '\\xff log') print('\\xfe print') alc.progress(1, 2, '\\xc3') return alc.llm('\\xff')",
        "return alc.llm('\\xff prompt', {system = '\\xc0 system'})",
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        cJSON *r = rel_run(s, codes[i], NULL);  // rel_pump already requires valid JSON lines
        const char *st = rel_status(r);
        cr_assert(strcmp(st, "completed") == 0 || strcmp(st, "error") == 0 || strcmp(st, "needs_response") == 0,
                  "case %zu: %s", i, st);
        char *txt = cJSON_PrintUnformatted(r);
        cr_assert_not_null(strstr(txt, "\xef\xbf\xbd"), "case %zu: invalid bytes become U+FFFD: %s", i, txt);
        free(txt);
        cJSON_Delete(r);
    }
    // status (with the log lines and progress of the paused sessions) is valid JSON too
    cJSON *st = rel_ok_json(rel_call_json(s, "alc_status", "{\"pending_filter\":\"full\",\"include_history\":true}"));
    char *all = cJSON_PrintUnformatted(st);
    cr_assert_not_null(strstr(all, "\xef\xbf\xbd log"), "log lines are repaired too: %.2000s", all);
    free(all);
    cJSON_Delete(st);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, result_keys_that_collide_after_utf8_repair_are_an_error_not_duplicate_members) {
    // Two different invalid keys both become "a\uFFFD": emitting both would be a JSON object
    // with duplicate members (a receiver silently keeps one); json_conv.h says keys that
    // collide after conversion are errors. Found by fuzz_json_conv.
    rel_srv *s = rel_start(NULL);
    cJSON *r = rel_run(s, "return {['a\\xff'] = 1, ['a\\xfe'] = 2}", NULL);
    char *raw = cJSON_PrintUnformatted(r);
    if (strcmp(rel_status(r), "completed") == 0) {
        const cJSON *res = rel_get(r, "result");
        cr_assert_eq(cJSON_GetArraySize(res), 1, "duplicate members in a result: %s", raw);
    } else {
        rel_expect_failed(r, "engine_error", NULL, "colliding repaired keys");
    }
    free(raw);
    cJSON_Delete(r);
    // keys are emitted in byte order of what is emitted
    r = rel_run(s, "return {['b\\xe0x'] = 1, ['b\\xefy'] = 2, ['b\\xe0xz'] = 3, ['b\\xef\\xbf\\xbdw'] = 4}", NULL);
    if (strcmp(rel_status(r), "completed") == 0) {
        const char *prev = "";
        for (const cJSON *c = rel_get(r, "result")->child; c; c = c->next) {
            cr_assert_gt(strcmp(c->string, prev), 0, "result keys are not sorted after repair: '%s' after '%s'", c->string, prev);
            prev = c->string;
        }
    }
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, a_lone_surrogate_in_an_answer_reaches_the_script_as_u_fffd) {
    // an answer cut inside an emoji (the high half of a UTF-16 pair, as JSON.stringify writes
    // it) must not lose the whole alc_continue
    rel_srv *s = rel_start(NULL);
    char sid[64];
    start_paused(s, "local r = alc.llm('x') return {r = r, n = #r}", sid);
    char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                         "\"arguments\":{\"session_id\":\"%s\",\"response\":\"smile \\ud83d\"}}}", sid);
    const cJSON *m = raw_request(s, line, strlen(line));
    free(line);
    cr_assert_null(rel_get(m, "error"), "the continue was refused");
    bool is_err;
    const char *t = rel_tool_text(m, &is_err);
    cr_assert(!is_err, "%s", t);
    cJSON *r = cJSON_Parse(t);
    cr_assert_not_null(r);
    cr_assert_str_eq(rel_get(rel_get(r, "result"), "r")->valuestring, "smile \xEF\xBF\xBD");
    cr_assert_eq(rel_get(rel_get(r, "result"), "n")->valuedouble, 9);
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, u0000_in_an_argument_string_is_kept_or_refused_never_cut_short) {
    rel_srv *s = rel_start(NULL);
    // a raw NUL byte inside a tool call is a parse error and runs nothing
    static const char raw_nul[] = "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
                                  "\"arguments\":{\"code\":\"alc.state.set('nul', 1)\0return 1\"}}}";
    const cJSON *m = raw_request(s, raw_nul, sizeof raw_nul - 1);
    cr_assert_eq(error_code(m), -32700, "a raw NUL byte in a tool call must be a parse error");
    cr_assert_eq(session_count(s), 0, "and must start no session");
    // a continue response: cutting it at the NUL would silently lose the rest of the answer
    char sid[64];
    start_paused(s, "local r = alc.llm('x') return {n = #r, r = r}", sid);
    char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                         "\"arguments\":{\"session_id\":\"%s\",\"response\":\"before\\u0000after\"}}}", sid);
    m = raw_request(s, line, strlen(line));
    free(line);
    if (!rel_get(m, "error")) {
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        if (!is_err) {
            cJSON *r = cJSON_Parse(t);
            cr_assert_not_null(r);
            cr_assert_eq(rel_get(rel_get(r, "result"), "n")->valuedouble, 12,
                         "the script got a response cut at U+0000 (data lost): %s", t);
            cJSON_Delete(r);
        }
    }
    // a ctx string: the same rule
    const char *line2 = "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\",\"arguments\":"
           "{\"code\":\"return #ctx.s\",\"ctx\":{\"s\":\"a\\u0000b\"}}}}";
    m = raw_request(s, line2, strlen(line2));
    if (!rel_get(m, "error")) {
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        if (!is_err) {
            cJSON *r = cJSON_Parse(t);
            cr_assert_eq(rel_get(r, "result")->valuedouble, 3, "ctx string cut at U+0000: %s", t);
            cJSON_Delete(r);
        }
    }
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ numbers and keys */

Test(e2e_badinput, numbers_out_of_range_get_clear_answers) {
    rel_srv *s = rel_start(NULL);
    static const char *const bad_ids[] = {"1e400", "-1e400", "9007199254740993", "123456789012345678901234567890",
                                          "-9223372036854775809", "1.5", "-0.25e1"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", bad_ids[i]);
        const cJSON *m = raw_request(s, line, strlen(line));
        cr_assert_eq(error_code(m), -32600, "id %s must be an invalid request", bad_ids[i]);
        free(line);
    }
    // numbers in arguments: every integer argument refuses values it cannot hold
    char sid[64];
    start_paused(s, "return alc.llm('x')", sid);
    // (sent as raw text: cJSON in the test would print 1e400 as null)
    static const char *const bad_usage[] = {"1e400", "-1", "1.5", "1e30", "18446744073709551616", "\"7\"",
                                            "9223372036854775807", "true"};
    for (size_t i = 0; i < sizeof bad_usage / sizeof *bad_usage; i++) {
        char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                             "\"arguments\":{\"session_id\":\"%s\",\"response\":\"r\",\"usage\":{\"prompt_tokens\":%s,"
                             "\"completion_tokens\":1}}}}", 500 + (int)i, sid, bad_usage[i]);
        const cJSON *m = raw_request(s, line, strlen(line));
        rel_expect_tool_error(m, "prompt_tokens", bad_usage[i]);
        free(line);
    }
    cJSON *a = rel_ok_json(rel_call_fmt(s, "alc_status", "{\"session_id\":\"%s\"}", sid));
    cr_assert_str_eq(rel_str(a, "state"), "paused", "rejected continues changed nothing");
    cJSON_Delete(a);
    static const char *const bad_chars[] = {"1e400", "-5", "1e300", "2.5", "-1e400"};
    for (size_t i = 0; i < sizeof bad_chars / sizeof *bad_chars; i++) {
        char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_status\","
                             "\"arguments\":{\"session_id\":\"%s\",\"pending_filter\":{\"prompt\":{\"mode\":\"preview\","
                             "\"chars\":%s}}}}}", 600 + (int)i, sid, bad_chars[i]);
        const cJSON *m = raw_request(s, line, strlen(line));
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        cJSON *j = is_err ? NULL : cJSON_Parse(t);
        cr_assert(is_err || j != NULL, "chars=%s: a clear answer: %s", bad_chars[i], t);
        cJSON_Delete(j);
        free(line);
    }
    static const char *const bad_limits[] = {"1e400", "-1", "1e19", "0.5"};
    for (size_t i = 0; i < sizeof bad_limits / sizeof *bad_limits; i++) {
        char *line = rel_fmt("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_log_view\","
                             "\"arguments\":{\"limit\":%s}}}", 700 + (int)i, bad_limits[i]);
        rel_expect_tool_error(raw_request(s, line, strlen(line)), "limit", bad_limits[i]);
        free(line);
    }
    // numbers a script makes: non-finite results and options
    cJSON *r = rel_run(s, "return {1/0, -1/0, 0/0, math.maxinteger, math.mininteger, 2^63, -0.0}", NULL);
    cr_assert_str_eq(rel_status(r), "completed");
    const cJSON *res = rel_get(r, "result");
    cr_assert(cJSON_IsNull(cJSON_GetArrayItem(res, 0)) && cJSON_IsNull(cJSON_GetArrayItem(res, 2)), "non-finite become null");
    cJSON_Delete(r);
    static const char *const bad_opts[] = {"math.huge", "-1", "0/0", "2^70", "'many'"};
    for (size_t i = 0; i < sizeof bad_opts / sizeof *bad_opts; i++) {
        char *code = rel_fmt("return alc.llm('p', {max_tokens = %s})", bad_opts[i]);
        r = rel_run(s, code, NULL);
        const char *st = rel_status(r);
        if (strcmp(st, "needs_response") == 0) {
            const cJSON *mt = rel_get(r, "max_tokens");
            cr_assert(cJSON_IsNumber(mt) && mt->valuedouble >= 1 && mt->valuedouble <= 9007199254740992.0,
                      "max_tokens = %s gave a pause with max_tokens %g", bad_opts[i], cJSON_IsNumber(mt) ? mt->valuedouble : -1);
        } else {
            rel_expect_failed(r, "lua_error", "max_tokens", bad_opts[i]);
        }
        cJSON_Delete(r);
        free(code);
    }
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, duplicate_keys_in_arguments_are_not_read_differently_from_json_parse) {
    // JSON.parse (what a TypeScript host or a proxy that inspects calls uses) keeps the LAST of
    // duplicate members. If alc used the first one, a reviewed call could run different code.
    rel_srv *s = rel_start(NULL);
    const char *line = "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
                       "\"arguments\":{\"code\":\"return 'first'\",\"code\":\"return 'last'\"}}}";
    const cJSON *m = raw_request(s, line, strlen(line));
    if (!rel_get(m, "error")) {
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        cr_assert(is_err || strstr(t, "\"last\""), "duplicate 'code': alc ran a different member than JSON.parse sees: %s", t);
    }
    line = "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_info\",\"name\":\"alc_run\","
           "\"arguments\":{\"code\":\"return 'ran'\"}}}";
    m = raw_request(s, line, strlen(line));
    if (!rel_get(m, "error")) {
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        cr_assert(is_err || strstr(t, "\"ran\""), "duplicate tool 'name': alc called another tool than JSON.parse sees: %.300s", t);
    }
    line = "{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_run\","
           "\"arguments\":{\"code\":\"return ctx.a\",\"ctx\":{\"a\":1,\"a\":2}}}}";
    m = raw_request(s, line, strlen(line));
    if (!rel_get(m, "error")) {
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        cr_assert(is_err || strstr(t, "\"result\":2"), "duplicate ctx key: %s", t);
    }
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ argument types */

static bool schema_allows(const cJSON *schema, const char *type) {
    const cJSON *t = rel_get(schema, "type");
    if (!t) return true;  // untyped: anything goes
    if (cJSON_IsString(t)) {
        if (strcmp(t->valuestring, type) == 0) return true;
        return strcmp(t->valuestring, "number") == 0 && strcmp(type, "integer") == 0;
    }
    for (const cJSON *c = t->child; c; c = c->next)
        if (cJSON_IsString(c) && (strcmp(c->valuestring, type) == 0 ||
                                  (strcmp(c->valuestring, "number") == 0 && strcmp(type, "integer") == 0)))
            return true;
    return false;
}

/* A harmless valid value for a required argument (new). */
static cJSON *harmless(const char *tool, const char *arg, const cJSON *schema) {
    if (strcmp(arg, "session_id") == 0) return cJSON_CreateString("s-00000000000000000000000000000000");
    if (strcmp(arg, "url") == 0 || strcmp(arg, "path") == 0) return cJSON_CreateString("/nonexistent/alc-badinput");
    if (strcmp(arg, "code") == 0 || strcmp(arg, "scenario") == 0) return cJSON_CreateString("return {}");
    if (strcmp(arg, "response") == 0) return cJSON_CreateString("r");
    if (strcmp(arg, "strategy") == 0) return cJSON_CreateString("nosuchstrategy");
    (void)tool;
    if (schema_allows(schema, "string")) return cJSON_CreateString("zz_badinput");
    if (schema_allows(schema, "object")) return cJSON_CreateObject();
    if (schema_allows(schema, "array")) return cJSON_CreateArray();
    if (schema_allows(schema, "integer")) return cJSON_CreateNumber(1);
    return cJSON_CreateTrue();
}

Test(e2e_badinput, a_wrong_type_for_every_argument_of_every_tool_is_an_error_naming_it) {
    rel_srv *s = rel_start(NULL);
    int id = s->next_id++;
    char line[128];
    snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\"}", id);
    rel_send(s, line);
    cJSON *tools = cJSON_Duplicate(rel_get(rel_get(rel_wait(s, id), "result"), "tools"), 1);
    cr_assert(cJSON_GetArraySize(tools) >= 6, "tools/list lists the tools");
    static const char *const types[] = {"string", "integer", "number", "boolean", "array", "object"};
    int checked = 0;
    for (const cJSON *t = tools->child; t; t = t->next) {
        const char *name = rel_str(t, "name");
        const cJSON *schema = rel_get(t, "inputSchema");
        const cJSON *props = rel_get(schema, "properties");
        const cJSON *req = rel_get(schema, "required");
        for (const cJSON *p = props ? props->child : NULL; p; p = p->next) {
            for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
                if (schema_allows(p, types[k])) continue;
                cJSON *args = cJSON_CreateObject();
                for (const cJSON *r = req ? req->child : NULL; r; r = r->next)
                    if (strcmp(r->valuestring, p->string) != 0)
                        cJSON_AddItemToObject(args, r->valuestring, harmless(name, r->valuestring, rel_get(props, r->valuestring)));
                if (strcmp(name, "alc_continue") == 0 && strcmp(p->string, "response") != 0 &&
                    strcmp(p->string, "responses") != 0 && !rel_get(args, "response"))
                    cJSON_AddStringToObject(args, "response", "r");
                cJSON *bad;
                if (strcmp(types[k], "string") == 0) bad = cJSON_CreateString("not json {");
                else if (strcmp(types[k], "integer") == 0) bad = cJSON_CreateNumber(7);
                else if (strcmp(types[k], "number") == 0) bad = cJSON_CreateNumber(1.5);
                else if (strcmp(types[k], "boolean") == 0) bad = cJSON_CreateTrue();
                else if (strcmp(types[k], "array") == 0) bad = cJSON_CreateIntArray((const int[]){1}, 1);
                else bad = cJSON_CreateObject();
                cJSON_AddItemToObject(args, p->string, bad);
                char *what = rel_fmt("%s.%s given a %s", name, p->string, types[k]);
                const cJSON *m = rel_call(s, name, args);
                if (rel_get(m, "error")) {
                    cr_assert_eq(error_code(m), -32602, "%s: only invalid-params may be a protocol error", what);
                } else {
                    rel_expect_tool_error(m, p->string, what);
                }
                free(what);
                checked++;
            }
        }
        rel_forget(s);
    }
    cJSON_Delete(tools);
    cr_assert_gt(checked, 50, "only %d wrong-type cases were tried", checked);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ ids and session states */

Test(e2e_badinput, unknown_and_malformed_session_and_query_ids_get_clear_errors) {
    rel_srv *s = rel_start(NULL);
    char sid[64];
    start_paused(s, "return alc.llm_batch({{prompt = 'a'}, {prompt = 'b'}})", sid);
    char upper[64];
    strcpy(upper, sid);
    for (char *c = upper; *c; c++) *c = (char)toupper((unsigned char)*c);
    char *longid = malloc(10001);
    memset(longid, 'a', 10000);
    longid[10000] = '\0';
    char *with_space = rel_fmt("%s ", sid);
    const char *ids[] = {"", "s-00000000000000000000000000000000", upper, with_space, longid, "s-", "null", "../../etc/passwd"};
    const char *tools[] = {"alc_continue", "alc_status", "alc_cancel"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        for (size_t t = 0; t < sizeof tools / sizeof *tools; t++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "session_id", ids[i]);
            if (t == 0) cJSON_AddStringToObject(a, "response", "x");
            const cJSON *m = rel_call(s, tools[t], a);
            char *what = rel_fmt("%s with session id '%.40s'", tools[t], ids[i]);
            rel_expect_tool_error(m, NULL, what);
            bool e;
            cr_assert_lt(strlen(rel_tool_text(m, &e)), strlen(ids[i]) + 1000, "%s: a short message", what);
            free(what);
        }
    static const char *const qids[] = {"q-2", "q--1", "q-99999999999999999999999", "", "f-0-0", "Q-0", "q-0 "};
    for (size_t i = 0; i < sizeof qids / sizeof *qids; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "session_id", sid);
        cJSON_AddStringToObject(a, "query_id", qids[i]);
        cJSON_AddStringToObject(a, "response", "x");
        rel_expect_tool_error(rel_call(s, "alc_continue", a), "q-0", qids[i]);  // names the pending ids
    }
    // the session is untouched: both real answers still land
    cJSON *r = rel_ok_json(rel_call_fmt(s, "alc_continue", "{\"session_id\":\"%s\",\"responses\":[{\"query_id\":\"q-0\",\"response\":\"A\"},{\"query_id\":\"q-1\",\"response\":\"B\"}]}", sid));
    cr_assert_str_eq(rel_status(r), "completed");
    cJSON_Delete(r);
    free(longid);
    free(with_space);
    rel_alive(s);
    rel_finish(s);
}

/* continue on sid must be an isError mentioning needle. */
static void expect_continue_refused(rel_srv *s, const char *sid, const char *needle, const char *what) {
    char *args = rel_fmt("{\"session_id\":\"%s\",\"response\":\"late\"}", sid);
    rel_expect_tool_error(rel_call_json(s, "alc_continue", args), needle, what);
    free(args);
}

Test(e2e_badinput, continue_on_done_failed_cancelled_timed_out_and_evicted_sessions_is_refused) {
    const char *env[] = {"ALC_SESSION_TTL=1", NULL};
    rel_srv *s = rel_start(env);
    char done[64], failed[64], cancelled[64], timed[64];
    cJSON *r = rel_run(s, "return 1", NULL);
    rel_sid(r, done);
    cJSON_Delete(r);
    r = rel_run(s, "error('x')", NULL);
    rel_sid(r, failed);
    cJSON_Delete(r);
    start_paused(s, "return alc.llm('c')", cancelled);
    cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", cancelled)));
    start_paused(s, "return alc.llm('t')", timed);
    expect_continue_refused(s, done, "finished", "done session");
    expect_continue_refused(s, failed, "finished", "failed session");
    expect_continue_refused(s, cancelled, "cancelled", "cancelled session");
    // the paused one times out after the 1 s TTL
    long long deadline = rel_now_ms() + 15000;
    for (;;) {
        cJSON *st = rel_ok_json(rel_call_fmt(s, "alc_status", "{\"session_id\":\"%s\"}", timed));
        bool over = strcmp(rel_str(st, "state"), "cancelled") == 0;
        cJSON_Delete(st);
        if (over) break;
        cr_assert_lt(rel_now_ms(), deadline, "the idle paused session never timed out");
        rel_sleep_ms(200);
    }
    expect_continue_refused(s, timed, "cancelled", "timed-out session");
    rel_alive(s);
    rel_finish(s);

    const char *env0[] = {"ALC_SESSION_RETENTION=0", NULL};
    rel_srv *e = rel_start(env0);
    r = rel_run(e, "return 1", NULL);
    rel_sid(r, done);
    cJSON_Delete(r);
    deadline = rel_now_ms() + 15000;
    for (;;) {
        cJSON *st = rel_ok_json(rel_call_json(e, "alc_status", "{}"));
        int n = cJSON_GetArraySize(rel_get(st, "sessions"));
        cJSON_Delete(st);
        if (n == 0) break;
        cr_assert_lt(rel_now_ms(), deadline, "the finished session was never evicted");
        rel_sleep_ms(200);
    }
    expect_continue_refused(e, done, "not found", "evicted session");
    rel_alive(e);
    rel_finish(e);
}

Test(e2e_badinput, thousand_pipelined_continues_on_one_session_exactly_one_wins) {
    rel_srv *s = rel_start(NULL);
    char sid[64];
    start_paused(s, "local r = alc.llm('x') alc.state.incr('resumed') return r", sid);
    size_t cap = 1000 * 200, len = 0;
    char *buf = malloc(cap);
    int first = s->next_id;
    for (int i = 0; i < 1000; i++) {
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                                "\"arguments\":{\"session_id\":\"%s\",\"response\":\"answer-%d\"}}}\n", first + i, sid, i);
    }
    s->next_id += 1000;
    rel_bulk b;
    rel_bulk_start(&b, s, buf, len);
    int completed = 0, refused = 0;
    const char *winner = NULL;
    for (int i = 0; i < 1000; i++) {
        const cJSON *m = rel_wait(s, first + i);
        bool is_err;
        const char *t = rel_tool_text(m, &is_err);
        if (is_err) {
            cr_assert(rel_contains_ci(t, "Continue failed"), "a losing continue gets a clear message: %s", t);
            refused++;
        } else {
            cJSON *j = cJSON_Parse(t);
            cr_assert_str_eq(rel_status(j), "completed", "the winning continue completes: %s", t);
            winner = strstr(t, "answer-");
            completed++;
            cJSON_Delete(j);
        }
    }
    rel_bulk_join(&b);
    free(buf);
    cr_assert_eq(completed, 1, "exactly one continue may win (got %d)", completed);
    cr_assert_eq(refused, 999);
    cr_assert_not_null(winner);
    cJSON *r = rel_run(s, "return alc.state.get('resumed')", NULL);
    cr_assert_eq(rel_get(r, "result")->valuedouble, 1, "the script resumed exactly once");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, thousand_pipelined_continues_each_answering_one_query_of_a_batch_all_land) {
    rel_srv *s = rel_start(NULL);
    char sid[64];
    start_paused(s, "local q = {} for i = 1, 1000 do q[i] = {prompt = 'p' .. i} end\n"
                    "local r = alc.llm_batch(q) for i = 1, 1000 do assert(r[i] == 'a' .. (i - 1), i) end return #r", sid);
    size_t cap = 1000 * 220, len = 0;
    char *buf = malloc(cap);
    int first = s->next_id;
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"alc_continue\","
                                "\"arguments\":{\"session_id\":\"%s\",\"query_id\":\"q-%d\",\"response\":\"a%d\"}}}\n",
                                first + i, sid, i, i);
    s->next_id += 1000;
    rel_bulk b;
    rel_bulk_start(&b, s, buf, len);
    int accepted = 0, completed = 0;
    for (int i = 0; i < 1000; i++) {
        cJSON *j = rel_ok_json(rel_wait(s, first + i));
        if (strcmp(rel_status(j), "accepted") == 0) accepted++;
        else if (strcmp(rel_status(j), "completed") == 0) {
            completed++;
            cr_assert_eq(rel_get(j, "result")->valuedouble, 1000);
        } else cr_assert_fail("unexpected status %s", rel_status(j));
        cJSON_Delete(j);
    }
    rel_bulk_join(&b);
    free(buf);
    cr_assert_eq(accepted, 999);
    cr_assert_eq(completed, 1);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ big payloads */

Test(e2e_badinput, ten_megabyte_prompt_and_response_travel_intact) {
    rel_srv *s = rel_start(NULL);
    cJSON *r = rel_run(s, "local p = string.rep('0123456789abcdef', 655360) local a = alc.llm(p)\n"
                          "return {n = #a, head = a:sub(1, 8), tail = a:sub(-8), same = (a == string.rep('ZYXWVUTS', 1310720))}", NULL);
    cr_assert_str_eq(rel_status(r), "needs_response");
    cr_assert_eq(strlen(rel_str(r, "prompt")), (size_t)10 << 20, "the 10 MB prompt arrives whole");
    char sid[64];
    rel_sid(r, sid);
    cJSON_Delete(r);
    cJSON *st = rel_ok_json(rel_call_fmt(s, "alc_status", "{\"session_id\":\"%s\",\"pending_filter\":\"full\"}", sid));
    cr_assert_eq(strlen(rel_str(cJSON_GetArrayItem(rel_get(st, "pending"), 0), "prompt")), (size_t)10 << 20);
    cJSON_Delete(st);
    size_t n = (size_t)10 << 20;
    char *resp = malloc(n + 1);
    for (size_t i = 0; i < n; i++) resp[i] = "ZYXWVUTS"[i % 8];
    resp[n] = '\0';
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "session_id", sid);
    cJSON_AddStringToObject(a, "response", resp);
    free(resp);
    r = rel_ok_json(rel_call(s, "alc_continue", a));
    cr_assert_str_eq(rel_status(r), "completed");
    const cJSON *res = rel_get(r, "result");
    cr_assert_eq(rel_get(res, "n")->valuedouble, (double)n, "the 10 MB response arrives whole");
    cr_assert(cJSON_IsTrue(rel_get(res, "same")), "and unchanged");
    cJSON_Delete(r);
    r = rel_run(s, "return string.rep('x', 10 * 1024 * 1024)", NULL);
    cr_assert_eq(strlen(rel_str(r, "result")), (size_t)10 << 20, "a 10 MB result is delivered");
    cJSON_Delete(r);
    rel_alive(s);
    rel_finish(s);
}

/* ------------------------------------------------------------------ results and errors */

Test(e2e_badinput, results_that_cannot_be_json_fail_clearly_naming_the_path) {
    rel_srv *s = rel_start(NULL);
    static const struct { const char *code, *needle; } cases[] = {
        {"local t = {} t.self = t return t", "cyclic"},
        {"local a, b = {}, {} a[1] = b b.x = a return a", "cyclic"},
        {"return function() end", "function"},
        {"return {f = print}", "$.f"},
        {"return {1, 2, coroutine.create(function() end)}", "thread"},
        {"return io.stdout", "userdata"},
        {"return {[{}] = 1}", "key"},
        {"return {[true] = 1}", "key"},
        {"return {[5] = 'a', ['5'] = 'b', x = 1}", "5"},
        {"local t = {} local c = t for i = 1, 250 do c[1] = {} c = c[1] end return t", "deep"},
        {"return setmetatable({}, {__index = function() error('no') end, __pairs = function() error('no') end})", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *r = rel_run(s, cases[i].code, NULL);
        if (cases[i].needle) rel_expect_failed(r, "engine_error", cases[i].needle, cases[i].code);
        else cr_assert_str_eq(rel_status(r), "completed", "%s", cases[i].code);
        cJSON_Delete(r);
    }
    rel_alive(s);
    rel_finish(s);
}

Test(e2e_badinput, errors_inside_error_handlers_and_non_string_error_values_fail_clearly) {
    rel_srv *s = rel_start(NULL);
    static const struct { const char *code, *needle; } cases[] = {
        {"error({code = 42})", "\"code\":42"},
        {"error({})", "error object"},
        {"local t = {} t.t = t error(t)", "error object"},
        {"error({f = function() end})", "error object"},
        {"error(nil)", "nil"},
        {"error(true)", "boolean"},
        {"error(12.5)", "12.5"},
        {"error('lvl0', 0)", "lvl0"},
        {"error(setmetatable({}, {__tostring = function() error('inner') end}))", NULL},
        {"error(setmetatable({}, {__tostring = function() return {} end}))", NULL},
        {"local function h(m) error('handler failed') end local ok, e = xpcall(error, h, 'x') error(e)", "error"},
        {"local function h(m) return 1 + h(m) end local ok, e = xpcall(error, h, 'x') error(e)", NULL},
        {"xpcall(error, function() error(setmetatable({}, {__tostring = function() error('x') end})) end) error('after')", "after"},
        {"setmetatable({}, {__gc = function() error('in gc') end}) collectgarbage() error('main')", "main"},
        {"coroutine.wrap(function() error({nested = true}) end)()", "nested"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *r = rel_run(s, cases[i].code, NULL);
        rel_expect_failed(r, NULL, cases[i].needle, cases[i].code);
        cJSON_Delete(r);
    }
    // rendering the error value may even pause (its __tostring asks the host); the session
    // then fails once answered
    cJSON *p = rel_run(s, "error(setmetatable({}, {__tostring = function() return 'E:' .. alc.llm('x') end}))", NULL);
    if (strcmp(rel_status(p), "needs_response") == 0) {
        char psid[64];
        rel_sid(p, psid);
        cJSON_Delete(p);
        p = rel_ok_json(rel_call_fmt(s, "alc_continue", "{\"session_id\":\"%s\",\"response\":\"R\"}", psid));
    }
    rel_expect_failed(p, "lua_error", "E:R", "error value rendered through alc.llm");
    cJSON_Delete(p);
    // an error value whose __tostring never returns is still cancellable
    int id = rel_send_run(s, "error(setmetatable({}, {__tostring = function() while true do end end}))", NULL);
    rel_sleep_ms(300);
    cJSON *lst = rel_ok_json(rel_call_json(s, "alc_status", "{}"));
    const char *sid = NULL;
    for (const cJSON *e = rel_get(lst, "sessions")->child; e; e = e->next)
        if (strcmp(rel_str(e, "state"), "running") == 0) sid = rel_str(e, "session_id");
    if (sid) {
        cJSON_Delete(rel_ok_json(rel_call_fmt(s, "alc_cancel", "{\"session_id\":\"%s\"}", sid)));
    }
    cJSON *r = rel_ok_json(rel_wait_within(s, id, 10000));
    const char *st = rel_status(r);
    cr_assert(strcmp(st, "cancelled") == 0 || strcmp(st, "error") == 0, "the looping __tostring ended: %s", st);
    cJSON_Delete(r);
    cJSON_Delete(lst);
    rel_alive(s);
    rel_finish(s);
}
