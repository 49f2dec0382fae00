--[[
panel — multi-persona deliberation: several expert roles answer independently, then a
moderator synthesises one answer.

Technique: Solo Performance Prompting (Wang et al.) has one model identify the personas a task
needs, let each persona contribute from its own expertise, and integrate the contributions into
a final answer. Here each persona is its own call with its own system prompt, so the
contributions are independent (one batch), and a final moderator call plays the integrating
"AI assistant" role: it keeps what the experts agree on and decides their disagreements.

Paper:
  Zhenhailong Wang, Shaoguang Mao, Wenshan Wu, Tao Ge, Furu Wei, Heng Ji. "Unleashing the
  Emergent Cognitive Synergy in Large Language Models: A Task-Solving Agent through
  Multi-Persona Self-Collaboration". 2023. arXiv:2307.05300.

Options (ctx):
  task        string, required
  roles       string[] personas (default: domain expert, skeptical reviewer, practical implementer)
  max_tokens  per call (default 900)

LLM calls: #roles + 1 — at default settings 4: a batch of 3 role answers, then 1 moderator call.

Result (ctx.result):
  answer    string  the moderator's synthesis
  opinions  {role, text}[]  each persona's contribution, in role order
]]

local M = {}

M.meta = {
  name = "panel",
  version = "0.1.0",
  description = "Multi-persona panel: independent expert answers, synthesised by a moderator",
  category = "deliberation",
}

M.defaults = {
  roles = { "domain expert", "skeptical reviewer", "practical implementer" },
  max_tokens = 900,
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

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("panel: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_tokens = int_opt(cfg.max_tokens, M.defaults.max_tokens, 16, 100000)
  local roles = {}
  if type(cfg.roles) == "table" then
    for _, r in ipairs(cfg.roles) do
      if type(r) == "string" and trim(r) ~= "" then roles[#roles + 1] = trim(r) end
    end
  end
  if #roles == 0 then
    if cfg.roles ~= nil then alc.log("warn", "panel: ctx.roles has no usable role names; using the defaults") end
    for i, r in ipairs(M.defaults.roles) do roles[i] = r end
  end

  alc.progress(1, 2, "asking " .. #roles .. " panelists")
  local texts = alc.parallel(roles, function(role)
    return {
      prompt = "You are the " .. role .. " on an expert panel. From that perspective, give your analysis "
        .. "of the task below and your answer to it. Be specific, and point out risks or points on which "
        .. "other experts may disagree.\n\nTask:\n" .. task,
      system = "You are a " .. role .. ". Speak from that expertise.",
      max_tokens = max_tokens,
    }
  end)
  local opinions = alc.json_decode("[]")
  local parts = {}
  for i, role in ipairs(roles) do
    local t = trim(texts[i])
    opinions[i] = { role = role, text = t }
    parts[#parts + 1] = "### " .. role .. "\n" .. (t ~= "" and t or "(no contribution)")
  end
  alc.log("info", "panel: " .. #roles .. " contributions collected")

  alc.progress(2, 2, "moderator synthesis")
  local answer = trim(alc.llm("You are the moderator of an expert panel. Task:\n" .. task
    .. "\n\nThe panelists' contributions:\n\n" .. table.concat(parts, "\n\n")
    .. "\n\nSynthesise one final answer to the task: keep what the panelists agree on, weigh their "
    .. "arguments where they disagree and decide, and note any remaining caveat. Reply with the final "
    .. "answer.",
    { system = "You are a fair, decisive moderator.", max_tokens = max_tokens }))
  if answer == "" then
    alc.log("warn", "panel: empty synthesis; using the first contribution")
    answer = opinions[1].text
  end
  alc.log("info", "panel: done")

  ctx.result = { answer = answer, opinions = opinions }
  return ctx
end

return M
