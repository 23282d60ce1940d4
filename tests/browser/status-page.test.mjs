// Load clusterd's status page in Debian's headless Chromium and check what
// an operator sees: one row per resource and member with its states, the
// split brain in red with the resolving command, and a device path full
// of markup shown as text (no <img> element, no script run).
// Usage: STATUS_URL=http://127.0.0.1:PORT/ OUT_DIR=DIR node status-page.test.mjs
// Prints TAP; exit status 1 if any check fails.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const url = process.env.STATUS_URL;
const outDir = process.env.OUT_DIR || ".";
const hostile = process.env.HOSTILE || "/dev/<img src=x onerror=alert(1)>";
let n = 0, failed = 0;

function ok(cond, name) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? "" : "not "}ok ${n} - ${name}`);
}

const profile = mkdtempSync(join(tmpdir(), "mars-chromium-"));
// A fresh --user-data-dir per run: playwright passes the profile directory
// of a persistent context as that flag.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  timeout: 30000,
});
try {
  const page = await browser.newPage();
  const dialogs = [];
  const external = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on("request", (r) => { if (!r.url().startsWith(new URL(url).origin)) external.push(r.url()); });
  await page.goto(url, { timeout: 15000 });
  // The first refresh fills the table; wait for it, bounded.
  await page.waitForSelector('#resources tr[data-resource="r0"][data-host="beta"]', { timeout: 15000 });
  const row = (host) => page.locator(`#resources tr[data-resource="r0"][data-host="${host}"]`);
  ok(await page.locator("#resources tbody tr").count() === 2, "one row per resource and member");
  ok(await row("alpha").locator("td.role").textContent() === "Primary", "alpha shown as Primary");
  ok(await row("beta").locator("td.role").textContent() === "Secondary", "beta shown as Secondary");
  ok(/^[A-Za-z\[\]]+$/.test(await row("beta").locator("td.disk").textContent()), "disk state shown");
  ok(await row("beta").locator("td.device").textContent() === hostile, "markup in a device path rendered as text");
  ok(await page.locator("#resources img, #alarms img, #members img").count() === 0, "no element created from the markup");
  await page.waitForSelector('#alarms div[data-resource="r0"]', { timeout: 15000 });
  const alarm = await page.locator('#alarms div[data-resource="r0"]').textContent();
  ok(alarm.includes("SPLIT BRAIN") && alarm.includes("marsadm invalidate r0"), "split brain in red with the resolving command");
  ok(await row("beta").evaluate((tr) => getComputedStyle(tr.cells[0]).color) === "rgb(153, 0, 0)", "split-brain rows are red");
  ok(await page.locator('#members tr[data-host="alpha"]').count() === 1, "members listed");
  await page.waitForSelector("#charts figure svg polyline.lag", { state: "attached", timeout: 15000 });
  ok(await page.locator("#charts figure").count() === 2, "a lag/throughput chart per replica");
  await page.waitForSelector("#events li", { timeout: 15000 });
  ok((await page.locator("#events").textContent()).includes("split-brain"), "events listed");
  ok(dialogs.length === 0, "no script from the tree ran (no dialog)");
  ok(external.length === 0, `nothing fetched from elsewhere ${external.join(" ")}`);
  await page.screenshot({ path: join(outDir, "status-page.png"), fullPage: true });
  ok(true, `screenshot saved to ${join(outDir, "status-page.png")}`);
} catch (e) {
  ok(false, `page checks: ${e.message.split("\n")[0]}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
