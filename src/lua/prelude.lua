-- prelude.lua: Layer 1 of the alc standard library (pure Lua, embedded at build time).
return true
