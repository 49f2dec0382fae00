-- ctx: {}
-- The prelude is loaded group by group on first use (runtime.c): what a script can observe
-- of that, and what it must not be able to observe.

-- a group whose loading fails (here: the C stack is nearly used up, as deep inside nested
-- pcalls) is not marked loaded: the next read, from a normal depth, loads it
local function deep(n)
  if n == 0 then return alc.fingerprint("x") end
  local ok, r = pcall(deep, n - 1)
  if not ok then error(r, 0) end
  return r
end
local failed_once = false
for n = 260, 1, -1 do
  local ok = pcall(deep, n)
  if ok then break end
  failed_once = true
end
assert(failed_once, "the C stack limit was reached at some depth")
assert(type(alc.fingerprint) == "function" and type(alc.cache_info) == "function", "the cache group loaded later")
assert(alc.fingerprint("Hello  World") == alc.fingerprint("hello world"))

-- fields of a group not used yet are not in the table, but reading them loads them
assert(rawget(alc, "map") == nil, "alc.map is not loaded before its first use")
assert(rawget(alc, "filter") == nil)
assert(type(alc.map) == "function", "reading alc.map loads it")
assert(rawget(alc, "map") ~= nil and rawget(alc, "filter") ~= nil, "and its whole group with it")
assert(alc.map({ 1, 2 }, function(x) return x * 10 end)[2] == 20)

-- alc.math (C functions) is created on first use as well
assert(rawget(alc, "math") == nil, "alc.math is not built before its first use")
assert(alc.math.mean({ 1, 2, 3 }) == 2)
assert(rawget(alc, "math") == alc.math, "and then it is a plain field")

-- unknown fields stay nil, non-string keys too
assert(alc.no_such_helper == nil)
assert(alc[1] == nil and alc[true] == nil)

-- alc.state.update is there from the start (the eager group)
assert(type(rawget(alc.state, "update")) == "function")

-- a field the script set before its group loaded keeps the script's value
local mine = function() return "mine" end
alc.parse_number = mine
assert(type(alc.parse_score) == "function", "loads the parsing group")
assert(alc.parse_number == mine, "the script's alc.parse_number survives the group's loading")
assert(alc.parse_score("7") == 7)

-- the prelude does not see globals the script replaced before the first use
local real_string, real_type = string, type
string = nil
type = function() return "nonsense" end
local ok, out = pcall(function() return alc.fmt("%d-%s", 4, "x") end)
string, type = real_string, real_type
assert(ok, "alc.fmt works after the script clobbered string and type: " .. tostring(out))
assert(out == "4-x", out)

-- the prelude keeps the real alc.null and the real next, whatever the script does later
assert(rawget(_G, "_ALC_NULL") == nil, "no helper global leaks")
local real_null, real_next = alc.null, next
alc.null = "not the sentinel"
local t = alc.tuning({ a = 1 }, { a = real_null })
alc.null = real_null
assert(t.a == 1, "a JSON null in ctx still keeps the default")
next = function() error("the script's next") end
local count = 0
for _ in pairs(alc) do count = count + 1 end
next = real_next
assert(count > 30, "pairs(alc) does not call the script's next")

-- the metatable cannot be replaced, so the lazy fields cannot be lost
assert(getmetatable(alc) == false)
assert(not pcall(setmetatable, alc, {}), "setmetatable(alc, ...) is refused")

-- pairs sees every field, loaded or not
local seen = {}
for k, v in pairs(alc) do seen[k] = type(v) end
for _, n in ipairs({ "eval", "pipe", "tuning", "cache", "llm_json", "vote", "fingerprint", "llm", "json_encode" }) do
  assert(seen[n] == "function", "pairs(alc) lists alc." .. n)
end
assert(seen.math == "table" and seen.state == "table", "and the sub-tables")

-- errors raised inside a lazily loaded function name their line of src/lua/prelude.lua
local src = assert(io.open(ctx.repo_root .. "/src/lua/prelude.lua")):read("a")
local in_reduce, line_no, want = false, 0, nil
for line in (src .. "\n"):gmatch("(.-)\n") do
  line_no = line_no + 1
  if line:match("^function alc%.reduce%(") then in_reduce = true end
  if in_reduce and line:find("items[1]", 1, true) then want = line_no; break end
end
assert(want, "found alc.reduce's loop in prelude.lua")
local ok2, err = pcall(alc.reduce, 42, function(a, b) return a + b end)
assert(not ok2)
assert(tostring(err):find("prelude:" .. want .. ":", 1, true), "error names prelude line " .. want .. ": " .. tostring(err))

return { ok = true }
