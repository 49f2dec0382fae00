-- alc.fmt / alc.log_fmt

local F = alc.fmt
local function eq(got, want, what)
  assert(got == want, string.format("%s: got %q, want %q", what, tostring(got), tostring(want)))
end

-- integer conversions round floats half away from zero
eq(F("%d", 2.5), "3", "2.5")
eq(F("%d", 3.5), "4", "3.5")
eq(F("%d", -2.5), "-3", "-2.5")
eq(F("%d", -0.5), "-1", "-0.5")
eq(F("%d", 0.5), "1", "0.5")
eq(F("%d", 2.4999), "2", "2.4999")
eq(F("%d", -2.4999), "-2", "-2.4999")
eq(F("%d", 0.49999999999999994), "0", "largest double below 0.5")
eq(F("%d", 7), "7", "integer unchanged")
eq(F("%d", 7.0), "7", "integral float")
eq(F("%i", 1.5), "2", "%i")
eq(F("%5d|", 2.5), "    3|", "width")
eq(F("%-5d|", 2.5), "3    |", "left aligned")
eq(F("%03d", 1.6), "002", "zero padded")
eq(F("%+d", 0.7), "+1", "plus flag")
eq(F("%x", 254.5), "ff", "%x")
eq(F("%X", 255), "FF", "%X integer")
eq(F("%o", 7.6), "10", "%o")
eq(F("%c", 65.4), "A", "%c")
eq(F("%d", math.maxinteger), tostring(math.maxinteger), "maxinteger")
eq(F("%d", 1e20), "100000000000000000000", "float beyond the integer range")
eq(F("%d", -1e20), "-100000000000000000000", "negative float beyond the integer range")

-- NaN / Inf
local nan, inf = 0 / 0, 1 / 0
eq(F("%d", nan), "NaN", "%d NaN")
eq(F("%f", inf), "Inf", "%f Inf")
eq(F("%.2f", -inf), "-Inf", "%.2f -Inf")
eq(F("%g", nan), "NaN", "%g NaN")
eq(F("%5d|", nan), "  NaN|", "NaN keeps the width")
eq(F("%-6f|", inf), "Inf   |", "Inf keeps left alignment")
eq(F("%s", nan), "NaN", "%s NaN")
eq(F("%s", -inf), "-Inf", "%s -Inf")
eq(F("%x", inf), "Inf", "%x Inf")

-- nil and missing arguments
eq(F("%s", nil), "<nil>", "%s nil")
eq(F("%d", nil), "<nil>", "%d nil")
eq(F("%.2f", nil), "<nil>", "%f nil")
eq(F("%s and %s", "a"), "a and <nil>", "missing argument")
eq(F("%s %s %s", nil, 2, nil), "<nil> 2 <nil>", "nil between values")
eq(F("%7s|", nil), "  <nil>|", "nil keeps the width")

-- numeric strings are coerced for numeric conversions
eq(F("%d", "3.6"), "4", "numeric string to %d")
eq(F("%d", " 12 "), "12", "spaces around a number")
eq(F("%.2f", "1.5"), "1.50", "numeric string to %f")
eq(F("%x", "0x10"), "10", "hex string")
eq(F("%s", "3.6"), "3.6", "%s keeps strings")
-- non-numeric values under numeric conversions are shown, not raised
eq(F("%d", "abc"), "abc", "word under %d")
eq(F("%d", true), "true", "boolean under %d")

-- plain string.format behaviour otherwise
eq(F("100%% of %s", "x"), "100% of x", "%%")
eq(F("%5.1f", 3.14159), "  3.1", "%5.1f")
eq(F("%.3f", 2), "2.000", "integer under %f")
eq(F("%e", 12345.678), string.format("%e", 12345.678), "%e")
eq(F("%s", 3), "3", "%s integer")
eq(F("%s", 1.0), "1.0", "%s float")
eq(F("%q", "a\nb"), string.format("%q", "a\nb"), "%q")
eq(F("%-3s|%3s", "a", "b"), "a  |  b", "string widths")
eq(F("no specs"), "no specs", "no conversions")
eq(F(""), "", "empty format")
eq(F("%s", setmetatable({}, { __tostring = function() return "OBJ" end })), "OBJ", "__tostring")
eq(F("%s=%d, %s=%.1f", "a", 1.5, "b", 2.25), "a=2, b=2.2", "several conversions")

-- errors
local ok, err = pcall(F, "%y", 1)
assert(not ok and tostring(err):find("invalid conversion", 1, true), "unknown conversion: " .. tostring(err))
ok, err = pcall(F, 5)
assert(not ok and tostring(err):find("format must be a string", 1, true), "non-string format")
ok = pcall(F, "%")
assert(not ok, "lone %")

-- log_fmt formats and logs without raising
alc.log_fmt("info", "x=%d y=%s", 1.5, nil)
alc.log_fmt("warn", "nan=%f", nan)
ok = pcall(alc.log_fmt, "info", "%y", 1)
assert(not ok, "log_fmt raises on a bad format")

return { ok = true }
