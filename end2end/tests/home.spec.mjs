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
