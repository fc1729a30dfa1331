// Phones: every page fits a 360-414 px screen without scrolling sideways and has no control (button,
// field, menu) under 44 px; the header folds its links into a menu with touch targets of at least
// 44 px; and a mistyped address in a link is named as such instead of being taken for "no wallet".
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { everyPage } from "../support/pages.mjs";

const WIDTHS = [360, 390, 414];

async function sidewaysOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The controls a thumb presses (buttons, fields, menus) that are less than 44 px tall, named. */
async function smallTargets(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("button, select, textarea, summary, input:not([type=checkbox]):not([type=radio]):not([type=hidden]), a[role=button]")]
      // A visually hidden file input is pressed through its label.
      .filter((element) => element.checkVisibility() && !element.classList.contains("sr-only"))
      .filter((element) => element.getBoundingClientRect().height < 44)
      .map((element) => `${element.tagName.toLowerCase()} "${(element.textContent || element.getAttribute("aria-label") || element.name || "").trim().slice(0, 30)}" (${Math.round(element.getBoundingClientRect().height)} px)`),
  );
}

/** The elements that reach past the right edge, to name in a failure. */
async function overflowing(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}.${[...element.classList].join(".")} (${Math.round(element.getBoundingClientRect().right)} px)`),
  );
}

for (const width of WIDTHS) {
  test(`at ${width} px no page scrolls sideways`, async ({ page }) => {
    // Every page in turn, each loaded and hydrated: more than one test's usual minute on a busy machine.
    test.setTimeout(240_000);
    await page.setViewportSize({ width, height: 800 });
    const small = {};
    for (const path of await everyPage(page)) {
      await page.goto(path);
      await page.waitForFunction(() => window.__coopHydrated === true);
      const past = await sidewaysOverflow(page);
      expect(past, `${path} at ${width} px: ${(await overflowing(page)).join(", ")}`).toBeLessThanOrEqual(0);
      const found = await smallTargets(page);
      if (found.length > 0) small[path] = found;
    }
    expect(small, `controls under 44 px at ${width} px, by page`).toEqual({});
  });
}

test("on a phone the header's links are in a menu, and every target is at least 44 px", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  const header = page.getByRole("banner");
  await expect(header.getByRole("link", { name: "Earnings" })).toBeHidden();

  const targets = header.locator("a:visible, button:visible, summary:visible");
  expect(await targets.count()).toBeGreaterThanOrEqual(3);
  for (const box of await targets.evaluateAll((all) => all.map((e) => e.getBoundingClientRect().toJSON()))) {
    expect(box.height).toBeGreaterThanOrEqual(44);
    expect(box.right).toBeLessThanOrEqual(375);
  }

  await header.getByLabel("Menu").click();
  const earnings = header.getByRole("link", { name: "Earnings" });
  await expect(earnings).toBeVisible();
  expect((await earnings.boundingBox()).height).toBeGreaterThanOrEqual(44);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  await earnings.click();
  await expect(page).toHaveURL(/\/earnings$/);
  await expect(page.getByRole("heading", { name: "Your earnings" })).toBeVisible();
  // Following a link closes the menu.
  await expect(earnings).toBeHidden();

  // Connecting keeps the header on the screen.
  await header.getByRole("button", { name: "Connect wallet" }).click();
  await expect(header.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the phone menu opens without JavaScript", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto("/");
    const header = page.getByRole("banner");
    await header.getByLabel("Menu").click();
    await header.getByRole("link", { name: "Purchases" }).click();
    await expect(page.getByRole("heading", { name: "Your purchases" })).toBeVisible();
  });

  test("a link with a mistyped address says the address is not valid", async ({ page }) => {
    const valid = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const mistyped = valid.slice(0, -1) + "D";
    await page.goto(`/earnings?address=${mistyped}`);
    await expect(page.getByTestId("address-problem")).toContainText(`address ${mistyped} has mixed case but a wrong EIP-55 checksum`);
    await expect(page.getByText("Connect your wallet")).toHaveCount(0);
    await page.goto(`/earnings?address=${valid}`);
    await expect(page.getByText("This address has not joined any Data Union yet.")).toBeVisible();
  });
});

test("the purchases page names a link's address that is not one", async ({ page }) => {
  await page.goto("/purchases?address=0x1234");
  await expect(page.getByTestId("address-problem")).toContainText('"0x1234" is not an address');
  await expect(page.getByText("Connect your wallet")).toHaveCount(0);
});
