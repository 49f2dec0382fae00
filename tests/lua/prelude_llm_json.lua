-- alc.llm_json: good JSON in one call, bad JSON -> exactly one repair retry.
-- "ANSWER:<text>" prompts make the test host reply with <text> verbatim.

local calls = alc.stats.llm_calls
local RETRY_SYSTEM = "Output ONLY valid JSON. No markdown fences, no explanation."

-- good JSON: one call, (table, raw)
local c0 = calls()
local t, raw = alc.llm_json('ANSWER:{"v": 1, "list": [1, 2]}')
assert(type(t) == "table" and t.v == 1 and #t.list == 2, "decoded table")
assert(raw == '{"v": 1, "list": [1, 2]}', "raw answer returned second")
assert(calls() == c0 + 1, "one call for good JSON")

-- JSON inside a fence and prose still counts as good
t, raw = alc.llm_json('ANSWER:Sure!\n```json\n{"v": 2}\n```')
assert(t.v == 2 and calls() == c0 + 2, "fenced JSON, one call")

-- bad JSON: exactly one retry; the retry's answer is not JSON either -> nil, raw2
c0 = calls()
t, raw = alc.llm_json("ANSWER:not json at all")
assert(t == nil, "no table after the failed retry")
assert(calls() == c0 + 2, "exactly one retry (2 calls), got " .. (calls() - c0))
local expected_retry = "The previous response was not valid JSON.\n\nPrevious output:\nnot json at all"
  .. "\n\nFix the JSON and return ONLY valid JSON.\n\nOriginal request:\nANSWER:not json at all"
assert(raw == "R:" .. expected_retry, "raw is the retry's answer; the retry prompt is exact")

-- record what the prelude sends by wrapping alc.llm (the prelude calls it through the table)
local real_llm = alc.llm
local seen = {}
alc.llm = function(prompt, opts)
  seen[#seen + 1] = { prompt = prompt, opts = opts }
  if prompt:find("^The previous response") then
    return real_llm('ANSWER:{"fixed": true}', opts)   -- the repair succeeds
  end
  return real_llm(prompt, opts)
end
local user_opts = { system = "original system", max_tokens = 77 }
c0 = calls()
t, raw = alc.llm_json("ANSWER:{broken", user_opts)
alc.llm = real_llm
assert(t ~= nil and t.fixed == true, "the repaired answer is decoded")
assert(raw == '{"fixed": true}', "raw is the repaired text")
assert(calls() == c0 + 2, "two calls")
assert(#seen == 2, "two prompts sent")
assert(seen[1].prompt == "ANSWER:{broken" and seen[1].opts == user_opts, "first call: caller's prompt and opts")
assert(seen[2].opts ~= user_opts, "the retry uses a copy of opts")
assert(seen[2].opts.system == RETRY_SYSTEM, "retry system prompt")
assert(seen[2].opts.max_tokens == 77, "other options are kept on retry")
assert(user_opts.system == "original system", "caller's opts are not modified")
assert(seen[2].prompt:find("Previous output:\n{broken", 1, true), "retry quotes the bad output")

-- the host sees the retry's system prompt
alc.llm = function(prompt, opts)
  if prompt:find("^The previous response") then
    return real_llm("ECHO:retry", opts)
  end
  return real_llm(prompt, opts)
end
t, raw = alc.llm_json("ANSWER:nope")
alc.llm = real_llm
assert(type(t) == "table" and t.system == RETRY_SYSTEM, "host saw the JSON-only system prompt")
assert(t.max_tokens == 1024, "default max_tokens on retry")

-- an array answer is fine too
t = alc.llm_json("ANSWER:[1, 2, 3]")
assert(#t == 3, "array answer")

return { ok = true }
