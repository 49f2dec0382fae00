--[[
calibrate — answer with a verbalised confidence; below a threshold, reconsider and re-ask, and
abstain if the confidence stays low.

Technique: language models can state how likely their own answer is to be correct, and these
verbalised probabilities are informative (Lin et al.; Kadavath et al.); Xiong et al. compare
ways of eliciting them, including asking the model to reason step by step before stating
confidence. The strategy asks for an answer plus "CONFIDENCE: <0-100>%"; if the confidence is
below the threshold it asks again with a step-by-step reconsideration prompt (up to
max_retries times, each attempt shown the previous answers), keeps the most confident attempt,
and — with abstain = true — declines to answer when even that attempt stays below the
threshold (selective prediction). A reply without a readable confidence counts as confidence 0.

Papers:
  Stephanie Lin, Jacob Hilton, Owain Evans. "Teaching Models to Express Their Uncertainty in
  Words". 2022. arXiv:2205.14334.
  Saurav Kadavath et al. "Language Models (Mostly) Know What They Know". 2022.
  arXiv:2207.05221.
  Miao Xiong, Zhiyuan Hu, Xinyang Lu, Yifei Li, Jie Fu, Junxian He, Bryan Hooi. "Can LLMs
  Express Their Uncertainty? An Empirical Evaluation of Confidence Elicitation in LLMs". 2023
  (ICLR 2024). arXiv:2306.13063.

Options (ctx):
  task         string, required: the question
  threshold    minimum confidence in [0, 1] (default 0.7; values > 1 are read as percent)
  max_retries  re-asks when below the threshold (default 1, 0..5)
  abstain      abstain when still below the threshold (default true)
  max_tokens   per call (default 800)

LLM calls, all single pauses: 1 when the first confidence reaches the threshold, else up to
1 + max_retries (stopping at the first attempt that reaches it) — at default settings 1 or 2.

Result (ctx.result):
  answer      string   the chosen answer, or an abstention message
  confidence  number   confidence of the chosen attempt in [0, 1]
  abstained   boolean
  best_guess  string   the most confident attempt's answer (also set when abstaining)
  threshold   number
  attempts    {answer, confidence, parsed}[]  parsed = a confidence was readable
]]

local M = {}

M.meta = {
  name = "calibrate",
  version = "0.1.0",
  description = "Verbalised confidence with re-asking and abstention below a threshold",
  category = "uncertainty",
}

M.defaults = { threshold = 0.7, max_retries = 1, abstain = true, max_tokens = 800 }

local ABSTAIN_TEXT = "I am not confident enough to answer this reliably."

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

-- Splits a reply into (answer, confidence in [0,1] or nil). The confidence comes from the last
-- "CONFIDENCE: x" (x as a percentage, or a fraction <= 1 written with a decimal point); the
-- answer is the reply without the confidence statement (text before it on the same line is
-- kept) and without a leading "ANSWER:" label.
local function parse_reply(text)
  local s = tostring(text or "")
  local conf
  local kept = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    local up = line:upper()
    local at, num, pct = up:match("()CONFIDENCE[%*%s]*[:=%-]?[%*%s]*([%d]+%.?%d*)%s*(%%?)")
    if at then
      local v = tonumber(num)
      if v then
        if pct == "" and num:find(".", 1, true) and v <= 1 then conf = v else conf = v / 100 end
        if conf > 1 then conf = 1 end
        if conf < 0 then conf = 0 end
      end
      -- keep an answer written on the same line before the confidence
      local before = line:sub(1, at - 1):gsub("[%s%(%[%*%-,;]+$", "")
      if before ~= "" then kept[#kept + 1] = before end
    else
      kept[#kept + 1] = line
    end
  end
  local answer = trim(table.concat(kept, "\n"))
  answer = trim((answer:gsub("^[Aa][Nn][Ss][Ww][Ee][Rr]%s*:%s*", "")))
  return answer, conf
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("calibrate: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local threshold = tonumber(cfg.threshold) or M.defaults.threshold
  if threshold > 1 then threshold = threshold / 100 end
  if threshold < 0 or threshold ~= threshold then threshold = M.defaults.threshold end
  local retries = int_opt(cfg.max_retries, M.defaults.max_retries, 0, 5)
  local abstain = cfg.abstain ~= false
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local system = "You are a careful expert who is honest about uncertainty."
  local format = "On the last line, state how confident you are that your answer is correct, as "
    .. "'CONFIDENCE: <0-100>%'."

  local attempts = alc.json_decode("[]")
  local best
  for i = 1, retries + 1 do
    alc.progress(i, retries + 1, i == 1 and "answering" or ("re-asking (" .. (i - 1) .. ")"))
    local prompt
    if i == 1 then
      prompt = "Question:\n" .. task .. "\n\nAnswer the question. " .. format
    else
      local prev = {}
      for j, a in ipairs(attempts) do
        prev[j] = "- " .. (a.answer ~= "" and a.answer or "(no answer)") .. " (stated confidence "
          .. math.floor(a.confidence * 100 + 0.5) .. "%)"
      end
      prompt = "Question:\n" .. task .. "\n\nEarlier answers, given with low confidence:\n" .. table.concat(prev, "\n")
        .. "\n\nReconsider the question from scratch. Think step by step, check each assumption, and "
        .. "then give your final answer. " .. format
    end
    local answer, conf = parse_reply(alc.llm(prompt, { system = system, max_tokens = max_tokens }))
    local attempt = { answer = answer, confidence = conf or 0, parsed = conf ~= nil }
    attempts[#attempts + 1] = attempt
    if not attempt.parsed then
      alc.log("warn", "calibrate: attempt " .. i .. " stated no readable confidence; counting it as 0")
    end
    alc.log("info", string.format("calibrate: attempt %d confidence %.2f (threshold %.2f)", i, attempt.confidence, threshold))
    if not best or attempt.confidence > best.confidence or (best.answer == "" and answer ~= "") then
      best = attempt
    end
    if attempt.confidence >= threshold and answer ~= "" then break end
  end

  local confident = best.confidence >= threshold and best.answer ~= ""
  local abstained = abstain and not confident
  if abstained then
    alc.log("info", "calibrate: abstaining (best confidence " .. best.confidence .. ")")
  end
  ctx.result = {
    answer = abstained and ABSTAIN_TEXT or best.answer,
    confidence = best.confidence,
    abstained = abstained,
    best_guess = best.answer,
    threshold = threshold,
    attempts = attempts,
  }
  return ctx
end

return M
