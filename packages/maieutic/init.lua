--[[
maieutic — maieutic prompting: answer a True/False question by building a tree of abductive
explanations for both answers, keeping the logically integral ones, and choosing the answer
that is most consistent with the model's beliefs.

Technique (Jung et al.):
  1. Abductive generation: for the question Q the model explains "Q is True, because E_T" and
     "Q is False, because E_F" (the two are independent: one batch).
  2. Logical integrity: an explanation E is integral when the model, asked about E in isolation
     and about its negation ¬E, gives opposite verdicts (it "believes" E consistently). Every
     check is independent: one batch with E and ¬E for every new explanation (plus, at the
     first level, the model's direct verdict on Q).
  3. Recursion: a non-integral explanation is itself explained both ways, up to max_depth; a
     non-integral node with no integral descendant is discarded.
  4. Inference as weighted MAX-SAT over the kept nodes: each node implies its parent's truth
     value (E_T → parent, E_F → ¬parent, weight 1), each integral node's belief is a unit clause
     (weight 1), and the model's direct verdict on Q is a unit clause of weight 0.5 that only
     breaks ties. The assignment maximising the satisfied weight is found exhaustively (at most
     2^15 assignments), and its value of Q is the answer.
  Simplifications against the paper, stated plainly: beliefs are True/False verdicts with
  weight 1 instead of token probabilities, and no NLI model adds relations between sibling
  explanations (the implications come from the tree alone).

Paper:
  Jaehun Jung, Lianhui Qin, Sean Welleck, Faeze Brahman, Chandra Bhagavatula, Ronan Le Bras,
  Yejin Choi. "Maieutic Prompting: Logically Consistent Reasoning with Recursive
  Explanations". 2022 (EMNLP 2022). arXiv:2205.11822.

Options (ctx):
  task        string, required: a True/False question or claim
  max_depth   explanation tree depth (default 2, 1..3)

LLM calls: 2 + 5 for the first level (a batch of 2 explanations, a batch of 5 checks); each
non-integral node above max_depth adds 2 explanations and 4 checks, batched per level. At
default settings: 7 when both first explanations are integral, 13 when one is not, 19 when
neither is.

Result (ctx.result):
  answer       string   "True", "False" or "Unknown" (MAX-SAT tie)
  verdict      boolean|nil
  margin       number   best satisfied weight for the answer minus that for the other answer
  consistency  number   integral explanations / explanations generated
  root_belief  boolean|nil  the model's direct verdict on Q
  support      string[] kept depth-1 explanations that the solution sets true and that argue
               for the answer
  nodes        {id, parent, depth, polarity, text, belief, negation_belief, integral, kept,
               value}[]  the whole tree (parent 0 = the question; polarity "True"/"False";
               value = truth value in the MAX-SAT solution, absent for discarded nodes;
               belief / negation_belief absent when the verdict was unreadable)
]]

local M = {}

M.meta = {
  name = "maieutic",
  version = "0.1.0",
  description = "Maieutic prompting: abductive explanation tree, integrity checks, weighted MAX-SAT",
  category = "reasoning",
}

M.defaults = { max_depth = 2 }

local ROOT_WEIGHT = 0.5

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

-- true / false / nil from a True/False reply: the leading word decides when it is a verdict
-- word, else alc.match_bool over the whole reply.
local LEAD = { ["true"] = true, yes = true, correct = true, ["false"] = false, no = false, incorrect = false }
local function parse_tf(text)
  local s = tostring(text or "")
  local first = s:match("^[%s%p]*(%a+)")
  if first and LEAD[first:lower()] ~= nil then return LEAD[first:lower()] end
  return alc.match_bool(s)
end

local function clean_expl(text)
  local s = trim(text)
  -- drop an echoed "... True, because" / "Because" lead-in
  s = s:gsub("^[^\n]-[Tt]rue, because%s*", ""):gsub("^[^\n]-[Ff]alse, because%s*", "")
  s = s:gsub("^[Bb]ecause%s+", "")
  return trim(s)
end

local function gen_prompt(statement, is_root, polarity)
  local tv = polarity and "True" or "False"
  return "Consider the following " .. (is_root and "question" or "statement") .. ":\n" .. statement
    .. "\n\nSuppose the answer is " .. tv .. ". Write the explanation for why it is " .. tv
    .. ", in one or two sentences, stated as a plain factual claim without hedging. Reply with the "
    .. "explanation only.\n\n" .. statement .. " " .. tv .. ", because"
end

local function belief_prompt(statement)
  return "Is the following statement true or false? Answer with one word: True or False.\n\nStatement: " .. statement
end

local function negation(statement)
  return "The following claim is false: \"" .. statement .. "\""
end

function M.run(ctx)
  local task = ctx.task
  if type(task) ~= "string" or trim(task) == "" then
    error("maieutic: ctx.task must be a non-empty string", 0)
  end
  local cfg = alc.tuning(M.defaults, ctx)
  local max_depth = int_opt(cfg.max_depth, M.defaults.max_depth, 1, 3)

  local nodes = {}          -- all generated nodes, in id order
  local root_belief = nil
  -- frontier: statements to explain at the next depth; parent 0 is the question itself
  local frontier = { { id = 0, text = task } }
  for depth = 1, max_depth do
    if #frontier == 0 then break end
    -- 1. abductive generation: True and False explanations of every frontier statement
    alc.progress(2 * depth - 1, 2 * max_depth, "depth " .. depth .. ": generating explanations")
    local pending = {}
    for _, f in ipairs(frontier) do
      pending[#pending + 1] = { parent = f.id, polarity = true, of = f.text }
      pending[#pending + 1] = { parent = f.id, polarity = false, of = f.text }
    end
    local outs = alc.parallel(pending, function(p)
      return { prompt = gen_prompt(p.of, p.parent == 0, p.polarity),
               system = "You explain answers with short factual claims.", max_tokens = 200 }
    end)
    local fresh = {}
    for i, p in ipairs(pending) do
      local text = clean_expl(outs[i])
      local n = { id = #nodes + 1, parent = p.parent, depth = depth, polarity = p.polarity, text = text }
      nodes[#nodes + 1] = n
      fresh[#fresh + 1] = n
    end

    -- 2. integrity checks: E and not-E for every new node (+ Q itself at depth 1)
    alc.progress(2 * depth, 2 * max_depth, "depth " .. depth .. ": checking integrity")
    local checks = {}
    for _, n in ipairs(fresh) do
      checks[#checks + 1] = { prompt = belief_prompt(n.text ~= "" and n.text or "(empty statement)"), max_tokens = 20 }
      checks[#checks + 1] = { prompt = belief_prompt(negation(n.text)), max_tokens = 20 }
    end
    if depth == 1 then checks[#checks + 1] = { prompt = belief_prompt(task), max_tokens = 20 } end
    local verdicts = alc.llm_batch(checks)
    local next_frontier = {}
    for i, n in ipairs(fresh) do
      n.belief = parse_tf(verdicts[2 * i - 1])
      n.negation_belief = parse_tf(verdicts[2 * i])
      n.integral = n.text ~= "" and n.belief ~= nil and n.negation_belief ~= nil and n.belief ~= n.negation_belief
      if not n.integral and depth < max_depth and n.text ~= "" then
        next_frontier[#next_frontier + 1] = { id = n.id, text = n.text }
      end
    end
    if depth == 1 then root_belief = parse_tf(verdicts[#verdicts]) end
    local integral = 0
    for _, n in ipairs(fresh) do if n.integral then integral = integral + 1 end end
    alc.log("info", "maieutic: depth " .. depth .. ": " .. integral .. "/" .. #fresh .. " explanations integral")
    frontier = next_frontier
  end

  -- 3. keep integral nodes and the ancestors of kept nodes (children have larger ids)
  for i = #nodes, 1, -1 do
    local n = nodes[i]
    if n.integral then n.kept = true end
    if n.kept and n.parent > 0 then nodes[n.parent].kept = true end
  end
  local vars = {}           -- vars[k] = node; variable 1 is Q
  local var_of = { [0] = 1 }
  for _, n in ipairs(nodes) do
    if n.kept then
      vars[#vars + 1] = n
      var_of[n.id] = #vars + 1
    end
  end

  -- 4. weighted MAX-SAT by exhaustive search over 2^(1 + #vars) assignments
  local nv = 1 + #vars
  local best = { [true] = -1, [false] = -1 }
  local best_mask = { [true] = 0, [false] = 0 }
  for mask = 0, (1 << nv) - 1 do
    local function val(v) return (mask >> (v - 1)) & 1 == 1 end
    local w = 0
    local q = val(1)
    if root_belief ~= nil and q == root_belief then w = w + ROOT_WEIGHT end
    for k, n in ipairs(vars) do
      local x = val(k + 1)
      if n.integral and x == n.belief then w = w + 1 end
      -- x -> (parent == polarity)
      if not x or val(var_of[n.parent]) == n.polarity then w = w + 1 end
    end
    if w > best[q] then best[q], best_mask[q] = w, mask end
  end
  local verdict
  if best[true] > best[false] then verdict = true elseif best[false] > best[true] then verdict = false end
  local margin = best[true] - best[false]
  if verdict == false then margin = -margin end
  if verdict == nil then margin = 0 end
  local mask = best_mask[verdict == nil and true or verdict]
  for k, n in ipairs(vars) do n.value = (mask >> k) & 1 == 1 end

  local support = alc.json_decode("[]")
  local generated, integral = #nodes, 0
  local out_nodes = alc.json_decode("[]")
  for _, n in ipairs(nodes) do
    if n.integral then integral = integral + 1 end
    if verdict ~= nil and n.kept and n.depth == 1 and n.value and n.polarity == verdict then
      support[#support + 1] = n.text
    end
    local value = nil
    if n.kept then value = n.value end
    out_nodes[#out_nodes + 1] = {
      id = n.id, parent = n.parent, depth = n.depth, polarity = n.polarity and "True" or "False",
      text = n.text, belief = n.belief, negation_belief = n.negation_belief,
      integral = n.integral, kept = n.kept == true, value = value,
    }
  end
  local answer = verdict == true and "True" or (verdict == false and "False" or "Unknown")
  alc.log("info", "maieutic: answer " .. answer .. " (margin " .. margin .. ", " .. #vars .. " kept nodes)")

  ctx.result = {
    answer = answer,
    verdict = verdict,
    margin = margin,
    consistency = generated > 0 and integral / generated or 0,
    root_belief = root_belief,
    support = support,
    nodes = out_nodes,
  }
  return ctx
end

return M
