-- alc.tuning: dict merge, arrays replaced, prefix, extra keys dropped, _schema dropped.

local defaults = {
  a = 1,
  b = "x",
  flag = true,
  list = { 1, 2, 3 },
  nested = { p = 1, q = 2, deep = { z = 0 }, _schema = "inner schema" },
  _schema = { a = "number" },
}

local r = alc.tuning(defaults, {
  a = 5,
  flag = false,
  list = { 9 },
  nested = { q = 20, extra = 9, deep = { z = 1, w = 2 } },
  other = "dropped",
})
assert(r.a == 5, "scalar override")
assert(r.b == "x", "missing key keeps the default")
assert(r.flag == false, "false overrides true")
assert(#r.list == 1 and r.list[1] == 9, "arrays are replaced, not merged")
assert(r.nested.p == 1 and r.nested.q == 20, "dicts are merged")
assert(r.nested.extra == nil, "extra nested keys are dropped")
assert(r.nested.deep.z == 1 and r.nested.deep.w == nil, "deep merge")
assert(r.nested._schema == nil, "nested _schema dropped")
assert(r.other == nil, "extra top-level keys are dropped")
assert(r._schema == nil, "_schema dropped")
assert(defaults.a == 1 and defaults.nested.q == 2, "defaults are not modified")

-- no ctx / non-table ctx -> defaults (minus _schema)
r = alc.tuning(defaults, nil)
assert(r.a == 1 and r.nested.q == 2 and r._schema == nil, "nil ctx")
r = alc.tuning(defaults, alc.null)
assert(r.a == 1, "null ctx")
r = alc.tuning(defaults, "text")
assert(r.b == "x", "string ctx")

-- prefix
r = alc.tuning(defaults, { strat = { a = 7, nested = { p = 3 } }, a = 99 }, { prefix = "strat" })
assert(r.a == 7 and r.nested.p == 3 and r.nested.q == 2, "prefix selects ctx[prefix]")
r = alc.tuning(defaults, { a = 99 }, { prefix = "strat" })
assert(r.a == 1, "missing prefix table -> defaults")
r = alc.tuning(defaults, { strat = "oops", a = 99 }, { prefix = "strat" })
assert(r.a == 1, "non-table prefix value -> defaults (warned)")
r = alc.tuning(defaults, { strat = alc.null }, { prefix = "strat" })
assert(r.a == 1, "null prefix value -> defaults")
-- the prefix is not applied when recursing
r = alc.tuning({ nested = { strat = 1, v = 1 } }, { s = { nested = { v = 2 } } }, { prefix = "s" })
assert(r.nested.v == 2 and r.nested.strat == 1, "prefix only at the top level")

-- type mismatches: the ctx value wins whole
r = alc.tuning(defaults, { nested = 5 })
assert(r.nested == 5, "non-table replaces a dict default")
r = alc.tuning(defaults, { a = { 1 } })
assert(type(r.a) == "table" and r.a[1] == 1, "table replaces a scalar default")
r = alc.tuning(defaults, { list = { x = 1 } })
assert(r.list.x == 1 and r.list[1] == nil, "array defaults are replaced even by dicts")

-- JSON null in ctx keeps the default
r = alc.tuning(defaults, alc.json_decode('{"a": null, "nested": {"q": null}}'))
assert(r.a == 1 and r.nested.q == 2, "null values keep defaults")

-- ctx decoded from JSON (as packages receive it)
r = alc.tuning(defaults, alc.json_decode('{"a": 3, "list": [], "nested": {"deep": {"z": 5}}}'))
assert(r.a == 3 and #r.list == 0 and r.nested.deep.z == 5, "decoded ctx")

-- non-table defaults are returned unchanged
assert(alc.tuning(5, { a = 1 }) == 5, "number defaults")
assert(alc.tuning(nil, { a = 1 }) == nil, "nil defaults")
assert(alc.tuning("s") == "s", "string defaults")
-- empty defaults -> empty result
assert(next(alc.tuning({}, { a = 1 })) == nil, "empty defaults give an empty table")

return { ok = true }
