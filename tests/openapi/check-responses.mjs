#!/usr/bin/env node
// tests/openapi/check-responses.mjs RECORDS.jsonl [--spec FILE]
//
// Checks every HTTP response the e2e suite received against the OpenAPI document (by default
// src/api/openapi.json). RECORDS.jsonl has one JSON object per line, written by the e2e client
// when AP_TEST_RECORD names the file:
//   {"method":"GET","path":"/api/v1/agents/agt_...","query":"limit=2","status":200,
//    "headers":{"x-request-id":"...",...},"body":<parsed JSON or null>,"raw_body":"<text when not JSON>"}
// For a record whose method and path match an operation (path parameters match one segment):
//   - its status must be one of the operation's responses (exact code, else NXX, else default);
//   - a response with application/json content: the body must be JSON valid against that schema
//     ($refs into components resolved), and Content-Type must be application/json;
//   - a response without content (e.g. 204): no body;
//   - every header the response marks required must be present, and every documented header
//     that is present must fit its schema.
// A record that matches no operation (404 route_not_found, 405) must carry a body valid against
// #/components/schemas/Error. Records of the static docs page (/api/v1/docs...) are not API
// responses and are skipped unless they are errors.
// Prints a summary (operations covered, statuses seen) and every mismatch with its record; exits
// 1 on any mismatch, 2 when the file is missing, empty or unreadable.
import { readFile } from "node:fs/promises";
import {
  SPEC_FILE,
  deref,
  escapePointer,
  findOperation,
  formatAjvErrors,
  loadSpec,
  makeAjv,
  operations,
  validatorAt,
} from "./spec.mjs";

function usage(msg) {
  if (msg) console.error(`check-responses: ${msg}`);
  console.error("usage: check-responses.mjs RECORDS.jsonl [--spec FILE]");
  process.exit(2);
}

const args = process.argv.slice(2);
let specFile = SPEC_FILE;
let recordsFile = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--spec") specFile = args[++i] || usage("--spec needs a file");
  else if (args[i].startsWith("-")) usage(`unknown option ${args[i]}`);
  else if (!recordsFile) recordsFile = args[i];
  else usage("one records file only");
}
if (!recordsFile) usage();

let text;
try {
  text = await readFile(recordsFile, "utf8");
} catch (e) {
  console.error(`check-responses: cannot read ${recordsFile}: ${e.message}`);
  console.error("  (the e2e suite writes it when AP_TEST_RECORD names it: did the recorder run?)");
  process.exit(2);
}
const lines = text.split("\n");
if (!lines.some((l) => l.trim())) {
  console.error(`check-responses: ${recordsFile} holds no records (did the e2e recorder run?)`);
  process.exit(2);
}

const doc = await loadSpec(specFile);
const ajv = makeAjv(doc);
const ops = operations(doc);
const seen = new Map(ops.map((o) => [o, new Map()])); // op -> status -> count
const failures = [];
let checked = 0;
let skipped = 0;
let unmatched = 0;

const lower = (h) => Object.fromEntries(Object.entries(h || {}).map(([k, v]) => [k.toLowerCase(), v]));
const mediaType = (ct) => (ct || "").split(";")[0].trim().toLowerCase();
const hasBody = (r) => (r.body !== null && r.body !== undefined) || (typeof r.raw_body === "string" && r.raw_body.length > 0);

