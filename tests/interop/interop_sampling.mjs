// interop_sampling.mjs — MCP sampling and resources with the official TypeScript SDK client.
//
// Usage: node interop_sampling.mjs <path-to-alc> <packages-dir>
// A client that declares the sampling capability answers sampling/createMessage from a
// deterministic handler; alc runs strategies to completion inside one tool call. Prints
// `ok - ...` / `not ok - ...` per check and `N passed, N failed` last; exit 1 on failure.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CreateMessageRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";

const bin = process.argv[2];
const packagesDir = process.argv[3];
let passed = 0;
let failed = 0;
function report(ok, name, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? ` # ${detail}` : ""}`); }
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}
const home = mkdtempSync(join(tmpdir(), "alc-sampling-"));
const timer = setTimeout(() => { report(false, "finished within 60 s", "global timeout"); finish(); }, 60_000);

async function check(name, fn) {
  try {
    const why = await fn();
    report(!why, name, why || undefined);
  } catch (e) {
    report(false, name, String(e && e.message ? e.message : e).replace(/\n/g, " "));
  }
}

// The model: answers by prompt. "FAIL" refuses, "HANG" never answers.
const seen = [];
let mode = "answer";
async function model(request) {
  const msg = request.params.messages[0];
  const prompt = msg.content.text;
  seen.push({ prompt, system: request.params.systemPrompt, maxTokens: request.params.maxTokens,
              includeContext: request.params.includeContext });
  if (prompt.includes("FAIL") || mode === "fail") throw new McpError(-32001, "the user declined");
  if (prompt.includes("HANG")) return new Promise(() => {});
  return { role: "assistant", content: { type: "text", text: `A(${prompt})` }, model: "test-model",
           stopReason: "endTurn" };
}

function connect(withSampling) {
  const transport = new StdioClientTransport({
    command: bin,
    env: { ...getDefaultEnvironment(), ALC_HOME: home, ALC_PACKAGES_PATH: packagesDir, ALC_SAMPLING_TIMEOUT: "2" },
    stderr: "inherit",
  });
  const client = new Client({ name: "alc-sampling-test", version: "0.0.0" },
                            { capabilities: withSampling ? { sampling: {} } : {} });
  if (withSampling) client.setRequestHandler(CreateMessageRequestSchema, model);
  return { client, transport };
}

function payload(result) {
  return JSON.parse(result.content[0].text);
}

const { client, transport } = connect(true);
await check("connect with the sampling capability", async () => { await client.connect(transport); });

await check("alc_run in sampling mode completes in one call with answers in place", async () => {
  seen.length = 0;
  const r = await client.callTool({ name: "alc_run", arguments: { llm: "sampling", code:
    "local b = alc.llm_batch({{prompt='one'},{prompt='two', system='sys', max_tokens=77}})\n" +
    "local c = alc.llm('three')\nreturn {b = b, c = c}" } }, undefined, { timeout: 20_000 });
  const p = payload(r);
  if (p.status !== "completed") return `status ${p.status}: ${r.content[0].text}`;
  if (p.result.b[0] !== "A(one)" || p.result.b[1] !== "A(two)" || p.result.c !== "A(three)")
    return `wrong placement: ${JSON.stringify(p.result)}`;
  const two = seen.find((s) => s.prompt === "two");
  if (!two || two.system !== "sys" || two.maxTokens !== 77 || two.includeContext !== "none")
    return `request fields: ${JSON.stringify(two)}`;
  if (p.stats.auto.llm_calls !== 3) return `llm_calls ${p.stats.auto.llm_calls}`;
});

await check("alc_advice of a batching strategy (sot) completes in one tool call", async () => {
  seen.length = 0;
  const r = await client.callTool({ name: "alc_advice", arguments: { strategy: "sot", task: "Explain tides", llm: "sampling" } },
                                  undefined, { timeout: 20_000 });
  const p = payload(r);
  if (p.status !== "completed") return `status ${p.status}: ${r.content[0].text}`;
  if (seen.length !== p.stats.auto.llm_calls) return `client saw ${seen.length}, stats say ${p.stats.auto.llm_calls}`;
  if (typeof p.result.result.answer !== "string") return "no answer";
});

await check("a refused sampling request raises inside alc.llm (pcall catches it)", async () => {
  const r = await client.callTool({ name: "alc_run", arguments: { llm: "sampling", code:
    "local ok, err = pcall(alc.llm, 'please FAIL')\nlocal safe = alc.llm_safe('FAIL again', nil, 'fallback')\n" +
    "return {ok = ok, err = err, safe = safe}" } });
  const p = payload(r);
  if (p.status !== "completed") return `status ${p.status}`;
  if (p.result.ok !== false || !String(p.result.err).includes("declined")) return JSON.stringify(p.result);
  if (p.result.safe !== "fallback") return `llm_safe gave ${p.result.safe}`;
});

await check("a sampling request that is never answered times out (ALC_SAMPLING_TIMEOUT)", async () => {
  const t0 = Date.now();
  const r = await client.callTool({ name: "alc_run", arguments: { llm: "sampling", code:
    "local ok, err = pcall(alc.llm, 'HANG')\nreturn {ok = ok, err = err}" } }, undefined, { timeout: 20_000 });
  const p = payload(r);
  if (p.status !== "completed" || p.result.ok !== false || !String(p.result.err).includes("timed out"))
    return r.content[0].text;
  if (Date.now() - t0 > 10_000) return "took too long";
});

await check("cancelling the tool call stops the session", async () => {
  const ac = new AbortController();
  const pending = client.callTool({ name: "alc_run", arguments: { llm: "sampling", code:
    "alc.llm('HANG forever')\nreturn 1" } }, undefined, { signal: ac.signal, timeout: 20_000 });
  await new Promise((res) => setTimeout(res, 300));
  ac.abort("test cancels");
  try { await pending; return "the aborted call resolved"; } catch { /* expected */ }
  await new Promise((res) => setTimeout(res, 300));
  const st = payload(await client.callTool({ name: "alc_status", arguments: {} }));
  const s = st.sessions.find((x) => x.pending_queries !== undefined && x.metrics.llm_calls === 1 && x.state === "cancelled");
  if (!s) return `no cancelled session in ${JSON.stringify(st.sessions.map((x) => x.state))}`;
});

await check("llm: \"auto\" uses sampling when the client supports it", async () => {
  const p = payload(await client.callTool({ name: "alc_run", arguments: { llm: "auto", code: "return alc.llm('auto')" } }));
  if (p.status !== "completed" || p.result !== "A(auto)") return JSON.stringify(p);
});

await check("resources: list, templates, read types and package meta", async () => {
  const list = await client.listResources();
  if (!list.resources.some((r) => r.uri === "alc://packages/cot/init.lua")) return "cot source not listed";
  const tpl = await client.listResourceTemplates();
  if (tpl.resourceTemplates.length !== 3) return `templates: ${tpl.resourceTemplates.length}`;
  const meta = await client.readResource({ uri: "alc://packages/cot/meta" });
  const m = JSON.parse(meta.contents[0].text);
  if (m.name !== "cot") return `meta ${meta.contents[0].text}`;
  const src = await client.readResource({ uri: "alc://packages/cot/init.lua" });
  if (!src.contents[0].text.includes("M.meta")) return "source";
});

await check("resources: unknown is -32002, malformed and traversal are -32602", async () => {
  const codes = [];
  for (const uri of ["alc://packages/nope/init.lua", "alc://packages/../x/meta", "file:///etc/passwd"]) {
    try { await client.readResource({ uri }); codes.push("ok"); } catch (e) { codes.push(e.code); }
  }
  if (codes.join(",") !== "-32002,-32602,-32602") return codes.join(",");
});

await client.close();

const plain = connect(false);
await check("llm: \"sampling\" without the client capability is a clear isError", async () => {
  await plain.client.connect(plain.transport);
  const r = await plain.client.callTool({ name: "alc_run", arguments: { llm: "sampling", code: "return alc.llm('x')" } });
  if (!r.isError || !r.content[0].text.includes("capabilities.sampling")) return r.content[0].text;
  const auto = payload(await plain.client.callTool({ name: "alc_run", arguments: { llm: "auto", code: "return alc.llm('x')" } }));
  if (auto.status !== "needs_response") return `auto without sampling should pause, got ${auto.status}`;
  await plain.client.close();
});

clearTimeout(timer);
rmSync(home, { recursive: true, force: true });
finish();
