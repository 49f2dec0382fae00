--[[
ucb — UCB1 exploration over hypotheses: propose hypotheses, spend an evaluation budget on them
with the UCB1 bandit rule, then develop the best one into the answer.

Technique: each hypothesis is an arm of a multi-armed bandit, and one "pull" is one LLM
evaluation of that hypothesis, scored 1..10 and scaled to a reward in [0, 1] (LLM judgements
are noisy, so repeated pulls of the same arm are informative). UCB1 (Auer et al.) first pulls
every arm once, then always pulls the arm maximising
    mean_i + sqrt(exploration * ln(t) / pulls_i)
(exploration = 2 is the classical UCB1 constant), so promising hypotheses get more evaluations
while uncertain ones are still revisited. Each pull looks at the hypothesis through a different
lens (correctness, completeness, ...), which keeps repeated evaluations from being copies. The
arm with the best mean reward (ties: more pulls, then earlier) is refined into the final answer.
The initial pulls are independent and go out as one batch; the UCB rounds are sequential.

Paper:
  Peter Auer, Nicolò Cesa-Bianchi, Paul Fischer. "Finite-time Analysis of the Multiarmed
  Bandit Problem". Machine Learning 47(2-3):235-256, 2002. (No arXiv id.)

Options (ctx):
  task         string, required
  hypotheses   number of hypotheses to propose (default 3, 2..10)
  rounds       UCB1 pulls after the initial one per arm (default 6, 0..50)
  exploration  UCB1 exploration constant (default 2)
  max_tokens   for the final answer (default 1024)

LLM calls: 1 + k + rounds + 1 with k = hypotheses parsed — at default settings 11: 1 proposal
call, a batch of 3 initial evaluations, 6 single UCB1 evaluations, 1 single refinement.

Result (ctx.result):
  answer  string  the refined best hypothesis
  best    {index, hypothesis, mean, pulls}
  arms    {hypothesis, pulls, mean, scores}[]  (scores are the raw 1..10 judgements)
  pulls   integer[]  arm index chosen in each UCB1 round, in order
]]

local M = {}

M.meta = {
  name = "ucb",
  version = "0.1.0",
  description = "UCB1 bandit over LLM-proposed hypotheses, scored by LLM evaluations; the best is refined",
  category = "exploration",
}

M.defaults = { hypotheses = 3, rounds = 6, exploration = 2, max_tokens = 1024 }

local LENSES = {
  "correctness: is it actually right?",
  "completeness: does it address everything the task asks?",
  "evidence: how well is it supported?",
  "edge cases: where could it fail?",
  "feasibility: can it be carried out as stated?",
  "clarity: is it precise and unambiguous?",
}

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

-- Hypotheses from a JSON array (of strings, or objects with "hypothesis"/"text"), an object
-- holding such an array, or numbered / bulleted lines. At most max.
local function parse_hypotheses(raw, max)
  local out = {}
  local function add(s)
    s = trim(s)
    if s ~= "" and #out < max then out[#out + 1] = s end
  end
  local t = alc.json_extract(raw)
  if type(t) == "table" then
    local arr = t
    if t[1] == nil and type(t.hypotheses) == "table" then arr = t.hypotheses end
    for _, v in ipairs(arr) do
      if type(v) == "string" then add(v)
      elseif type(v) == "table" then
        local s = v.hypothesis or v.text
        if type(s) == "string" then add(s) end
      end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      local h = line:match("^%s*%d+[%.%):]%s+(.+)$") or line:match("^%s*[%-%*]%s+(.+)$")
      if h then add(h) end
    end
  end
  return out
end

-- A 1..10 score: the number after the last "SCORE:", else alc.parse_score (5 on junk).
local function parse_rating(text)
  local s = tostring(text or "")
  local last
  for d in s:upper():gmatch("SCORE%s*[:=]%s*%**%s*(%d+)") do last = d end
  if last then return alc.parse_score(last) end
  return alc.parse_score(s, 5)
end

