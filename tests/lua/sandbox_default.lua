-- The default sandbox: process escapes are gone, file reading for strategies still works.
assert(os.execute == nil, "os.execute removed")
assert(io.popen == nil, "io.popen removed")
assert(os.exit == nil, "os.exit removed")
assert(os.remove == nil and os.rename == nil and os.tmpname == nil, "os file mutation removed")
assert(package.loadlib == nil, "package.loadlib removed")
assert(package.cpath == "", "no C module path")
assert(string.dump == nil, "string.dump removed")
assert(debug == nil, "debug library absent")
assert(getmetatable("").__index.dump == nil, "string metatable does not reach dump")
-- only the preload searcher and alc's package searcher remain (no C searchers)
assert(#package.searchers == 2, "searchers: " .. #package.searchers)
-- binary chunks are refused
local ok, err = pcall(load, "\27Lua", "x", "b")
assert(not ok and tostring(err):find("binary", 1, true), tostring(err))
local f, lerr = load("\27LuaT\0", "x")
assert(f == nil and lerr, "binary chunk text is rejected by load")
-- require cannot walk out of the package roots
for _, name in ipairs({ "../../etc/passwd", "/etc/passwd", "a..b", "x\0y" }) do
  local ok2, e2 = pcall(require, name)
  assert(not ok2, "require " .. name .. " must fail")
end
-- what strategies really use is still there
assert(type(os.getenv) == "function" and type(os.time) == "function" and type(os.clock) == "function")
assert(type(os.date) == "function" and type(io.open) == "function" and io.stderr ~= nil)
-- stdin of a session is /dev/null: reading it cannot steal protocol bytes
assert(io.read() == nil, "io.read() sees end of input")
return { ok = true }
