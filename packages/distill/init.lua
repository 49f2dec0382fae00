--[[
distill — key point analysis: extract key points from every part of a text, then consolidate
them into a short ranked list with how much of the text supports each point.

Technique: Key Point Analysis (Bar-Haim et al.) summarises a body of text as a small set of
concise, non-redundant key points together with their prevalence — how many of the input
statements each key point covers. Here the text is split into chunks (alc.chunk); key points
are extracted from every chunk independently (one batch, the "map" step), and one
consolidation call merges points that say the same thing, keeps the most important ones, and
counts how many extracted points each consolidated point covers (the "match and quantify"
step). The consolidation answers in JSON; if that reply is unusable the extracted points are
de-duplicated in Lua instead (support = number of identical extractions).

Paper:
  Roy Bar-Haim, Lilach Eden, Roni Friedman, Yoav Kantor, Dan Lahav, Noam Slonim. "From
  Arguments to Key Points: Towards Automatic Argument Summarization". ACL 2020.
  arXiv:2005.01619.

Options (ctx):
  text         string: the text to distill (default: ctx.task)
  task         string: used as the text when ctx.text is absent
  max_points   consolidated key points at most (default 7, 1..30)
  chunk_chars  characters per chunk (default 6000, 500..100000)

LLM calls: c + 1 with c = number of chunks: one batch of c extractions (a single pause when
c = 1), then one consolidation call. A text under chunk_chars gives 2 single calls.

Result (ctx.result):
  answer      string  the key points as a bulleted list
  key_points  {point, support}[]  most important first
  extracted   string[]  every point extracted before consolidation
  chunks      integer
]]

local M = {}

M.meta = {
  name = "distill",
  version = "0.1.0",
  description = "Key point analysis: per-chunk key point extraction, consolidated with prevalence",
  category = "summarization",
}

M.defaults = { text = false, max_points = 7, chunk_chars = 6000 }

local function trim(s)
  return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

local function int_opt(v, default, lo, hi)
  local n = math.tointeger(tonumber(v))
  if not n then return default end
  if n < lo then return lo end
  if n > hi then return hi end
  return n
end

-- Points from a JSON array (strings or {point=...}) or numbered / bulleted lines.
local function parse_points(raw)
  local out = {}
  local t = alc.json_extract(raw)
  if type(t) == "table" then
    local arr = t
    if t[1] == nil then arr = t.key_points or t.points or {} end
    if type(arr) == "table" then
      for _, v in ipairs(arr) do
        local s = type(v) == "string" and v or (type(v) == "table" and (v.point or v.key_point)) or nil
        if type(s) == "string" and trim(s) ~= "" then out[#out + 1] = trim(s) end
      end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      local p = line:match("^%s*%d+[%.%):]%s+(.+)$") or line:match("^%s*[%-%*]%s+(.+)$")
      if p and trim(p) ~= "" then out[#out + 1] = trim(p) end
    end
  end
  return out
end

-- Consolidated points from a JSON array of {point, support} (or strings: support 1).
local function parse_consolidated(raw, max)
  local out = {}
  local t = alc.json_extract(raw)
  if type(t) ~= "table" then return out end
  local arr = t
  if t[1] == nil then arr = t.key_points or t.points or {} end
  if type(arr) ~= "table" then return out end
  for _, v in ipairs(arr) do
    if #out >= max then break end
    if type(v) == "string" and trim(v) ~= "" then
      out[#out + 1] = { point = trim(v), support = 1 }
    elseif type(v) == "table" then
      local p = v.point or v.key_point
      if type(p) == "string" and trim(p) ~= "" then
        local sup = math.tointeger(tonumber(v.support or v.count)) or 1
        if sup < 0 then sup = 0 end
        out[#out + 1] = { point = trim(p), support = sup }
      end
    end
  end
  return out
end

function M.run(ctx)
  local cfg = alc.tuning(M.defaults, ctx)
  local text = type(cfg.text) == "string" and cfg.text or ctx.task
  if type(text) ~= "string" or trim(text) == "" then
    error("distill: ctx.text or ctx.task must be a non-empty string", 0)
  end
  local max_points = int_opt(cfg.max_points, M.defaults.max_points, 1, 30)
  local chunk_chars = int_opt(cfg.chunk_chars, M.defaults.chunk_chars, 500, 100000)

  local chunks = alc.chunk(text, { mode = "chars", size = chunk_chars })
  if #chunks == 0 then chunks = { text } end
  alc.log("info", "distill: " .. #chunks .. " chunk(s)")

  -- map: key points of every chunk, independently
  alc.progress(1, 2, "extracting key points from " .. #chunks .. " chunk(s)")
  local outs = alc.parallel(chunks, function(chunk, i)
    return {
      prompt = "Extract the key points of the passage below" .. (#chunks > 1 and (" (part " .. i .. " of " .. #chunks .. ")") or "")
        .. ": its main claims, findings or arguments, each as one short, self-contained sentence. Leave "
        .. "out minor details. Return a JSON array of strings.\n\nPassage:\n" .. chunk,
      system = "You are an analyst who extracts key points faithfully.", max_tokens = 600,
    }
  end)
  local extracted = alc.json_decode("[]")
  for i = 1, #chunks do
    for _, p in ipairs(parse_points(outs[i])) do extracted[#extracted + 1] = p end
  end
  alc.log("info", "distill: " .. #extracted .. " points extracted")

  -- reduce: merge, rank, quantify
  alc.progress(2, 2, "consolidating key points")
  local listing = {}
  for i, p in ipairs(extracted) do listing[i] = i .. ". " .. p end
  local raw = alc.llm("Below are key points extracted from the parts of a document.\n\n"
    .. (#listing > 0 and table.concat(listing, "\n") or "(no points were extracted; use the document itself)")
    .. (#listing == 0 and ("\n\nDocument:\n" .. chunks[1]) or "")
    .. "\n\nConsolidate them into at most " .. max_points .. " key points: merge points that say the same "
    .. "thing, drop minor ones, and order them by importance. For each key point, count how many of the "
    .. "numbered points above it covers. Return a JSON array of objects: "
    .. "[{\"point\": \"...\", \"support\": <count>}]",
    { system = "You are an analyst who writes concise, non-redundant key points.", max_tokens = 800 })
  local key_points = parse_consolidated(raw, max_points)
  if #key_points == 0 then
    alc.log("warn", "distill: consolidation reply unusable; de-duplicating the extracted points instead")
    local index = {}
    for _, p in ipairs(extracted) do
      local k = p:lower():gsub("[%p%s]+", " ")
      if index[k] then
        index[k].support = index[k].support + 1
      elseif #key_points < max_points then
        local e = { point = p, support = 1 }
        index[k] = e
        key_points[#key_points + 1] = e
      end
    end
  end
  local result_points = alc.json_decode("[]")
  local lines = {}
  for i, kp in ipairs(key_points) do
    result_points[i] = kp
    lines[i] = "- " .. kp.point
  end

  ctx.result = {
    answer = table.concat(lines, "\n"),
    key_points = result_points,
    extracted = extracted,
    chunks = #chunks,
  }
  return ctx
end

return M
