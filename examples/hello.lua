-- hello.lua: the smallest strategy, one prompt and one answer.
--
--   alc run examples/hello.lua --ctx '{"name":"Ada"}' --answers examples/answers/hello.jsonl
--   alc run examples/hello.lua --responder examples/responder.sh
--   alc run examples/hello.lua --responder 'llm -m gpt-4o-mini'
--
-- ctx.name (optional) is who to greet.
local name = ctx.name or "world"
local greeting = alc.llm("Write a one-line greeting for " .. name .. ".", {
    system = "You are a cheerful assistant. Reply with the greeting only.",
    max_tokens = 60,
})
return { name = name, greeting = greeting }
