#!/usr/bin/env node
// tests/openapi/browser.mjs: the docs page works in a real browser.
//
// Headless Chromium (Debian's chromium package, /usr/bin/chromium or $AP_CHROMIUM) driven by
// playwright-core, with a fresh temporary profile: opens $AGENTPLATFORM_URL/api/v1/docs, checks
// that every operation of the served OpenAPI document is listed, authorizes with
// $AGENTPLATFORM_API_KEY ("Authorize", bearerAuth), expands GET /api/v1/agents, "Try it out",
// "Execute", and reads status 200 from the live response on the page. Along the way: no request
// may leave the page's origin (the page works offline), no script error and no Content-Security-
// Policy violation may happen, the key must be sent as a bearer token and kept for the next
// visit (persistAuthorization). Saves a screenshot to $AP_TEST_OUTPUT/docs.png (on failure also
// docs-failure.png). Every wait is bounded; exit status 1 on any failure.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { baseUrl, fetchWithTimeout } from "./spec.mjs";

const STEP_MS = 30000;
const TOTAL_MS = 180000;
const executablePath = process.env.AP_CHROMIUM || "/usr/bin/chromium";
const outDir = path.resolve(process.env.AP_TEST_OUTPUT || ".");
const problems = [];
const note = (m) => console.log(`browser: ${m}`);

let origin, key;
try {
  origin = baseUrl();
  key = process.env.AGENTPLATFORM_API_KEY;
  if (!key) throw new Error("AGENTPLATFORM_API_KEY is not set (an API key with agents:read)");
} catch (e) {
  console.error(`browser: ${e.message}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

// The whole run is bounded, whatever hangs.
const watchdog = setTimeout(() => {
  console.error(`browser: FAIL: no result after ${TOTAL_MS / 1000}s`);
  process.exit(1);
}, TOTAL_MS);

const profile = mkdtempSync(path.join(tmpdir(), "ap-chromium-"));
let context;
let page;
try {
  const spec = await (await fetchWithTimeout(`${origin}/api/v1/openapi.json`)).json();

  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
    viewport: { width: 1280, height: 900 },
    timeout: STEP_MS,
  });
  context.setDefaultTimeout(STEP_MS);
  page = context.pages()[0] || (await context.newPage());

  // Offline: every request stays on this origin.
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (!["data:", "blob:"].includes(u.protocol) && u.origin !== origin) problems.push(`request left the origin: ${req.method()} ${req.url()}`);
  });
  page.on("requestfailed", (req) => {
    const u = new URL(req.url());
    if (u.origin === origin) problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400 && new URL(res.url()).origin === origin && !res.url().includes("/api/v1/agents")) {
      problems.push(`${res.status()} for ${res.url()}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || /Content.Security.Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });

  const res = await page.goto(`${origin}/api/v1/docs`, { waitUntil: "load" });
  if (!res || res.status() !== 200) throw new Error(`GET /api/v1/docs: status ${res?.status()}`);
  note(`page loaded: ${await page.title()}`);

  // Every operation of the document is listed (Swagger UI: #operations-<tag>-<operationId>).
  await page.locator("#operations-Agents-listAgents").waitFor({ state: "visible" });
  await page.locator("#operations-Agents-createAgent").waitFor({ state: "visible" });
  const missing = [];
  let count = 0;
  for (const item of Object.values(spec.paths)) {
    for (const op of Object.values(item)) {
      if (!op || !op.operationId) continue;
      count++;
      // Swagger UI writes a tag into the id with white space as "_" (escapeDeepLinkPath).
      const tag = ((op.tags && op.tags[0]) || "default").replace(/\s/g, "_");
      if ((await page.locator(`#operations-${tag}-${op.operationId}`).count()) !== 1) missing.push(op.operationId);
    }
  }
  if (missing.length) throw new Error(`operations not listed on the page: ${missing.join(", ")}`);
  note(`all ${count} operations are listed`);

  // Authorize with the API key (the bearerAuth scheme).
  await page.locator(".scheme-container button.authorize").click();
  const modal = page.locator(".dialog-ux .modal-ux");
  await modal.waitFor({ state: "visible" });
  const input = modal.locator(".auth-container input").first();
  await input.fill(key);
  await modal.locator(".auth-btn-wrapper button.authorize").click();
  await modal.locator(".auth-btn-wrapper button", { hasText: "Logout" }).waitFor({ state: "visible" });
  await modal.locator(".auth-btn-wrapper button.btn-done").click();
  await modal.waitFor({ state: "hidden" });
  note("authorized with the API key");

  // GET /api/v1/agents: expand, Try it out, Execute.
  const block = page.locator("#operations-Agents-listAgents");
  await block.locator(".opblock-summary-control").click();
  const tryOut = block.locator("button.try-out__btn");
  await tryOut.waitFor({ state: "visible" });
  if ((await tryOut.innerText()).trim().toLowerCase() === "try it out") await tryOut.click();
  const sent = page.waitForRequest((r) => r.url().startsWith(`${origin}/api/v1/agents`) && r.method() === "GET");
  await block.locator("button.execute").click();
  const req = await sent;
  const auth = (await req.allHeaders()).authorization;
  if (auth !== `Bearer ${key}`) problems.push(`the request carried Authorization ${JSON.stringify(auth && auth.replace(key, "<key>"))}, not the bearer key`);
  const status = block.locator(".live-responses-table tbody tr.response .response-col_status").first();
  await status.waitFor({ state: "visible" });
  const code = (await status.innerText()).trim();
  const body = await block.locator(".live-responses-table tbody tr.response .response-col_description pre").first().innerText();
  note(`Execute: the page shows status ${code} from ${req.url()}`);
  if (!/^200\b/.test(code)) throw new Error(`GET /api/v1/agents from the page: status ${code}: ${body.slice(0, 300)}`);
  if (!body.includes('"data"')) problems.push(`the response body shown is not a list: ${body.slice(0, 300)}`);
  if (!page.url().includes("#/Agents/listAgents")) problems.push(`deep link: the address is ${page.url()}, expected #/Agents/listAgents`);

  // The top of the page: title, the authorized lock, GET /api/v1/agents and its live response.
  const shot = path.join(outDir, "docs.png");
  await page.setViewportSize({ width: 1280, height: 2000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: shot });
  note(`screenshot: ${shot}`);

  // persistAuthorization: the key is still there on the next visit.
  await page.reload({ waitUntil: "load" });
  await page.locator("#operations-Agents-listAgents").waitFor({ state: "visible" });
  const kept = await page.evaluate(() => localStorage.getItem("authorized"));
  if (!kept || !kept.includes("bearerAuth")) problems.push("the authorization was not kept after a reload (persistAuthorization)");
} catch (e) {
  problems.push(e.message.split("\n")[0]);
  if (page) {
    const shot = path.join(outDir, "docs-failure.png");
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    note(`screenshot of the failure: ${shot}`);
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}

for (const p of problems) console.log(`browser: FAIL: ${p}`);
console.log(problems.length ? `browser: ${problems.length} problem(s)` : "browser: the docs page works");
process.exit(problems.length ? 1 : 0);
