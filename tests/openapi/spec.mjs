// Shared by the OpenAPI checks: loading the document, resolving local $refs, matching a concrete
// request path to the spec's path templates, and an ajv (JSON Schema 2020-12) instance that holds
// the whole document, so a schema anywhere in it compiles with its $refs into components.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SPEC_FILE = path.join(REPO, "src/api/openapi.json");
export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOC_ID = "openapi.json";

export async function loadSpec(file = SPEC_FILE) {
  return JSON.parse(await readFile(file, "utf8"));
}

// The origin of the running stack (tests/run and deploy/local-stack write it to their env file).
export function baseUrl() {
  const u = process.env.AGENTPLATFORM_URL;
  if (!u) throw new Error("AGENTPLATFORM_URL is not set (the stack's origin, e.g. http://127.0.0.1:8080)");
  return u.replace(/\/+$/, "");
}

// fetch with a deadline.
export async function fetchWithTimeout(url, options = {}, ms = 15000) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), ms);
  try {
    return await fetch(url, { ...options, signal: ctl.signal });
  } finally {
    clearTimeout(t);
  }
}

const unescapePointer = (s) => s.replace(/~1/g, "/").replace(/~0/g, "~");
export const escapePointer = (s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1");

// The value at a local JSON pointer ("#/components/schemas/Agent").
export function pointerGet(doc, ref) {
  if (!ref.startsWith("#")) throw new Error(`only local $refs are supported: ${ref}`);
  let v = doc;
  for (const part of ref.slice(1).split("/").slice(1)) {
    if (v === null || typeof v !== "object" || !(unescapePointer(part) in v)) {
      throw new Error(`unresolved $ref ${ref}`);
    }
    v = v[unescapePointer(part)];
  }
  return v;
}

// Follows an object's $ref chain (response, header, parameter objects); returns the object and
// the JSON pointer where it lives.
export function deref(doc, obj, pointer) {
  const seen = new Set();
  while (obj && typeof obj === "object" && typeof obj.$ref === "string") {
    if (seen.has(obj.$ref)) throw new Error(`circular $ref ${obj.$ref}`);
    seen.add(obj.$ref);
    pointer = obj.$ref;
    obj = pointerGet(doc, obj.$ref);
  }
  return { obj, pointer };
}

// Every operation: { method, template, regex, literals, op, pointer }.
export function operations(doc) {
  const ops = [];
  for (const [template, item] of Object.entries(doc.paths || {})) {
    const pathPointer = `#/paths/${escapePointer(template)}`;
    const segs = template.split("/");
    const regex = new RegExp(
      "^" +
        segs
          .map((s) => (/^\{[^/{}]+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
          .join("/") +
        "$",
    );
    const literals = segs.filter((s) => !/^\{.*\}$/.test(s)).length;
    for (const method of METHODS) {
      if (!item[method]) continue;
      ops.push({
        method: method.toUpperCase(),
        template,
        regex,
        literals,
        op: item[method],
        pointer: `${pathPointer}/${method}`,
        id: item[method].operationId || `${method.toUpperCase()} ${template}`,
      });
    }
  }
  return ops;
}

// The operation for METHOD and a concrete PATH (no query), or null. Path parameters match one
// non-empty segment; when several templates match, the one with more literal segments wins
// (OpenAPI: concrete paths before templated ones).
export function findOperation(ops, method, p) {
  let best = null;
  for (const o of ops) {
    if (o.method !== method || !o.regex.test(p)) continue;
    if (!best || o.literals > best.literals) best = o;
  }
  return best;
}

// Ajv for OpenAPI 3.1 schemas: JSON Schema 2020-12 plus OpenAPI's own keywords (example,
// discriminator, xml, externalDocs, x-*), which strict: false lets through as annotations.
export function makeAjv(doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, logger: false });
  addFormats(ajv);
  ajv.addSchema(doc, DOC_ID);
  return ajv;
}

const compiled = new Map();
// A validator for the schema at a JSON pointer of the document ("#/components/schemas/Error").
export function validatorAt(ajv, pointer) {
  let v = compiled.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: DOC_ID + pointer });
    compiled.set(pointer, v);
  }
  return v;
}

export function formatAjvErrors(errors) {
  return (errors || [])
    .map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params && Object.keys(e.params).length ? " " + JSON.stringify(e.params) : ""} [${e.schemaPath}]`)
    .join("\n      ");
}
