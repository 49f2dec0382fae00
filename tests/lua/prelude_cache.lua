-- alc.cache / cache_info / cache_clear: hits, misses, key material, eviction at 256, clear.

local function calls() return alc.stats.llm_calls() end

local info = alc.cache_info()
assert(info.entries == 0 and info.hits == 0 and info.misses == 0, "fresh cache is empty")
assert(info.max_entries == 256, "max_entries is 256")

local c0 = calls()
assert(alc.cache("Hello World") == "R:Hello World", "miss calls alc.llm")
assert(calls() == c0 + 1, "one LLM call for the miss")
-- documented normalisation: case and whitespace differences share an entry
local again = alc.cache("  hello   WORLD ")
assert(again == "R:Hello World", "normalised prompt hits the first entry, got " .. again)
assert(calls() == c0 + 1, "hit makes no LLM call")
info = alc.cache_info()
assert(info.hits == 1 and info.misses == 1 and info.entries == 1,
  string.format("after hit: hits=%d misses=%d entries=%d", info.hits, info.misses, info.entries))

-- system and max_tokens are part of the key
assert(alc.cache("Hello World", { system = "S" }) == "R:Hello World", "system miss")
assert(calls() == c0 + 2, "different system -> miss")
alc.cache("Hello World", { system = "S", max_tokens = 10 })
assert(calls() == c0 + 3, "different max_tokens -> miss")
alc.cache("Hello World", { system = "S" })
assert(calls() == c0 + 3, "same system -> hit")
-- grounded / underspecified are not part of the key
alc.cache("Hello World", { grounded = true, underspecified = true })
assert(calls() == c0 + 3, "flags do not change the key")
info = alc.cache_info()
assert(info.hits == 3 and info.misses == 3 and info.entries == 3, "3 hits, 3 misses, 3 entries")

-- the default key is alc.fingerprint(prompt): an explicit cache_key equal to it hits
alc.cache("other prompt", { cache_key = alc.fingerprint("hello world") })
assert(calls() == c0 + 3, "explicit cache_key equal to the fingerprint hits")
-- explicit cache_key: the prompt no longer matters
assert(alc.cache("first", { cache_key = "k1" }) == "R:first", "cache_key miss")
assert(alc.cache("second", { cache_key = "k1" }) == "R:first", "cache_key hit returns the stored answer")
assert(calls() == c0 + 4, "one call for the cache_key pair")

-- cache_skip calls through and touches nothing
local before = alc.cache_info()
assert(alc.cache("Hello World", { cache_skip = true }) == "R:Hello World", "cache_skip answer")
assert(calls() == c0 + 5, "cache_skip calls alc.llm")
local after = alc.cache_info()
assert(after.hits == before.hits and after.misses == before.misses and after.entries == before.entries,
  "cache_skip changes no counter")

-- clear resets entries and counters
alc.cache_clear()
info = alc.cache_info()
assert(info.entries == 0 and info.hits == 0 and info.misses == 0, "cleared")
alc.cache("Hello World")
assert(calls() == c0 + 6, "after clear the old prompt misses")

-- eviction: 257 distinct prompts keep the newest 256
alc.cache_clear()
local base = calls()
for i = 1, 257 do
  assert(alc.cache("prompt number " .. i) == "R:prompt number " .. i, "answer " .. i)
end
assert(calls() == base + 257, "257 misses")
info = alc.cache_info()
assert(info.entries == 256, "entries capped at 256, got " .. info.entries)
assert(info.misses == 257 and info.hits == 0, "257 misses, 0 hits")
alc.cache("prompt number 257")
alc.cache("prompt number 2")
assert(calls() == base + 257, "newest and second-oldest are still cached")
alc.cache("prompt number 1")
assert(calls() == base + 258, "the oldest entry was evicted")
-- re-adding #1 evicted #2 (now the oldest); #3 is still there
alc.cache("prompt number 3")
assert(calls() == base + 258, "#3 still cached")
alc.cache("prompt number 2")
assert(calls() == base + 259, "#2 evicted by the re-added #1")
assert(alc.cache_info().entries == 256, "still 256 entries")

-- clear also drops the order list: refilling after a clear evicts nothing early
alc.cache_clear()
assert(alc.cache_info().entries == 0, "entries 0 after clear")
local b2 = calls()
for i = 1, 256 do alc.cache("again " .. i) end
assert(alc.cache_info().entries == 256, "256 entries after refill")
alc.cache("again 1")
assert(calls() == b2 + 256, "refill after clear keeps all 256 (stale keys do not evict)")

-- an alc.llm error stores nothing
alc.cache_clear()
local ok2, err = pcall(alc.cache, {}, nil)
assert(not ok2 and tostring(err):find("string expected"), "non-string prompt raises from alc.llm: " .. tostring(err))
local fi = alc.cache_info()
assert(fi.entries == 0 and fi.misses == 1, "a failed call stores nothing but counts as a miss")

return { ok = true }
