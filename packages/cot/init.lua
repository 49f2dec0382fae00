--[[
cot — chain-of-thought reasoning, elicited one step at a time, then a separate answer
extraction.

Technique: the model is asked to "think step by step" and writes its reasoning as a chain of
intermediate steps before committing to an answer (Wei et al.). The answer is then read off the
finished chain with a second, answer-extraction prompt ("Therefore, the answer is"), as in the
two-stage zero-shot prompting of Kojima et al. Here each reasoning step is its own call, so
every step sees the chain so far and can be logged and inspected.

Papers:
  Jason Wei, Xuezhi Wang, Dale Schuurmans, Maarten Bosma, Brian Ichter, Fei Xia, Ed Chi,
  Quoc Le, Denny Zhou. "Chain-of-Thought Prompting Elicits Reasoning in Large Language
  Models". 2022. arXiv:2201.11903.
  Takeshi Kojima, Shixiang Shane Gu, Machel Reid, Yutaka Matsuo, Yusuke Iwasawa. "Large
  Language Models are Zero-Shot Reasoners". 2022. arXiv:2205.11916.

Options (ctx):
  task        string, required: the problem
  steps       number of reasoning steps (default 3, 1..20)
  max_tokens  per reasoning step (default 600)

LLM calls: steps + 1 — at default settings 4 single pauses (3 steps, 1 extraction).

Result (ctx.result):
  answer     string   the extracted final answer
  steps      string[] the reasoning steps in order
  reasoning  string   the steps joined as "Step i: ..." lines
]]

local M = {}

M.meta = {
  name = "cot",
  version = "0.1.0",
  description = "Chain-of-thought: reason step by step, one call per step, then extract the answer",
  category = "reasoning",
}

M.defaults = { steps = 3, max_tokens = 600 }

local SYSTEM = "You are a careful problem solver. You reason in small, explicit, checkable steps."

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

local function chain_text(steps)
  local lines = {}
  for i, s in ipairs(steps) do lines[i] = "Step " .. i .. ": " .. s end
  return table.concat(lines, "\n")
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("cot: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local n = int_opt(cfg.steps, M.defaults.steps, 1, 20)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local total = n + 1

  local steps = alc.json_decode("[]")
  for i = 1, n do
    alc.progress(i, total, "reasoning step " .. i .. "/" .. n)
    local sofar = #steps > 0 and chain_text(steps) or "(none yet)"
    local prompt = "Problem:\n" .. task
      .. "\n\nReasoning so far:\n" .. sofar
      .. "\n\nLet's think step by step. Write reasoning step " .. i .. " of " .. n
      .. ": one short, concrete step that builds on the steps above and moves toward the solution. "
      .. (i == n and "This is the last step: bring the reasoning to a conclusion."
                  or "Do not state the final answer yet.")
      .. " Reply with the step only."
    local out = trim(alc.llm(prompt, { system = SYSTEM, max_tokens = max_tokens }))
    steps[#steps + 1] = out
    alc.log("info", "cot: step " .. i .. " done (" .. #out .. " chars)")
  end

  alc.progress(total, total, "extracting the answer")
  local reasoning = chain_text(steps)
  local answer = trim(alc.llm("Problem:\n" .. task .. "\n\nReasoning:\n" .. reasoning
    .. "\n\nTherefore, the answer is (reply with the final answer only, without repeating the reasoning):",
    { system = SYSTEM, max_tokens = max_tokens }))
  if answer == "" then
    -- nothing extracted: fall back to the conclusion of the chain
    answer = steps[#steps] or ""
    alc.log("warn", "cot: empty answer extraction, using the last reasoning step")
  end
  alc.log("info", "cot: done")

  ctx.result = { answer = answer, steps = steps, reasoning = reasoning }
  return ctx
end

return M
