--[[
evalframe.graders — the built-in graders and the rules that turn any grader's return value
into a grade.

A grader is called as fn(output, expected, case, raw, params):
  output    string   the strategy's answer text (see evalframe.output_text)
  expected  any      case.expected (nil when the case has none)
  case      table    the scenario case (input, expected, tags, ctx, ...)
  raw       any      what the strategy returned (normally its ctx, with ctx.result)
  params    table    the grader entry's options ({"numeric_close", tolerance = 0.01} gives
                     params.tolerance = 0.01); {} for a plain name
It returns a boolean, a number in [0, 1], or a table {score = n, pass = bool, reason = s}
(each field optional, but at least one of score / pass). See M.normalize_grade.

Built-in graders (where expected may be a list, any element that matches passes):
  exact_match    trimmed output == tostring(expected); params.ignore_case
  contains       output contains tostring(expected) (plain text); params.ignore_case
  regex          output matches the Lua pattern params.pattern, else expected
  numeric_close  a number read from the output is within params.tolerance (absolute,
                 default 1e-6) or params.relative (times |expected|) of expected;
                 params.pick = "last" (default) or "first" number in the text
  json_field     the value at params.field (dot path, e.g. "answer" or "items.1.name") of
                 the JSON found in the output (alc.json_extract), else of the strategy's
                 ctx.result table, equals expected (numbers numerically, strings trimmed,
                 tables deeply)
  llm_judge      asks the host's model to score the output from 0 to 10 against
                 params.rubric (or case.rubric), the input and the expected answer if any;
                 score = n / 10, passes at params.threshold (default 0.7). Its prompt pauses
                 the session like any alc.llm call.
]]

local M = {}

local function trim(s)
  return (tostring(s):gsub("^%s+", ""):gsub("%s+$", ""))
end

local function as_list(expected)
  if type(expected) == "table" and expected[1] ~= nil then return expected end
  return { expected }
end

local function any_of(expected, pred)
  for _, e in ipairs(as_list(expected)) do
    if pred(e) then return true end
  end
  return false
end

local function short(s, n)
  if type(s) == "table" then
    local ok, text = pcall(alc.json_encode, s)
    s = ok and text or "a table"
  end
  s = tostring(s)
  n = n or 80
  if #s <= n then return s end
  return s:sub(1, n) .. "..."
end

-- ---------------------------------------------------------------- exact_match / contains

function M.exact_match(output, expected, _, _, params)
  local ic = params.ignore_case
  local out = trim(output)
  if ic then out = out:lower() end
  local ok = any_of(expected, function(e)
    local want = trim(e)
    if ic then want = want:lower() end
    return out == want
  end)
  return { pass = ok, reason = (not ok) and ("expected '" .. short(expected) .. "', got '" .. short(out) .. "'") or nil }
end

function M.contains(output, expected, _, _, params)
  local ic = params.ignore_case
  local out = tostring(output)
  if ic then out = out:lower() end
  local ok = any_of(expected, function(e)
    local want = tostring(e)
    if ic then want = want:lower() end
    return out:find(want, 1, true) ~= nil
  end)
  return { pass = ok, reason = (not ok) and ("output does not contain '" .. short(expected) .. "'") or nil }
end

-- ---------------------------------------------------------------- regex (Lua patterns)

function M.regex(output, expected, _, _, params)
  local pats = params.pattern ~= nil and params.pattern or expected
  local out = tostring(output)
  local ok = any_of(pats, function(p)
    local fine, found = pcall(string.find, out, tostring(p))
    if not fine then
      error("regex grader: bad Lua pattern '" .. tostring(p) .. "': " .. tostring(found), 0)
    end
    return found ~= nil
  end)
  return { pass = ok, reason = (not ok) and ("output does not match pattern '" .. short(pats) .. "'") or nil }
end

-- ---------------------------------------------------------------- numeric_close

