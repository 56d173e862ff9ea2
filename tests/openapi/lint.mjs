#!/usr/bin/env node
// tests/openapi/lint.mjs: the OpenAPI document is valid OpenAPI 3.1.
//
// Lints, with Redocly CLI (tests/openapi/redocly.yaml: the recommended rules, every warning an
// error, examples checked against their schemas), both
//   - src/api/openapi.json, the file in the repository, and
//   - what the running server serves at $AGENTPLATFORM_URL/api/v1/openapi.json;
// then checks that the served document is the file with `servers` set to this deployment's
// origin (so the API was built from this file), and that every schema in the document compiles
// as JSON Schema 2020-12 with ajv (the validator check-responses.mjs uses).
// Exit status 0 when all is well, 1 on any problem. Without AGENTPLATFORM_URL, only the file is
// checked (and the exit status is 1: the served document must be checked too).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { METHODS, SPEC_FILE, baseUrl, escapePointer, fetchWithTimeout, loadSpec, makeAjv, validatorAt } from "./spec.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const redocly = path.join(here, "node_modules/@redocly/cli/bin/cli.js");
let failed = 0;
const fail = (msg) => {
  failed++;
  console.log(`lint: FAIL: ${msg}`);
};

function lint(file, label) {
  console.log(`\n== redocly lint: ${label}`);
  const r = spawnSync(process.execPath, [redocly, "lint", "--config", path.join(here, "redocly.yaml"), "--format", "stylish", file], {
    encoding: "utf8",
    timeout: 120000,
    // No telemetry, no update check, no banner: the tests talk to no one.
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", REDOCLY_SUPPRESS_NOTIFICATIONS: "true", NO_COLOR: "1" },
  });
  // Redocly prints its findings on stdout and progress (and a boxed Node.js notice) on stderr.
  const out = (r.stdout || "").trim();
  const err = (r.stderr || "")
    .split("\n")
    .filter((l) => !/[║╔╚]/.test(l) && l.trim())
    .join("\n");
  if (out) console.log(out);
  if (err) console.log(err);
  if (r.error) fail(`${label}: redocly did not run: ${r.error.message}`);
  else if (r.status !== 0) fail(`${label}: redocly lint found problems (exit ${r.status})`);
}

// Every schema of the document compiles (patterns are valid regexes, $refs resolve, ...).
function compileSchemas(doc, label) {
  const ajv = makeAjv(doc);
  const pointers = [];
  for (const name of Object.keys(doc.components?.schemas || {})) pointers.push(`#/components/schemas/${escapePointer(name)}`);
  for (const kind of ["headers", "parameters"]) {
    for (const [name, o] of Object.entries(doc.components?.[kind] || {})) {
      if (o.schema) pointers.push(`#/components/${kind}/${escapePointer(name)}/schema`);
    }
  }
  const media = (content, base) => {
    for (const [mt, m] of Object.entries(content || {})) if (m.schema) pointers.push(`${base}/content/${escapePointer(mt)}/schema`);
  };
  for (const [name, resp] of Object.entries(doc.components?.responses || {})) media(resp.content, `#/components/responses/${escapePointer(name)}`);
  for (const [tpl, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const base = `#/paths/${escapePointer(tpl)}/${m}`;
      if (op.requestBody && !op.requestBody.$ref) media(op.requestBody.content, `${base}/requestBody`);
      for (const [code, resp] of Object.entries(op.responses || {})) {
        if (!resp.$ref) media(resp.content, `${base}/responses/${escapePointer(code)}`);
      }
    }
  }
  let bad = 0;
  for (const p of pointers) {
    try {
      validatorAt(ajv, p);
    } catch (e) {
      bad++;
      fail(`${label}: schema ${p} does not compile: ${e.message}`);
    }
  }
  console.log(`\n== ajv (JSON Schema 2020-12): ${label}: ${pointers.length - bad} of ${pointers.length} schemas compile`);
}

const file = await loadSpec(SPEC_FILE);
lint(SPEC_FILE, "src/api/openapi.json");
compileSchemas(file, "src/api/openapi.json");

let origin = null;
try {
  origin = baseUrl();
} catch (e) {
  fail(e.message);
}
if (origin) {
  const url = `${origin}/api/v1/openapi.json`;
  let served = null;
  try {
    const res = await fetchWithTimeout(url, {}, 15000);
    const text = await res.text();
    if (res.status !== 200) fail(`GET ${url}: status ${res.status}`);
    else if (!/^application\/json\b/.test(res.headers.get("content-type") || "")) fail(`GET ${url}: Content-Type ${res.headers.get("content-type")}`);
    else served = JSON.parse(text);
  } catch (e) {
    fail(`GET ${url}: ${e.message}`);
  }
  if (served) {
    const dir = mkdtempSync(path.join(tmpdir(), "ap-openapi-"));
    try {
      const f = path.join(dir, "openapi.json");
      writeFileSync(f, JSON.stringify(served, null, 1));
      lint(f, `served ${url}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    compileSchemas(served, "served document");
    const servers = served.servers;
    if (!Array.isArray(servers) || servers.length !== 1 || servers[0].url !== origin) {
      fail(`served servers is ${JSON.stringify(servers)}; expected one entry with url ${origin} (public_base_url): "Try it out" calls it`);
    }
    const strip = ({ servers: _s, ...rest }) => JSON.stringify(rest);
    if (strip(served) !== strip(file)) {
      fail("the served document differs from src/api/openapi.json beyond `servers`: the API was built from another version (rebuild it)");
    } else {
      console.log("\n== the served document is src/api/openapi.json with servers set to this origin");
    }
  }
}

console.log(failed ? `\nlint: ${failed} problem(s)` : "\nlint: the OpenAPI document is valid");
process.exit(failed ? 1 : 0);