local function eval_prompt(task, hyp, lens)
  return "Task:\n" .. task .. "\n\nCandidate hypothesis:\n" .. hyp
    .. "\n\nEvaluate this hypothesis as an answer to the task, focusing on " .. lens
    .. " Give a two- or three-sentence assessment, then end with a last line 'SCORE: <1-10>' "
    .. "(10 = certainly right and useful)."
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("ucb: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local k = int_opt(cfg.hypotheses, M.defaults.hypotheses, 2, 10)
  local rounds = int_opt(cfg.rounds, M.defaults.rounds, 0, 50)
  local c = tonumber(cfg.exploration) or M.defaults.exploration
  if c < 0 or c ~= c then c = M.defaults.exploration end
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)

  -- 1. propose hypotheses
  alc.progress(1, 4, "proposing hypotheses")
  local raw = alc.llm("Task:\n" .. task .. "\n\nPropose " .. k .. " distinct hypotheses — candidate answers "
    .. "or approaches — for the task, each stated in one or two sentences. Make them genuinely different. "
    .. "Return a JSON array of strings.",
    { system = "You are a creative, rigorous researcher.", max_tokens = 600 })
  local hyps = parse_hypotheses(raw, k)
  if #hyps == 0 then
    local whole = trim(raw)
    hyps[1] = whole ~= "" and whole or task
    alc.log("warn", "ucb: no hypothesis list could be parsed; using the whole reply as one hypothesis")
  end
  alc.log("info", "ucb: " .. #hyps .. " hypotheses")

  local arms = alc.json_decode("[]")
  for i, h in ipairs(hyps) do
    arms[i] = { hypothesis = h, pulls = 0, mean = 0, scores = alc.json_decode("[]"), notes = {} }
  end
  local t = 0
  local function record(i, text)
    local a = arms[i]
    local score = parse_rating(text)
    a.scores[#a.scores + 1] = score
    a.pulls = a.pulls + 1
    local reward = (score - 1) / 9
    a.mean = a.mean + (reward - a.mean) / a.pulls
    a.notes[#a.notes + 1] = trim(text)
    t = t + 1
  end

  -- 2. initial pull of every arm (independent: one batch)
  alc.progress(2, 4, "initial evaluation of " .. #arms .. " hypotheses")
  local first = alc.parallel(arms, function(a, i)
    return { prompt = eval_prompt(task, a.hypothesis, LENSES[(i - 1) % #LENSES + 1]),
             system = "You are a critical evaluator.", max_tokens = 300 }
  end)
  for i = 1, #arms do record(i, first[i]) end

  -- 3. UCB1 rounds
  local chosen = alc.json_decode("[]")
  for r = 1, rounds do
    alc.progress(3, 4, "UCB1 round " .. r .. "/" .. rounds)
    local best_i, best_u = 1, -math.huge
    for i, a in ipairs(arms) do
      local u = a.mean + math.sqrt(c * math.log(t) / a.pulls)
      if u > best_u then best_i, best_u = i, u end
    end
    local a = arms[best_i]
    local lens = LENSES[(best_i - 1 + a.pulls) % #LENSES + 1]
    record(best_i, alc.llm(eval_prompt(task, a.hypothesis, lens),
      { system = "You are a critical evaluator.", max_tokens = 300 }))
    chosen[#chosen + 1] = best_i
    alc.log("info", string.format("ucb: round %d pulled arm %d (ucb %.3f, mean now %.3f)", r, best_i, best_u, a.mean))
  end

  -- 4. refine the best arm
  local bi = 1
  for i, a in ipairs(arms) do
    local b = arms[bi]
    if a.mean > b.mean or (a.mean == b.mean and a.pulls > b.pulls) then bi = i end
  end
  local best = arms[bi]
  alc.progress(4, 4, "refining the best hypothesis")
  local answer = trim(alc.llm("Task:\n" .. task .. "\n\nBest hypothesis after evaluation (mean score "
    .. string.format("%.1f", 1 + 9 * best.mean) .. "/10 over " .. best.pulls .. " evaluations):\n"
    .. best.hypothesis .. "\n\nEvaluator notes:\n- " .. table.concat(best.notes, "\n- ")
    .. "\n\nDevelop this hypothesis into a complete final answer to the task, fixing the weaknesses the "
    .. "evaluators pointed out. Reply with the final answer only.",
    { system = "You are a careful expert.", max_tokens = max_tokens }))
  if answer == "" then answer = best.hypothesis end
  alc.log("info", "ucb: best arm " .. bi .. " after " .. t .. " evaluations")

  for _, a in ipairs(arms) do a.notes = nil end
  ctx.result = {
    answer = answer,
    best = { index = bi, hypothesis = best.hypothesis, mean = best.mean, pulls = best.pulls },
    arms = arms,
    pulls = chosen,
  }
  return ctx
end

return M
