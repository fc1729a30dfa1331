// The whole Data Union journey in one test, in the browser with the test wallet on anvil: a seller
// deploys a Data Union product in the editor; two members join with a secret link and one by a request
// the owner approves; a buyer pays with DAI; the operator commits; the members' earnings pages show
// the frozen amount, then after the freeze the withdrawable amount; a member withdraws and its DATA
// balance grows by exactly the amount shown; the owner removes a member, who still withdraws what it
// earned.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { api, connect, dataBalance, figure, open, passTime, person, signIn } from "../support/unions.mjs";

const SELLER = 1;
const BY_LINK = [3, 4];
const BY_REQUEST = 5;
const BUYER = 6;
// The editor deploys unions with a day's freeze.
const FREEZE = 86_400;

// A 1x1 PNG: with a cover the product has no drawn gradient.
const COVER = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhAGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

async function deployUnionProduct(page, name) {
  await open(page, "/products/new");
  await connect(page);
  await signIn(page);
  await page.getByRole("radio", { name: /Data Union/ }).check();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Description", { exact: true }).fill("Where members ride, minute by minute.");
  await page.getByLabel("Category", { exact: true }).selectOption("location");
  await page.getByLabel("Price in DATA", { exact: true }).fill("7");
  await page.getByLabel("per", { exact: true }).selectOption("day");
  await page.getByLabel("Admin fee in %", { exact: true }).fill("10");
  await page.locator("#cover").setInputFiles({ name: "cover.png", mimeType: "image/png", buffer: COVER });
  await page.getByRole("button", { name: "Deploy the Data Union" }).click();
  await expect(page.getByTestId("union-address")).toHaveText(/^0x[0-9a-fA-F]{40}$/, { timeout: 60_000 });
  const union = await page.getByTestId("union-address").textContent();
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("tx-progress").filter({ hasText: "Publishing" })).toContainText("Confirmed in block", {
    timeout: 30_000,
  });
  // The marketplace lists it once the server has indexed it.
  let product;
  await expect
    .poll(
      async () => {
        const found = (await api(`/api/v1/products?q=${encodeURIComponent(name)}`)).body.products;
        product = found[0]?.id;
        return found.map((p) => p.beneficiary.toLowerCase());
      },
      { timeout: 20_000 },
    )
    .toEqual([union.toLowerCase()]);
  return { union, product };
}

async function joinWithLink(joiner, link) {
  await open(joiner.page, link);
  await connect(joiner.page);
  await joiner.page.getByRole("button", { name: "Join with this link" }).click();
  await expect(joiner.page.locator("[data-join-status]")).toHaveAttribute("data-join-status", /approved|sent|joined/);
}

async function earningsCard(member, union) {
  await open(member.page, "/earnings");
  await connect(member.page);
  const card = member.page.locator(`article[data-union="${union}" i]`);
  await expect(card).toBeVisible();
  return card;
}

/** Withdraws everything withdrawable on `card` and checks the DATA balance grew by the amount shown. */
async function withdrawExactly(member, card) {
  const shown = await figure(card, "Withdrawable");
  expect(shown).toBeGreaterThan(0n);
  const before = await dataBalance(member.wallet.address);
  await card.getByRole("button", { name: /^Withdraw / }).click();
  await expect(card.getByRole("status")).toContainText("Confirmed in block", { timeout: 30_000 });
  expect((await dataBalance(member.wallet.address)) - before).toBe(shown);
  await expect.poll(() => figure(card, "Withdrawn"), { timeout: 30_000 }).toBe(shown);
  return shown;
}

