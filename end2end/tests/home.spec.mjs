import { test, expect, collectPageErrors } from "../support/fixtures.mjs";

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the home page is rendered on the server", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveTitle(/Coop/);
    await expect(page.getByRole("heading", { name: "Sell your data together." })).toBeVisible();
    await expect(page.getByRole("tab", { name: "Sellers" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByText("Connect a wallet and describe your data product")).toBeVisible();
  });
});

test("the home page hydrates: a click changes the page", async ({ page }) => {
  const errors = collectPageErrors(page);
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.getByRole("tab", { name: "Members" }).click();
  await expect(page.getByRole("tab", { name: "Members" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByText("Withdraw on chain at any time with a Merkle proof")).toBeVisible();
  await expect(page.getByText("Connect a wallet and describe your data product")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("the page is styled by the Tailwind stylesheet", async ({ page }) => {
  await page.goto("/");
  const heading = page.getByRole("heading", { name: "Sell your data together." });
  const weight = await heading.evaluate((element) => getComputedStyle(element).fontWeight);
  expect(Number(weight)).toBeGreaterThanOrEqual(700);
});

test("an unknown address answers 404 with a page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("the injected test wallet announces itself and signs with an anvil key", async ({ page, wallet }) => {
  await page.goto("/");
  const announced = await page.evaluate(
    () =>
      new Promise((resolve) => {
        window.addEventListener("eip6963:announceProvider", (event) => resolve(event.detail.info.name), { once: true });
        window.dispatchEvent(new Event("eip6963:requestProvider"));
      }),
  );
  expect(announced).toBe("Coop Test Wallet");
  wallet.rejectNext("personal_sign");
  const outcome = await page.evaluate(async () => {
    const provider = await new Promise((resolve) => {
      window.addEventListener("eip6963:announceProvider", (event) => resolve(event.detail.provider), { once: true });
      window.dispatchEvent(new Event("eip6963:requestProvider"));
    });
    const [account] = await provider.request({ method: "eth_requestAccounts" });
    const rejected = await provider.request({ method: "personal_sign", params: ["0x68690a", account] }).catch((e) => e.code);
    const signature = await provider.request({ method: "personal_sign", params: ["0x68690a", account] });
    return { account, rejected, signature };
  });
  expect(outcome.account.toLowerCase()).toBe(wallet.address.toLowerCase());
  expect(outcome.rejected).toBe(4001);
  expect(outcome.signature).toMatch(/^0x[0-9a-f]{130}$/);
});

/** The bundle files (`/pkg/…` wasm and JS) the page has fetched since `page` was opened. */
function bundleFiles(page) {
  const files = [];
  page.on("requestfinished", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith("/pkg/") && /\.(wasm|js)$/.test(path)) files.push(path);
  });
  return files;
}

// A page's own code (`app::routes`) and the wallet's actions are chunks of their own, loaded when
// first needed: a first visit to the marketplace downloads neither the product page nor the wallet.
test("a first visit to the home page loads no other page's code, and a product page loads its own", async ({ page }) => {
  const errors = collectPageErrors(page);
  const files = bundleFiles(page);
  await page.goto("/?q=commuter");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.waitForLoadState("networkidle");
  expect(files.some((file) => file.endsWith(".wasm"))).toBe(true);
  expect(files.filter((file) => /split_|chunk_/.test(file))).toEqual([]);

  await page.getByRole("link", { name: /Commuter journeys/ }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: /Commuter journeys/ })).toBeVisible();
  expect(files.some((file) => /product_route/.test(file))).toBe(true);
  expect(files.some((file) => /editor|union_route|earnings_route/.test(file))).toBe(false);
  expect(errors).toEqual([]);
});

test("a first visit loads the wallet's code only when Connect is clicked", async ({ page, wallet }) => {
  const files = bundleFiles(page);
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.waitForLoadState("networkidle");
  expect(files.filter((file) => /connect/.test(file))).toEqual([]);
  await page.getByRole("button", { name: "Connect wallet" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(files.some((file) => /connect/.test(file))).toBe(true);
  expect(wallet.address).toMatch(/^0x/);
});
