--[[
decompose — least-to-most prompting: break a problem into simpler sub-questions, solve them in
order with every earlier answer in context, then answer the original problem.

Technique (Zhou et al.), two stages: (1) decomposition — the model reduces the problem to a
list of sub-questions ordered from the simplest to the one that depends on the others;
(2) sequential subproblem solving — each sub-question is answered with the previously solved
sub-questions and their answers appended to the prompt, so later steps build on earlier ones;
the original problem is solved last, on top of all sub-answers. The steps depend on each other,
so every call is a single pause.

Paper:
  Denny Zhou, Nathanael Schärli, Le Hou, Jason Wei, Nathan Scales, Xuezhi Wang, Dale
  Schuurmans, Claire Cui, Olivier Bousquet, Quoc Le, Ed Chi. "Least-to-Most Prompting Enables
  Complex Reasoning in Large Language Models". 2022 (ICLR 2023). arXiv:2205.10625.

Options (ctx):
  task               string, required: the problem
  max_subquestions   sub-questions kept at most (default 4, 1..10)
  max_tokens         per sub-answer and for the final answer (default 600)

LLM calls: 1 + s + 1 with s = sub-questions parsed (0..max_subquestions), all single pauses:
decomposition, s sub-answers, final answer. A decomposition into 3 sub-questions gives 5.

Result (ctx.result):
  answer        string  the answer to the original problem
  subquestions  {question, answer}[]  in solving order
]]

local M = {}

M.meta = {
  name = "decompose",
  version = "0.1.0",
  description = "Least-to-most: decompose into sub-questions, solve them in order, then answer",
  category = "reasoning",
}

M.defaults = { max_subquestions = 4, max_tokens = 600 }

local SYSTEM = "You are a careful problem solver."

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

-- Sub-questions from a JSON array (strings or {question=...}), an object holding one under
-- "subquestions"/"questions", or numbered / bulleted lines. At most max.
local function parse_subquestions(raw, max)
  local out = {}
  local function add(s)
    s = trim(s)
    if s ~= "" and #out < max then out[#out + 1] = s end
  end
  local t = alc.json_extract(raw)
  if type(t) == "table" then
    local arr = t
    if t[1] == nil then arr = t.subquestions or t.sub_questions or t.questions or {} end
    if type(arr) == "table" then
      for _, v in ipairs(arr) do
        if type(v) == "string" then add(v)
        elseif type(v) == "table" and type(v.question) == "string" then add(v.question) end
      end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      local q = line:match("^%s*%d+[%.%):]%s+(.+)$") or line:match("^%s*[%-%*]%s+(.+)$")
      if q then add(q) end
    end
  end
  return out
end

local function solved_text(list)
  local parts = {}
  for i, s in ipairs(list) do
    parts[i] = "Q" .. i .. ": " .. s.question .. "\nA" .. i .. ": " .. s.answer
  end
  return table.concat(parts, "\n")
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("decompose: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_sub = int_opt(cfg.max_subquestions, M.defaults.max_subquestions, 1, 10)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)

  -- stage 1: decomposition
  alc.progress(1, max_sub + 2, "decomposing the problem")
  local raw = alc.llm("Problem:\n" .. task .. "\n\nTo solve this problem, what simpler sub-questions need to be "
    .. "answered first? List at most " .. max_sub .. " sub-questions, ordered from the simplest to the one "
    .. "that builds on the others. Do not answer them. Return a JSON array of strings.",
    { system = SYSTEM, max_tokens = 400 })
  local questions = parse_subquestions(raw, max_sub)
  if #questions == 0 then
    alc.log("warn", "decompose: no sub-questions could be parsed; solving the problem directly")
  else
    alc.log("info", "decompose: " .. #questions .. " sub-questions")
  end
  local total = #questions + 2

  -- stage 2: solve the sub-questions in order, each seeing the earlier answers
  local solved = alc.json_decode("[]")
  for i, q in ipairs(questions) do
    alc.progress(i + 1, total, "sub-question " .. i .. "/" .. #questions)
    local prompt = "Problem:\n" .. task
    if #solved > 0 then
      prompt = prompt .. "\n\nSub-questions already solved:\n" .. solved_text(solved)
    end
    prompt = prompt .. "\n\nNow answer the next sub-question: " .. q .. "\nReply with a concise answer."
    local a = trim(alc.llm(prompt, { system = SYSTEM, max_tokens = max_tokens }))
    solved[#solved + 1] = { question = q, answer = a }
    alc.log("info", "decompose: sub-question " .. i .. " answered")
  end

  -- the original problem, last
  alc.progress(total, total, "answering the original problem")
  local prompt = "Problem:\n" .. task
  if #solved > 0 then
    prompt = prompt .. "\n\nSub-questions already solved:\n" .. solved_text(solved)
      .. "\n\nUsing these results, answer the original problem."
  else
    prompt = prompt .. "\n\nAnswer the problem."
  end
  local answer = trim(alc.llm(prompt .. " Give the final answer first, then a brief explanation.",
    { system = SYSTEM, max_tokens = max_tokens }))
  if answer == "" and #solved > 0 then answer = solved[#solved].answer end
  alc.log("info", "decompose: done")

  ctx.result = { answer = answer, subquestions = solved }
  return ctx
end

return M
