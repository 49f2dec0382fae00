--[[
evalframe — runs a scenario of test cases through a strategy, grades each answer and
reports pass rates and score statistics. alc.eval (the prelude) and the alc_eval tool are
built on it; it is a library, not a strategy (no run(ctx)).

Scenario (a Lua table):
  name            string, optional (the report calls it "inline" otherwise)
  cases           array, required, non-empty; each case:
    input         string or number, required: becomes ctx.task for the strategy
    expected      any, optional: what the graders compare with (a list = any of these)
    tags          array of strings, optional: the report breaks results down by tag
    ctx           table, optional: extra ctx fields for this case only
    name          string, optional: shown in results and failures
    rubric        string, optional: criteria for llm_judge
  graders         array, optional (default {"exact_match"}); each entry is
                    "name"                      a built-in grader (evalframe.graders)
                    {"name", opt = v, ...}      a built-in grader with options
                    {name = "name", ...}        the same
                    function(output, expected, case, raw, params)  a custom grader
                    {fn = function, name = "label", threshold = 0.5}
  pass_threshold  number, optional (default 1): a numeric score passes at this value
                  unless the grader entry sets its own threshold
  extract         function(raw, case) -> string, optional: the answer text to grade
                  (default evalframe.output_text)
  provider        function(ctx, case) -> raw, optional: replaces running the strategy

A case passes when every grader passes; its score is the mean of the graders' scores. A
strategy that raises on a case fails that case (score 0, `error` set) and the run goes on;
a grader that raises, or a scenario that breaks these rules, stops the run with an error
naming the case and the grader.

evalframe.run(scenario, opts) -> report
  opts.strategy       package name (required unless the scenario has a provider)
  opts.strategy_opts  table of ctx fields for every case (copied, never shared)
Per case the strategy gets a fresh ctx: a deep copy of strategy_opts, then of case.ctx,
then task = case.input, and is run as require(strategy).run(ctx).

Report:
  name, strategy, scenario,
  aggregated = {total, passed, failed, errors, pass_rate, pass_at_1,
                scores = {n, mean, std_dev, min, max, median}, ci_95 = {lower, upper},
                by_tag = {tag = {total, passed, pass_rate, mean_score}}},
  results = [{index, name?, input, expected?, tags?, output, score, passed,
              grades = [{grader, score, passed, reason?}], error?, llm_calls, elapsed_ms}],
  failures = [{index, name?, input, expected?, output, score, reasons, error?}],
  summary = "name: 7/10 passed (70.0%), mean score 0.750"
ci_95 is the Wilson interval of the pass rate; std_dev is the sample standard deviation.
]]

local graders = require("evalframe.graders")
local stats = require("evalframe.stats")

local M = {}

M.meta = {
  name = "evalframe",
  version = "0.1.0",
  description = "Scenario evaluation for strategies: graders, pass rates, score statistics",
  category = "system",
}

M.graders = graders
M.stats = stats

local function array()
  return alc.json_decode("[]")
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return setmetatable(c, getmetatable(v))
end
M.deep_copy = deep_copy

local function fail(fmt, ...)
  error("evalframe: " .. string.format(fmt, ...), 0)
end

local function case_label(i, case)
  if type(case) == "table" and type(case.name) == "string" then
    return string.format("cases[%d] (%s)", i, case.name)
  end
  return string.format("cases[%d]", i)
end

-- The answer text of a strategy's return value: ctx.result when the strategy returned its
-- ctx; then a string field answer / final_answer / output / text / response of a table;
-- else the value as JSON (tables) or tostring.
function M.output_text(raw)
  local v = raw
  if type(v) == "table" and v.result ~= nil then v = v.result end
  if v == nil or v == alc.null then return "" end
  if type(v) == "table" then
    for _, k in ipairs({ "answer", "final_answer", "output", "text", "response" }) do
      local f = v[k]
      if type(f) == "string" or type(f) == "number" then return tostring(f) end
    end
    local ok, s = pcall(alc.json_encode, v)
    return ok and s or tostring(v)
  end
  return tostring(v)
end

-- ---------------------------------------------------------------- validation

local function normalize_grader(entry, i, threshold)
  local where = string.format("graders[%d]", i)
  if type(entry) == "function" then
    return { label = "custom_" .. i, fn = entry, params = {}, threshold = threshold }
  end
  local name, params
  if type(entry) == "string" then
    name, params = entry, {}
  elseif type(entry) == "table" then
    if type(entry.fn) == "function" then
      return {
        label = type(entry.name) == "string" and entry.name or ("custom_" .. i),
        fn = entry.fn, params = entry,
        threshold = tonumber(entry.threshold) or threshold,
      }
    end
    name = entry[1] or entry.name
    params = entry
    if type(name) ~= "string" then
      fail("%s must name a grader: {\"exact_match\", ...} or {name = \"...\"}", where)
    end
  else
    fail("%s must be a grader name, a table or a function, got %s", where, type(entry))
  end
  local def = graders.builtin[name]
  if not def then
    fail("unknown grader '%s' in %s (known: %s)", name, where, table.concat(graders.names(), ", "))
  end
  if def.check then
    local msg = def.check(params)
    if msg then fail("grader '%s' in %s %s", name, where, msg) end
  end
  return {
    label = name, fn = def.fn, params = params, builtin = def,
    threshold = tonumber(params.threshold) or threshold,
  }
