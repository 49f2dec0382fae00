-- alc.json_extract: whole string, fences, balanced braces, balanced brackets, non-strings.

local X = alc.json_extract

-- whole string
local t = X('{"a": 1}')
assert(type(t) == "table" and t.a == 1, "whole object")
t = X('[1, 2, 3]')
assert(#t == 3 and t[3] == 3, "whole array")
t = X('  {"a": {"b": [true, false]}}  ')
assert(t.a.b[1] == true and t.a.b[2] == false, "whole nested with whitespace")
t = X("{}")
assert(type(t) == "table" and next(t) == nil, "empty object is a table")
t = X('{"a": null}')
assert(t.a == alc.null, "null inside is the sentinel")

-- decodes that do not yield a table are skipped
assert(X("42") == nil, "number is not a table")
assert(X('"str"') == nil, "string is not a table")
assert(X("null") == nil, "null is not a table")
assert(X("true") == nil, "boolean is not a table")
assert(X("") == nil, "empty string")
assert(X("no json here") == nil, "prose")
assert(X("{unbalanced") == nil, "unbalanced")
assert(X("{not: json}") == nil, "balanced but invalid")

-- non-strings
assert(X(nil) == nil and X(42) == nil and X({}) == nil and X(true) == nil, "non-strings -> nil")

-- fences
t = X('Here you go:\n```json\n{"a": 2}\n```\nThanks!')
assert(t.a == 2, "json fence")
t = X('x ```\n{"b": 3}\n``` y')
assert(t.b == 3, "plain fence")
t = X('```js\n{"c": 4}\n```')
assert(t.c == 4, "fence with an info word")
t = X('```\n{"bad": }\n```\nthen\n```json\n{"good": 1}\n```')
assert(t.good == 1 and t.bad == nil, "a json fence wins over an earlier plain fence")
t = X('```json\n[1, 2]\n```')
assert(#t == 2, "array in a fence")
t = X('```json\n{"x": "has ``` inside"}\n```')
-- the fence body stops at the first ```; the balanced-brace scan still finds the object
assert(t.x == "has ``` inside", "backticks inside a string")

-- balanced braces, left to right
t = X('The answer is {"x": {"y": [1, 2]}} ok')
assert(t.x.y[2] == 2, "embedded nested object")
t = X('{not json} then {"k": "v"}')
assert(t.k == "v", "a later object after an invalid one")
t = X('{"outer": bad, "inner": {"ok": true}}')
assert(t.ok == true and t.outer == nil, "inner object when the outer is invalid")
t = X('first {"n": 1} second {"n": 2}')
assert(t.n == 1, "first valid object wins")
t = X('prefix {"s": "a}b", "n": 1} suffix')
assert(t.s == "a}b" and t.n == 1, "closing brace inside a string")
t = X('x {"s": "q\\"}", "m": 2} y')
assert(t.s == 'q"}' and t.m == 2, "escaped quote inside a string")
t = X('He said "hi" and {"a": 1}')
assert(t.a == 1, "quotes in the prose before the JSON")
t = X('it is { a "quote {"a": 1}')
assert(t.a == 1, "stray quote after an unmatched brace")
t = X('{"a": "{"} tail {"b": 1}')
assert(t.a == "{", "open brace inside a string")

-- arrays come after objects
t = X('list: [1, 2, 3] end')
assert(#t == 3 and t[1] == 1, "embedded array")
t = X('a [1, 2] b {"z": 1}')
assert(t.z == 1, "objects are tried before arrays")
t = X('a {bad} [true, false]')
assert(t[1] == true and t[2] == false, "array when no object decodes")
t = X('[bad] and [{"q": 1}]')
assert(t.q == 1, "object inside an array is found by the brace scan")
t = X('[1, [2, 3]')
assert(#t == 2 and t[1] == 2, "inner balanced array when the outer is unbalanced")

-- hostile input stays fast (linear matching)
local t0 = os.clock()
assert(X(string.rep("{", 20000)) == nil, "many open braces")
t = X(string.rep("[", 20000) .. "]")
assert(type(t) == "table" and next(t) == nil, "many open brackets, one close: the innermost [] is found")
assert(X(string.rep('{"a":', 2000)) == nil, "deep unclosed")
assert(os.clock() - t0 < 5, "hostile inputs take under 5 s of CPU")

-- round trip with a large valid object embedded in prose
local big = {}
for i = 1, 500 do big["k" .. i] = i end
t = X("Result:\n" .. alc.json_encode(big) .. "\nDone.")
assert(t.k1 == 1 and t.k500 == 500, "large embedded object")

return { ok = true }
