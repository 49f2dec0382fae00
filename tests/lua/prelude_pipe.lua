-- alc.pipe: stages, task hand-over, pipe_history, on_stage, on_error, packages, validation.

-- three inline stages
local stages = {
  function(c) c.result = "one:" .. c.task; return c end,
  function(c) c.result = { n = 2, prev = c.task }; return c end,
  function(c) c.result = "three got " .. c.task; return c end,
}
local ctx0 = { task = "T0", keep = 1 }
local staged = {}
local out = alc.pipe(stages, ctx0, {
  on_stage = function(i, name, c) staged[#staged + 1] = { i = i, name = name, result = c.result } end,
})
assert(out.result == 'three got {"n":2,"prev":"one:T0"}', "final result: " .. tostring(out.result))
assert(out.task == '{"n":2,"prev":"one:T0"}', "a table result is handed over as JSON; last stage does not set task")
assert(out.keep == 1, "other ctx keys are carried")
local h = out.pipe_history
assert(#h == 3, "three history entries")
assert(h[1].strategy == "(inline-1)" and h[1].result == "one:T0", "history 1")
assert(h[2].strategy == "(inline-2)" and h[2].result.n == 2, "history 2")
assert(h[3].strategy == "(inline-3)" and h[3].error == nil, "history 3")
assert(ctx0.pipe_history == nil and ctx0.task == "T0" and ctx0.result == nil, "the caller's ctx is not modified")
assert(#staged == 3 and staged[2].i == 2 and staged[2].name == "(inline-2)" and staged[2].result.n == 2,
  "on_stage(i, name, ctx) after each stage")

-- non-string, non-table results go through tostring; nil results leave task alone
out = alc.pipe({
  function(c) c.result = 42; return c end,
  function(c) c.seen = c.task; c.result = nil; return c end,
  function(c) c.seen2 = c.task; return c end,
}, { task = "start" })
assert(out.seen == "42" and out.seen2 == "42", "number result -> tostring; nil result keeps task")
assert(out.pipe_history[2].result == nil, "nil result recorded as absent")

-- a stage may return a new table; history is carried over
out = alc.pipe({
  function(c) return { result = "fresh" } end,
  function(c) c.result = #c.pipe_history; return c end,
}, {})
assert(out.result == 1 and #out.pipe_history == 2, "pipe_history follows a replaced ctx")

-- stages may call the LLM (pauses inside pipe)
out = alc.pipe({
  function(c) c.result = alc.llm(c.task); return c end,
  function(c) c.result = alc.llm("again " .. c.task); return c end,
}, { task = "ask" })
assert(out.result == "R:again R:ask", "LLM answers flow between stages")

-- on_error = "skip" / "continue": failing stage recorded, ctx unchanged, next stage runs
for _, mode in ipairs({ "skip", "continue" }) do
  out = alc.pipe({
    function(c) c.result = "ok1"; return c end,
    function(c) error("boom") end,
    function(c) c.result = "ok3 after " .. c.task; return c end,
  }, { task = "t" }, { on_error = mode })
  h = out.pipe_history
  assert(#h == 3, mode .. ": three entries")
  assert(h[2].strategy == "(inline-2)" and tostring(h[2].error):find("boom", 1, true), mode .. ": error recorded")
  assert(h[2].result == nil, mode .. ": no result for the failed stage")
  assert(out.result == "ok3 after ok1", mode .. ": next stage sees the last good task")
end
-- pcall'd stages can still pause for the LLM
out = alc.pipe({ function(c) c.result = alc.llm("inside pcall"); return c end }, {}, { on_error = "skip" })
assert(out.result == "R:inside pcall", "LLM inside a skip-mode stage")

-- default on_error = abort: the stage error propagates
local ok, err = pcall(alc.pipe, { function() error("bad stage") end }, {})
assert(not ok and tostring(err):find("bad stage", 1, true), "abort propagates")
ok, err = pcall(alc.pipe, { function() error("x") end }, {}, { on_error = "abort" })
assert(not ok, "explicit abort")

-- packages: name from require, must export run
package.preload["pipe_pkg_good"] = function()
  return { run = function(c) c.result = "pkg:" .. tostring(c.task); return c end }
end
package.preload["pipe_pkg_norun"] = function() return { meta = {} } end
out = alc.pipe({ "pipe_pkg_good", function(c) c.result = c.task .. "!"; return c end }, { task = "T" })
assert(out.result == "pkg:T!", "package stage then inline stage")
assert(out.pipe_history[1].strategy == "pipe_pkg_good" and out.pipe_history[2].strategy == "(inline-2)",
  "package stages are named by package")

-- validation errors
local function err_of(...)
  local ok2, e = pcall(alc.pipe, ...)
  assert(not ok2, "expected an error")
  return tostring(e)
end
local id = function(c) return c end
assert(err_of({}, {}):find("non-empty", 1, true), "empty strategies")
assert(err_of("cot", {}):find("non-empty", 1, true), "non-table strategies")
assert(err_of({ id }, "ctx"):find("ctx must be a table", 1, true), "non-table ctx")
assert(err_of({ id }, nil):find("ctx must be a table", 1, true), "nil ctx")
assert(err_of({ id, 42 }, {}):find("stage 2 must be a package name or a function", 1, true), "bad entry")
assert(err_of({ "pipe_pkg_norun" }, {}):find("does not export a run function", 1, true), "package without run")
assert(err_of({ "pipe_no_such_pkg_xyz" }, {}):find("pipe_no_such_pkg_xyz", 1, true), "missing package")
assert(err_of({ function() return "str" end }, {}):find("must return a table", 1, true), "non-table stage result")
-- entries are checked before any stage runs
local ran = false
pcall(alc.pipe, { function(c) ran = true; return c end, 42 }, {})
assert(not ran, "validation before the first stage")
-- level 2
ok, err = pcall(function() alc.pipe({}, {}) end)
assert(not ok and tostring(err):find("prelude_pipe%.lua:%d+:"), "error blames the caller: " .. tostring(err))

return { ok = true }
