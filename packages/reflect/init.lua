--[[
reflect — self-refine: generate, critique, refine, until the critique finds no major issues.

Technique: one model plays three parts in a loop (Madaan et al.). It writes an initial output,
then gives itself specific, actionable feedback on that output, then rewrites the output using
the feedback; feedback and refinement repeat until a stop condition holds. The stop condition
here is the one the paper uses in practice: the feedback step itself declares that nothing
important is left to fix (it must answer with the token NO_MAJOR_ISSUES), or a round limit.
Each refinement sees the task, the current draft and the latest feedback.

Paper:
  Aman Madaan, Niket Tandon, Prakhar Gupta, Skyler Hallinan, Luyu Gao, Sarah Wiegreffe, Uri
  Alon, Nouha Dziri, Shrimai Prabhumoye, Yiming Yang, Shashank Gupta, Bodhisattwa Prasad
  Majumder, Katherine Hermann, Sean Welleck, Amir Yazdanbakhsh, Peter Clark. "Self-Refine:
  Iterative Refinement with Self-Feedback". 2023. arXiv:2303.17651.

Options (ctx):
  task        string, required
  max_rounds  critique/refine rounds at most (default 3, 1..10)
  max_tokens  per call (default 1024)

LLM calls, all single pauses: 1 draft + 1 critique per round + 1 refinement per round that did
not stop. At default settings 2..7: 2 when the first critique says NO_MAJOR_ISSUES, 4 when the
second does, 6 when the third does, 7 when none does.

Result (ctx.result):
  answer     string   the final draft
  initial    string   the first draft
  rounds     integer  critiques made
  converged  boolean  true if a critique said NO_MAJOR_ISSUES
  history    {round, critique, revision?}[]  (revision absent in the round that stopped)
]]

local M = {}

M.meta = {
  name = "reflect",
  version = "0.1.0",
  description = "Self-refine: generate, critique and refine until no major issues remain",
  category = "refinement",
}

M.defaults = { max_rounds = 3, max_tokens = 1024 }

local STOP = "NO_MAJOR_ISSUES"

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

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("reflect: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_rounds = int_opt(cfg.max_rounds, M.defaults.max_rounds, 1, 10)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local total = 1 + 2 * max_rounds

  alc.progress(1, total, "initial draft")
  local draft = trim(alc.llm("Task:\n" .. task .. "\n\nWrite your best response to the task.",
    { system = "You are a skilled, careful writer and problem solver.", max_tokens = max_tokens }))
  local initial = draft
  alc.log("info", "reflect: initial draft (" .. #draft .. " chars)")

  local history = alc.json_decode("[]")
  local converged = false
  local rounds = 0
  local step = 1
  for r = 1, max_rounds do
    rounds = r
    step = step + 1
    alc.progress(step, total, "critique " .. r)
    local critique = trim(alc.llm("Task:\n" .. task .. "\n\nDraft response:\n" .. draft
      .. "\n\nReview the draft critically. List each concrete problem (factual or logical errors, "
      .. "omissions, unclear or unsupported parts) and say how to fix it. If the draft has no major "
      .. "issues left, reply with exactly " .. STOP .. " and nothing else.",
      { system = "You are a demanding reviewer. Your feedback is specific and actionable.",
        max_tokens = max_tokens }))
    local entry = { round = r, critique = critique }
    history[#history + 1] = entry
    if critique:find(STOP, 1, true) then
      converged = true
      alc.log("info", "reflect: critique " .. r .. " found no major issues; stopping")
      break
    end
    step = step + 1
    alc.progress(step, total, "refinement " .. r)
    local revision = trim(alc.llm("Task:\n" .. task .. "\n\nDraft response:\n" .. draft
      .. "\n\nFeedback on the draft:\n" .. critique
      .. "\n\nRewrite the draft so that it addresses every point of the feedback while keeping what was "
      .. "already right. Reply with the improved response only.",
      { system = "You are a skilled, careful writer and problem solver.", max_tokens = max_tokens }))
    if revision == "" then
      alc.log("warn", "reflect: empty refinement in round " .. r .. "; keeping the previous draft")
    else
      draft = revision
    end
    entry.revision = revision
    alc.log("info", "reflect: round " .. r .. " refined")
  end
  if not converged then
    alc.log("info", "reflect: stopped after " .. max_rounds .. " rounds without convergence")
  end

  ctx.result = {
    answer = draft,
    initial = initial,
    rounds = rounds,
    converged = converged,
    history = history,
  }
  return ctx
end

return M
