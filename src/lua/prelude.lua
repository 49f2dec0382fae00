-- prelude.lua: Layer 1 of the alc standard library (reference §4.5).
--
-- Pure Lua, compiled to bytecode and embedded into the binary at build time
-- (scripts/embed_bytecode.c); runs in each session VM after Layer 0 (bridge.c, lib_text.c,
-- lib_math.c, lib_state.c) has filled the `alc` table, group by group (see below).
--
-- Rules for this file:
--  * It creates no globals: everything it defines is a field of `alc` (or `alc.state`).
--  * It is cut into groups at the `--@group NAME` lines (scripts/embed_bytecode.c). Each
--    group is compiled on its own with the part before the first group line (locals only)
--    in front of it. The group `eager` runs when the session is set up; any other group
--    runs the first time a script reads one of the `alc.NAME` fields it defines with
--    `function alc.NAME` (runtime.c, lazy loading). So a group may use the header's locals
--    but not another group's, and nothing outside `eager` may run code at load time that
--    matters before one of its fields is read.
--  * Load time must stay small (a group runs in the session that first uses it): only
--    function definitions and small constant tables at load time, no calls into Layer 0.
--  * Calls into other alc functions go through the `alc` table at call time (alc.llm,
--    alc.log, alc.fingerprint, ...), as in the original, so a script or package that wraps
--    one of them (tracing, mocks) also affects the helpers built on it.
--  * Where the reference lists a quirk of the original, or where this file deviates from
--    it, the choice is written next to the function as "Decision:". Quirks are fixed only
--    where a caller can observe nothing but the bug going away.
--
-- alc.eval (reference §4.5, last section) is a thin front end: the evaluation framework
-- itself is the bundled package `evalframe`, required at call time.

local alc = alc

local type, tostring, tonumber, pairs, ipairs, select, pcall, error =
      type, tostring, tonumber, pairs, ipairs, select, pcall, error
local s_format, s_lower, s_gsub, s_match, s_find, s_byte, s_sub =
      string.format, string.lower, string.gsub, string.match, string.find, string.byte, string.sub
local m_floor, m_tointeger, m_type = math.floor, math.tointeger, math.type
local t_remove, t_sort, t_concat = table.remove, table.sort, table.concat

-- The JSON null sentinel (a light userdata) as Layer 0 hands it out.
local NULL = _ALC_NULL -- (runtime.c puts alc.null there at set-up: a script cannot swap it)

local function shallow_copy(t)
  local c = {}
  if type(t) == "table" then
    for k, v in pairs(t) do c[k] = v end
  end
  return c
end

-- Linear-time trim (no backtracking over long whitespace runs).
local function trim(s)
  local a = s_find(s, "%S")
  if not a then return "" end
  return s_sub(s, a, s_match(s, "^.*()%S"))
end

--@group eager
-- ---------------------------------------------------------------- state

-- alc.state.update(key, fn, default?) -> new value: get, fn, set. Atomic neither across
-- processes nor against another session doing the same.
if type(alc.state) == "table" then
  function alc.state.update(key, fn, default)
    local v = alc.state.get(key, default)
    local new = fn(v)
    alc.state.set(key, new)
    return new
  end
end

--@group cache
-- ---------------------------------------------------------------- fingerprint

-- alc.fingerprint(str) -> 8 lower-case hex digits.
-- Normalises first (lower-case, whitespace runs -> one space, trimmed), then DJB2 over the
-- bytes: h = 5381; h = (h * 33 + byte) mod 2^32. Integer arithmetic, so no float rounding.
function alc.fingerprint(str)
  local s = s_lower(tostring(str))
  s = trim((s_gsub(s, "%s+", " ")))
  local h = 5381
  for i = 1, #s do
    h = (h * 33 + s_byte(s, i)) & 0xFFFFFFFF
  end
  return s_format("%08x", h)
end

-- ---------------------------------------------------------------- cache

local CACHE_MAX = 256
local cache_store = {}   -- key -> response
local cache_order = {}   -- keys, oldest first; each key at most once
local cache_hits, cache_misses = 0, 0

