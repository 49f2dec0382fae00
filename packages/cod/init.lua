--[[
cod — chain of density: write a sparse summary, then rewrite it again and again at the same
length while adding missing salient entities, so each summary is denser than the last.

Technique (Adams et al.): start with an entity-sparse summary of a fixed length; in each later
step (1) identify 1-3 informative entities from the article that are missing from the current
summary (relevant, specific, faithful to the article, anywhere in it), and (2) write a new
summary of identical length that keeps every entity of the previous one and adds the missing
ones, making room by fusion, compression and removing uninformative phrases. The paper asks for
all steps in one prompt; here every step is its own call (the steps are sequential), which
keeps each step's output small and lets a weak model follow the procedure. Each step answers
in JSON {"missing_entities": [...], "denser_summary": "..."}; a non-JSON reply is taken as the
summary itself, an empty one keeps the previous summary.

Paper:
  Griffin Adams, Alexander Fabbri, Faisal Ladhak, Eric Lehman, Noémie Elhadad. "From Sparse to
  Dense: GPT-4 Summarization with Chain of Density Prompting". 2023. arXiv:2309.04269.

Options (ctx):
  text        string: the article (default: ctx.task)
  task        string: used as the article when ctx.text is absent
  iterations  summaries written in total (default 5, 1..10)
  words       target summary length in words (default 80)

LLM calls: iterations — at default settings 5 single pauses (1 sparse summary + 4 densifying
steps).

Result (ctx.result):
  answer     string    the densest (last) summary
  summaries  string[]  every summary, sparse to dense
  entities   string[][]  the entities added at each densifying step (first entry: the entities
             of step 2)
]]

local M = {}

M.meta = {
  name = "cod",
  version = "0.1.0",
  description = "Chain of density: iteratively denser fixed-length summaries",
  category = "summarization",
}

M.defaults = { text = false, iterations = 5, words = 80 }

local SYSTEM = "You are an expert summarizer. You never add information that is not in the article."

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
  local cfg = alc.tuning(M.defaults, ctx)
  local text = type(cfg.text) == "string" and cfg.text or ctx.task
  if type(text) ~= "string" or trim(text) == "" then
    error("cod: ctx.text or ctx.task must be a non-empty string", 0)
  end
  local iterations = int_opt(cfg.iterations, M.defaults.iterations, 1, 10)
  local words = int_opt(cfg.words, M.defaults.words, 10, 1000)
  local max_tokens = math.max(300, words * 4)

  alc.progress(1, iterations, "initial sparse summary")
  local summary = trim(alc.llm("Article:\n" .. text .. "\n\nWrite an initial summary of the article in about "
    .. words .. " words. Keep it sparse and general: mention only one or two specific entities, and use "
    .. "verbose, non-specific language (e.g. \"this article discusses\") to reach the length.",
    { system = SYSTEM, max_tokens = max_tokens }))
  local summaries = alc.json_decode("[]")
  summaries[1] = summary
  local entities = alc.json_decode("[]")
  alc.log("info", "cod: sparse summary (" .. #summary .. " chars)")

  for step = 2, iterations do
    alc.progress(step, iterations, "densifying step " .. (step - 1))
    local raw = alc.llm("Article:\n" .. text .. "\n\nCurrent summary:\n" .. summary
      .. "\n\nMake the summary denser:\n"
      .. "1. Identify 1-3 informative entities from the article that are missing from the current summary. "
      .. "A missing entity is relevant to the main story, specific (5 words or fewer), novel (not in the "
      .. "summary), faithful (present in the article), and may come from anywhere in the article.\n"
      .. "2. Write a new summary of the same length (about " .. words .. " words) that contains every entity "
      .. "of the current summary plus the missing ones. Make room by fusing, compressing and removing "
      .. "uninformative phrases. Never drop an entity.\n\n"
      .. "Answer in JSON: {\"missing_entities\": [\"...\"], \"denser_summary\": \"...\"}",
      { system = SYSTEM, max_tokens = max_tokens })
    local added = alc.json_decode("[]")
    local new
    local t = alc.json_extract(raw)
    if type(t) == "table" then
      local s = t.denser_summary or t.summary
      if type(s) == "string" then new = trim(s) end
      local ents = t.missing_entities or t.entities
      if type(ents) == "table" then
        for _, e in ipairs(ents) do
          if type(e) == "string" and trim(e) ~= "" then added[#added + 1] = trim(e) end
        end
      elseif type(ents) == "string" then
        for e in ents:gmatch("[^;]+") do
          if trim(e) ~= "" then added[#added + 1] = trim(e) end
        end
      end
    end
    if new == nil then
      new = trim(raw)
      if new ~= "" then alc.log("warn", "cod: step " .. (step - 1) .. " gave no JSON; using the reply as the summary") end
    end
    if new == "" then
      alc.log("warn", "cod: step " .. (step - 1) .. " gave no summary; keeping the previous one")
      new = summary
    end
    summary = new
    summaries[#summaries + 1] = summary
    entities[#entities + 1] = added
    alc.log("info", "cod: step " .. (step - 1) .. " added " .. #added .. " entities")
  end

  ctx.result = { answer = summary, summaries = summaries, entities = entities }
  return ctx
end

return M
