-- alc.state.update(key, fn, default?): get, apply, set, return.

alc.state.delete("cnt")
assert(alc.state.update("cnt", function(v) return v + 1 end, 10) == 11, "default used when absent")
assert(alc.state.get("cnt") == 11, "stored")
assert(alc.state.update("cnt", function(v) return v + 1 end, 10) == 12, "stored value used when present")
assert(alc.state.get("cnt") == 12, "stored again")

-- tables
alc.state.delete("list")
local l = alc.state.update("list", function(v) v[#v + 1] = "x"; return v end, {})
assert(#l == 1 and l[1] == "x", "first append")
l = alc.state.update("list", function(v) v[#v + 1] = "y"; return v end, {})
assert(#l == 2 and l[2] == "y", "second append")
local back = alc.state.get("list")
assert(#back == 2 and back[1] == "x" and back[2] == "y", "list round trip")

-- no default: fn receives nil
alc.state.delete("nd")
assert(alc.state.update("nd", function(v) assert(v == nil, "nil when absent"); return "set" end) == "set", "no default")
assert(alc.state.get("nd") == "set", "stored string")

-- fn errors propagate and nothing is written
local ok, err = pcall(alc.state.update, "cnt", function() error("no") end)
assert(not ok and tostring(err):find("no", 1, true), "fn error propagates")
assert(alc.state.get("cnt") == 12, "value unchanged after a failing fn")

-- fn may call the LLM
local s = alc.state.update("llm", function(v) return alc.llm("update " .. tostring(v)) end, "seed")
assert(s == "R:update seed" and alc.state.get("llm") == "R:update seed", "LLM inside update")

-- unencodable values raise from set
ok = pcall(alc.state.update, "bad", function() return function() end end)
assert(not ok, "functions cannot be stored")

for _, k in ipairs({ "cnt", "list", "nd", "llm" }) do alc.state.delete(k) end
return { ok = true }