-- alc.cache(prompt, opts?) -> string: alc.llm memoised per session.
-- Key: opts.cache_key, else alc.fingerprint(prompt [.. "\0" .. system] [.. "\0" ..
-- tostring(max_tokens)]). Decision: the documented key normalisation is kept (prompts that
-- differ only in case or spacing share an entry; grounded/underspecified are not part of the
-- key) because callers may rely on those hits. `system` joins the key only when it is a
-- string, since alc.llm ignores any other value. A failing alc.llm stores nothing (the lookup
-- still counts as a miss). opts.cache_skip calls alc.llm directly and touches no counter.
function alc.cache(prompt, opts)
  if type(opts) == "table" and opts.cache_skip then
    return alc.llm(prompt, opts)
  end
  local o = type(opts) == "table" and opts or nil
  local key = o and o.cache_key
  if key == nil then
    local material = tostring(prompt)
    if o and type(o.system) == "string" then material = material .. "\0" .. o.system end
    if o and o.max_tokens ~= nil then material = material .. "\0" .. tostring(o.max_tokens) end
    key = alc.fingerprint(material)
  end
  local hit = cache_store[key]
  if hit ~= nil then
    cache_hits = cache_hits + 1
    alc.log("debug", "alc.cache: hit " .. tostring(key))
    return hit
  end
  cache_misses = cache_misses + 1
  alc.log("debug", "alc.cache: miss " .. tostring(key))
  local response = alc.llm(prompt, opts)
  if cache_store[key] == nil then  -- a nested alc.cache in a wrapper may have stored it
    cache_order[#cache_order + 1] = key
  end
  cache_store[key] = response
  while #cache_order > CACHE_MAX do
    cache_store[t_remove(cache_order, 1)] = nil
  end
  return response
end

-- alc.cache_info() -> {entries, hits, misses, max_entries = 256}
function alc.cache_info()
  return { entries = #cache_order, hits = cache_hits, misses = cache_misses, max_entries = CACHE_MAX }
end

-- alc.cache_clear(): drops every entry and zeroes the counters.
-- Decision: unlike the original, the order list is cleared too. Keeping it made
-- cache_info().entries count dead keys and let a stale key evict a fresh entry that reused
-- it; nothing can depend on that.
function alc.cache_clear()
  cache_store, cache_order = {}, {}
  cache_hits, cache_misses = 0, 0
end

--@group collections
-- ---------------------------------------------------------------- collections

-- alc.map(items, fn) -> results[i] = fn(item, i) over ipairs(items).
function alc.map(items, fn)
  local results = {}
  for i, item in ipairs(items) do
    results[i] = fn(item, i)
  end
  return results
end

-- alc.filter(items, fn) -> the items with a truthy fn(item, i), re-packed from 1.
function alc.filter(items, fn)
  local out, n = {}, 0
  for i, item in ipairs(items) do
    if fn(item, i) then
      n = n + 1
      out[n] = item
    end
  end
  return out
end

-- alc.reduce(items, fn, init?) -> acc. Without init the fold starts from items[1] at i = 2
-- (an empty list then gives nil).
function alc.reduce(items, fn, init)
  local acc, start = init, 1
  if acc == nil then
    acc, start = items[1], 2
  end
  for i = start, #items do
    acc = fn(acc, items[i], i)
  end
  return acc
end

-- alc.vote(answers) -> {winner, count, total = #answers}. Answers are compared after
-- tostring + trim; a tie goes to the answer seen first; an empty list gives winner nil,
-- count 0.
function alc.vote(answers)
  local counts, first_seen, order = {}, {}, 0
  local winner, best = nil, 0
  local total = #answers
  for i = 1, total do
    local a = trim(tostring(answers[i]))
    local c = (counts[a] or 0) + 1
    counts[a] = c
    if not first_seen[a] then
      order = order + 1
      first_seen[a] = order
    end
    if c > best or (c == best and first_seen[a] < first_seen[winner]) then
      winner, best = a, c
    end
  end
  return { winner = winner, count = best, total = total }
end

--@group llm
-- ---------------------------------------------------------------- llm variants

-- alc.ground(claim, opts?) -> string: alc.llm with grounded = true (opts is copied, never
-- modified).
function alc.ground(claim, opts)
  local o = shallow_copy(opts)
  o.grounded = true
  return alc.llm(claim, o)
end

-- alc.specify(prompt, opts?) -> string: alc.llm with underspecified = true.
function alc.specify(prompt, opts)
  local o = shallow_copy(opts)
  o.underspecified = true
  return alc.llm(prompt, o)
end

-- alc.llm_safe(prompt, opts, default) -> the answer, or default if alc.llm raised (the
-- error is logged at warn). A cancelled session still stops: the engine's stop hook raises
-- again at the next instruction, outside this pcall.
function alc.llm_safe(prompt, opts, default)
  local ok, res = pcall(alc.llm, prompt, opts)
  if ok then return res end
  alc.log("warn", "alc.llm_safe: " .. tostring(res))
  return default
end

local JSON_SYSTEM = "Output ONLY valid JSON. No markdown fences, no explanation."

-- alc.llm_json(prompt, opts?) -> table|nil, raw.
-- Asks once; if alc.json_extract finds no table in the answer, asks exactly once more with a
-- repair prompt (system replaced by JSON_SYSTEM, other opts kept) and returns that result.
function alc.llm_json(prompt, opts)
  local raw = alc.llm(prompt, opts)
  local t = alc.json_extract(raw)
  if t ~= nil then return t, raw end
  alc.log("warn", "alc.llm_json: response was not valid JSON, retrying once")
  local o = shallow_copy(opts)
  o.system = JSON_SYSTEM
  local retry = "The previous response was not valid JSON.\n\nPrevious output:\n" .. tostring(raw)
    .. "\n\nFix the JSON and return ONLY valid JSON.\n\nOriginal request:\n" .. tostring(prompt)
  local raw2 = alc.llm(retry, o)
  local t2 = alc.json_extract(raw2)
  if t2 == nil then
    alc.log("warn", "alc.llm_json: retry response was not valid JSON either")
  end
  return t2, raw2
end

--@group parsing
-- ---------------------------------------------------------------- parsing

-- alc.parse_score(str, default = 5) -> integer in [1, 10] from the first run of digits in
-- tostring(str); default (returned as given, not clamped) when there is none.
function alc.parse_score(str, default)
  if default == nil then default = 5 end
  local digits = s_match(tostring(str), "%d+")
  local n = digits and tonumber(digits)
  if not n then return default end
  if n < 1 then return 1 end
  if n > 10 then return 10 end
  return m_tointeger(n) or n
end

-- alc.parse_number(text, pattern?) -> number|nil. Non-string text -> nil. With a pattern,
-- tonumber of its first capture (or whole match); else the first `-?digits(.digits)?`.
-- Decision: only the first capture is converted. The original passed every capture to
-- tonumber, so a second capture became the numeric base ("(%d+)%.(%d+)" parsed "3.14" as
-- 3 in base 14, or raised).
function alc.parse_number(text, pattern)
  if type(text) ~= "string" then return nil end
  local m = s_match(text, pattern or "%-?%d+%.?%d*")
  if m == nil then return nil end
  return tonumber(m)
end

local function decode_table(s)
  local ok, v = pcall(alc.json_decode, s)
  if ok and type(v) == "table" then return v end
  return nil
end

-- Balanced open/close spans of s as {start, stop} pairs. aware = true skips brackets inside
-- JSON string literals (a quote only opens a string while some bracket is open, so prose
-- quotes before the JSON do not matter); aware = false counts every bracket.
local function bracket_spans(s, open, close, aware, out)
  local ob, cb = s_byte(open), s_byte(close)
  local pat = aware and ("[%" .. open .. "%" .. close .. "\"\\]") or ("[%" .. open .. "%" .. close .. "]")
  local stack, depth, in_str = {}, 0, false
  local pos = 1
  while true do
    local p = s_find(s, pat, pos)
    if not p then break end
    local c = s_byte(s, p)
    pos = p + 1
    if in_str then
      if c == 92 then pos = p + 2          -- backslash: skip the escaped byte
      elseif c == 34 then in_str = false end
    elseif c == 34 then
      if depth > 0 then in_str = true end
    elseif c == ob then
      depth = depth + 1
      stack[depth] = p
    elseif c == cb and depth > 0 then
      out[#out + 1] = { stack[depth], p }
      stack[depth] = nil
      depth = depth - 1
    end
  end
end

-- Every balanced open...close substring of s, ordered by start (then by end), no duplicates.
local function candidates(s, open, close)
  local spans = {}
  bracket_spans(s, open, close, true, spans)
  bracket_spans(s, open, close, false, spans)
  t_sort(spans, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  return spans
end

-- Decision: at most MAX_EXTRACT_TRIES candidates of each bracket kind are decoded. Each try
-- copies and parses its span, so a hostile reply with half a million nested brackets would
-- otherwise cost time quadratic in its size; real answers hold a handful of candidates.
local MAX_EXTRACT_TRIES = 64

local function first_table_in(s, open, close)
  if not s_find(s, open, 1, true) then return nil end
  local prev_a, prev_b
  local tries = 0
  for _, sp in ipairs(candidates(s, open, close)) do
    local a, b = sp[1], sp[2]
    if a ~= prev_a or b ~= prev_b then
      tries = tries + 1
      if tries > MAX_EXTRACT_TRIES then return nil end
      local t = decode_table(s_sub(s, a, b))
      if t ~= nil then return t end
      prev_a, prev_b = a, b
    end
  end
  return nil
end

-- alc.json_extract(raw) -> table|nil. Non-strings -> nil. Tries, in order, and returns the
-- first decode that yields a table: the whole string; the body of the first ```json fence,
-- else of the first ``` fence (an info word such as `js` after the backticks is skipped);
-- every balanced {...} left to right; every balanced [...] left to right.
-- Decision: brackets inside JSON strings do not end a candidate ({"a":"}"} is found), a
-- strict improvement over plain bracket counting, whose candidates are tried as well.
-- Matching is linear in the input (one pass per bracket kind), so a hostile reply such as
-- "{{{{..." cannot make it quadratic.
function alc.json_extract(raw)
  if type(raw) ~= "string" then return nil end
  local t = decode_table(raw)
  if t ~= nil then return t end
  local body = s_match(raw, "```json[ \t]*\r?\n?(.-)```")
  if body then
    t = decode_table(body)
    if t ~= nil then return t end
  end
  body = s_match(raw, "```[%w_%-%+%.]*[ \t]*\r?\n?(.-)```")
  if body then
    t = decode_table(body)
    if t ~= nil then return t end
  end
  return first_table_in(raw, "{", "}") or first_table_in(raw, "[", "]")
end

--@group budget
-- ---------------------------------------------------------------- budget

-- alc.budget_check() -> bool: false once any budget dimension is used up.
-- Decision: the token budget counts too (the original ignored it, so a script checking
-- first could still hit budget_exceeded on its next alc.llm). Fields that are alc.null
-- (no limit) never fail the check.
function alc.budget_check()
  local r = alc.budget_remaining()
  if r == nil then return true end
  if type(r.llm_calls) == "number" and r.llm_calls <= 0 then return false end
  if type(r.elapsed_ms) == "number" and r.elapsed_ms <= 0 then return false end
  if type(r.tokens) == "number" and r.tokens <= 0 then return false end
  return true
end

-- ---------------------------------------------------------------- tuning

local function tuning_merge(defaults, source)
  local out = {}
  for k, dv in pairs(defaults) do
    if k ~= "_schema" then
      local sv = source[k]
      if sv == NULL then sv = nil end
      if type(sv) == "table" and type(dv) == "table" and dv[1] == nil then
        out[k] = tuning_merge(dv, sv)
      elseif sv ~= nil then
        out[k] = sv
      else
        out[k] = dv
      end
    end
  end
  return out
end

-- alc.tuning(defaults, ctx, opts?) -> table of the keys of defaults (minus `_schema`), each
-- taken from ctx (or ctx[opts.prefix]) when present there. Dict-like defaults (no [1]) are
-- merged recursively; arrays and scalars are replaced whole; keys only in ctx are dropped.
-- Non-table defaults are returned as they are.
-- Decision: a JSON null in ctx (alc.null) counts as absent and keeps the default, since the
-- sentinel is truthy and no strategy can use it as a setting. A null or missing prefix
-- table silently means {}; any other non-table prefix value is logged at warn.
function alc.tuning(defaults, ctx, opts)
  if type(defaults) ~= "table" then return defaults end
  local source = type(ctx) == "table" and ctx or {}
  local prefix = type(opts) == "table" and opts.prefix or nil
  if prefix ~= nil then
    local sub = source[prefix]
    if type(sub) == "table" then
      source = sub
    else
      if sub ~= nil and sub ~= NULL then
        alc.log("warn", "alc.tuning: ctx." .. tostring(prefix) .. " is a " .. type(sub)
          .. ", not a table; using defaults")
      end
      source = {}
    end
  end
  return tuning_merge(defaults, source)
end

-- ---------------------------------------------------------------- parallel

-- alc.parallel(items, prompt_fn, opts?) -> results: one alc.llm_batch over prompt_fn(item, i).
-- A string result becomes {prompt, system = opts.system, max_tokens = opts.max_tokens}; a
-- table with a string `prompt` is sent as it is. With opts.post_fn,
-- results[i] = post_fn(response, items[i], i). Bad arguments raise at the caller's line.
function alc.parallel(items, prompt_fn, opts)
  if type(items) ~= "table" or #items == 0 then
    error("alc.parallel: items must be a non-empty array", 2)
  end
  if type(prompt_fn) ~= "function" then
    error("alc.parallel: prompt_fn must be a function, got " .. type(prompt_fn), 2)
  end
  local o = type(opts) == "table" and opts or {}
  local n = #items
  local batch = {}
  for i = 1, n do
    local p = prompt_fn(items[i], i)
    if type(p) == "string" then
      batch[i] = { prompt = p, system = o.system, max_tokens = o.max_tokens }
    elseif type(p) == "table" and type(p.prompt) == "string" then
      batch[i] = p
    else
      error(s_format("alc.parallel: prompt_fn must return a string or a table with a string "
        .. "'prompt' (item %d gave %s)", i, type(p)), 2)
    end
  end
  local results = alc.llm_batch(batch)
  local post = o.post_fn
  if post ~= nil then
    for i = 1, n do
      results[i] = post(results[i], items[i], i)
    end
  end
  return results
end

-- ---------------------------------------------------------------- pipe

-- alc.pipe(strategies, ctx, opts?) -> final ctx.
-- Runs each stage (a package name whose module exports `run`, or a function) on a shallow
-- copy of ctx carrying `pipe_history`. Every entry is checked (and every package required)
-- before the first stage runs. opts.on_error: "abort" (default) lets a stage error
-- propagate; any other value runs the stage under pcall, logs the failure, records
-- {strategy, error} and continues with the context unchanged. After a successful stage
-- {strategy, result = ctx.result} is recorded, a non-nil result becomes the next stage's
-- ctx.task (JSON for tables, tostring otherwise; not after the last stage), and
-- opts.on_stage(i, name, ctx) is called.
-- Decision: if a stage returns a new table instead of its input, pipe_history is carried over
-- to it; a table result that cannot be JSON-encoded becomes tostring(result) for ctx.task
-- instead of raising.
function alc.pipe(strategies, ctx, opts)
  if type(strategies) ~= "table" or #strategies == 0 then
    error("alc.pipe: strategies must be a non-empty array", 2)
  end
  if type(ctx) ~= "table" then
    error("alc.pipe: ctx must be a table, got " .. type(ctx), 2)
  end
  local o = type(opts) == "table" and opts or {}
  local on_error = o.on_error or "abort"
  local n = #strategies
  local names, runs = {}, {}
  for i = 1, n do
    local s = strategies[i]
    if type(s) == "function" then
      names[i], runs[i] = "(inline-" .. i .. ")", s
    elseif type(s) == "string" then
      local pkg = require(s)
      if type(pkg) ~= "table" or type(pkg.run) ~= "function" then
        error("alc.pipe: package '" .. s .. "' does not export a run function", 2)
      end
      names[i], runs[i] = s, pkg.run
    else
      error(s_format("alc.pipe: stage %d must be a package name or a function, got %s", i, type(s)), 2)
    end
  end
  local cur = shallow_copy(ctx)
  local history = {}
  cur.pipe_history = history
  for i = 1, n do
    local name, run = names[i], runs[i]
    local ok, out
    if on_error == "abort" then
      ok, out = true, run(cur)
    else
      ok, out = pcall(run, cur)
    end
    if not ok then
      alc.log("warn", "alc.pipe: stage " .. i .. " (" .. name .. ") failed: " .. tostring(out))
      history[#history + 1] = { strategy = name, error = tostring(out) }
    else
      if type(out) ~= "table" then
        error(s_format("alc.pipe: stage %d (%s) must return a table, got %s", i, name, type(out)), 2)
      end
      cur = out
      cur.pipe_history = history
      local result = cur.result
      history[#history + 1] = { strategy = name, result = result }
      if result ~= nil and i < n then
        if type(result) == "table" then
          local eok, text = pcall(alc.json_encode, result)
          cur.task = eok and text or tostring(result)
        else
          cur.task = tostring(result)
        end
      end
      if type(o.on_stage) == "function" then
        o.on_stage(i, name, cur)
      end
    end
  end
  return cur
end

--@group fmt
-- ---------------------------------------------------------------- fmt

local INT_CONV = { d = true, i = true, o = true, u = true, x = true, X = true, c = true }
-- Every conversion string.format accepts besides %%.
local KNOWN_CONV = { d = true, i = true, o = true, u = true, x = true, X = true, c = true,
  a = true, A = true, e = true, E = true, f = true, F = true, g = true, G = true,
  s = true, q = true, p = true }

local function special_text(x)
  if x ~= x then return "NaN" end
  if x == 1 / 0 then return "Inf" end
  if x == -1 / 0 then return "-Inf" end
  return nil
end

-- The spec "%<flags><width>.<prec><conv>" rewritten as a %s spec of the same width and
-- alignment, for text that replaces a number.
local function as_text_spec(flags, width)
  return "%" .. (s_find(flags, "-", 1, true) and "-" or "") .. width .. "s"
end

local function round_half_away(x)
  if x >= 0 then
    local r = m_floor(x)
    if x - r >= 0.5 then r = r + 1 end
    return r
  end
  local r = m_floor(-x)
  if -x - r >= 0.5 then r = r + 1 end
  return -r
end

-- Formats one value for one conversion spec.
local function fmt_one(spec, flags, width, conv, v)
  if conv == "s" then
    if v == nil then return s_format(as_text_spec(flags, width), "<nil>") end
    if m_type(v) == "float" then
      local sp = special_text(v)
      if sp then return s_format(as_text_spec(flags, width), sp) end
    end
    return s_format(spec, v)
  end
  if conv == "q" or conv == "p" then return s_format(spec, v) end
  if v == nil then return s_format(as_text_spec(flags, width), "<nil>") end
  local x = v
  if type(x) == "string" then x = tonumber(x) or x end
  if type(x) ~= "number" then
    -- not a number even after coercion: show it instead of raising
    return s_format(as_text_spec(flags, width), tostring(v))
  end
  local sp = special_text(x)
  if sp then return s_format(as_text_spec(flags, width), sp) end
  if INT_CONV[conv] and m_type(x) == "float" then
    local r = round_half_away(x)
    local ri = m_tointeger(r)
    if ri then
      x = ri
    elseif conv == "d" or conv == "i" then
      return s_format("%" .. flags .. width .. ".0f", r)
    else
      return s_format(as_text_spec(flags, width), tostring(r))
    end
  end
  return s_format(spec, x)
end

-- alc.fmt(fmt, ...) -> string: string.format, friendlier for logs and prompts.
--  * integer conversions (%d %i %o %u %x %X %c) round floats half away from zero
--    (2.5 -> 3, -2.5 -> -3) instead of raising "no integer representation";
--  * NaN / +Inf / -Inf print as "NaN" / "Inf" / "-Inf" (width and '-' kept) for numeric
--    conversions and %s;
--  * numeric strings are coerced for numeric conversions ("3.6" with %d -> 4);
--  * nil, including a missing argument, prints as "<nil>".
-- Decision: a value that is not a number even after coercion (a word, a table, a boolean)
-- is printed with tostring under a numeric conversion rather than raising; invalid format
-- specs still raise.
function alc.fmt(fmt, ...)
  if type(fmt) ~= "string" then
    error("alc.fmt: format must be a string, got " .. type(fmt), 2)
  end
  local nargs = select("#", ...)
  local args = { ... }
  local out, n = {}, 0
  local pos, argi = 1, 0
  local len = #fmt
  while pos <= len do
    local p = s_find(fmt, "%", pos, true)
    if not p then
      n = n + 1; out[n] = s_sub(fmt, pos)
      break
    end
    if p > pos then n = n + 1; out[n] = s_sub(fmt, pos, p - 1) end
    if s_sub(fmt, p + 1, p + 1) == "%" then
      n = n + 1; out[n] = "%"
      pos = p + 2
    else
      local flags, width, prec, conv = s_match(fmt, "^([-+ #0]*)(%d*)(%.?%d*)(%a)", p + 1)
      if not conv or not KNOWN_CONV[conv] then
        error("alc.fmt: invalid conversion '" .. s_sub(fmt, p, p + 5) .. "' in format", 2)
      end
      local spec = "%" .. flags .. width .. prec .. conv
      argi = argi + 1
      local v = nil
      if argi <= nargs then v = args[argi] end
      n = n + 1; out[n] = fmt_one(spec, flags, width, conv, v)
      pos = p + 1 + #flags + #width + #prec + 1
    end
  end
  return t_concat(out)
end

-- alc.log_fmt(level, fmt, ...): alc.log(level, alc.fmt(fmt, ...)).
function alc.log_fmt(level, fmt, ...)
  return alc.log(level, alc.fmt(fmt, ...))
end

--@group eval
-- ---------------------------------------------------------------- eval

-- Loads a scenario named by a string: a module of that name (require), else
-- <alc._dirs.scenarios>/<name>.lua when the host set alc._dirs, else the string as a file
-- path. A file that exists but does not compile or raises is an error, not a miss.
local function eval_resolve_scenario(name)
  if s_match(name, "^[%w_%-]+[%w_%-%.]*$") and not s_find(name, "..", 1, true) then
    local ok, mod = pcall(require, name)
    if ok and type(mod) == "table" then return mod end
    if not ok and not s_find(tostring(mod), "module '" .. name .. "' not found", 1, true) then
      error("alc.eval: scenario module '" .. name .. "' failed to load: " .. tostring(mod), 3)
    end
  end
  local paths = {}
  local dirs = rawget(alc, "_dirs")
  if type(dirs) == "table" and type(dirs.scenarios) == "string" then
    paths[#paths + 1] = dirs.scenarios .. "/" .. name .. ".lua"
  end
  paths[#paths + 1] = name
  for _, path in ipairs(paths) do
    local f = io.open(path, "r")
    if f then
      f:close()
      local chunk, err = loadfile(path, "t")
      if not chunk then error("alc.eval: scenario file " .. path .. " does not compile: " .. tostring(err), 3) end
      local ok, spec = pcall(chunk)
      if not ok then error("alc.eval: scenario file " .. path .. " raised: " .. tostring(spec), 3) end
      if type(spec) ~= "table" then
        error("alc.eval: scenario file " .. path .. " must return a table, got " .. type(spec), 3)
      end
      return spec
    end
  end
  error("alc.eval: could not resolve scenario '" .. name .. "'", 3)
end

-- alc.eval(scenario, strategy, opts?) -> report: runs every case of scenario (a table, or a
-- name/path resolved as above) through the strategy package and grades the answers, using
-- the `evalframe` package (see its header for the scenario format and the report).
-- opts.strategy_opts: ctx fields given to the strategy for every case (copied).
-- Decision: auto_card is not supported (this implementation has no card store); the option
-- is ignored. strategy may be nil when the scenario brings its own provider.
function alc.eval(scenario, strategy, opts)
  local ok, ef = pcall(require, "evalframe")
  if not ok then
    local msg = tostring(ef)
    if s_find(msg, "module 'evalframe' not found", 1, true) then
      error("alc.eval: evalframe not installed. Run alc_pkg_install to add it (or `alc init`).", 2)
    end
    error("alc.eval: evalframe failed to load: " .. msg, 2)
  end
  if type(ef) ~= "table" or type(ef.run) ~= "function" then
    error("alc.eval: the installed evalframe package has no run function", 2)
  end
  if strategy ~= nil and type(strategy) ~= "string" then
    error("alc.eval: strategy must be a package name (string), got " .. type(strategy), 2)
  end
  local spec = scenario
  if type(scenario) == "string" then
    spec = eval_resolve_scenario(scenario)
  elseif type(scenario) ~= "table" then
    error("alc.eval: scenario must be a table or a scenario name, got " .. type(scenario), 2)
  end
  if strategy == nil and type(spec.provider) ~= "function" then
    error("alc.eval: strategy is required (the scenario has no provider)", 2)
  end
  local o = type(opts) == "table" and opts or {}
  local so = o.strategy_opts
  if so == NULL then so = nil end
  return ef.run(spec, { strategy = strategy, strategy_opts = so })
end
