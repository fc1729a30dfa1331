// The marketplace: the seeded products as cards with their prices, search and sort as a plain form,
// and product pages, with JavaScript off (server rendering) and on (hydrated navigation).
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the home page lists the products with their price per day and the Data Union's members", async ({ page }) => {
    await page.goto("/");
    const products = page.getByRole("list").filter({ has: page.getByRole("link", { name: "Helsinki weather stations" }) });
    await expect(products.getByRole("link", { name: "Helsinki weather stations" })).toContainText("5 DATA");
    const union = products.getByRole("link", { name: "Commuter journeys" });
    await expect(union).toContainText("Data Union · 3 members");
    await expect(union).toContainText("20 DATA");
    await expect(page.getByRole("tab", { name: "Sellers" })).toBeVisible();
  });

  test("a search is a plain form that narrows the list", async ({ page }) => {
    await page.goto("/");
    await page.getByRole("searchbox", { name: "Search products" }).fill("commuter");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/q=commuter/);
    await expect(page.getByRole("link", { name: "Commuter journeys" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Helsinki weather stations" })).toHaveCount(0);
    await page.goto("/?q=nothing-like-this");
    await expect(page.getByText("No products match")).toBeVisible();
  });

  test("a product page shows the price, the seller and the Data Union's figures", async ({ page }) => {
    await page.goto("/");
    await page.getByRole("link", { name: "Commuter journeys" }).click();
    await expect(page.getByRole("heading", { name: "Commuter journeys" })).toBeVisible();
    await expect(page.getByText("Exactly 0.000231481481481481 DATA per second.")).toBeVisible();
    await expect(page.getByText("Seller")).toBeVisible();
    const union = page.getByRole("region", { name: "Data Union" });
    await expect(union).toContainText("Members3");
    await expect(union).toContainText("Admin fee10 %");
  });

  test("an unknown product is a 404 page", async ({ page }) => {
    const response = await page.goto("/products/0x1234");
    expect(response.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});

test("after hydration, sorting by price lists the cheapest first without errors", async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.getByLabel("Sort by").selectOption("price");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/sort=price/);
  const names = page.locator("ul li h3");
  await expect(names.first()).toHaveText("Helsinki weather stations");
  await expect(names.nth(1)).toHaveText("Commuter journeys");
  expect(errors).toEqual([]);
});

test("screenshots of the home page and a product page", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.screenshot({ path: "docs/screenshots/home.png", fullPage: true });
  await page.getByRole("link", { name: "Commuter journeys" }).click();
  await expect(page.getByRole("heading", { name: "Commuter journeys" })).toBeVisible();
  await page.screenshot({ path: "docs/screenshots/product.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/");
  // A capture while the page is still loading can fail in Chromium under load: wait for it to settle.
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.screenshot({ path: "docs/screenshots/home-phone.png", fullPage: true });
});