-- Numbers in text: "-12", "3.5", "1,234" (thousands separators), "1e-3".
local function numbers_in(text)
  local found = {}
  for tok in tostring(text):gmatch("[%-+]?%d[%d,]*%.?%d*[eE]?[%-+]?%d*") do
    local t = tok
    if t:find(",", 1, true) then
      if t:match("^[%-+]?%d%d?%d?,%d%d%d") and not t:match(",%d%d%d%d") then
        t = t:gsub(",", "")
      else
        t = t:match("^[^,]*")
      end
    end
    local v = tonumber(t) or tonumber((t:gsub("[eE][%-+]?$", "")))
    if v then found[#found + 1] = v end
  end
  return found
end
M.numbers_in = numbers_in

function M.numeric_close(output, expected, _, _, params)
  local value = tonumber(trim(output))
  if value == nil then
    local nums = numbers_in(output)
    if #nums == 0 then return { pass = false, reason = "no number in output '" .. short(output) .. "'" } end
    value = params.pick == "first" and nums[1] or nums[#nums]
  end
  local tol = tonumber(params.tolerance) or 1e-6
  local rel = tonumber(params.relative) or 0
  local ok = any_of(expected, function(e)
    local want = tonumber(e)
    if want == nil then
      error("numeric_close grader: expected value '" .. tostring(e) .. "' is not a number", 0)
    end
    local bound = math.max(tol, rel * math.abs(want))
    return math.abs(value - want) <= bound
  end)
  return { pass = ok, reason = (not ok) and ("got " .. tostring(value) .. ", expected " .. short(expected)) or nil }
end

-- ---------------------------------------------------------------- json_field

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) == "number" or type(b) == "number" then
    local x, y = tonumber(a), tonumber(b)
    return x ~= nil and y ~= nil and x == y
  end
  if type(a) == "string" and type(b) == "string" then return trim(a) == trim(b) end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.deep_equal = deep_equal

local function lookup(t, path)
  local cur = t
  for seg in tostring(path):gmatch("[^%.]+") do
    if type(cur) ~= "table" then return nil end
    local v = cur[seg]
    if v == nil then
      local i = math.tointeger(tonumber(seg))
      if i then v = cur[i] end
    end
    cur = v
  end
  return cur
end

function M.json_field(output, expected, _, raw, params)
  local field = params.field
  local doc = alc.json_extract(output)
  local value = doc ~= nil and lookup(doc, field) or nil
  if value == nil and type(raw) == "table" and type(raw.result) == "table" then
    value = lookup(raw.result, field)
  end
  if value == nil or value == alc.null then
    return { pass = false, reason = "field '" .. tostring(field) .. "' not found in the output" }
  end
  local ok = deep_equal(value, expected)
  if not ok and type(expected) == "table" and expected[1] ~= nil and type(value) ~= "table" then
    ok = any_of(expected, function(e) return deep_equal(value, e) end)
  end
  local shown = tostring(value)
  if type(value) == "table" then
    local fine, text = pcall(alc.json_encode, value)
    shown = fine and text or "a table"
  end
  return { pass = ok, reason = (not ok) and ("field '" .. tostring(field) .. "' is " .. short(shown)) or nil }
end

-- ---------------------------------------------------------------- llm_judge

M.JUDGE_SYSTEM = "You are a strict, fair evaluator of answers. Reply with JSON only."

function M.judge_prompt(output, expected, case, params)
  local parts = { "Grade the answer below.\n\nTask:\n" .. tostring(case.input) }
  if expected ~= nil then
    local e = expected
    if type(e) == "table" then e = alc.json_encode(e) end
    parts[#parts + 1] = "Reference answer:\n" .. tostring(e)
  end
  local rubric = params.rubric or case.rubric
  parts[#parts + 1] = "Criteria:\n" .. tostring(rubric or
    "Is the answer correct and does it address the task? Judge substance, not style.")
  parts[#parts + 1] = "Answer to grade:\n" .. tostring(output)
  parts[#parts + 1] = 'Score the answer from 0 (wrong or missing) to 10 (fully correct). '
    .. 'Reply with JSON only: {"score": <0-10>, "reason": "<one short sentence>"}'
  return table.concat(parts, "\n\n")
end

function M.llm_judge(output, expected, case, _, params)
  local prompt = M.judge_prompt(output, expected, case, params)
  local reply = alc.llm(prompt, { system = M.JUDGE_SYSTEM, max_tokens = tonumber(params.max_tokens) or 300 })
  local t = alc.json_extract(reply)
  local n = type(t) == "table" and tonumber(t.score) or nil
  local why = type(t) == "table" and type(t.reason) == "string" and t.reason or nil
  if n == nil then n = alc.parse_number(reply) end
  if n == nil then
    return { score = 0, pass = false, reason = "the judge's reply has no score: " .. short(reply) }
  end
  if n < 0 then n = 0 elseif n > 10 then n = 10 end
  local score = n / 10
  local threshold = tonumber(params.threshold) or 0.7
  return { score = score, pass = score >= threshold, reason = why or ("judge score " .. n .. "/10") }
end

-- ---------------------------------------------------------------- registry and rules

-- name -> {fn, needs_expected, check(params) -> error text | nil}
M.builtin = {
  exact_match = { fn = M.exact_match, needs_expected = true },
  contains = { fn = M.contains, needs_expected = true },
  regex = { fn = M.regex, needs_expected = "unless_pattern" },
  numeric_close = { fn = M.numeric_close, needs_expected = true },
  json_field = {
    fn = M.json_field, needs_expected = true,
    check = function(p)
      if type(p.field) ~= "string" or p.field == "" then
        return "needs a 'field' option, e.g. {\"json_field\", field = \"answer\"}"
      end
    end,
  },
  llm_judge = { fn = M.llm_judge, needs_expected = false },
}

function M.names()
  local names = {}
  for k in pairs(M.builtin) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- Turns what a grader returned into {score, passed, reason}. threshold applies to numeric
-- scores without an explicit pass. Raises on anything else.
function M.normalize_grade(v, threshold)
  if type(v) == "boolean" then return { score = v and 1 or 0, passed = v } end
  if type(v) == "number" then
    if v ~= v then error("returned NaN", 0) end
    local s = math.max(0, math.min(1, v))
    return { score = s, passed = s >= threshold }
  end
  if type(v) == "table" then
    local pass = v.pass
    if pass == nil then pass = v.passed end
    local score = v.score
    if score ~= nil and type(score) ~= "number" then
      error("returned a score that is a " .. type(score) .. ", not a number", 0)
    end
    if score ~= nil and score ~= score then error("returned score NaN", 0) end
    if score == nil and pass == nil then error("returned a table without 'score' or 'pass'", 0) end
    if score == nil then score = pass and 1 or 0 end
    score = math.max(0, math.min(1, score))
    if pass == nil then pass = score >= threshold end
    local reason = v.reason
    if reason ~= nil then reason = tostring(reason) end
    return { score = score, passed = pass and true or false, reason = reason }
  end
  error("returned " .. type(v) .. "; a grader must return a boolean, a number in [0, 1] or {score, pass, reason}", 0)
end

return M
