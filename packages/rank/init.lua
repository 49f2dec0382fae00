--[[
rank — pairwise tournament: generate candidate answers, then find the best one by pairwise
comparison.

Technique: Pairwise Ranking Prompting (Qin et al.) asks the model only the easiest ranking
question — "which of these two is better?" — and builds a ranking from those answers. Its
"sliding window" variant with K = 1 runs one bubble-sort pass, which needs just N - 1
comparisons to bring the best of N items to the top. Here the current leader meets each
remaining candidate in turn (winner stays); each comparison depends on the previous one, so
the judgements are sequential. Candidates are generated independently in one batch (or taken
from ctx.candidates). With both_orders = true every comparison is asked in both orders (one
batch of 2) and the challenger must win both, the paper's guard against position bias.

Paper:
  Zhen Qin, Rolf Jagerman, Kai Hui, Honglei Zhuang, Junru Wu, Le Yan, Jiaming Shen, Tianqi Liu,
  Jialu Liu, Donald Metzler, Xuanhui Wang, Michael Bendersky. "Large Language Models are
  Effective Text Rankers with Pairwise Ranking Prompting". 2023. arXiv:2306.17563.

Options (ctx):
  task         string, required
  n            candidates to generate (default 4, 2..16)
  candidates   string[] to rank instead of generating (at least 2 non-empty strings)
  both_orders  ask each comparison in both orders (default false)
  max_tokens   per candidate (default 900)

LLM calls: n + (n - 1) — at default settings 7: a batch of 4 candidates, then 3 single
judgements. With ctx.candidates: n - 1. With both_orders: each judgement is a batch of 2.

Result (ctx.result):
  answer      string  the winning candidate
  best        integer its index in candidates
  candidates  string[]
  matches     {leader, challenger, winner, verdict}[]  verdict "A" (leader), "B" (challenger)
              or "tie" (unreadable or inconsistent judgement: the leader stays)
  wins        integer[] comparisons won per candidate
]]

local M = {}

M.meta = {
  name = "rank",
  version = "0.1.0",
  description = "Pairwise ranking tournament (PRP sliding pass) over generated candidates",
  category = "selection",
}

M.defaults = { n = 4, candidates = false, both_orders = false, max_tokens = 900 }

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

local function last_pos(hay, needle)
  local pos, from = nil, 1
  while true do
    local p = hay:find(needle, from, true)
    if not p then return pos end
    pos, from = p, p + 1
  end
end

-- "A", "B" or nil from a judgement. Looks for the last "WINNER: X" line, then a bare "A"/"B"
-- reply, then the last mention of "Response A" / "Response B".
local function parse_choice(text)
  local up = tostring(text or ""):upper():gsub("RESPONSE%s+", ""):gsub("CANDIDATE%s+", "")
  local last
  for w in up:gmatch("WINNER%W+(%w+)") do last = w end
  if last == "A" or last == "B" then return last end
  local bare = up:gsub("[^%w]", "")
  if bare == "A" or bare == "B" then return bare end
  local full = tostring(text or ""):upper()
  local pa, pb = last_pos(full, "RESPONSE A"), last_pos(full, "RESPONSE B")
  if pa and (not pb or pa > pb) then return "A" end
  if pb then return "B" end
  return nil
end

local function judge_prompt(task, a, b)
  return "Task:\n" .. task .. "\n\nWhich of the two responses below is the better response to the task? "
    .. "Judge correctness first, then completeness and clarity.\n\nResponse A:\n" .. a
    .. "\n\nResponse B:\n" .. b
    .. "\n\nExplain your judgement in one or two sentences, then end with a last line of the form "
    .. "'WINNER: A' or 'WINNER: B'."
end

local JUDGE_SYSTEM = "You are an impartial judge comparing two responses."

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("rank: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local both = cfg.both_orders == true

  local candidates = alc.json_decode("[]")
  if type(cfg.candidates) == "table" then
    for _, c in ipairs(cfg.candidates) do
      if type(c) == "string" and trim(c) ~= "" then candidates[#candidates + 1] = c end
    end
    if #candidates < 2 then
      error("rank: ctx.candidates needs at least 2 non-empty strings", 0)
    end
  end
  local generated = #candidates == 0
  local n = generated and int_opt(cfg.n, M.defaults.n, 2, 16) or #candidates
  local total = (generated and 1 or 0) + (n - 1)
  local step = 0

  if generated then
    step = step + 1
    alc.progress(step, total, "generating " .. n .. " candidates")
    local idx = {}
    for i = 1, n do idx[i] = i end
    local outs = alc.parallel(idx, function(i)
      return {
        prompt = "Task:\n" .. task .. "\n\nWrite a complete response to the task. This is candidate " .. i
          .. " of " .. n .. "; take your own approach.",
        system = "You are a capable assistant.", max_tokens = max_tokens, temperature = 0.8,
      }
    end)
    for i = 1, n do candidates[i] = trim(outs[i]) end
    alc.log("info", "rank: generated " .. n .. " candidates")
  end

  local wins = alc.json_decode("[]")
  for i = 1, n do wins[i] = 0 end
  local matches = alc.json_decode("[]")
  local leader = 1
  for c = 2, n do
    step = step + 1
    alc.progress(step, total, "comparison " .. (c - 1) .. "/" .. (n - 1))
    local verdict
    if both then
      local outs = alc.llm_batch({
        { prompt = judge_prompt(task, candidates[leader], candidates[c]), system = JUDGE_SYSTEM, max_tokens = 300 },
        { prompt = judge_prompt(task, candidates[c], candidates[leader]), system = JUDGE_SYSTEM, max_tokens = 300 },
      })
      local first, second = parse_choice(outs[1]), parse_choice(outs[2])
      -- in the swapped order "A" is the challenger
      if first == "B" and second == "A" then verdict = "B"
      elseif first == "A" and second == "B" then verdict = "A"
      else verdict = "tie" end
    else
      verdict = parse_choice(alc.llm(judge_prompt(task, candidates[leader], candidates[c]),
        { system = JUDGE_SYSTEM, max_tokens = 300 })) or "tie"
    end
    local winner = verdict == "B" and c or leader
    if verdict == "tie" then
      alc.log("warn", "rank: no clear judgement between " .. leader .. " and " .. c .. "; the leader stays")
    else
      wins[winner] = wins[winner] + 1
    end
    matches[#matches + 1] = { leader = leader, challenger = c, winner = winner, verdict = verdict }
    alc.log("info", "rank: " .. leader .. " vs " .. c .. " -> " .. winner)
    leader = winner
  end

  ctx.result = {
    answer = candidates[leader],
    best = leader,
    candidates = candidates,
    matches = matches,
    wins = wins,
  }
  return ctx
end

return M
