// echo_server.mjs — the peer baseline of the alc benchmarks: an MCP stdio server built with the
// official TypeScript SDK (@modelcontextprotocol/sdk, McpServer + StdioServerTransport) offering
// one tool, `echo {text}`, which returns its text as one text block. Nothing else is added, so
// its cost is the SDK's own: line framing, JSON parsing, zod validation of the request and the
// arguments, dispatch, and serialising the reply. stdout carries only protocol lines.
//
// Usage: node echo_server.mjs   (speaks MCP on stdin/stdout; exits when stdin closes)
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "echo-peer", version: "1.0.0" });

server.registerTool(
  "echo",
  { description: "Returns its text argument unchanged.", inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: "text", text }] }),
);

const transport = new StdioServerTransport();
transport.onclose = () => process.exit(0);
process.stdin.on("end", () => process.exit(0));
await server.connect(transport);
