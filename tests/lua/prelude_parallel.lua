-- alc.parallel: batch shapes, options, post_fn, validation errors.

local calls = alc.stats.llm_calls

-- string prompts: one batch, answers in order
local c0 = calls()
local r = alc.parallel({ "a", "b", "c" }, function(x, i) return "P" .. i .. x end)
assert(#r == 3 and r[1] == "R:P1a" and r[2] == "R:P2b" and r[3] == "R:P3c", "answers in input order")
assert(calls() == c0 + 3, "three queries")

-- string prompts take system / max_tokens from opts (host sees them)
r = alc.parallel({ 1, 2 }, function(x) return "ECHO:" .. x end, { system = "SYS", max_tokens = 33 })
for i = 1, 2 do
  local e = alc.json_decode(r[i])
  assert(e.prompt == "ECHO:" .. i, "prompt " .. i)
  assert(e.system == "SYS" and e.max_tokens == 33, "opts applied to item " .. i)
  assert(e.grounded == false, "no flags")
end

-- table prompts are sent as they are (their own system / flags)
r = alc.parallel({ 1, 2 }, function(x)
  return { prompt = "ECHO:t" .. x, system = "T" .. x, grounded = x == 2, underspecified = x == 1 }
end, { system = "ignored for tables", max_tokens = 5 })
local e1, e2 = alc.json_decode(r[1]), alc.json_decode(r[2])
assert(e1.system == "T1" and e2.system == "T2", "table items keep their system")
assert(e1.max_tokens == 1024, "table items do not take opts.max_tokens")
assert(e1.underspecified == true and e1.grounded == false, "item 1 flags")
assert(e2.grounded == true and e2.underspecified == false, "item 2 flags")

-- mixed string and table results
r = alc.parallel({ "s", "t" }, function(x) if x == "s" then return "str" end return { prompt = "tbl" } end)
assert(r[1] == "R:str" and r[2] == "R:tbl", "mixed item kinds")

-- a single item still works (the host sees a single query)
r = alc.parallel({ "only" }, function(x) return x end)
assert(#r == 1 and r[1] == "R:only", "single item")

-- post_fn(response, item, i)
r = alc.parallel({ "x", "y" }, function(x) return "Q" .. x end, {
  post_fn = function(resp, item, i) return { resp = resp, item = item, i = i } end,
})
assert(r[1].resp == "R:Qx" and r[1].item == "x" and r[1].i == 1, "post_fn item 1")
assert(r[2].resp == "R:Qy" and r[2].item == "y" and r[2].i == 2, "post_fn item 2")
r = alc.parallel({ "3", "4" }, function(x) return "ANSWER:" .. x end, { post_fn = function(resp) return tonumber(resp) end })
assert(r[1] == 3 and r[2] == 4, "post_fn as a plain function")

-- items may be tables; prompt_fn gets (item, i)
r = alc.parallel({ { q = "one" }, { q = "two" } }, function(item, i) return item.q .. "#" .. i end)
assert(r[1] == "R:one#1" and r[2] == "R:two#2", "table items")

-- many items in one batch
local items = {}
for i = 1, 50 do items[i] = i end
c0 = calls()
r = alc.parallel(items, function(x) return "ANSWER:" .. x * 2 end)
assert(#r == 50 and r[50] == "100" and r[1] == "2", "50 items")
assert(calls() == c0 + 50, "50 queries")

-- validation errors (raised at the caller's level)
local function err_of(...)
  local ok, err = pcall(alc.parallel, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end
assert(err_of({}, function() return "x" end):find("non-empty", 1, true), "empty items")
assert(err_of("abc", function() return "x" end):find("non-empty", 1, true), "non-table items")
assert(err_of(nil, function() return "x" end):find("non-empty", 1, true), "nil items")
assert(err_of({ 1 }, "not a function"):find("prompt_fn must be a function", 1, true), "bad prompt_fn")
assert(err_of({ 1 }, function() return 5 end):find("item 1 gave number", 1, true), "number result")
assert(err_of({ 1, 2 }, function(x) if x == 2 then return { prompt = 5 } end return "ok" end)
  :find("item 2 gave table", 1, true), "table without a string prompt")
assert(err_of({ 1 }, function() return nil end):find("item 1 gave nil", 1, true), "nil result")
-- level 2: the message points at the calling line of this script
local ok, err = pcall(function() alc.parallel({}, print) end)
assert(not ok and tostring(err):find("prelude_parallel%.lua:%d+:"), "error blames the caller: " .. tostring(err))
-- no query was sent for the failed validations
c0 = calls()
pcall(alc.parallel, { 1, 2 }, function(x) if x == 2 then return 7 end return "fine" end)
assert(calls() == c0, "validation happens before the batch is sent")

return { ok = true }