end

-- Checks a scenario and returns {name, cases, graders, extract, provider}; raises a clear
-- error for anything that would break the run.
function M.normalize(spec)
  if type(spec) ~= "table" then fail("a scenario must be a table, got %s", type(spec)) end
  local cases = spec.cases
  if type(cases) ~= "table" or cases[1] == nil then
    fail("the scenario needs 'cases': a non-empty array of {input = ..., expected = ...}")
  end
  local threshold = spec.pass_threshold
  if threshold == nil then threshold = 1 end
  if type(threshold) ~= "number" or threshold < 0 or threshold > 1 then
    fail("pass_threshold must be a number in [0, 1]")
  end
  local gspec = spec.graders
  if gspec == nil then gspec = { "exact_match" } end
  if type(gspec) == "string" or type(gspec) == "function" then gspec = { gspec } end
  if type(gspec) ~= "table" or gspec[1] == nil then
    fail("'graders' must be a non-empty array of grader names, tables or functions")
  end
  local gs = {}
  for i = 1, #gspec do gs[i] = normalize_grader(gspec[i], i, threshold) end
  local n = #cases
  for k in pairs(cases) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      fail("'cases' must be an array (found key %s)", tostring(k))
    end
  end
  for i = 1, n do
    local c = cases[i]
    local label = case_label(i, c)
    if type(c) ~= "table" then fail("%s must be a table, got %s", label, type(c)) end
    if c.input == nil or c.input == alc.null then fail("%s has no 'input'", label) end
    if type(c.input) ~= "string" and type(c.input) ~= "number" then
      fail("%s: 'input' must be a string or a number, got %s", label, type(c.input))
    end
    if c.tags ~= nil then
      if type(c.tags) ~= "table" then fail("%s: 'tags' must be an array of strings", label) end
      for _, t in ipairs(c.tags) do
        if type(t) ~= "string" then fail("%s: 'tags' must be an array of strings", label) end
      end
    end
    if c.ctx ~= nil and type(c.ctx) ~= "table" then
      fail("%s: 'ctx' must be a table, got %s", label, type(c.ctx))
    end
    for _, g in ipairs(gs) do
      local need = g.builtin and g.builtin.needs_expected
      if need == "unless_pattern" then need = g.params.pattern == nil end
      if need and (c.expected == nil or c.expected == alc.null) then
        fail("%s has no 'expected', which grader '%s' needs", label, g.label)
      end
    end
  end
  if spec.extract ~= nil and type(spec.extract) ~= "function" then
    fail("'extract' must be a function(raw, case) -> string")
  end
  if spec.provider ~= nil and type(spec.provider) ~= "function" then
    fail("'provider' must be a function(ctx, case) -> result")
  end
  return {
    name = type(spec.name) == "string" and spec.name or nil,
    cases = cases, graders = gs, extract = spec.extract, provider = spec.provider,
  }
end

-- ---------------------------------------------------------------- providers

M.providers = {}

-- A provider that runs a strategy package: require(name).run(ctx) with ctx = copy of opts,
-- then of case.ctx, then task = case.input.
function M.providers.strategy(p)
  local name = p.name
  if type(name) ~= "string" or name == "" then fail("a strategy name is required") end
  local pkg = require(name)
  if type(pkg) ~= "table" or type(pkg.run) ~= "function" then
    fail("package '%s' has no run(ctx) function (it is a library, not a strategy)", name)
  end
  local opts = p.opts
  if opts ~= nil and opts ~= alc.null and type(opts) ~= "table" then
    fail("strategy_opts must be a table, got %s", type(opts))
  end
  return function(case)
    local c = (opts ~= nil and opts ~= alc.null) and deep_copy(opts) or {}
    if type(case.ctx) == "table" then
      for k, v in pairs(case.ctx) do c[k] = deep_copy(v) end
    end
    c.task = case.input
    return pkg.run(c)
  end
end

-- ---------------------------------------------------------------- running

