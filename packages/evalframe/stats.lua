--[[
evalframe.stats — the numbers of an evaluation report, in plain Lua.

  summary(xs)            -> {n, mean, std_dev, min, max, median}
  mean(xs), std_dev(xs), median(xs)
  wilson(passed, total)  -> {lower, upper}   95 % Wilson score interval of a pass rate
  welch_t(a, b)          -> {t_stat, df, p_value, significant, direction}

std_dev is the sample standard deviation (divisor n - 1); it is 0 for fewer than two values.
The median of an even count is the mean of the two middle values. Empty input gives n = 0
and zeros elsewhere, never NaN (NaN cannot be written as JSON).
]]

local S = {}

-- z for a two-sided 95 % interval (the 0.975 quantile of the standard normal).
S.Z95 = 1.959963984540054

local function check(xs, fn)
  if type(xs) ~= "table" then
    error("evalframe.stats." .. fn .. ": expected an array of numbers, got " .. type(xs), 3)
  end
  for i = 1, #xs do
    local v = xs[i]
    if type(v) ~= "number" or v ~= v then
      error("evalframe.stats." .. fn .. ": element " .. i .. " is not a number", 3)
    end
  end
end

function S.mean(xs)
  check(xs, "mean")
  local n = #xs
  if n == 0 then return 0 end
  local sum = 0
  for i = 1, n do sum = sum + xs[i] end
  return sum / n
end

function S.std_dev(xs)
  check(xs, "std_dev")
  local n = #xs
  if n < 2 then return 0 end
  local m = S.mean(xs)
  local ss = 0
  for i = 1, n do
    local d = xs[i] - m
    ss = ss + d * d
  end
  return math.sqrt(ss / (n - 1))
end

function S.median(xs)
  check(xs, "median")
  local n = #xs
  if n == 0 then return 0 end
  local s = {}
  for i = 1, n do s[i] = xs[i] end
  table.sort(s)
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

function S.summary(xs)
  check(xs, "summary")
  local n = #xs
  if n == 0 then
    return { n = 0, mean = 0, std_dev = 0, min = 0, max = 0, median = 0 }
  end
  local lo, hi = xs[1], xs[1]
  for i = 2, n do
    if xs[i] < lo then lo = xs[i] end
    if xs[i] > hi then hi = xs[i] end
  end
  return { n = n, mean = S.mean(xs), std_dev = S.std_dev(xs), min = lo, max = hi, median = S.median(xs) }
end

-- Wilson score interval for passed successes out of total (z = 1.96): better than the
-- normal approximation at small n and at rates near 0 or 1. total = 0 gives {0, 0}.
function S.wilson(passed, total, z)
  if type(passed) ~= "number" or type(total) ~= "number" or total < 0 or passed < 0 or passed > total then
    error("evalframe.stats.wilson: need 0 <= passed <= total", 2)
  end
  if total == 0 then return { lower = 0, upper = 0 } end
  z = z or S.Z95
  local p, z2 = passed / total, z * z
  local denom = 1 + z2 / total
  local center = (p + z2 / (2 * total)) / denom
  local margin = z * math.sqrt((p * (1 - p) + z2 / (4 * total)) / total) / denom
  local lower, upper = center - margin, center + margin
  if lower < 0 then lower = 0 end
  if upper > 1 then upper = 1 end
  return { lower = lower, upper = upper }
end

-- Welch's t-test on two score arrays, via alc.math.welch_t_test (two-sided p-value,
-- Welch–Satterthwaite df). significant = p < alpha (default 0.05); direction is "a>b",
-- "a<b" or "equal" by the sign of mean(a) - mean(b). Fewer than two values on a side gives
-- {significant = false, note = ...} without t, df and p. Zero variance on both sides with
-- different means gives t_stat = nil (infinite), p_value = 0.
function S.welch_t(a, b, alpha)
  check(a, "welch_t")
  check(b, "welch_t")
  alpha = alpha or 0.05
  local d = S.mean(a) - S.mean(b)
  local dir = d > 0 and "a>b" or (d < 0 and "a<b" or "equal")
  if #a < 2 or #b < 2 then
    return { significant = false, direction = dir, note = "each side needs at least 2 scores" }
  end
  local r = alc.math.welch_t_test(a, b)
  local t = r.t_stat
  if t ~= t or t == math.huge or t == -math.huge then t = nil end
  return { t_stat = t, df = r.df, p_value = r.p_value, significant = r.p_value < alpha, direction = dir }
end

return S
