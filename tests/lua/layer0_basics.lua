-- Layer 0 through Lua: JSON, matchers, chunk, math, state, stats, print, log, and alc.llm in
-- awkward frames (pcall, gsub callback, sort comparator, coroutine).

-- ---------------------------------------------------------------- JSON
local E, D = alc.json_encode, alc.json_decode
assert(E({}) == "{}", "empty plain table is an object")
assert(E(D("[]")) == "[]", "decoded empty array stays an array")
assert(E(D("{}")) == "{}", "decoded empty object stays an object")
assert(E({ 1, 2, 3 }) == "[1,2,3]", "sequence is an array")
assert(E({ b = 1, a = 2 }) == '{"a":2,"b":1}', "object keys sorted")
assert(E({ a = { b = { c = "d" } } }) == '{"a":{"b":{"c":"d"}}}', "nested")
assert(E(1.0) == "1.0" and E(3) == "3", "floats vs integers")
assert(E("x\"y\n") == '"x\\"y\\n"', "string escapes")
assert(E(true) == "true" and E(false) == "false", "booleans")
assert(E(nil) == "null" and E(alc.null) == "null", "nil and the sentinel encode as null")
assert(D("null") == alc.null, "null decodes to the sentinel")
assert(type(alc.null) == "userdata", "sentinel is a userdata")
local o = D('{"a": null, "b": [1, null, 3]}')
assert(o.a == alc.null and o.b[2] == alc.null and o.b[3] == 3, "nulls inside")
assert(E({ a = alc.null }) == '{"a":null}', "sentinel in an object")
assert(math.type(D("1")) == "integer" and math.type(D("1.5")) == "float", "number kinds")
assert(D('"é"') == "é", "UTF-8 string")
local rt = D(E({ list = { 1, 2 }, obj = { k = "v" }, s = "t", n = 1.5, t = true }))
assert(rt.list[2] == 2 and rt.obj.k == "v" and rt.s == "t" and rt.n == 1.5 and rt.t == true, "round trip")
assert(not pcall(D, "{bad"), "invalid JSON raises")
assert(not pcall(D, ""), "empty input raises")
assert(not pcall(E, function() end), "functions cannot be encoded")
local cyc = {}; cyc.self = cyc
assert(not pcall(E, cyc), "cycles cannot be encoded")

-- ---------------------------------------------------------------- matchers
local mb = {
  { "yes", true }, { "No.", false }, { "LGTM", true }, { "I approve? approved", true },
  { "approved, no wait: rejected", false }, { "ok then yes", true }, { "passed", nil },
  { "token", nil }, { "", nil }, { "bypass", nil }, { "fail", false }, { "It is TRUE", true },
}
for i, c in ipairs(mb) do
  assert(alc.match_bool(c[1]) == c[2], string.format("match_bool case %d (%q)", i, c[1]))
end
local cands = { "positive", "negative", "neutral" }
assert(alc.match_enum("The answer is positive", cands) == "positive", "substring")
assert(alc.match_enum("negative, or rather positive", cands) == "positive", "rightmost wins")
assert(alc.match_enum("POSITIVE", { "Positive" }) == "Positive", "original casing returned")
assert(alc.match_enum("posotive", cands) == "positive", "fuzzy match")
assert(alc.match_enum("xyz", cands) == nil, "no match")

