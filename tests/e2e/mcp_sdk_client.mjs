// The official TypeScript SDK's MCP client (Client + StdioClientTransport) against `brum mcp`
// (test_mcp.sh runs it). Prints "ok - ..." / "FAIL - ..." per check; exits non-zero on a failure.
// The SDK validates every structuredContent against the tool's outputSchema on its own.
// usage: node mcp_sdk_client.mjs SDK_DIR BRUM PROJECT
import { createRequire } from "node:module";
import path from "node:path";

const [sdkDir, brum, proj] = process.argv.slice(2);
const require = createRequire(path.join(sdkDir, "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");

let failed = 0;
function check(name, cond, detail = "") {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`FAIL - ${name} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
}

const client = new Client({ name: "brum-e2e-sdk", version: "1.0.0" });
// The SDK passes only a few variables by default: the test's runtime directory and token too.
const transport = new StdioClientTransport({
  command: brum,
  args: ["mcp", "--shell", "-d", proj],
  env: { ...process.env },
  stderr: "inherit",
});
const call = (name, args = {}) => client.callTool({ name, arguments: args });
const text = (r) => r.content[0].text;

try {
  await client.connect(transport);
  check("SDK: initialize", client.getServerVersion()?.name === "brum", client.getServerVersion());
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  check("SDK: listTools", names.length === 8 && names.includes("wait_for_log"), names);
  check("SDK: output schemas", tools.every((t) => t.outputSchema && t.annotations));

  let r = await call("start_process", { name: "web" });
  check("SDK: start_process returns ready", r.structuredContent?.ready === true, text(r));
  check("SDK: start_process first lines",
        r.structuredContent.lines.some((l) => l.text.includes("Local:")), text(r));
  r = await call("start_process", { name: "ticker" });
  check("SDK: start_process ticker", r.structuredContent?.state === "running", text(r));
  r = await call("wait_for_log", { name: "ticker", pattern: "^tick 3$", from: "start" });
  check("SDK: wait_for_log", r.structuredContent?.matched === true, text(r));

  r = await call("read_logs", { name: "ticker", tail: 2 });
  const first = r.structuredContent;
  check("SDK: read_logs tail", first.lines.length === 2, text(r));
  await call("wait_for_log", { name: "ticker", pattern: "tick", from: first.next_cursor });
  r = await call("read_logs", { name: "ticker", cursor: first.next_cursor });
  const ns = r.structuredContent.lines.map((l) => l.n);
  check("SDK: read_logs with cursor continues", ns.length > 0 &&
        ns[0] === first.lines[1].n + 1, ns);

  r = await call("search_logs", { pattern: "tick 2", name: "ticker" });
  check("SDK: search_logs", r.structuredContent.matches.length >= 1, text(r));

  // A cancelled call (AbortSignal: the SDK sends notifications/cancelled) while ping goes on.
  const ac = new AbortController();
  const waiting = client.callTool({ name: "wait_for_log",
                                    arguments: { name: "ticker", pattern: "never-printed" } },
                                  undefined, { signal: ac.signal });
  await client.ping();
  ac.abort();
  let aborted = false;
  try { await waiting; } catch { aborted = true; }
  check("SDK: ping during a wait, then cancel", aborted);

  r = await call("start_process", { name: "typecheck" });
  check("SDK: typecheck fails", r.structuredContent?.state === "failed", text(r));
  r = await call("get_errors", {});
  check("SDK: get_errors", r.structuredContent.errors.some((e) => e.title.includes("TS2322")),
        text(r));
  r = await call("stop_process", { name: "ticker" });
  check("SDK: stop_process", ["stopped", "killed"].includes(r.structuredContent?.state), text(r));
  r = await call("stop_process", { name: "nope" });
  check("SDK: unknown process is an isError result", r.isError === true &&
        text(r).includes("list_processes"), text(r));
  r = await call("read_logs", { tail: "many" });
  check("SDK: bad argument is an isError result", r.isError === true &&
        text(r).includes("'tail' must be an integer"), text(r));
} catch (e) {
  check("SDK: session ran to its end", false, String(e && e.stack || e));
}
await client.close(); // ends stdin: brum mcp stops web (still running) and exits
process.exit(failed ? 1 : 0);
