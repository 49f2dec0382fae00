-- alc.parse_score / alc.parse_number

local score_cases = {
  -- input, default, expected
  { "Score: 7/10", nil, 7 },
  { "8", nil, 8 },
  { "0", nil, 1 },            -- clamped up
  { "15", nil, 10 },          -- clamped down
  { "rating 12 of 20", nil, 10 },
  { "-3", nil, 3 },           -- digits only, no sign
  { "7.5", nil, 7 },          -- first run of digits
  { "no digits here", nil, 5 },
  { "", nil, 5 },
  { "nothing", 3, 3 },
  { "nothing", 0, 0 },        -- the default is returned as given
  { "score 4", 9, 4 },
  { "99999999999999999999999", nil, 10 },
  { "a1b2", nil, 1 },
  { "  10  ", nil, 10 },
}
for i, c in ipairs(score_cases) do
  local got = alc.parse_score(c[1], c[2])
  assert(got == c[3], string.format("parse_score case %d (%q): got %s, want %s", i, c[1], tostring(got), c[3]))
end
assert(alc.parse_score(9) == 9, "numbers go through tostring")
assert(alc.parse_score(7.5) == 7, "float input")
assert(alc.parse_score(nil) == 5, "nil input -> default")
assert(type(alc.parse_score({})) == "number", "a table does not raise")
assert(math.type(alc.parse_score("6")) == "integer", "scores are integers")

local num_cases = {
  -- text, pattern, expected
  { "abc 42 def", nil, 42 },
  { "temp -3.5C", nil, -3.5 },
  { "v 007", nil, 7 },
  { "1e5", nil, 1 },
  { "--5", nil, -5 },
  { "3.", nil, 3.0 },
  { "none", nil, nil },
  { "", nil, nil },
  { "x=10, y=20", "y=(%d+)", 20 },
  { "x=10, y=20", "x=(%d+)", 10 },
  { "3.14", "(%d+)%.(%d+)", 3 },  -- only the first capture is converted
  { "abc", "(%d+)", nil },
  { "price: 12.50 USD", "price: ([%d%.]+)", 12.5 },
  { "word", "(%a+)", nil },       -- a capture that is not a number
  { "0x1F", "(0x%x+)", 31 },
}
for i, c in ipairs(num_cases) do
  local got = alc.parse_number(c[1], c[2])
  assert(got == c[3], string.format("parse_number case %d (%q, %s): got %s, want %s", i, c[1],
    tostring(c[2]), tostring(got), tostring(c[3])))
end
assert(math.type(alc.parse_number("n=12")) == "integer", "integers stay integers")
assert(math.type(alc.parse_number("n=1.5")) == "float", "decimals are floats")
assert(alc.parse_number(42) == nil, "non-string -> nil")
assert(alc.parse_number(nil) == nil, "nil -> nil")
assert(alc.parse_number({}) == nil, "table -> nil")

return { ok = true }