-- ---------------------------------------------------------------- chunk
local ch = alc.chunk("a\nb\nc\nd\ne", { size = 2 })
assert(#ch == 3 and ch[1] == "a\nb" and ch[2] == "c\nd" and ch[3] == "e", "line chunks")
ch = alc.chunk("a\nb\nc\nd\ne", { size = 2, overlap = 1 })
assert(#ch == 4 and ch[1] == "a\nb" and ch[4] == "d\ne", "overlapping chunks")
ch = alc.chunk("abcdef", { mode = "chars", size = 4 })
assert(#ch == 2 and ch[1] == "abcd" and ch[2] == "ef", "char chunks")
assert(#alc.chunk("", {}) == 0, "empty text")
assert(#alc.chunk("abc", { size = 0 }) == 0, "size 0")
ch = alc.chunk("a\nb\n")
assert(#ch == 1 and ch[1] == "a\nb", "final newline adds no empty line")

-- ---------------------------------------------------------------- math
local M = alc.math
assert(M.mean({ 1, 2, 3, 4 }) == 2.5, "mean")
assert(M.median({ 3, 1, 2 }) == 2, "median")
assert(math.abs(M.variance({ 1, 2, 3, 4 }) - 5 / 3) < 1e-12, "sample variance")
local r1, r2 = M.rng_create(42), M.rng_create(42)
for _ = 1, 5 do
  local a, b = M.rng_float(r1), M.rng_float(r2)
  assert(a == b and a >= 0 and a < 1, "seeded rng is reproducible and in [0, 1)")
end
local sm = M.softmax({ 1, 2, 3 })
assert(math.abs(sm[1] + sm[2] + sm[3] - 1) < 1e-12 and sm[3] > sm[2], "softmax")
local ci = M.wilson_ci(5, 10)
assert(ci.lower < 0.5 and ci.upper > 0.5, "wilson_ci around 0.5")

-- ---------------------------------------------------------------- state
alc.state.delete("l0_key")
local absent = alc.state.get("l0_key")
assert(absent == nil, "alc.state.get(absent key) without a default returns nil, got " .. type(absent))
assert(alc.state.get("l0_key", "d") == "d", "absent key returns the default")
alc.state.set("l0_key", { n = 1, list = { "a" } })
local got = alc.state.get("l0_key")
assert(got.n == 1 and got.list[1] == "a", "table persisted")
assert(alc.state.has("l0_key") == true, "has")
assert(alc.state.set_nx("l0_key", 5) == false and alc.state.get("l0_key").n == 1, "set_nx keeps")
assert(alc.state.set_nx("l0_nx", 5) == true and alc.state.get("l0_nx") == 5, "set_nx writes")
local v = alc.state.incr("l0_ctr")
assert(v == 1 and math.type(v) == "float", "incr returns a float")
assert(alc.state.incr("l0_ctr", 2.5) == 3.5, "incr with delta")
local keys = {}
for _, k in ipairs(alc.state.keys()) do keys[k] = true end
assert(keys.l0_key and keys.l0_nx and keys.l0_ctr, "keys lists the stored keys")
assert(alc.state.delete("l0_key") == true and alc.state.delete("l0_key") == false, "delete")
alc.state.set("l0_str", "text")
assert(not pcall(alc.state.incr, "l0_str"), "incr on a string raises")
for _, k in ipairs({ "l0_nx", "l0_ctr", "l0_str" }) do alc.state.delete(k) end

-- ---------------------------------------------------------------- stats
alc.stats.record("k", { a = 1 })
assert(alc.stats.get("k").a == 1, "stats round trip")
alc.stats.record("k", "second")
assert(alc.stats.get("k") == "second", "last write wins")
assert(alc.stats.get("missing") == nil, "missing stat")
local c0 = alc.stats.llm_calls()
assert(math.type(c0) == "integer", "llm_calls is an integer")

-- ---------------------------------------------------------------- print / log / misc
print("hello", 1, nil, true, 2.5, {})
print(string.rep("x", 10000))
print("line with newline\n")
print()
io.write("") -- stdout is not the protocol stream
alc.log("info", "info message")
alc.log("unknown-level", "treated as info")
alc.log("debug", 12345)
alc.progress(1, 3, "step one")
alc.progress(2, 3)
assert(type(alc.time()) == "number" and alc.time() > 1.6e9, "alc.time is Unix seconds")

-- ---------------------------------------------------------------- alc.llm in awkward frames
local e = alc.json_decode(alc.llm("ECHO:opts", { system = "S", max_tokens = 5, grounded = true,
  temperature = 0.2, model = "ignored" }))
assert(e.system == "S" and e.max_tokens == 5 and e.grounded == true and e.underspecified == false,
  "options reach the host; unknown keys are ignored")
local ok, val = pcall(alc.llm, "in pcall")
assert(ok and val == "R:in pcall", "alc.llm inside pcall")
ok, val = xpcall(alc.llm, debug and debug.traceback or tostring, "in xpcall")
assert(ok and val == "R:in xpcall", "alc.llm inside xpcall")
local s = ("a b"):gsub("%a", function(w) return alc.llm("G" .. w) end)
assert(s == "R:Ga R:Gb", "alc.llm inside a gsub callback: " .. s)
local t = { 3, 1, 2 }
local ncmp = 0
table.sort(t, function(x, y) ncmp = ncmp + 1; return alc.llm("ANSWER:" .. (x < y and "lt" or "ge")) == "lt" end)
assert(t[1] == 1 and t[2] == 2 and t[3] == 3, "alc.llm inside a sort comparator")
local co = coroutine.wrap(function(p)
  local a = alc.llm(p)
  local b = coroutine.yield(a)
  return alc.llm(b)
end)
assert(co("co1") == "R:co1", "alc.llm inside a coroutine")
assert(co("co2") == "R:co2", "and again after a yield")
local mt = setmetatable({}, { __index = function(_, k) return alc.llm("idx " .. k) end })
assert(mt.key == "R:idx key", "alc.llm inside an __index metamethod")
local b = alc.llm_batch({ { prompt = "a" }, { prompt = "b", system = "s" } })
assert(#b == 2 and b[1] == "R:a" and b[2] == "R:b", "llm_batch")
ok = pcall(alc.llm_batch, {})
assert(not ok, "empty batch raises")
ok = pcall(alc.llm_batch, { { system = "no prompt" } })
assert(not ok, "item without prompt raises")
assert(alc.stats.llm_calls() == c0 + 10 + ncmp, "one LLM call per request, got " .. (alc.stats.llm_calls() - c0))

return { ok = true }
