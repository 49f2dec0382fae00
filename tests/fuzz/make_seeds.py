#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py — (re)builds the seed corpora of the fuzz harnesses.

  tests/fuzz/corpus/line/     fuzz_line: byte 0 = 1 (start initialized) or 0, then JSON-RPC lines
  tests/fuzz/corpus/json/     fuzz_json_conv: byte 0 = 0 and JSON text, or 1 and a value program
  tests/fuzz/corpus/extract/  fuzz_json_extract: LLM-style answer texts

Sources: every recorded conversation in tests/transcripts/*.jsonl (each conversation's input
lines as one seed, each tools/call line alone, every JSON value found in the replies) and the
bad-input table below, which mirrors tests/e2e/test_e2e_badinput.c. File names are the SHA-1
of the content (as libFuzzer names units), so re-running is idempotent and only adds.

usage: tests/fuzz/make_seeds.py [REPO_ROOT]
"""
import glob
import hashlib
import json
import os
import struct
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
out = os.path.join(root, "tests", "fuzz", "corpus")


def put(kind, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(out, kind)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(d, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def call(i, name, args):
    return line({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": name, "arguments": args}})


def walk_json_values(text, found):
    """Collects JSON texts nested in tool results (content[].text holding JSON)."""
    try:
        v = json.loads(text)
    except ValueError:
        return
    found.append(line(v))
    if isinstance(v, dict):
        for c in v.get("result", {}).get("content", []) if isinstance(v.get("result"), dict) else []:
            if isinstance(c, dict) and isinstance(c.get("text"), str):
                walk_json_values(c["text"], found)


# ---------------------------------------------------------------- the transcript library
answers = []
for path in sorted(glob.glob(os.path.join(root, "tests", "transcripts", "*.jsonl"))):
    ins, values = [], []  # ins: bytes
    with open(path, encoding="utf-8") as f:
        for raw in f:
            rec = json.loads(raw)
            if rec.get("dir") == "in":
                if "raw_hex" in rec:
                    text = bytes.fromhex(rec["raw_hex"])
                elif "raw" in rec:
                    text = rec["raw"].encode()
                else:
                    text = line(rec["msg"]).encode()
                ins.append(text)
                msg = rec.get("msg") if isinstance(rec.get("msg"), dict) else {}
                if msg.get("method") == "tools/call":
                    put("line", b"\x01" + text)
                    args = msg.get("params", {}).get("arguments", {})
                    if isinstance(args, dict):
                        for k in ("ctx", "opts"):
                            if k in args:
                                values.append(line(args[k]))
                        if isinstance(args.get("response"), str):
                            answers.append(args["response"])
                        for r in args.get("responses", []) or []:
                            if isinstance(r, dict) and isinstance(r.get("response"), str):
                                answers.append(r["response"])
            elif rec.get("dir") == "out" and "msg" in rec:
                walk_json_values(line(rec["msg"]), values)
    put("line", b"\x00" + b"\n".join(ins) + b"\n")
    for v in values:
        put("json", b"\x00" + v.encode())

# ---------------------------------------------------------------- the bad-input table
S = "s-00000000000000000000000000000000"
bad_lines = [
    "not json", "{", '{"jsonrpc":"2.0","id":1', "[" * 2000 + "]" * 2000, "[" * 3000,
    '{"jsonrpc":"2.0","id":1,"method":"ping","params":' + '{"a":' * 1200 + "1" + "}" * 1200 + "}",
    '{"jsonrpc":"2.0","id":1e400,"method":"ping"}', '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}',
    '{"jsonrpc":"2.0","id":7,"id":8,"method":"ping"}',
    '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"alc_run","name":"alc_info","arguments":{}}}',
    '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"alc_run","arguments":{"code":"return 1","code":"return 2"}}}',
    '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"alc_run","arguments":{"code":"return ctx","ctx":{"n":1e999,"m":-0,"k":123456789012345678901234567890}}}}',
    '{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"alc_run","arguments":{"code":"return #ctx.s","ctx":{"s":"a\\u0000b"}}}}',
    '{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"alc_continue","arguments":{"session_id":"' + S + '","response":"r","usage":{"prompt_tokens":1e400,"completion_tokens":-1}}}}',
    '{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"alc_status","arguments":{"pending_filter":{"prompt":{"mode":"preview","chars":1e300}}}}}',
    '{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"alc_log_view","arguments":{"limit":1e19}}}',
    '{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"alc_continue","arguments":{"session_id":"a\\ud800b","response":"x"}}}',
]
bad_lines += [
    call(20, "alc_run", {"code": "local t = {} t.t = t return t"}),
    call(21, "alc_run", {"code": "return function() end"}),
    call(22, "alc_run", {"code": "error({code = 42})"}),
    call(23, "alc_run", {"code": "local ok, e = xpcall(error, function() error('in handler') end) error(e)"}),
    call(24, "alc_run", {"code": "local s = 'x' while true do s = s .. s end"}),
    call(25, "alc_run", {"code": "local function f() return 1 + f() end return f()"}),
    call(26, "alc_run", {"code": "local function f(s) return (s:gsub('.', f)) end return f('ab')"}),
    call(27, "alc_run", {"code": "local q = {} for i = 1, 50 do q[i] = {prompt = 'p' .. i} end return alc.llm_batch(q)"}),
    call(28, "alc_run", {"code": "return alc.llm('x', {max_tokens = 0/0, system = '\\xff'})"}),
    call(29, "alc_run", {"code": "return alc.fork({'cot', 'sc'}, {task = 't'})"}),
    call(30, "alc_run", {"code": "alc.state.set('k', {1, 2}) alc.state.incr('n') return alc.state.keys()", "ctx": {"_ns": "../x"}}),
    call(31, "alc_run", {"code": "while true do end"}),
    call(32, "alc_advice", {"strategy": "cot", "task": "2+2?"}),
    call(33, "alc_cancel", {"session_id": S}),
    call(34, "alc_status", {"session_id": "../../etc/passwd", "pending_filter": "full", "include_history": True}),
    call(35, "alc_log_view", {"session_id": "../secret"}),
    call(36, "alc_scenario_show", {"name": "../secret"}),
    call(37, "alc_continue", {"session_id": S, "responses": [{"query_id": "q-0", "response": "a"}, {"query_id": "q-0", "response": "b"}]}),
    call(38, "alc_eval", {"strategy": "cot", "scenario": "return {cases = {{input = 'a', expected = 'a'}}}"}),
    call(39, "alc_note", {"session_id": S, "content": "x"}),
]
for b in bad_lines:
    put("line", b"\x01" + b.encode("utf-8", "surrogatepass"))
# a whole conversation: run, pause, answer, status, cancel
conv = [call(1, "alc_run", {"code": "local a = alc.llm('one') local b = alc.llm_batch({{prompt = a}, {prompt = 'two'}}) return {a, b}"}),
        call(2, "alc_status", {}), call(3, "alc_continue", {"session_id": "<sid>", "response": "A"}),
        line({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})]
put("line", b"\x01" + "\n".join(conv).encode() + b"\n")
put("line", b"\x01" + b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"a\xff\xfe"}}\n')
put("line", b"\x01" + b'{"jsonrpc":"2.0","id":1,"me\x00thod":"ping"}\n')

bad_json = ["[1,2,]", "{\"a\":1,}", "NaN", "01", "-", "1e400", "-0", "[-0.0]", "\"\\ud800\"", "\"\\ud83d\\ude00\"",
            "\"a\\u0000b\"", "{\"a\":1,\"a\":2}", "[" * 199 + "]" * 199, "[" * 201 + "]" * 201,
            "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.7976931348623157e308",
            "5e-324", "[1,null,3,null]", "{\"1\":\"a\",\"2\":\"b\"}", "[]", "{}", "\"\x7f\"", " \t\n[ 1 ] \n",
            "{\"a\":\"}\"}", "\"\\/\\b\\f\\n\\r\\t\"", "[1.0, 1e2, 1E-2, 0.1]", "tru", "nul", "\"unterminated"]
for b in bad_json:
    put("json", b"\x00" + b.encode("utf-8", "surrogatepass"))
put("json", b"\x00\"\xff\xfe\"")
# value programs (see fuzz_json_conv.c): table, key, value, set ...
put("json", bytes([1, 6, 2, 1, ord("a"), 0] + [0] * 8 + [7, 9]))
put("json", bytes([1, 6, 10, 0, 8, 2, 1, 0xff, 10, 0, 7]))
put("json", bytes([1, 6, 1]) + struct.pack("<d", float("nan")) + bytes([8, 11, 8, 12, 8, 13, 8, 14]))
put("json", bytes([1, 6, 1]) + struct.pack("<d", -0.0) + bytes([8, 1]) + struct.pack("<d", 1e300) + bytes([8, 9]))

# ---------------------------------------------------------------- answers for json_extract
extract = answers + [
    '{"a": 1}', '[1, 2, 3]', 'Here you go:\n```json\n{"a": 2}\n```\nThanks!', 'x ```\n{"b": 3}\n``` y',
    '```js\n{"c": 4}\n```', 'The answer is {"x": {"y": [1, 2]}} ok', '{not json} then {"k": "v"}',
    'prefix {"s": "a}b", "n": 1} suffix', 'x {"s": "q\\"}", "m": 2} y', 'it is { a "quote {"a": 1}',
    "Score: 8/10", "I'd say 7.5 out of 10", "-3.25 and 4", "{" * 300 + "}" * 300, "[1," * 300 + "x",
    "```json\n" + "{" * 50, '{"a":' * 250 + "1" + "}" * 250, "no json here", "",
]
for a in extract:
    put("extract", a)
print("seeds:", {k: len(os.listdir(os.path.join(out, k))) for k in sorted(os.listdir(out))})
