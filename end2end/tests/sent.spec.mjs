// A transaction sent from a page is remembered in the browser: after a reload and on another page
// the header still shows it, with its hash, until it is mined (then how it ended, until dismissed).
import { test, expect } from "../support/fixtures.mjs";
import { pauseMining, resumeMining, rpc } from "../support/unions.mjs";

test("a pending transaction survives a reload and another page, and shows how it ended", async ({ page, wallet }) => {
  await wallet.useAccount(1); // the seller of the demo's weather stations
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
  const banner = page.getByRole("banner");
  await banner.getByRole("button", { name: "Connect wallet" }).click();
  await expect(banner.getByRole("button", { name: "Sign in" })).toBeVisible();
  const [weather] = (await (await page.request.get("/api/v1/products?q=helsinki")).json()).products;
  await page.goto(`/products/${weather.id}`);
  await page.waitForFunction(() => window.__coopHydrated === true);
  const grant = page.getByRole("region", { name: "Grant access" });
  await expect(grant).toBeVisible();

  const sent = page.getByTestId("sent-tx");
  await pauseMining();
  try {
    await grant.getByLabel("Address").fill(wallet.accounts[8]);
    await grant.getByLabel("Days").fill("2");
    await grant.getByRole("button", { name: "Grant access" }).click();
    await expect(grant.getByTestId("grant-progress")).toContainText("Waiting for the network to confirm");
    const hash = (await grant.getByTestId("grant-progress").textContent()).match(/0x[0-9a-f]{64}/)[0];
    await expect(sent).toContainText("Granting access: waiting to be mined.");

    await page.reload();
    await page.waitForFunction(() => window.__coopHydrated === true);
    await expect(sent).toContainText("Granting access: waiting to be mined.");
    await expect(sent).toContainText(hash);
    await banner.getByRole("link", { name: "Purchases" }).click();
    await expect(page.getByRole("heading", { name: "Your purchases" })).toBeVisible();
    await expect(sent).toContainText(hash);

    await rpc("evm_mine", []);
  } finally {
    await resumeMining();
  }
  await expect(sent).toContainText(/Granting access: confirmed in block \d+\./, { timeout: 20_000 });
  await sent.getByRole("button", { name: "Dismiss" }).click();
  await expect(sent).toHaveCount(0);
  await page.reload();
  await page.waitForFunction(() => window.__coopHydrated === true);
  await expect(page.getByTestId("sent-tx")).toHaveCount(0);
});