local function grade_case(norm, i, case, output, raw)
  local grades, sum, all = array(), 0, true
  for gi, g in ipairs(norm.graders) do
    local ok, v = pcall(g.fn, output, case.expected, case, raw, g.params)
    if not ok then
      fail("grader '%s' (graders[%d]) raised on %s: %s", g.label, gi, case_label(i, case), tostring(v))
    end
    local nok, grade = pcall(graders.normalize_grade, v, g.threshold)
    if not nok then
      fail("grader '%s' (graders[%d]) on %s %s", g.label, gi, case_label(i, case), tostring(grade))
    end
    grades[gi] = { grader = g.label, score = grade.score, passed = grade.passed, reason = grade.reason }
    sum = sum + grade.score
    all = all and grade.passed
  end
  return grades, sum / #norm.graders, all
end

local function llm_calls()
  return alc.stats and alc.stats.llm_calls and alc.stats.llm_calls() or 0
end

local function run_case(norm, i, case, provider)
  local calls0, t0 = llm_calls(), alc.time()
  local ok, raw = pcall(provider, case)
  local expected = case.expected
  if expected == alc.null then expected = nil end
  local r = { index = i, name = case.name, input = case.input, tags = case.tags, expected = expected }
  if not ok then
    r.error = tostring(raw)
    r.output, r.score, r.passed, r.grades = "", 0, false, array()
  else
    local output
    if norm.extract then
      local eok, text = pcall(norm.extract, raw, case)
      if not eok then fail("'extract' raised on %s: %s", case_label(i, case), tostring(text)) end
      output = text == nil and "" or tostring(text)
    else
      output = M.output_text(raw)
    end
    r.output = output
    r.grades, r.score, r.passed = grade_case(norm, i, case, output, raw)
  end
  r.llm_calls = llm_calls() - calls0
  r.elapsed_ms = math.floor((alc.time() - t0) * 1000 + 0.5)
  return r
end

local function aggregate(results)
  local total, passed, errors = #results, 0, 0
  local scores = {}
  local tags, tag_order = {}, {}
  for i, r in ipairs(results) do
    scores[i] = r.score
    if r.passed then passed = passed + 1 end
    if r.error then errors = errors + 1 end
    for _, t in ipairs(r.tags or {}) do
      local b = tags[t]
      if not b then
        b = { total = 0, passed = 0, sum = 0 }
        tags[t] = b
        tag_order[#tag_order + 1] = t
      end
      b.total = b.total + 1
      if r.passed then b.passed = b.passed + 1 end
      b.sum = b.sum + r.score
    end
  end
  local by_tag = {}
  for _, t in ipairs(tag_order) do
    local b = tags[t]
    by_tag[t] = { total = b.total, passed = b.passed, pass_rate = b.passed / b.total, mean_score = b.sum / b.total }
  end
  local rate = total > 0 and passed / total or 0
  return {
    total = total, passed = passed, failed = total - passed, errors = errors,
    pass_rate = rate, pass_at_1 = rate,
    scores = stats.summary(scores), ci_95 = stats.wilson(passed, total),
    by_tag = by_tag,
  }
end

-- Runs every case and returns the report (see the header).
function M.run(spec, opts)
  opts = type(opts) == "table" and opts or {}
  local norm = M.normalize(spec)
  local provider
  if norm.provider then
    local p, so = norm.provider, opts.strategy_opts
    provider = function(case)
      local c = (type(so) == "table") and deep_copy(so) or {}
      if type(case.ctx) == "table" then
        for k, v in pairs(case.ctx) do c[k] = deep_copy(v) end
      end
      c.task = case.input
      return p(c, case)
    end
  else
    provider = M.providers.strategy({ name = opts.strategy, opts = opts.strategy_opts })
  end
  local scenario_name = norm.name or "inline"
  local suite = (type(opts.strategy) == "string" and opts.strategy or "provider") .. ":" .. scenario_name
  local results, failures = array(), array()
  local n = #norm.cases
  for i = 1, n do
    alc.progress(i, n, "case " .. i .. "/" .. n)
    local r = run_case(norm, i, norm.cases[i], provider)
    results[i] = r
    if not r.passed then
      local reasons = array()
      for _, g in ipairs(r.grades) do
        if not g.passed then reasons[#reasons + 1] = g.grader .. ": " .. (g.reason or ("score " .. g.score)) end
      end
      failures[#failures + 1] = {
        index = i, name = r.name, input = r.input, expected = r.expected,
        output = r.output, score = r.score, reasons = reasons, error = r.error,
      }
    end
  end
  local agg = aggregate(results)
  return {
    name = suite,
    strategy = opts.strategy,
    scenario = scenario_name,
    aggregated = agg,
    results = results,
    failures = failures,
    summary = string.format("%s: %d/%d passed (%.1f%%), mean score %.3f",
      suite, agg.passed, agg.total, agg.pass_rate * 100, agg.scores.mean),
  }
end

return M