// A header value is a string: turn it into what its schema's type expects before validating.
function headerValue(schema, value) {
  const t = schema && (Array.isArray(schema.type) ? schema.type[0] : schema.type);
  if ((t === "integer" || t === "number") && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (t === "boolean" && /^(true|false)$/.test(value.trim())) return value.trim() === "true";
  return value;
}

function checkError(r, problems) {
  if (r.body === null || r.body === undefined) {
    problems.push(`expected an Error object body, got ${r.raw_body ? "non-JSON text" : "no body"}`);
    return;
  }
  const v = validatorAt(ajv, "#/components/schemas/Error");
  if (!v(r.body)) problems.push(`body does not match #/components/schemas/Error:\n      ${formatAjvErrors(v.errors)}`);
}

function checkRecord(r) {
  const problems = [];
  if (!r || typeof r !== "object" || typeof r.method !== "string" || typeof r.path !== "string" || !Number.isInteger(r.status)) {
    return ["not a record (needs method, path, status)"];
  }
  const method = r.method.toUpperCase();
  const headers = lower(r.headers);
  // HEAD is GET without a body.
  const o = findOperation(ops, method === "HEAD" ? "GET" : method, r.path);

  if (!o) {
    unmatched++;
    if (/^\/api\/v1\/docs(\/|$)/.test(r.path) && r.status < 400) {
      skipped++;
      return problems;
    }
    if (method !== "HEAD") checkError(r, problems);
    return problems;
  }

  const statuses = seen.get(o);
  statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
  const responses = o.op.responses || {};
  const code = String(r.status);
  const key = [code, `${code[0]}XX`, `${code[0]}xx`, "default"].find((k) => k in responses);
  if (!key) {
    problems.push(`status ${r.status} is not documented for ${o.id} (documented: ${Object.keys(responses).join(", ")})`);
    return problems;
  }
  const { obj: resp, pointer } = deref(doc, responses[key], `${o.pointer}/responses/${escapePointer(key)}`);

  // Headers: required ones present; documented ones that are present fit their schema.
  for (const [name, h0] of Object.entries(resp.headers || {})) {
    if (name.toLowerCase() === "content-type") continue; // OpenAPI ignores it here
    const { obj: h } = deref(doc, h0, `${pointer}/headers/${escapePointer(name)}`);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (h.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const hp = h0.$ref ? `${h0.$ref}/schema` : `${pointer}/headers/${escapePointer(name)}/schema`;
      const v = validatorAt(ajv, hp);
      if (!v(headerValue(h.schema, String(value)))) {
        problems.push(`header ${name}: ${JSON.stringify(value)} does not match its schema:\n      ${formatAjvErrors(v.errors)}`);
      }
    }
  }

  const content = resp.content || {};
  const json = content["application/json"];
  if (method === "HEAD" || r.status === 204 || r.status === 304 || Object.keys(content).length === 0) {
    if (hasBody(r)) problems.push(`response ${key} of ${o.id} has no content, but a body came`);
    return problems;
  }
  if (!hasBody(r)) {
    problems.push(`response ${key} of ${o.id} has content (${Object.keys(content).join(", ")}), but no body came`);
    return problems;
  }
  const ct = mediaType(headers["content-type"]);
  if (!(ct in content)) {
    problems.push(`Content-Type ${JSON.stringify(headers["content-type"] ?? null)} is not among ${Object.keys(content).join(", ")}`);
  }
  if (json) {
    if (r.body === null || r.body === undefined) {
      problems.push("the body is not JSON");
    } else if (json.schema) {
      const v = validatorAt(ajv, `${pointer}/content/application~1json/schema`);
      if (!v(r.body)) problems.push(`body does not match the schema of ${o.id} ${key}:\n      ${formatAjvErrors(v.errors)}`);
    }
  }
  return problems;
}

function show(r) {
  let s = JSON.stringify(r);
  if (s.length > 2000) s = s.slice(0, 2000) + `... (${s.length} characters)`;
  return s;
}

lines.forEach((line, i) => {
  if (!line.trim()) return;
  let r;
  try {
    r = JSON.parse(line);
  } catch (e) {
    failures.push({ line: i + 1, problems: [`not JSON: ${e.message}`], text: line.slice(0, 500) });
    return;
  }
  checked++;
  let problems;
  try {
    problems = checkRecord(r);
  } catch (e) {
    problems = [`could not check: ${e.message}`];
  }
  if (problems.length) failures.push({ line: i + 1, record: r, problems });
});

const covered = ops.filter((o) => seen.get(o).size > 0);
console.log(`check-responses: ${recordsFile} against ${specFile}`);
console.log(`operations covered: ${covered.length} of ${ops.length}`);
for (const o of ops) {
  const st = [...seen.get(o).entries()].sort((a, b) => a[0] - b[0]);
  const got = st.length ? st.map(([s, n]) => `${s}x${n}`).join(" ") : "not exercised";
  console.log(`  ${o.id.padEnd(22)} ${o.method.padEnd(6)} ${o.template}: ${got}`);
}
console.log(`records checked: ${checked} (${unmatched} matched no operation${skipped ? `, ${skipped} docs-page records skipped` : ""})`);

for (const f of failures) {
  const r = f.record;
  const head = r && typeof r === "object" ? `${r.method} ${r.path}${r.query ? "?" + r.query : ""} -> ${r.status}` : "";
  console.log(`\nMISMATCH (line ${f.line}) ${head}`);
  for (const p of f.problems) console.log(`    - ${p}`);
  console.log(`    record: ${r ? show(r) : f.text}`);
}
console.log(`\n${checked - failures.filter((f) => f.record).length} records match, ${failures.length} mismatched`);
process.exit(failures.length ? 1 : 0);
