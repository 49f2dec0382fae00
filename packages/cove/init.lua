--[[
cove — chain-of-verification: draft an answer, plan verification questions, answer them
independently, then write a verified final answer.

Technique (Dhuliawala et al.), four steps:
  1. baseline response to the query;
  2. plan verification questions that fact-check the claims in the baseline;
  3. execute the verifications — each question is answered on its own, without the baseline in
     the prompt (the paper's "factored" variant, which keeps the baseline's mistakes from being
     copied into the checks); the questions are independent, so they go out as one batch, and
     each is marked grounded = true so a host with retrieval or tools can use them;
  4. final verified response: the baseline revised in the light of the verification answers.

Paper:
  Shehzaad Dhuliawala, Mojtaba Komeili, Jing Xu, Roberta Raileanu, Xian Li, Asli Celikyilmaz,
  Jason Weston. "Chain-of-Verification Reduces Hallucination in Large Language Models". 2023.
  arXiv:2309.11495.

Options (ctx):
  task         string, required: the query
  n_questions  verification questions at most (default 3, 1..10)
  max_tokens   for baseline and final answer (default 1024)

LLM calls: 2 + q + 1 where q = verification questions parsed (at most n_questions). At default
settings 6: baseline, plan, a batch of 3 grounded verifications, final. If the plan yields no
question the final step is skipped (2 calls) and the baseline is the answer.

Result (ctx.result):
  answer         string  the verified final answer
  baseline       string  the first, unverified answer
  verifications  {question, answer}[]
  revised        boolean true when the final step ran
]]

local M = {}

M.meta = {
  name = "cove",
  version = "0.1.0",
  description = "Chain-of-verification: baseline, verification questions answered independently, verified answer",
  category = "verification",
}

M.defaults = { n_questions = 3, max_tokens = 1024 }

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

-- Questions from the planner's reply: a JSON array of strings (or of objects with a
-- "question" field, or an object holding such an array); else numbered / bulleted lines;
-- else any line ending in '?'. At most max.
local function parse_questions(raw, max)
  local out = {}
  local function add(s)
    s = trim(s)
    if s ~= "" and #out < max then out[#out + 1] = s end
  end
  local t = alc.json_extract(raw)
  if type(t) == "table" then
    local arr = t
    if t[1] == nil and type(t.questions) == "table" then arr = t.questions end
    for _, v in ipairs(arr) do
      if type(v) == "string" then add(v)
      elseif type(v) == "table" and type(v.question) == "string" then add(v.question) end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      local q = line:match("^%s*%d+[%.%):]%s+(.+)$") or line:match("^%s*[%-%*]%s+(.+)$")
      if q then add(q) end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      if trim(line):match("%?$") then add(line) end
    end
  end
  return out
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("cove: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local nq = int_opt(cfg.n_questions, M.defaults.n_questions, 1, 10)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)

  -- 1. baseline
  alc.progress(1, 4, "baseline response")
  local baseline = trim(alc.llm("Answer the following query.\n\nQuery:\n" .. task,
    { system = "You are a knowledgeable assistant.", max_tokens = max_tokens }))
  alc.log("info", "cove: baseline drafted (" .. #baseline .. " chars)")

  -- 2. plan verifications
  alc.progress(2, 4, "planning verification questions")
  local plan = alc.llm("Below are a query and a draft answer. Write at most " .. nq .. " verification "
    .. "questions that fact-check the specific claims made in the draft answer. Each question must be "
    .. "answerable on its own, without seeing the draft. Return them as a JSON array of strings.\n\nQuery:\n"
    .. task .. "\n\nDraft answer:\n" .. baseline,
    { system = "You are a meticulous fact-checker.", max_tokens = 400 })
  local questions = parse_questions(plan, nq)
  alc.log("info", "cove: planned " .. #questions .. " verification questions")

  local verifications = alc.json_decode("[]")
  if #questions == 0 then
    alc.log("warn", "cove: no verification questions could be parsed; keeping the baseline")
    alc.progress(4, 4, "done (no verification)")
    ctx.result = { answer = baseline, baseline = baseline, verifications = verifications, revised = false }
    return ctx
  end

  -- 3. execute verifications independently of the baseline (factored), as one batch
  alc.progress(3, 4, "answering " .. #questions .. " verification questions")
  local answers = alc.parallel(questions, function(q)
    return {
      prompt = "Answer the following question accurately and concisely, stating only facts you are "
        .. "sure of.\n\nQuestion: " .. q,
      system = "You are a careful, factual assistant.",
      max_tokens = 300,
      grounded = true,
    }
  end)
  local lines = {}
  for i, q in ipairs(questions) do
    local a = trim(answers[i])
    verifications[i] = { question = q, answer = a }
    lines[#lines + 1] = "Q" .. i .. ": " .. q .. "\nA" .. i .. ": " .. (a ~= "" and a or "(no answer)")
  end

  -- 4. final verified response
  alc.progress(4, 4, "writing the verified answer")
  local final = trim(alc.llm("Query:\n" .. task .. "\n\nDraft answer:\n" .. baseline
    .. "\n\nIndependent verification results:\n" .. table.concat(lines, "\n")
    .. "\n\nRevise the draft answer in the light of the verification results: keep what they confirm, "
    .. "correct what they contradict, and drop claims they do not support. Reply with the final verified "
    .. "answer only.",
    { system = "You are a knowledgeable assistant who corrects mistakes.", max_tokens = max_tokens }))
  if final == "" then
    alc.log("warn", "cove: empty final answer; keeping the baseline")
    final = baseline
  end
  alc.log("info", "cove: done")

  ctx.result = { answer = final, baseline = baseline, verifications = verifications, revised = true }
  return ctx
end

return M
