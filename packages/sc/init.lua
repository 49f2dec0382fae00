--[[
sc — self-consistency: sample several independent chain-of-thought solutions and take the
majority vote over their final answers.

Technique: instead of trusting one greedy reasoning path, sample a diverse set of reasoning
paths for the same problem and "marginalise out" the reasoning by choosing the final answer
that most paths agree on (Wang et al.). Paths are sampled in one batch (they are independent);
each path's final answer is then reduced to a short canonical form in a second batch so that
paraphrases ("12", "12 apples") vote together; the vote itself is done in Lua over normalised
answers (ties go to the answer seen first). A last call writes the final answer in the words
of a path that reached the majority answer.

Paper:
  Xuezhi Wang, Jason Wei, Dale Schuurmans, Quoc Le, Ed Chi, Sharan Narang, Aakanksha
  Chowdhery, Denny Zhou. "Self-Consistency Improves Chain of Thought Reasoning in Language
  Models". 2022 (ICLR 2023). arXiv:2203.11171.

Options (ctx):
  task        string, required
  n           number of sampled reasoning paths (default 5, 1..50)
  max_tokens  per reasoning path (default 800)

LLM calls: 2n + 1 — at default settings 11: a batch of 5 paths, a batch of 5 answer
extractions, then 1 single call for the final answer.

Result (ctx.result):
  answer      string   final answer, consistent with the majority
  majority    string|nil  the winning short answer (nil if no path gave a usable answer)
  confidence  number   votes for the majority / n
  votes       {answer, count}[]  distinct short answers, most votes first
  answers     string[] the short answer extracted from each path ("" if none)
  paths       string[] the sampled reasoning paths
]]

local M = {}

M.meta = {
  name = "sc",
  version = "0.1.0",
  description = "Self-consistency: majority vote over independently sampled reasoning paths",
  category = "reasoning",
}

M.defaults = { n = 5, max_tokens = 800 }

local SYSTEM = "You are a careful problem solver. Think step by step."

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

-- Short answer as displayed: first non-empty line, "ANSWER:"/"Final answer:" labels removed,
-- surrounding quotes, emphasis and a final period dropped.
local function clean_answer(s)
  s = trim(s)
  s = s:match("^[^\n]*") or ""
  s = s:gsub("^[Ff]inal [Aa]nswer%s*[:%-]%s*", ""):gsub("^[Aa][Nn][Ss][Ww][Ee][Rr]%s*[:%-]%s*", "")
  s = trim(s):gsub("^[%*_\"'`]+", ""):gsub("[%*_\"'`]+$", "")
  s = trim(s):gsub("%.$", "")
  return trim(s)
end

-- Voting key: lower case, whitespace collapsed.
local function vote_key(s)
  return (s:lower():gsub("%s+", " "))
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("sc: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local n = int_opt(cfg.n, M.defaults.n, 1, 50)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)

  -- 1. sample n reasoning paths (independent: one batch)
  alc.progress(1, 3, "sampling " .. n .. " reasoning paths")
  local idx = {}
  for i = 1, n do idx[i] = i end
  local paths = alc.parallel(idx, function(i)
    return {
      prompt = "Solve the following problem. Think step by step, then finish with a last line of the form "
        .. "'ANSWER: <final answer>'. This is independent attempt " .. i .. " of " .. n
        .. "; reason it through on your own.\n\nProblem:\n" .. task,
      system = SYSTEM, max_tokens = max_tokens, temperature = 0.7,
    }
  end)
  alc.log("info", "sc: sampled " .. #paths .. " reasoning paths")

  -- 2. reduce every path to its short final answer (independent: one batch)
  alc.progress(2, 3, "extracting the final answer of each path")
  local raw_answers = alc.parallel(paths, function(path)
    return {
      prompt = "Below is a worked solution to a problem. What final answer does it arrive at? Reply with the "
        .. "short answer only (a number, a name, yes/no or a short phrase), no explanation.\n\nProblem:\n"
        .. task .. "\n\nSolution:\n" .. path,
      max_tokens = 100,
    }
  end)

  -- 3. majority vote over the normalised short answers
  local answers = alc.json_decode("[]")
  local counts, display, order, first_path = {}, {}, {}, {}
  for i = 1, n do
    local a = clean_answer(raw_answers[i])
    answers[i] = a
    if a ~= "" then
      local k = vote_key(a)
      if not counts[k] then
        counts[k], display[k], first_path[k] = 0, a, i
        order[#order + 1] = k
      end
      counts[k] = counts[k] + 1
    end
  end
  local votes = alc.json_decode("[]")
  for pos, k in ipairs(order) do votes[pos] = { answer = display[k], count = counts[k], _pos = pos } end
  table.sort(votes, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a._pos < b._pos
  end)
  for _, v in ipairs(votes) do v._pos = nil end
  local top = votes[1]
  local majority = top and top.answer or nil
  local confidence = top and top.count / n or 0
  if top then
    alc.log("info", string.format("sc: majority '%s' with %d/%d votes", majority, top.count, n))
  else
    alc.log("warn", "sc: no path produced a usable answer")
  end

  -- 4. final answer in the words of a majority path
  alc.progress(3, 3, "writing the final answer")
  local final_prompt
  if top then
    final_prompt = "Several independent solutions were sampled for the problem below, and " .. top.count
      .. " of " .. n .. " of them reached the same conclusion: " .. majority
      .. "\n\nProblem:\n" .. task .. "\n\nOne of those solutions:\n" .. paths[first_path[vote_key(majority)]]
      .. "\n\nState the final answer to the problem, consistent with that majority conclusion, followed by "
      .. "a one- or two-sentence justification."
  else
    final_prompt = "Several independent solutions were sampled for the problem below, but none of them "
      .. "reached a clear final answer.\n\nProblem:\n" .. task .. "\n\nOne of those solutions:\n"
      .. tostring(paths[1]) .. "\n\nState the best final answer you can give, followed by a one- or "
      .. "two-sentence justification."
  end
  local answer = trim(alc.llm(final_prompt, { system = SYSTEM, max_tokens = max_tokens }))
  if answer == "" then answer = majority or "" end

  ctx.result = {
    answer = answer,
    majority = majority,
    confidence = confidence,
    votes = votes,
    answers = answers,
    paths = paths,
  }
  return ctx
end

return M
