--[[
sot — skeleton-of-thought: write the skeleton of the answer first, then expand every point of
it in parallel.

Technique (Ning et al.): a skeleton stage asks for a short numbered outline of the answer
(a few words per point); a point-expanding stage then expands each point into one or two
sentences, with every expansion request independent of the others so they can run in parallel
(here: one batch). The answer is the concatenation of the expanded points in skeleton order.

Paper:
  Xuefei Ning, Zinan Lin, Zixuan Zhou, Zifu Wang, Huazhong Yang, Yu Wang. "Skeleton-of-Thought:
  Prompting LLMs for Efficient Parallel Generation". 2023 (ICLR 2024). arXiv:2307.15337.

Options (ctx):
  task        string, required: the question
  max_points  skeleton points kept at most (default 8, 1..20)
  max_tokens  per point expansion (default 200)

LLM calls: 1 + p with p = skeleton points parsed (1..max_points): one single skeleton call, then
one batch of p expansions (a single pause when p = 1). A skeleton with 4 points gives 5 calls.
If no point can be parsed, the whole skeleton reply counts as one point.

Result (ctx.result):
  answer      string    the expanded points joined in order ("1. point: expansion" lines)
  skeleton    string[]  the skeleton points
  expansions  string[]  the expansion of each point
]]

local M = {}

M.meta = {
  name = "sot",
  version = "0.1.0",
  description = "Skeleton-of-thought: outline first, then expand all points in one parallel batch",
  category = "generation",
}

M.defaults = { max_points = 8, max_tokens = 200 }

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

-- Numbered points ("1. x", "2) x"); else bulleted lines; markdown emphasis removed.
local function parse_points(raw, max)
  local numbered, bulleted = {}, {}
  for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
    local p = line:match("^%s*%d+[%.%):]%s+(.-)%s*$")
    if p then
      p = trim((p:gsub("%*%*", "")))
      if p ~= "" and #numbered < max then numbered[#numbered + 1] = p end
    else
      local b = line:match("^%s*[%-%*]%s+(.-)%s*$")
      if b then
        b = trim((b:gsub("%*%*", "")))
        if b ~= "" and #bulleted < max then bulleted[#bulleted + 1] = b end
      end
    end
  end
  return #numbered > 0 and numbered or bulleted
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("sot: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_points = int_opt(cfg.max_points, M.defaults.max_points, 1, 20)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)

  alc.progress(1, 2, "skeleton")
  local raw = alc.llm("You are organizing the answer to the question below. Write only the skeleton of the "
    .. "answer: a numbered list of 3 to " .. math.max(3, max_points) .. " points, each 3 to 5 words. Do not "
    .. "elaborate on the points.\n\nQuestion:\n" .. task,
    { system = "You are a helpful assistant who plans answers before writing them.", max_tokens = 200 })
  local points = parse_points(raw, max_points)
  if #points == 0 then
    local whole = trim(raw)
    points = { whole ~= "" and whole or task }
    alc.log("warn", "sot: no skeleton points could be parsed; expanding the whole reply as one point")
  end
  local skeleton = alc.json_decode("[]")
  local listing = {}
  for i, p in ipairs(points) do
    skeleton[i] = p
    listing[i] = i .. ". " .. p
  end
  local listing_text = table.concat(listing, "\n")
  alc.log("info", "sot: skeleton with " .. #points .. " points")

  alc.progress(2, 2, "expanding " .. #points .. " points in parallel")
  local outs = alc.parallel(points, function(p, i)
    return {
      prompt = "You are continuing an answer to the question below, following its skeleton.\n\nQuestion:\n"
        .. task .. "\n\nSkeleton:\n" .. listing_text .. "\n\nExpand only point " .. i .. " (\"" .. p
        .. "\") in one or two sentences. Do not repeat the point's title and do not cover other points.",
      system = "You are a helpful assistant.", max_tokens = max_tokens,
    }
  end)
  local expansions = alc.json_decode("[]")
  local parts = {}
  for i, p in ipairs(points) do
    local e = trim(outs[i])
    expansions[i] = e
    parts[i] = i .. ". " .. p .. (e ~= "" and (": " .. e) or "")
  end
  alc.log("info", "sot: done")

  ctx.result = { answer = table.concat(parts, "\n"), skeleton = skeleton, expansions = expansions }
  return ctx
end

return M
