-- boot.lua: the Lua-written part of a session's set-up that comes before the alc table
-- (runtime.c runs it right after the C-side sandbox, with the sandbox mode as its argument).
-- Embedded as bytecode at build time (scripts/embed_bytecode.c), like the prelude.

local mode = ...

-- coroutine.wrap on top of the wrapped coroutine.resume (interrupt.c), so that a cancelled
-- session stops inside wrapped coroutines too.
local create, resume, close = coroutine.create, coroutine.resume, coroutine.close
local pack, unpack, type, error, assert = table.pack, table.unpack, type, error, assert
coroutine.wrap = function(f)
  local co = create(f)
  return function(...)
    local r = pack(resume(co, ...))
    if r[1] then return unpack(r, 2, r.n) end
    close(co)
    local e = r[2]
    if type(e) == 'string' then error(e, 2) end
    error(e, 0)
  end
end

-- The default and strict sandboxes load text chunks only: loadfile and dofile as well as
-- load (whose wrapper is in C).
if mode ~= "off" then
  local lf = loadfile
  loadfile = function(f, _, e) return lf(f, 't', e) end
  dofile = function(f)
    local fn = assert(loadfile(f))
    return fn()
  end
end
