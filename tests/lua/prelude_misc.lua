-- The prelude as a whole: every §4.5 function exists, no globals leak, budget helpers
-- without a budget.

local names = {
  "cache", "cache_info", "cache_clear", "map", "filter", "reduce", "vote", "ground", "specify",
  "parse_score", "parse_number", "json_extract", "llm_safe", "llm_json", "fingerprint",
  "budget_check", "tuning", "parallel", "pipe", "fmt", "log_fmt", "eval",
}
for _, n in ipairs(names) do
  assert(type(alc[n]) == "function", "alc." .. n .. " is a function")
end
assert(type(alc.state.update) == "function", "alc.state.update is a function")

-- no globals besides the standard library, alc, ctx and print
local allowed = {}
for _, n in ipairs({
  "_G", "_VERSION", "assert", "collectgarbage", "dofile", "error", "getmetatable", "ipairs",
  "load", "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset",
  "require", "select", "setmetatable", "tonumber", "tostring", "type", "xpcall", "warn",
  "coroutine", "io", "math", "os", "package", "string", "table", "utf8", "debug",
  "alc", "ctx",
}) do allowed[n] = true end
for k in pairs(_G) do
  assert(allowed[k], "unexpected global: " .. tostring(k))
end

-- ctx defaults to an empty table
assert(type(ctx) == "table" and next(ctx) == nil, "ctx is {} without a ctx argument")

-- no budget: budget_remaining is nil and budget_check is true
assert(alc.budget_remaining() == nil, "no budget")
assert(alc.budget_check() == true, "budget_check without a budget")

-- budget_check reads alc.budget_remaining at call time (wrapped here to cover every field)
local real = alc.budget_remaining
local fake
alc.budget_remaining = function() return fake end
local cases = {
  { nil, true },
  { { llm_calls = 3, elapsed_ms = alc.null, tokens = alc.null }, true },
  { { llm_calls = 0, elapsed_ms = alc.null, tokens = alc.null }, false },
  { { llm_calls = alc.null, elapsed_ms = 0, tokens = alc.null }, false },
  { { llm_calls = alc.null, elapsed_ms = 5, tokens = 0 }, false },
  { { llm_calls = -1, elapsed_ms = 5, tokens = 5 }, false },
  { { llm_calls = alc.null, elapsed_ms = alc.null, tokens = alc.null }, true },
  { { llm_calls = 1, elapsed_ms = 1, tokens = 1 }, true },
}
for i, c in ipairs(cases) do
  fake = c[1]
  assert(alc.budget_check() == c[2], "budget_check case " .. i)
end
alc.budget_remaining = real

-- prelude helpers call Layer 0 through the alc table, so wrappers see their calls
local real_llm = alc.llm
local n = 0
alc.llm = function(p, o) n = n + 1; return real_llm(p, o) end
alc.ground("g"); alc.specify("s"); alc.llm_safe("l", nil, nil); alc.cache("c")
alc.llm = real_llm
assert(n == 4, "ground/specify/llm_safe/cache go through alc.llm, got " .. n)

return { ok = true }
