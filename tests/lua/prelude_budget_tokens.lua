-- ctx: {"budget":{"max_tokens":10}}
-- alc.budget_check honours the token budget (the original ignored it).

local r = alc.budget_remaining()
assert(r.tokens == 10 and r.llm_calls == alc.null, "10 tokens, no call limit")
assert(alc.budget_check() == true, "fresh token budget passes")
-- a 200-character prompt is about 50 estimated tokens
alc.llm(string.rep("word ", 40))
r = alc.budget_remaining()
assert(r.tokens == 0, "tokens used up, got " .. tostring(r.tokens))
assert(alc.budget_check() == false, "budget_check is false once the token budget is used up")
local ok, err = pcall(alc.llm, "more")
assert(not ok and tostring(err):find("max_tokens", 1, true), "the engine agrees: " .. tostring(err))

return { ok = true }
