// axe-core on every page, on a desktop and on a phone, signed out and signed in: no serious or
// critical violation of WCAG 2.1 A and AA.
import AxeBuilder from "@axe-core/playwright";
import { test, expect } from "../support/fixtures.mjs";
import { everyPage } from "../support/pages.mjs";

async function seriousViolations(page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join(", ")})`);
}

for (const [device, viewport] of [
  ["a desktop", { width: 1280, height: 900 }],
  ["a phone", { width: 390, height: 844 }],
]) {
  test(`every page on ${device} passes axe-core`, async ({ page }) => {
    // Every page in turn, each loaded and hydrated: more than one test's usual minute on a busy machine.
    test.setTimeout(240_000);
    await page.setViewportSize(viewport);
    const found = {};
    for (const path of await everyPage(page)) {
      await page.goto(path);
      await page.waitForFunction(() => window.__coopHydrated === true);
      const violations = await seriousViolations(page);
      if (violations.length > 0) found[path] = violations;
    }
    expect(found).toEqual({});
  });
}

test("the open phone menu and wallet chooser pass axe-core", async ({ page, wallet }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.getByRole("banner").getByLabel("Menu").click();
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole("banner").getByRole("button", { name: "Connect wallet" }).click();
  await expect(page.getByRole("banner").getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
});
