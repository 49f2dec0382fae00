-- ctx: {"budget":{"max_llm_calls":2}}
-- alc.budget_check / alc.llm_safe against an LLM-call budget.

local r = alc.budget_remaining()
assert(type(r) == "table", "a budget is set")
assert(r.llm_calls == 2, "2 calls left, got " .. tostring(r.llm_calls))
assert(r.elapsed_ms == alc.null and r.tokens == alc.null, "unset limits are alc.null")
assert(alc.budget_check() == true, "fresh budget passes")

assert(alc.llm_safe("ANSWER:one", nil, "dflt") == "one", "first call within budget")
assert(alc.budget_check() == true, "one call left")
assert(alc.llm("two") == "R:two", "second call within budget")
assert(alc.budget_remaining().llm_calls == 0, "no calls left")
assert(alc.budget_check() == false, "budget_check false once llm_calls reaches 0")

-- the engine refuses further calls; llm_safe turns that into the default
local ok, err = pcall(alc.llm, "three")
assert(not ok and tostring(err):find("budget_exceeded", 1, true), "alc.llm raises budget_exceeded: " .. tostring(err))
assert(alc.llm_safe("three", nil, "dflt") == "dflt", "llm_safe returns the default on budget errors")
assert(alc.llm_safe("three", { system = "s" }, { fallback = true }).fallback == true, "table default")
assert(alc.stats.llm_calls() == 2, "exactly two calls were made")

-- helpers built on alc.llm see the same error
ok, err = pcall(alc.llm_json, "x")
assert(not ok and tostring(err):find("budget_exceeded", 1, true), "llm_json propagates budget errors")
ok, err = pcall(alc.parallel, { 1, 2 }, function(x) return "p" .. x end)
assert(not ok and tostring(err):find("budget_exceeded", 1, true), "parallel propagates budget errors")

return { ok = true }
