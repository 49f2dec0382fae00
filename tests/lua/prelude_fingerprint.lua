-- alc.fingerprint: normalisation (lower-case, whitespace runs -> one space, trim) + 32-bit DJB2.

-- DJB2 computed independently here: h = 5381; h = (h * 33 + byte) mod 2^32; 8 hex digits.
local function djb2(s)
  local h = 5381
  for i = 1, #s do
    h = (h * 33 + s:byte(i)) % 4294967296
  end
  return string.format("%08x", h)
end

-- values worked out by hand / from the published DJB2 tables
assert(djb2("") == "00001505", "djb2 of the empty string is 5381")
assert(djb2("a") == "0002b606", "djb2('a') = 5381*33+97")
assert(djb2("hello world") == "3551c8c1", "djb2('hello world')")

local cases = {
  { "", "00001505" },
  { "a", "0002b606" },
  { "A", "0002b606" },
  { "hello world", "3551c8c1" },
  { "Hello World", "3551c8c1" },
  { "  HELLO \t\n  world  ", "3551c8c1" },
  { "hello\r\nworld", "3551c8c1" },
  { "123", "0b8789fb" },
  { "The  Quick\tBrown\n\nFox", "b310c518" },
  { "   ", "00001505" },
}
for _, c in ipairs(cases) do
  local got = alc.fingerprint(c[1])
  assert(got == c[2], string.format("fingerprint(%q) = %s, want %s", c[1], got, c[2]))
end

-- non-strings go through tostring
assert(alc.fingerprint(123) == djb2("123"), "number input")
assert(alc.fingerprint(nil) == djb2("nil"), "nil input")
assert(alc.fingerprint(true) == djb2("true"), "boolean input")

-- long input: still 8 lower-case hex digits, equal to the independent computation
local long = string.rep("abc DEF ", 5000)
local fp = alc.fingerprint(long)
assert(#fp == 8 and fp:match("^[0-9a-f]+$"), "8 lower-case hex digits: " .. fp)
local norm = long:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
assert(fp == djb2(norm), "long input matches the reference computation")

-- bytes >= 0x80 are hashed as bytes
assert(alc.fingerprint("é") == djb2("é"), "UTF-8 bytes")
-- different strings differ
assert(alc.fingerprint("hello world") ~= alc.fingerprint("hello  world!"), "punctuation matters")

return { ok = true }
