--[[
factscore — factual precision of a text: split it into atomic facts, verify each fact, and
report the fraction that is supported.

Technique (Min et al.): FActScore breaks a generation into atomic facts — short statements that
each carry exactly one piece of information — checks every fact against a knowledge source, and
scores the generation by the fraction of supported facts. Here the facts are split by one LLM
call, and each fact is verified by its own call (independent: one batch) marked grounded = true,
so a host with retrieval or tools can check it against a real source; ctx.knowledge, if given,
is put into every verification prompt as the knowledge source. Verdicts are read as
True/False; an unreadable verdict counts as not supported.

Paper:
  Sewon Min, Kalpesh Krishna, Xinxi Lyu, Mike Lewis, Wen-tau Yih, Pang Wei Koh, Mohit Iyyer,
  Luke Zettlemoyer, Hannaneh Hajishirzi. "FActScore: Fine-grained Atomic Evaluation of Factual
  Precision in Long Form Text Generation". 2023. arXiv:2305.14251.

Options (ctx):
  text        string: the text to score; if absent, a text is first generated for ctx.task
  task        string: the prompt to answer when ctx.text is absent
  knowledge   string: optional reference text for verification
  max_claims  atomic facts verified at most (default 12, 1..50)

LLM calls: (text given ? 0 : 1) + 1 + c with c = facts parsed: [generation,] split, then one
batch of c grounded verifications. With ctx.text and 4 facts: 5 calls (1 single, 1 batch of 4).

Result (ctx.result):
  score      number   supported / total (0 when no fact was found)
  supported  integer  facts judged true
  total      integer  facts checked
  claims     {claim, supported, verdict, explanation}[]  verdict "true", "false" or "unclear"
  answer     string   the scored text
]]

local M = {}

M.meta = {
  name = "factscore",
  version = "0.1.0",
  description = "FActScore: atomic facts verified one by one (grounded); score = supported fraction",
  category = "verification",
}

M.defaults = { text = false, knowledge = false, max_claims = 12 }

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

-- Atomic facts from a JSON array (strings or {fact|claim=...}), an object holding one under
-- "facts"/"claims", or numbered / bulleted lines. At most max.
local function parse_facts(raw, max)
  local out = {}
  local function add(s)
    s = trim(s)
    if s ~= "" and #out < max then out[#out + 1] = s end
  end
  local t = alc.json_extract(raw)
  if type(t) == "table" then
    local arr = t
    if t[1] == nil then arr = t.facts or t.claims or t.atomic_facts or {} end
    if type(arr) == "table" then
      for _, v in ipairs(arr) do
        if type(v) == "string" then add(v)
        elseif type(v) == "table" then
          local s = v.fact or v.claim
          if type(s) == "string" then add(s) end
        end
      end
    end
  end
  if #out == 0 then
    for line in (tostring(raw) .. "\n"):gmatch("([^\n]*)\n") do
      local f = line:match("^%s*%d+[%.%):]%s+(.+)$") or line:match("^%s*[%-%*]%s+(.+)$")
      if f then add(f) end
    end
  end
  return out
end

-- true / false / nil from a verdict: the leading word decides when it is a verdict word,
-- else alc.match_bool over the whole reply.
local LEAD = { ["true"] = true, yes = true, supported = true, correct = true,
               ["false"] = false, no = false, unsupported = false, incorrect = false }
local function parse_verdict(text)
  local s = tostring(text or "")
  local first = s:match("^[%s%p]*(%a+)")
  if first then
    local v = LEAD[first:lower()]
    if v ~= nil then return v end
  end
  return alc.match_bool(s)
end

function M.run(ctx)
  local cfg = alc.tuning(M.defaults, ctx)
  local max_claims = int_opt(cfg.max_claims, M.defaults.max_claims, 1, 50)
  local knowledge = type(cfg.knowledge) == "string" and trim(cfg.knowledge) ~= "" and cfg.knowledge or nil
  local text = type(cfg.text) == "string" and trim(cfg.text) ~= "" and cfg.text or nil
  local task = ctx.task
  local generated = false
  if not text then
    if type(task) ~= "string" or trim(task) == "" then
      error("factscore: ctx.text or ctx.task must be a non-empty string", 0)
    end
    alc.progress(1, 3, "generating the text to score")
    text = trim(alc.llm(task, { system = "You are a knowledgeable assistant.", max_tokens = 1024 }))
    generated = true
  end

  alc.progress(2, 3, "splitting into atomic facts")
  local raw = alc.llm("Break the text below into atomic facts: short, self-contained sentences that each "
    .. "state exactly one piece of information (replace pronouns with the names they refer to). Return "
    .. "a JSON array of strings.\n\nText:\n" .. text,
    { system = "You are a precise annotator.", max_tokens = 1024 })
  local facts = parse_facts(raw, max_claims)
  alc.log("info", "factscore: " .. #facts .. " atomic facts" .. (generated and " (generated text)" or ""))

  local claims = alc.json_decode("[]")
  local supported = 0
  if #facts > 0 then
    alc.progress(3, 3, "verifying " .. #facts .. " facts")
    local verdicts = alc.parallel(facts, function(f)
      local p = "Is the following claim true?"
      if knowledge then p = p .. " Judge it against this knowledge source:\n" .. knowledge .. "\n" end
      return {
        prompt = p .. "\n\nClaim: " .. f .. "\n\nAnswer True or False first, then give a one-sentence reason.",
        system = "You are a strict fact-checker. Say False when the claim is not supported.",
        max_tokens = 200,
        grounded = true,
      }
    end)
    for i, f in ipairs(facts) do
      local v = parse_verdict(verdicts[i])
      local verdict = v == true and "true" or (v == false and "false" or "unclear")
      if v == true then supported = supported + 1 end
      claims[i] = { claim = f, supported = v == true, verdict = verdict, explanation = trim(verdicts[i]) }
    end
  else
    alc.log("warn", "factscore: no atomic facts could be parsed; score is 0")
  end
  local score = #facts > 0 and supported / #facts or 0
  alc.log("info", string.format("factscore: %d/%d supported (%.3f)", supported, #facts, score))

  ctx.result = { score = score, supported = supported, total = #facts, claims = claims, answer = text }
  return ctx
end

return M
