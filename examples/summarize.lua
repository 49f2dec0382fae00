-- summarize.lua: map-reduce summary of a text.
--
-- Every paragraph of ctx.text is summarised in one sentence; those prompts go out as a single
-- batch (alc.llm_batch), so `--responder CMD --parallel N` answers up to N at once. A final
-- prompt merges the sentences.
--
--   alc run examples/summarize.lua --ctx-file examples/summarize.ctx.json \
--       --answers examples/answers/summarize.jsonl
--   alc run examples/summarize.lua --ctx-file examples/summarize.ctx.json \
--       --responder examples/responder.sh --parallel 4
--
-- ctx.text: the text, paragraphs separated by blank lines.
-- ctx.budget (optional): e.g. {"max_llm_calls": 10}; the run fails with exit status 3 when
-- a new prompt would go over it.
local text = ctx.text
if type(text) ~= "string" then error("ctx.text is required: the text to summarise", 0) end

local paragraphs = {}
for p in (text .. "\n\n"):gmatch("(.-)\n%s*\n") do
    p = p:gsub("^%s+", ""):gsub("%s+$", "")
    if #p > 0 then paragraphs[#paragraphs + 1] = p end
end
if #paragraphs == 0 then error("ctx.text holds no paragraph", 0) end

alc.progress(1, 2, "summarising " .. #paragraphs .. " paragraphs")
local items = {}
for i, p in ipairs(paragraphs) do
    items[i] = {
        prompt = "Summarise this paragraph in one sentence:\n\n" .. p,
        system = "You write terse, factual summaries.",
        max_tokens = 80,
    }
end
local sentences = alc.llm_batch(items)

alc.progress(2, 2, "merging")
local summary = alc.llm(
    "Merge these sentences into a summary of at most two sentences:\n\n- "
        .. table.concat(sentences, "\n- "),
    { system = "You write terse, factual summaries.", max_tokens = 160 })

return { paragraphs = #paragraphs, sentences = sentences, summary = summary }
