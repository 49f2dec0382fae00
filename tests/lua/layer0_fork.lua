-- alc.fork: three children and a failing one; multiplexed ids; order; abort; errors.
local r = alc.fork({ "fx_echo", "fx_batch", "fx_fail" }, { task = "T" })
assert(#r == 3, "three results")
assert(r[1].strategy == "fx_echo" and r[1].ok == true, "echo ok")
assert(r[1].result.result == "R:echo T", "echo answer: " .. tostring(r[1].result.result))
assert(r[2].ok == true and r[2].result.result == "R:b1 T+R:b2 T+R:b3 T", "batch answer: " .. tostring(r[2].result and r[2].result.result))
assert(r[3].ok == false and r[3].error:find("fixture failure", 1, true), "failing child reported")
-- first pause: echo's 1 + batch's 2 + fail's 1 = 4 queries in one batch; then batch's single call
assert(alc.stats.llm_calls() == 5, "llm calls: " .. alc.stats.llm_calls())

-- ctx is a copy: children cannot change the parent's table
local c = { task = "U", n = 1 }
alc.fork({ "fx_echo" }, c)
assert(c.result == nil, "parent ctx untouched")

-- on_error = "abort" (and the documented "fail") raise naming the failed strategy
for _, mode in ipairs({ "abort", "fail" }) do
  local ok, err = pcall(alc.fork, { "fx_echo", "fx_fail" }, { task = "V" }, { on_error = mode })
  assert(not ok and err:find("strategy 'fx_fail' failed", 1, true), mode .. ": " .. tostring(err))
end

-- bad arguments
local ok, err = pcall(alc.fork, {}, {})
assert(not ok and err:find("non-empty", 1, true), tostring(err))
ok, err = pcall(alc.fork, { "../etc" }, {})
assert(not ok and err:find("invalid strategy name", 1, true), tostring(err))
ok, err = pcall(alc.fork, { "fx_missing" }, {})
assert(ok and err[1].ok == false and err[1].error:find("fx_missing", 1, true), "missing package is a child failure")

-- nested forks are refused as a failure of that child only
local n = alc.fork({ "fx_nested" }, { task = "W" })
assert(n[1].ok == false and n[1].error:find("nested forks", 1, true), tostring(n[1].error))
return { ok = true }
