-- alc.ground / alc.specify / alc.llm_safe (no budget here) and what the host sees.
-- "ECHO:" prompts make the test host answer with a JSON description of the query.

local function echo(s) return alc.json_decode(s) end

-- plain alc.llm: flags default to false
local e = echo(alc.llm("ECHO:plain"))
assert(e.prompt == "ECHO:plain" and e.grounded == false and e.underspecified == false, "plain flags")
assert(e.system == alc.null and e.max_tokens == 1024, "defaults: no system, 1024 tokens")

-- ground sets grounded, keeps the other options, does not touch the caller's table
local opts = { system = "SYS", max_tokens = 77, temperature = 0.3 }
e = echo(alc.ground("ECHO:claim", opts))
assert(e.grounded == true and e.underspecified == false, "ground sets grounded only")
assert(e.system == "SYS" and e.max_tokens == 77, "ground keeps system and max_tokens")
assert(opts.grounded == nil, "ground copies opts")
assert(alc.ground("a claim") == "R:a claim", "ground returns the answer")
e = echo(alc.ground("ECHO:noopts"))
assert(e.grounded == true and e.max_tokens == 1024, "ground without opts")

-- specify sets underspecified
e = echo(alc.specify("ECHO:vague", opts))
assert(e.underspecified == true and e.grounded == false, "specify sets underspecified only")
assert(e.system == "SYS" and e.max_tokens == 77, "specify keeps options")
assert(opts.underspecified == nil, "specify copies opts")
e = echo(alc.specify("ECHO:both", { grounded = true }))
assert(e.underspecified == true and e.grounded == true, "caller flags survive")
assert(alc.specify("vague") == "R:vague", "specify returns the answer")

-- llm_safe: success passes the answer through
assert(alc.llm_safe("fine", nil, "dflt") == "R:fine", "llm_safe success")
e = echo(alc.llm_safe("ECHO:opts", { system = "X" }, "dflt"))
assert(e.system == "X", "llm_safe passes opts")
-- an error from alc.llm becomes the default, without an LLM call
local c0 = alc.stats.llm_calls()
assert(alc.llm_safe({}, nil, "dflt") == "dflt", "non-string prompt -> default")
assert(alc.llm_safe("x", "not a table", 42) == 42, "bad opts -> default")
assert(alc.llm_safe(nil, nil, nil) == nil, "default may be nil")
assert(alc.stats.llm_calls() == c0, "failed calls made no LLM call")

return { ok = true }
