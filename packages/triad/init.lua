--[[
triad — debate between a proponent and an opponent, refereed by a judge over several rounds.

Technique: Multi-Agent Debate (Liang et al.). Two debaters argue "tit for tat" — the affirmative
side puts forward an answer, the negative side attacks it and argues for an alternative — while
a judge follows the debate. After every round the judge decides whether the correct answer is
already clear (then the debate ends early), and after the last round it must extract the final
answer from the whole debate. Opening statements are independent of each other and go out as
one batch; later rebuttals are sequential (the opponent answers the proponent's latest
rebuttal, and both see the judge's notes).

Paper:
  Tian Liang, Zhiwei He, Wenxiang Jiao, Xing Wang, Yan Wang, Rui Wang, Yujiu Yang, Shuming Shi,
  Zhaopeng Tu. "Encouraging Divergent Thinking in Large Language Models through Multi-Agent
  Debate". 2023. arXiv:2305.19118.

Options (ctx):
  task        string, required: the question under debate
  rounds      debate rounds (default 3, 1..10)
  max_tokens  per debater turn (default 700)

LLM calls: 3 per round (2 debater turns + 1 judge) — at default settings 9 when the judge does
not end the debate early: one batch of 2 openings, then 7 single calls (judge, proponent,
opponent, judge, proponent, opponent, final judge). An early decision after round r gives 3r.

Result (ctx.result):
  answer           string   the judge's final answer
  verdict          string   "proponent", "opponent", "neither" or "undecided"
  rounds           integer  rounds held
  concluded_early  boolean  the judge decided before the last round
  transcript       {round, proponent, opponent, judge}[]
]]

local M = {}

M.meta = {
  name = "triad",
  version = "0.1.0",
  description = "Proponent/opponent debate with a judge who may stop early and gives the verdict",
  category = "deliberation",
}

M.defaults = { rounds = 3, max_tokens = 700 }

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

-- The side named after the last "DECISION:" in a judge reply, or nil.
local function parse_decision(text)
  local last
  for w in tostring(text or ""):upper():gmatch("DECISION%W+(%a+)") do last = w end
  if not last then return nil end
  -- prefixes, not alc.match_enum: "opponent" is a substring of "proponent"
  if last:find("^PRO") then return "proponent" end
  if last:find("^OPP") then return "opponent" end
  if last:find("^NEI") or last:find("^NON") then return "neither" end
  return nil
end

-- The rest of the line after the last "ANSWER:" label (or, when that is empty, the text
-- after it), or nil.
local function parse_answer(text)
  local s = tostring(text or "")
  local up = s:upper()
  local pos, from = nil, 1
  while true do
    local a, b = up:find("ANSWER%s*:", from)
    if not a then break end
    pos, from = b + 1, b + 1
  end
  if not pos then return nil end
  local rest = s:sub(pos)
  local ans = trim(rest:match("^[^\n]*"))
  if ans == "" then ans = trim(rest) end
  return ans ~= "" and ans or nil
end

local function debate_text(transcript)
  local parts = {}
  for _, t in ipairs(transcript) do
    parts[#parts + 1] = "Round " .. t.round .. "\nPROPONENT: " .. t.proponent .. "\nOPPONENT: " .. t.opponent
    if t.judge then parts[#parts + 1] = "JUDGE'S NOTE: " .. t.judge end
  end
  return table.concat(parts, "\n\n")
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("triad: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local rounds = int_opt(cfg.rounds, M.defaults.rounds, 1, 10)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local total = 3 * rounds
  local pro_sys = "You are the proponent in a debate. You defend the answer you believe is correct, "
    .. "concede points only when they are right, and argue concisely."
  local opp_sys = "You are the opponent in a debate. You look for flaws in the proponent's position and "
    .. "argue for a better alternative when there is one; you argue concisely."

  local transcript = alc.json_decode("[]")
  local verdict, answer, concluded_early, held = nil, nil, false, 0
  local judge_text = ""
  for r = 1, rounds do
    held = r
    local entry = { round = r }
    if r == 1 then
      alc.progress(1, total, "opening statements")
      local openings = alc.llm_batch({
        { prompt = "Question under debate:\n" .. task .. "\n\nOpening statement: state the answer you "
            .. "defend and give your strongest arguments for it.", system = pro_sys, max_tokens = max_tokens },
        { prompt = "Question under debate:\n" .. task .. "\n\nOpening statement: identify the most likely "
            .. "answer others will give, argue against it where it is weak, and state the answer you "
            .. "defend instead.", system = opp_sys, max_tokens = max_tokens },
      })
      entry.proponent, entry.opponent = trim(openings[1]), trim(openings[2])
    else
      local so_far = debate_text(transcript)
      alc.progress(3 * (r - 1) + 1, total, "round " .. r .. ": proponent")
      entry.proponent = trim(alc.llm("Question under debate:\n" .. task .. "\n\nThe debate so far:\n" .. so_far
        .. "\n\nRound " .. r .. ", proponent's rebuttal: answer the opponent's latest arguments and the "
        .. "judge's note, and restate the answer you now defend.", { system = pro_sys, max_tokens = max_tokens }))
      alc.progress(3 * (r - 1) + 2, total, "round " .. r .. ": opponent")
      entry.opponent = trim(alc.llm("Question under debate:\n" .. task .. "\n\nThe debate so far:\n" .. so_far
        .. "\n\nProponent's rebuttal in round " .. r .. ":\n" .. entry.proponent
        .. "\n\nRound " .. r .. ", opponent's rebuttal: answer this rebuttal and the judge's note, and "
        .. "restate the answer you now defend.", { system = opp_sys, max_tokens = max_tokens }))
    end
    transcript[#transcript + 1] = entry

    alc.progress(3 * r, total, "round " .. r .. ": judge")
    local last = r == rounds
    local jprompt
    if last then
      jprompt = "You are the judge of a debate.\n\nQuestion under debate:\n" .. task .. "\n\nThe debate:\n"
        .. debate_text(transcript) .. "\n\nThe debate is over. Decide which side is right. Reply with a "
        .. "line 'DECISION: PROPONENT', 'DECISION: OPPONENT' or 'DECISION: NEITHER', then a line "
        .. "'ANSWER: <the final answer to the question>', then a short justification."
    else
      jprompt = "You are the judge of a debate.\n\nQuestion under debate:\n" .. task .. "\n\nThe debate so far:\n"
        .. debate_text(transcript) .. "\n\nIf one side has already clearly established the correct answer, "
        .. "reply with a line 'DECISION: PROPONENT' or 'DECISION: OPPONENT' and a line 'ANSWER: <the final "
        .. "answer>'. Otherwise reply 'CONTINUE' and say in one or two sentences what the debaters should "
        .. "address in the next round."
    end
    judge_text = trim(alc.llm(jprompt, { system = "You are an impartial, rigorous judge.", max_tokens = 500 }))
    entry.judge = judge_text
    local decision = parse_decision(judge_text)
    if decision and (last or decision ~= "neither") then
      verdict = decision
      answer = parse_answer(judge_text)
      concluded_early = not last
      alc.log("info", "triad: judge decided for the " .. decision .. " after round " .. r)
      break
    end
    alc.log("info", "triad: round " .. r .. " done, debate continues")
  end

  if not verdict then
    verdict = "undecided"
    alc.log("warn", "triad: the judge gave no readable decision")
  end
  if not answer then
    -- no ANSWER line: use what the judge said, else the last word of the winning (or proponent) side
    answer = parse_answer(judge_text)
    if not answer then
      local lastr = transcript[#transcript]
      if verdict == "opponent" then answer = lastr.opponent
      elseif judge_text ~= "" and verdict ~= "undecided" then answer = judge_text
      else answer = lastr.proponent end
    end
  end

  ctx.result = {
    answer = answer,
    verdict = verdict,
    rounds = held,
    concluded_early = concluded_early,
    transcript = transcript,
  }
  return ctx
end

return M
