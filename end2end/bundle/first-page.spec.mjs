// What a first visit downloads, page by page: the wasm and JS files under `/pkg/` that each page
// fetched until it was hydrated and the network was quiet, and their size after `gzip -9` (as the
// server sends them, precompressed). Run against a release site by `scripts/bundle.sh`; the figures
// are meaningless for a development build.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { test, expect } from "../support/fixtures.mjs";
import { everyPage } from "../support/pages.mjs";

/** The most wasm, gzip -9, that the marketplace home page may take on a first visit. */
const HOME_WASM_BUDGET = 400_000;

const site = process.env.LEPTOS_SITE_ROOT ?? join(process.cwd(), "target", "site");
const gzipped = (path) => gzipSync(readFileSync(join(site, path)), { level: 9 }).length;

async function firstVisit(browser, path) {
  const context = await browser.newContext({ baseURL: process.env.COOP_APP_URL });
  const page = await context.newPage();
  const files = [];
  page.on("requestfinished", (request) => {
    const file = new URL(request.url()).pathname;
    if (file.startsWith("/pkg/") && /\.(wasm|js)$/.test(file)) files.push(file);
  });
  await page.goto(path);
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.waitForLoadState("networkidle");
  await context.close();
  const size = (pattern) => files.filter((file) => pattern.test(file)).reduce((sum, file) => sum + gzipped(file), 0);
  return { files: files.length, wasm: size(/\.wasm$/), js: size(/\.js$/) };
}

test("a first visit to each page downloads little, and the home page stays within its budget", async ({ browser, page }) => {
  test.setTimeout(180_000);
  const [home, , product, union, join, earnings, purchases, sell, editor] = await everyPage(page);
  const pages = { home, product, union, join, earnings, purchases, sell, editor };
  const rows = [];
  for (const [name, path] of Object.entries(pages)) rows.push({ name, path, ...(await firstVisit(browser, path)) });
  console.log(
    "\nfirst visit: files under /pkg/, gzip -9 bytes\n" +
      rows.map((r) => `${r.name} (${r.path})\t${r.files} files\twasm ${r.wasm}\tjs ${r.js}`).join("\n"),
  );
  expect(rows[0].wasm).toBeGreaterThan(0);
  expect(rows[0].wasm).toBeLessThan(HOME_WASM_BUDGET);
});
