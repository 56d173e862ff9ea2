#!/usr/bin/env node
// tests/mcp-clients/interop.mjs: the official MCP clients against the stack's /mcp.
//
// Environment (tests/run passes the stack's stack.env): AGENTPLATFORM_URL, AGENTPLATFORM_API_KEY (all scopes,
// mcp:tools included), AP_TEST_STACK (the stack's control command) and AP_TEST_STACK_DIR.
//
// It starts its own fake Open-Meteo server on 127.0.0.1, points the stack's weather URLs at it
// (etc/agentplatform.extra.conf, then `AP_TEST_STACK start` restarts the API workers), makes an echo agent
// through the REST API, and then, for each client:
//   - @modelcontextprotocol/sdk 1.x: initialize handshake (protocol 2025-11-25);
//   - @modelcontextprotocol/client 2.x pinned to 2026-07-28 (server/discover probe, per-request _meta);
//   - @modelcontextprotocol/client 2.x with versionNegotiation 'auto' (discovers 2026-07-28 too);
//   - @modelcontextprotocol/client 2.x in its default legacy mode (initialize);
// connects with the key, lists every tool (all pages), calls get_weather (checked against the fake's answer;
// the clients themselves check structuredContent against the tool's outputSchema) and trigger_agent (the run
// is then read back through the REST API: trigger type mcp). Prints one line per check; exits 1 on any failure.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { Client as Client1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as Transport1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from "@modelcontextprotocol/client";

const URL_BASE = process.env.AGENTPLATFORM_URL;
const KEY = process.env.AGENTPLATFORM_API_KEY;
const STACK = process.env.AP_TEST_STACK;
const STACK_DIR = process.env.AP_TEST_STACK_DIR;
for (const [n, v] of Object.entries({ AGENTPLATFORM_URL: URL_BASE, AGENTPLATFORM_API_KEY: KEY, AP_TEST_STACK: STACK, AP_TEST_STACK_DIR: STACK_DIR }))
  if (!v) {
    console.error(`interop: ${n} is not set (tests/run passes the stack's environment)`);
    process.exit(2);
  }

