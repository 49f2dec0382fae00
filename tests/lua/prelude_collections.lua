-- alc.map / alc.filter / alc.reduce / alc.vote

-- map: fn(item, i), results by index
local m = alc.map({ 10, 20, 30 }, function(x, i) return x + i end)
assert(#m == 3 and m[1] == 11 and m[2] == 22 and m[3] == 33, "map adds the index")
assert(#alc.map({}, function() error("not called") end) == 0, "map of {} is {}")
local seen = {}
alc.map({ "a", "b" }, function(x, i) seen[#seen + 1] = x .. i end)
assert(seen[1] == "a1" and seen[2] == "b2", "map visits in order with indices")
-- map stops at the first hole (ipairs)
local h = alc.map({ 1, 2, nil, 4 }, function(x) return x * 2 end)
assert(h[1] == 2 and h[2] == 4 and h[3] == nil and h[4] == nil, "map follows ipairs")
-- map may produce nils in the results
local mn = alc.map({ 1, 2, 3 }, function(x) if x ~= 2 then return x end end)
assert(mn[1] == 1 and mn[2] == nil and mn[3] == 3, "nil results are kept as holes")

-- filter: keeps truthy fn(item, i), re-packed
local f = alc.filter({ 1, 2, 3, 4, 5 }, function(x) return x % 2 == 1 end)
assert(#f == 3 and f[1] == 1 and f[2] == 3 and f[3] == 5, "filter odd")
local fi = alc.filter({ "a", "b", "c", "d" }, function(_, i) return i > 2 end)
assert(#fi == 2 and fi[1] == "c" and fi[2] == "d", "filter by index, re-packed from 1")
assert(#alc.filter({ 1, 2 }, function() return false end) == 0, "filter none")
assert(#alc.filter({ 1, 2 }, function() return 0 end) == 2, "0 is truthy in Lua")
assert(#alc.filter({}, function() return true end) == 0, "filter of {}")

-- reduce
assert(alc.reduce({ 1, 2, 3, 4 }, function(a, x) return a + x end) == 10, "sum without init")
assert(alc.reduce({ 1, 2, 3, 4 }, function(a, x) return a + x end, 100) == 110, "sum with init")
local idx = {}
alc.reduce({ 5, 6, 7 }, function(a, x, i) idx[#idx + 1] = i; return a end)
assert(#idx == 2 and idx[1] == 2 and idx[2] == 3, "without init the fold starts at i = 2")
idx = {}
alc.reduce({ 5, 6, 7 }, function(a, x, i) idx[#idx + 1] = i; return a end, 0)
assert(#idx == 3 and idx[1] == 1 and idx[3] == 3, "with init the fold starts at i = 1")
assert(alc.reduce({}, function() error("not called") end) == nil, "empty without init -> nil")
assert(alc.reduce({}, function() error("not called") end, 7) == 7, "empty with init -> init")
assert(alc.reduce({ "only" }, function() error("not called") end) == "only", "single item without init")
assert(alc.reduce({ "a", "b", "c" }, function(a, x) return a .. x end, ">") == ">abc", "string fold")
-- init false is a real initial value (not nil)
assert(alc.reduce({ true, true }, function(a, x) return a or x end, false) == true, "false init")

-- vote
local v = alc.vote({ "a", " b", "b ", "a", "c" })
assert(v.winner == "a" and v.count == 2 and v.total == 5, "tie goes to the first-seen answer")
v = alc.vote({ "b", "a", "a", "b" })
assert(v.winner == "b" and v.count == 2 and v.total == 4, "first seen, not first to reach the count")
v = alc.vote({ " x ", "y", "x\n" })
assert(v.winner == "x" and v.count == 2 and v.total == 3, "answers are trimmed")
v = alc.vote({})
assert(v.winner == nil and v.count == 0 and v.total == 0, "empty vote")
v = alc.vote({ 1, "1", 2 })
assert(v.winner == "1" and v.count == 2 and v.total == 3, "answers compared after tostring")
v = alc.vote({ "Yes", "yes" })
assert(v.winner == "Yes" and v.count == 1, "comparison is case-sensitive")
v = alc.vote({ "z" })
assert(v.winner == "z" and v.count == 1 and v.total == 1, "single answer")
v = alc.vote({ "  ", "" })
assert(v.winner == "" and v.count == 2, "blank answers trim to the empty string")

return { ok = true }
