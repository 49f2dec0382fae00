#!/bin/sh
# tests/embed_bytecode_checks.sh EMBED_BYTECODE — the build-time generator of the embedded Lua
# chunks (scripts/embed_bytecode.c) refuses prelude sources that the lazy loader would get
# wrong, and accepts well-formed ones. TAP output.
gen="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
check() { # check NAME EXPECT(ok|refused) SOURCE [MESSAGE-PART]
    n=$((n + 1))
    printf '%s' "$3" >"$tmp/in.lua"
    if "$gen" "$tmp/in.lua" "$tmp/out.h" sym =t 2>"$tmp/err"; then got=ok; else got=refused; fi
    if [ "$got" = "$2" ] && { [ -z "$4" ] || grep -q -- "$4" "$tmp/err"; }; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1 (got $got: $(cat "$tmp/err"))"
        fail=1
    fi
    if [ "$got" = refused ] && [ -e "$tmp/out.h" ]; then
        n=$((n + 1)); echo "not ok $n - $1: a refused input leaves no output file"; fail=1
    fi
    rm -f "$tmp/out.h"
}
check "groups with fields at the start of a line" ok 'local x = 1
--@group a
function alc.f() return x end
--@group eager
if alc.state then function alc.state.g() end end
'
check "a plain file (no groups) is one chunk" ok 'return 1
'
check "an indented field definition in a group" refused 'local x = 1
--@group a
function alc.f() end
  function alc.g() end
' "start of a line"
check "an assignment to an alc field in a group" refused '--@group a
function alc.f() end
alc.h = function() end
' "start of a line"
check "a field defined in the header" refused 'function alc.z() end
--@group a
function alc.f() end
' "before the first --@group"
check "a group without a field" refused '--@group a
local y = 2
' "defines no alc field"
check "a field defined twice" refused '--@group a
function alc.f() end
--@group b
function alc.f() end
' "defined twice"
check "a syntax error" refused '--@group a
function alc.f( end
'
check "comparisons are not assignments" ok '--@group a
function alc.f() end
local same = alc.f == nil
'
echo "1..$n"
exit $fail
