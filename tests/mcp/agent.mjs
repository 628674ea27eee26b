// The official MCP TypeScript SDK against `micro mcp serve --address`: list the tools, call
// one, call a failing one. Prints one JSON object; scripts/mcp-test.sh checks it.
//
//   node agent.mjs http://127.0.0.1:PORT/mcp

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const client = new Client({ name: "micro-mcp-test", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(url));
const { tools } = await client.listTools();
const hello = await client.callTool({ name: "greeter_Greeter_Hello", arguments: { name: "Node" } });
const divide = await client.callTool({ name: "calculator_Calculator_Divide", arguments: { a: 1, b: 0 } });
let unknown = null;
try {
  await client.callTool({ name: "no_such_tool", arguments: {} });
} catch (e) {
  unknown = { code: e.code ?? null, message: String(e.message) };
}
console.log(JSON.stringify({
  protocol: client.getServerVersion()?.name ?? null,
  tools: tools.map((t) => t.name),
  hello: { isError: hello.isError ?? false, structured: hello.structuredContent ?? null, text: hello.content?.[0]?.text },
  divide: { isError: divide.isError ?? false, text: divide.content?.[0]?.text },
  unknown,
}));
await client.close();
