-- ctx: {}
-- types_api: the LuaCATS stubs in types/alc.d.lua describe exactly the API this engine gives
-- a strategy. The runner adds ctx.repo_root (the ctx line above asks for a ctx) so the script
-- can read the stubs. Checked both ways:
--   * every key found at run time in `alc` and, recursively, in its sub-tables (state, stats,
--     math, ...) is declared in the stubs, functions as functions;
--   * every function, value and bound ---@field declared in the stubs exists at run time with
--     a matching Lua type.
-- Also checked: the stubs compile as Lua, every `alc.Xxx` type they mention is defined, and
-- every declared function has a description line and one ---@param per parameter.
-- The stubs are parsed line by line in the forms they are written in (see their header).

-- Names that truly cannot match, each with its reason. Keep these empty: an entry here is an
-- API difference that lua-language-server users will trip over.
local ALLOW_UNDECLARED = {} -- run-time names the stubs do not declare, e.g. ["alc.x"] = "why"
local ALLOW_MISSING = {}    -- stub names absent at run time

local root = ctx.repo_root
assert(type(root) == "string" and root ~= "", "the runner must pass ctx.repo_root")
local stub_path = root .. "/types/alc.d.lua"
local fh, oerr = io.open(stub_path, "r")
assert(fh, "cannot open the stubs: " .. tostring(oerr))
local src = fh:read("a")
fh:close()
assert(#src > 1000, "the stubs file is suspiciously short")
-- compile only (never run: it would replace alc and ctx)
local chunk, cerr = load(src, "=types/alc.d.lua", "t", {})
assert(chunk, "the stubs do not compile: " .. tostring(cerr))
assert(src:match("^%-%-%-@meta"), "the stubs start with ---@meta")

-- ---------------------------------------------------------------- parse the stubs

local classes = {}   -- name -> {line, parent, fields = {name -> type text}}
local aliases = {}   -- name -> line
local fns = {}       -- "alc.state.get" -> {line, params = {...}}
local values = {}    -- "alc.state" -> {line, rhs, type = ---@type text or nil}
local bound = {}     -- runtime path -> class name annotated right above its assignment
local type_refs = {} -- {name, line} of every alc.Xxx mentioned in a ---@ tag

local block, cur_class, block_type = {}, nil, nil
local n_line = 0
for line in (src .. "\n"):gmatch("([^\n]*)\n") do
  n_line = n_line + 1
  if line:sub(1, 3) == "---" then
    block[#block + 1] = line
    if line:sub(1, 4) == "---@" then
      for ref in line:gmatch("alc%.%u[%w_]*") do type_refs[#type_refs + 1] = { ref, n_line } end
    end
    local cname, rest = line:match("^%-%-%-@class%s+([%w_%.]+)(.*)$")
    if cname then
      assert(not classes[cname], "class " .. cname .. " declared twice (line " .. n_line .. ")")
      local has_desc = false
      for i = 1, #block - 1 do
        if block[i]:match("^%-%-%-[^@|%-]") and block[i]:match("%w") then has_desc = true end
      end
      assert(has_desc, "class " .. cname .. " (line " .. n_line .. ") needs a description line")
      classes[cname] = { line = n_line, parent = rest:match("^%s*:%s*([%w_%.]+)"), fields = {} }
      cur_class = cname
    end
    local aname = line:match("^%-%-%-@alias%s+([%w_%.]+)")
    if aname then
      assert(not aliases[aname], "alias " .. aname .. " declared twice")
      aliases[aname] = n_line
    end
    local fname, ftype = line:match("^%-%-%-@field%s+([%w_]+)%??%s+(%S+)")
    if fname then
      assert(cur_class, "---@field " .. fname .. " outside a class (line " .. n_line .. ")")
      assert(not classes[cur_class].fields[fname], cur_class .. "." .. fname .. " declared twice")
      classes[cur_class].fields[fname] = ftype
    end
    local tname = line:match("^%-%-%-@type%s+(%S+)")
    if tname then block_type = tname end
  else
    local path, name, plist = line:match("^function%s+([%w_%.]+)%.([%w_]+)%s*%(([^)]*)%)")
    if path then
      local full = path .. "." .. name
      assert(not fns[full], full .. " declared twice (line " .. n_line .. ")")
      local params = {}
      for p in plist:gmatch("[^,%s]+") do params[#params + 1] = p end
      fns[full] = { line = n_line, params = params }
      -- documentation: a description line and exactly the parameters of the signature
      local has_desc, documented = false, {}
      for _, b in ipairs(block) do
        if b:match("^%-%-%-[^@|%-]") and b:match("%w") then has_desc = true end
        local pn = b:match("^%-%-%-@param%s+([%w_%.]+)")
        if pn then documented[pn] = true end
      end
      assert(has_desc, full .. " (line " .. n_line .. ") needs a description line")
      local in_sig = {}
      for _, p in ipairs(params) do
        in_sig[p] = true
        assert(documented[p], full .. ": parameter '" .. p .. "' has no ---@param")
      end
      for pn in pairs(documented) do
        assert(in_sig[pn], full .. ": ---@param '" .. pn .. "' is not a parameter")
      end
    else
      local lhs, rhs = line:match("^([%a_][%w_%.]*)%s*=%s*(.-)%s*$")
      if lhs then
        assert(not values[lhs], lhs .. " assigned twice (line " .. n_line .. ")")
        values[lhs] = { line = n_line, rhs = rhs, type = block_type }
        if cur_class then bound[lhs] = cur_class end
      end
    end
    block, cur_class, block_type = {}, nil, nil
  end
end

for _, r in ipairs(type_refs) do
  assert(classes[r[1]] or aliases[r[1]],
    "type " .. r[1] .. " (line " .. r[2] .. ") is neither a ---@class nor an ---@alias")
end

-- The Lua type a run-time value of the annotated type must have, or nil if not checkable.
local BUILTIN = {
  string = "string", number = "number", integer = "number", boolean = "boolean",
  table = "table", ["function"] = "function", userdata = "userdata",
  lightuserdata = "userdata", thread = "thread",
}
local function lua_type_of(t, depth)
  depth = depth or 0
  if t == nil or depth > 10 or t:find("|", 1, true) or t:find("?", 1, true) then return nil end
  if t:match("^fun%(") then return "function" end
  if t:match("%[%]$") then return "table" end
  if BUILTIN[t] then return BUILTIN[t] end
  local c = classes[t]
  if c then
    if c.parent then return lua_type_of(c.parent, depth + 1) end
    return "table"
  end
  return nil
end

-- declared members per run-time table path: path -> name -> {kind = "function"|"value", want}
local members = {}
local function declare(path, name, kind, want, where)
  members[path] = members[path] or {}
  assert(not members[path][name], path .. "." .. name .. " declared twice (" .. where .. ")")
  members[path][name] = { kind = kind, want = want }
end
local function split(full)
  return full:match("^(.*)%.([^.]+)$")
end
for full, f in pairs(fns) do
  local path, name = split(full)
  declare(path, name, "function", "function", "line " .. f.line)
end
for lhs, v in pairs(values) do
  local want = v.type and lua_type_of(v.type)
  if not want and v.rhs == "{}" then want = "table" end
  if bound[lhs] and not want then want = "table" end
  local path, name = split(lhs)
  if path then declare(path, name, "value", want, "line " .. v.line) end
end
for path, cname in pairs(bound) do
  for fname, ftype in pairs(classes[cname].fields) do
    local want = lua_type_of(ftype)
    declare(path, fname, want == "function" and "function" or "value", want, "class " .. cname)
  end
end

-- ---------------------------------------------------------------- stubs -> run time

-- Plain indexing, not rawget: most of the prelude's alc fields are loaded on first read
-- (alc's __index), and that is how a script sees them.
local function resolve(full)
  local v = _ENV
  for part in full:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

assert(values.alc and values.ctx, "the stubs declare the globals alc and ctx")
assert(bound.alc == "alc", "the global alc is annotated with ---@class alc")
assert(type(alc) == "table" and type(ctx) == "table", "alc and ctx are tables at run time")

local n_declared = 0
for path, names in pairs(members) do
  for name, d in pairs(names) do
    local full = path .. "." .. name
    n_declared = n_declared + 1
    if not ALLOW_MISSING[full] then
      local v = resolve(full)
      assert(v ~= nil, "declared in the stubs but missing at run time: " .. full)
      if d.want then
        assert(type(v) == d.want, string.format("%s: the stubs say %s, run time has a %s",
          full, d.want, type(v)))
      end
    end
  end
end

-- ---------------------------------------------------------------- run time -> stubs

local n_runtime, seen = 0, {}
local function walk(path, t)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    assert(type(k) == "string", path .. " has a non-string key at run time")
    local full = path .. "." .. k
    n_runtime = n_runtime + 1
    if not ALLOW_UNDECLARED[full] then
      local d = members[path] and members[path][k]
      assert(d, "exists at run time but is not declared in the stubs: " .. full
        .. " (a " .. type(v) .. ")")
      if type(v) == "function" then
        assert(d.kind == "function", full .. " is a function at run time but not in the stubs")
      else
        assert(d.kind == "value", full .. " is declared as a function but is a " .. type(v))
      end
    end
    if type(v) == "table" then walk(full, v) end
  end
end
walk("alc", alc)

-- spot checks that the walk and the parser really covered every part of the API
for _, full in ipairs({ "alc.llm", "alc.state.get", "alc.state.update", "alc.stats.record",
  "alc.math.wilson_ci", "alc.fmt", "alc.match_enum" }) do
  assert(fns[full], "parser missed " .. full)
end
assert(members.alc.null and members.alc.null.want == "userdata", "alc.null is declared as a userdata")
for _, c in ipairs({ "alc.ForkResult", "alc.BudgetRemaining", "alc.LlmOpts", "alc.BatchItem",
  "alc.Vote", "alc.CacheInfo", "alc.Ctx" }) do
  assert(classes[c], "result type " .. c .. " is declared")
end
assert(n_runtime >= 80, "walked only " .. n_runtime .. " run-time names")
if next(ALLOW_UNDECLARED) == nil and next(ALLOW_MISSING) == nil then
  assert(n_declared == n_runtime, string.format("declared %d names, found %d at run time",
    n_declared, n_runtime))
end

return { ok = true, declared = n_declared, runtime = n_runtime }