let failures = 0;
let passed = 0;
function check(ok, what, detail) {
  if (ok) passed++;
  else failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${!ok && detail !== undefined ? `: ${typeof detail === "string" ? detail : JSON.stringify(detail)}` : ""}`);
  return ok;
}

// The fake Open-Meteo: every place is at 48.8566, 2.3522 in "Testland"; 11.5 °C now, overcast (3), high 14 /
// low 6, 35% rain.
const seen = [];
const fake = http.createServer((req, res) => {
  seen.push(req.url);
  const u = new URL(req.url, "http://127.0.0.1");
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Connection", "close");
  if (u.pathname === "/v1/search")
    return res.end(JSON.stringify({ results: [{ name: u.searchParams.get("name"), country: "Testland", latitude: 48.8566, longitude: 2.3522 }] }));
  if (u.pathname === "/v1/forecast")
    return res.end(JSON.stringify({
      current: { temperature_2m: 11.5, weather_code: 3 },
      daily: { temperature_2m_max: [14], temperature_2m_min: [6], precipitation_probability_max: [35] },
    }));
  res.statusCode = 404;
  res.end("{}");
});
await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
const fakeUrl = `http://127.0.0.1:${fake.address().port}`;
writeFileSync(`${STACK_DIR}/etc/agentplatform.extra.conf`,
  `# Written by tests/mcp-clients/interop.mjs: the weather service is its fake server.\n` +
  `weather_geocoding_url = ${fakeUrl}/v1/search\nweather_forecast_url = ${fakeUrl}/v1/forecast\n`);
// AP_TEST_STACK is a command line (the shell splits it, as the e2e suites' e2e_stack does).
execFileSync("/bin/sh", ["-c", 'exec $AP_TEST_STACK "$1"', "sh", "start"], { stdio: ["ignore", "inherit", "inherit"] });

async function api(method, path, body) {
  const res = await fetch(`${URL_BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const made = await api("POST", "/api/v1/agents", { name: "MCP interop", type: "echo", config: { message: "interop" } });
if (!check(made.status === 201, "an echo agent made through the REST API", made)) process.exit(1);
const agentId = made.json.data.id;

async function waitRun(runId) {
  for (let i = 0; i < 100; i++) {
    const r = await api("GET", `/api/v1/runs/${runId}`);
    if (r.status === 200 && !["queued", "running"].includes(r.json.data.status)) return r.json.data;
    await new Promise((res) => setTimeout(res, 100));
  }
  return null;
}

// One client session: connect, list every tool, call get_weather and trigger_agent.
async function exercise(label, client, transport, { wantVersion, versionOf, pageWise }) {
  try {
    await client.connect(transport);
  } catch (e) {
    check(false, `${label}: connects`, String(e?.stack || e));
    return;
  }
  check(true, `${label}: connects`);
  const version = versionOf();
  check(version === wantVersion, `${label}: protocol ${wantVersion}`, version);
  check(client.getServerVersion()?.name === "agentplatform", `${label}: server info`, client.getServerVersion());

  const tools = [];
  try {
    if (pageWise) {
      let cursor;
      let pages = 0;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        tools.push(...page.tools);
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      check(pages > 1, `${label}: tools/list has more than one page`, pages);
    } else {
      tools.push(...(await client.listTools()).tools);
    }
  } catch (e) {
    check(false, `${label}: lists tools`, String(e?.stack || e));
  }
  const names = tools.map((t) => t.name);
  for (const want of ["get_weather", "list_calendar_events", "send_email", "list_agents", "get_agent", "trigger_agent", "get_run", "list_pending_approvals"])
    check(names.includes(want), `${label}: lists ${want}`, names);
  check(new Set(names).size === names.length, `${label}: each tool once`, names);

  try {
    const before = seen.length;
    const w = await client.callTool({ name: "get_weather", arguments: { location: `Paris ${label}` } });
    const s = w.structuredContent;
    check(!w.isError && s?.location?.name === `Paris ${label}` && s?.current?.temperature === 11.5 &&
      s?.current?.conditions === "overcast" && s?.today?.precipitation_probability_max === 35,
      `${label}: get_weather answers from the fake weather service`, w);
    check(seen.length - before === 2, `${label}: get_weather made two requests to the fake`, seen.slice(before));
    const bad = await client.callTool({ name: "get_weather", arguments: {} });
    check(bad.isError === true && /location/.test(bad.content?.[0]?.text), `${label}: bad arguments are a tool error`, bad);
    let unknown;
    try {
      await client.callTool({ name: "no_such_tool", arguments: {} });
    } catch (e) {
      unknown = e;
    }
    check(unknown?.code === -32602, `${label}: an unknown tool is a -32602 error`, String(unknown));
  } catch (e) {
    check(false, `${label}: get_weather`, String(e?.stack || e));
  }

  try {
    const t = await client.callTool({ name: "trigger_agent", arguments: { agent_id: agentId, payload: { from: label } } });
    const runId = t.structuredContent?.run_id;
    check(!t.isError && /^run_/.test(runId ?? ""), `${label}: trigger_agent answers a run id`, t);
    if (runId) {
      const run = await waitRun(runId);
      check(run?.trigger?.type === "mcp" && run?.status === "succeeded" && run?.input?.payload?.from === label,
        `${label}: the run ran with trigger type mcp`, run);
      const g = await client.callTool({ name: "get_run", arguments: { run_id: runId } });
      check(!g.isError && g.structuredContent?.id === runId && g.structuredContent?.messages?.length >= 1,
        `${label}: get_run reads it back with its messages`, g);
    }
  } catch (e) {
    check(false, `${label}: trigger_agent`, String(e?.stack || e));
  }
  await client.close().catch(() => {});
}

const url = new URL(`${URL_BASE}/mcp`);
const requestInit = { headers: { Authorization: `Bearer ${KEY}` } };

{
  const transport = new Transport1(url, { requestInit });
  const client = new Client1({ name: "agentplatform-interop-1x", version: "1.0.0" });
  await exercise("sdk 1.x", client, transport, { wantVersion: "2025-11-25", versionOf: () => transport.protocolVersion, pageWise: true });
}
for (const [label, mode, want] of [
  ["client 2.x pinned 2026-07-28", { pin: "2026-07-28" }, "2026-07-28"],
  ["client 2.x auto", "auto", "2026-07-28"],
  ["client 2.x legacy", "legacy", "2025-11-25"],
]) {
  const transport = new Transport2(url, { requestInit });
  const client = new Client2({ name: "agentplatform-interop-2x", version: "1.0.0" }, { versionNegotiation: { mode } });
  await exercise(label, client, transport, { wantVersion: want, versionOf: () => client.getNegotiatedProtocolVersion(), pageWise: false });
}

// Without the key the clients get 401 with invalid_token (and give up: no OAuth provider configured).
{
  const client = new Client1({ name: "agentplatform-interop-nokey", version: "1.0.0" });
  let err;
  try {
    await client.connect(new Transport1(url));
  } catch (e) {
    err = e;
  }
  check(err?.code === 401, "sdk 1.x without a key: refused with 401", String(err));
}

fake.close();
console.log(`interop: ${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
