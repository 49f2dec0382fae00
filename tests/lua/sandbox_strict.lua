-- env: ALC_SANDBOX=strict
-- Strict profile: file access only inside ALC_HOME, the project root and package roots.
local ok, err = pcall(io.open, "/etc/passwd", "r")
assert(not ok and tostring(err):find("outside the allowed roots", 1, true), tostring(err))
ok, err = pcall(io.lines, "/etc/hostname")
assert(not ok, "io.lines outside the roots fails")
ok, err = pcall(dofile, "/etc/passwd")
assert(not ok, "dofile outside the roots fails")
ok, err = pcall(io.open, "../../../../../../etc/passwd")
assert(not ok, "relative escapes fail")
-- inside ALC_HOME files can be written and read back, also through a ".." that stays inside
local home = assert(os.getenv("ALC_HOME"), "ALC_HOME is set for the server")
local f = assert(io.open(home .. "/strict-test.txt", "w"))
f:write("inside")
f:close()
local g = assert(io.open(home .. "/./strict-test.txt", "r"))
assert(g:read("a") == "inside")
g:close()
ok, err = pcall(io.open, home .. "/../outside.txt", "w")
assert(not ok, "a '..' that leaves ALC_HOME fails")
-- os.execute and friends are gone as in the default profile
assert(os.execute == nil and io.popen == nil)
return { ok = true }
