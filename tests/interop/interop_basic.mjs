// interop_basic.mjs — drive the alc MCP stdio server with the official TypeScript SDK client.
//
// Usage: node interop_basic.mjs <path-to-alc> (ALC_HOME from the environment, else a temp dir)
// Prints one `ok - <name>` / `not ok - <name>` line per check, then `N passed, N failed`;
// exits 1 if any check failed. A global 30 s timer turns any hang into a failure.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

const GLOBAL_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

let passed = 0;
let failed = 0;

function report(ok, name, detail) {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}${detail ? ` # ${detail}` : ""}`);
  }
}

function finish(code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed > 0 ? 1 : 0));
}

const bin = process.argv[2];
if (!bin) {
  console.error("usage: node interop_basic.mjs <path-to-alc>");
  report(false, "binary path given on the command line");
  finish(1);
}

let tempHome = null;
let alcHome = process.env.ALC_HOME;
if (!alcHome) {
  tempHome = mkdtempSync(join(tmpdir(), "alc-interop-"));
  alcHome = tempHome;
}
function cleanup() {
  if (tempHome) rmSync(tempHome, { recursive: true, force: true });
}

const timer = setTimeout(() => {
  report(false, "whole run finished within 30 s", "global timeout");
  cleanup();
  finish(1);
}, GLOBAL_TIMEOUT_MS);

// Runs one named check; fn returns nothing (pass) or throws / returns a string (fail reason).
async function check(name, fn) {
  try {
    const why = await fn();
    report(why === undefined || why === true, name, typeof why === "string" ? why : undefined);
  } catch (err) {
    report(false, name, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}

const opts = { timeout: REQUEST_TIMEOUT_MS };
const client = new Client({ name: "alc-interop", version: "0.0.0" });
const transport = new StdioClientTransport({
  command: bin,
  args: [],
  env: { ...getDefaultEnvironment(), ALC_HOME: alcHome },
  stderr: "inherit",
});
client.onerror = (err) => console.error(`# client error: ${err?.message ?? err}`);

let connected = false;
await check("connect and initialize", async () => {
  await client.connect(transport, opts);
  connected = true;
});

const checks = [
  ["server name is alc", () => {
    const v = client.getServerVersion();
    if (v?.name !== "alc") return `serverInfo is ${JSON.stringify(v)}`;
    if (typeof v.version !== "string" || v.version.length === 0) return "serverInfo.version empty";
  }],
  ["server declares the tools capability", () => {
    const caps = client.getServerCapabilities();
    if (!caps?.tools) return `capabilities are ${JSON.stringify(caps)}`;
  }],
  ["listTools contains alc_info", async () => {
    const { tools } = await client.listTools(undefined, opts); // the SDK's strict schema check runs here
    if (!tools.some((t) => t.name === "alc_info")) return `tools: ${tools.map((t) => t.name).join(", ")}`;
  }],
  ["callTool alc_info", async () => {
    const res = await client.callTool({ name: "alc_info" }, undefined, opts);
    if (res.isError) return `isError result: ${JSON.stringify(res.content)}`;
    const block = res.content?.[0];
    if (block?.type !== "text") return `first content block: ${JSON.stringify(block)}`;
    const info = JSON.parse(block.text);
    if (typeof info.version !== "string") return `no version in ${block.text}`;
  }],
  ["ping", async () => {
    await client.ping(opts);
  }],
  ["setLoggingLevel info", async () => {
    await client.setLoggingLevel("info", opts);
  }],
  ["unknown tool rejects with -32602", async () => {
    try {
      const res = await client.callTool({ name: "alc_no_such_tool" }, undefined, opts);
      return `resolved instead: ${JSON.stringify(res)}`;
    } catch (err) {
      if (!(err instanceof McpError)) return `not an McpError: ${err}`;
      if (err.code !== -32602) return `code ${err.code}: ${err.message}`;
    }
  }],
  ["server still answers after the error", async () => {
    await client.ping(opts);
  }],
];

for (const [name, fn] of checks) {
  // Without a connection nothing can work; report instead of waiting on each request.
  if (connected) await check(name, fn);
  else report(false, name, "not connected");
}

await check("close", async () => {
  await client.close();
});

clearTimeout(timer);
cleanup();
finish();