test("a Data Union from deployment to members' withdrawals, through every page", async ({ page, wallet, browser }) => {
  test.setTimeout(300_000);
  const errors = collectPageErrors(page);

  // The seller deploys a Data Union product in the editor.
  await wallet.useAccount(SELLER);
  const name = `Bike commutes ${Date.now()}`;
  const { union, product } = await deployUnionProduct(page, name);

  // On its dashboard the owner makes a secret link.
  await open(page, `/unions/${union}`);
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Join requests" })).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill("Riders' club");
  await page.getByRole("button", { name: "Create secret" }).click();
  const link = await page.locator('[data-secret="link"]').getAttribute("href");

  // Two members join with the link; a third asks, and the owner approves.
  const [first, second] = [await person(browser, BY_LINK[0]), await person(browser, BY_LINK[1])];
  await joinWithLink(first, link);
  await joinWithLink(second, link);
  const third = await person(browser, BY_REQUEST);
  await open(third.page, `/join/${union}`);
  await connect(third.page);
  await third.page.getByRole("button", { name: "Ask to join" }).click();
  await expect(third.page.getByText("Waiting for approval")).toBeVisible();
  await page.reload();
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.getByRole("button", { name: new RegExp(`^Approve ${third.wallet.address}$`, "i") }).click();
  for (const member of [first, second, third]) {
    await expect(member.page.getByText("You are a member")).toBeVisible({ timeout: 45_000 });
  }
  await expect(page.locator('[data-tile="Active members"]')).toHaveText("3", { timeout: 20_000 });

  // A buyer pays with DAI at checkout.
  const buyer = await person(browser, BUYER);
  await open(buyer.page, `/products/${product}`);
  await expect(buyer.page.getByRole("link", { name: /Its dashboard/ })).toHaveAttribute("href", new RegExp(`/unions/${union}$`, "i"));
  await buyer.page.getByRole("banner").getByRole("button", { name: "Connect wallet" }).click();
  await buyer.page.getByLabel("Number of periods").fill("2");
  await buyer.page.getByLabel("Period unit").selectOption("day");
  await buyer.page.getByRole("radio", { name: "DAI" }).check();
  await expect(buyer.page.getByTestId("quote-maximum")).toBeVisible();
  await buyer.page.getByRole("button", { name: "Buy with DAI" }).click();
  await expect(buyer.page.getByTestId("checkout-done")).toBeVisible({ timeout: 60_000 });
  const revenue = (await api(`/api/v1/unions/${union}`)).body.totalRevenue;
  expect(BigInt(revenue)).toBe((7n * 10n ** 18n / 86_400n) * 2n * 86_400n);

  // The operator commits; the members' pages show the amount frozen, and when it unfreezes.
  const card = await earningsCard(first, union);
  await expect.poll(() => figure(card, "Frozen"), { timeout: 60_000 }).toBeGreaterThan(0n);
  const frozen = await figure(card, "Frozen");
  expect(await figure(card, "Committed")).toBe(frozen);
  expect(await figure(card, "Withdrawable")).toBe(0n);
  await expect(card.getByText(/unfreezes in (23 h|1 day)/)).toBeVisible();
  expect((await api(`/api/v1/unions/${union}`)).body.latestCommit).not.toBeNull();

  // After the freeze it is withdrawable, and withdrawing pays exactly that.
  await passTime(FREEZE + 60);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBe(frozen);
  await expect(card.locator('[data-figure="Frozen"]')).toHaveText("0 DATA");
  expect(await withdrawExactly(first, card)).toBe(frozen);

  // The owner removes the second member, who keeps and withdraws what it earned.
  await page.reload();
  await page.waitForFunction(() => window.__coopHydrated === true);
  await page.getByRole("button", { name: new RegExp(`^Remove ${second.wallet.address}$`, "i") }).click();
  await expect(page.getByText("Removal queued")).toBeVisible();
  await expect(page.locator(`tr[data-member="${second.wallet.address}" i]`)).toContainText("parted", { timeout: 45_000 });
  await expect(page.locator('[data-tile="Active members"]')).toHaveText("2");
  const removedCard = await earningsCard(second, union);
  await expect(removedCard).toContainText("parted: you keep what you earned");
  await expect.poll(() => figure(removedCard, "Withdrawable"), { timeout: 30_000 }).toBe(frozen);
  expect(await withdrawExactly(second, removedCard)).toBe(frozen);

  for (const someone of [first, second, third, buyer]) expect(someone.errors).toEqual([]);
  expect(errors).toEqual([]);
});
