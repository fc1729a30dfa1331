// The product editor: a seller publishes a data product (with a cover, a category and a stream
// described in the draft) and finds it on the marketplace with its price; a Data Union owner deploys
// the union, sets its admin fee, creates a join secret and publishes; a wallet on the wrong chain is
// asked to switch, a refused signature changes nothing, and a wrong field is named and nothing is
// saved; a published product is reopened, given a stream, changed, unpublished and republished.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { dataBalance } from "../support/unions.mjs";

// A 1x1 PNG, as a seller's cover.
const COVER = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhAGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** Opens the editor as anvil account `account`, connected and signed in from the header. */
async function openSignedIn(page, wallet, account) {
  await wallet.useAccount(account);
  await page.goto("/products/new");
  await page.waitForFunction(() => window.__coopHydrated === true);
  const banner = page.getByRole("banner");
  await banner.getByRole("button", { name: "Connect wallet" }).click();
  await banner.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("wallet-blocker")).toHaveCount(0);
  await expect(page.getByLabel("Payments go to", { exact: true })).toHaveValue(new RegExp(wallet.address.slice(2), "i"));
}

async function drafts(page) {
  const response = await page.request.get("/api/v1/drafts");
  expect(response.status()).toBe(200);
  return (await response.json()).drafts;
}

test("a seller publishes a data product and finds it on the marketplace with its price", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await openSignedIn(page, wallet, 1);

  await page.getByLabel("Name", { exact: true }).fill("Tram stop counts");
  await page.getByLabel("Description", { exact: true }).fill("Boardings per stop, every five minutes, for the whole city.");
  await page.getByLabel("Category", { exact: true }).selectOption("transport");
  await page.getByLabel("Price in DATA", { exact: true }).fill("2");
  await page.getByLabel("per", { exact: true }).selectOption("day");
  await page.getByLabel("Terms of use", { exact: true }).selectOption("own");
  await page.getByLabel("Your terms", { exact: true }).fill("City planning only.");
  await page.getByLabel("Contact", { exact: true }).fill("call me");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("#contact-message")).toContainText("has a space in it");
  await page.getByLabel("Contact", { exact: true }).fill("trams@example.org");
  await expect(page.getByTestId("price-per-second")).toContainText("(23148148148148 wei)");
  await page.locator("#cover").setInputFiles({ name: "cover.png", mimeType: "image/png", buffer: COVER });
  await expect(page.getByTestId("cover-preview")).toHaveAttribute("style", /\/api\/v1\/covers\/[0-9a-f]{32}\.png/);
  // The data it sells: a stream, kept in the draft and created with the product. A wrong name is
  // named before anything is sent.
  const streams = page.getByTestId("draft-streams");
  await streams.getByRole("button", { name: "Add a stream" }).click();
  const streamName = streams.getByLabel("Name: lower-case letters, digits and dashes");
  await streamName.fill("Boardings");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("#streams-message")).toContainText("stream 1 (Boardings), name:");
  await streamName.fill("boardings");
  await streams.getByLabel("Description").fill("One message per stop and five minutes.");
  await streams.getByLabel(/^Keep at most \(MB/).fill("50");

  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("tx-progress")).toContainText("Confirmed in block", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Unpublish" })).toBeVisible();
  await expect(page.getByTestId("save-notice")).toContainText("Draft saved");
  await page.screenshot({ path: "docs/screenshots/editor.png", fullPage: true });
  const [saved] = await drafts(page);
  expect(saved.productId).toMatch(/^0x[0-9a-f]{64}$/);
  expect(saved.streams).toEqual([]);
  await expect(page.getByTestId("streams-moved")).toBeVisible();
  await expect(page.getByTestId("draft-streams")).toHaveCount(0);

  // The marketplace lists it (once indexed) with its price, its category and its cover.
  await expect(async () => {
    await page.goto("/?q=tram");
    await expect(page.getByRole("link", { name: "Tram stop counts" })).toContainText("2 DATA", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const card = page.getByRole("link", { name: "Tram stop counts" });
  await expect(card).toContainText("Transport");
  await expect(card.locator("div[style*='/api/v1/covers/']")).toHaveCount(1);
  await page.goto("/?category=transport");
  await expect(page.getByRole("link", { name: "Tram stop counts" })).toBeVisible();
  await page.goto("/?category=health");
  await expect(page.getByRole("link", { name: "Tram stop counts" })).toHaveCount(0);
  await page.goto("/");
  await expect(page.getByRole("link", { name: "Tram stop counts" })).toBeVisible();

  // Its page offers its seller an Edit link, and suggests first the product filed under the same
  // category by another seller.
  await page.getByRole("link", { name: "Tram stop counts" }).click();
  await expect(page.getByRole("heading", { name: "Tram stop counts" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Edit product" })).toHaveAttribute("href", `/products/${saved.productId}/edit`);
  const related = page.getByRole("region", { name: "Related products" });
  await expect(related.getByRole("listitem").first().getByRole("link")).toHaveAccessibleName("Commuter journeys");
  const stream = page.locator('[data-stream="boardings"]');
  await expect(stream).toContainText("One message per stop and five minutes.");
  await expect(stream.getByTestId("stream-retention")).toHaveText("Messages are kept for 30 days, at most 50 MB (the oldest go first).");
  const terms = page.getByRole("region", { name: "Terms of use" });
  await expect(terms.getByTestId("own-terms")).toHaveText("City planning only.");
  await expect(terms.getByRole("link", { name: "trams@example.org" })).toHaveAttribute("href", "mailto:trams@example.org");
  // The owner grants an address a trial: a typo is named, then the grant is recorded on chain as a
  // subscription like a purchase's.
  const trial = wallet.accounts[7];
  const grant = page.getByRole("region", { name: "Grant access" });
  await grant.getByLabel("Address").fill("0x1234");
  await grant.getByRole("button", { name: "Grant access" }).click();
  await expect(grant.getByTestId("grant-problem")).toContainText("Address:");
  await grant.getByLabel("Address").fill(trial);
  await grant.getByLabel("Days").fill("3");
  await grant.getByRole("button", { name: "Grant access" }).click();
  await expect(grant.getByTestId("grant-progress")).toContainText("Confirmed in block", { timeout: 30_000 });
  await expect(async () => {
    const granted = await (await page.request.get(`/api/v1/subscriptions?subscriber=${trial}`)).json();
    const subscription = granted.subscriptions.find((s) => s.productId === saved.productId);
    expect(subscription?.active).toBe(true);
    expect(Number(subscription.endTimestamp) - granted.chainTime).toBeGreaterThan(3 * 86_400 - 120);
  }).toPass({ timeout: 20_000 });

  // The seller's own page lists it beside the seller's other product.
  await page.getByRole("banner").getByRole("link", { name: "Sell" }).click();
  await expect(page.getByRole("heading", { name: "Your products" })).toBeVisible();
  const row = page.locator(`[data-product="${saved.productId}"]`);
  await expect(row.getByRole("link", { name: "Tram stop counts" })).toBeVisible();
  await expect(row.getByRole("link", { name: "Edit" })).toHaveAttribute("href", `/products/${saved.productId}/edit`);
  await expect(page.getByRole("link", { name: "Helsinki weather stations" })).toBeVisible();
  // What the seller's products sold over time, the grant's subscriber included, on a time axis.
  const sales = page.getByRole("region", { name: "Sales over time" });
  await expect(sales.getByRole("img", { name: "Revenue" })).toBeVisible();
  const counts = sales.getByRole("img", { name: "Subscribers and purchases" });
  await expect(counts.locator("desc")).toContainText(/Subscribers: [1-9]\d* now/);
  for (const end of await counts.locator("text[data-axis-end]").allTextContents()) {
    expect(end).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  }

  const stranger = await page.context().browser().newContext({ baseURL: process.env.COOP_APP_URL });
  const anonymous = await stranger.newPage();
  await anonymous.goto(`/products/${saved.productId}`);
  await expect(anonymous.getByRole("heading", { name: "Tram stop counts" })).toBeVisible();
  await expect(anonymous.getByRole("link", { name: "Edit product" })).toHaveCount(0);
  await expect(anonymous.getByRole("region", { name: "Grant access" })).toHaveCount(0);
  await stranger.close();

  const listed = await (await page.request.get(`/api/v1/products/${saved.productId}`)).json();
  expect(listed.pricePerSecond).toBe("23148148148148");
  expect(listed.owner.toLowerCase()).toBe(wallet.address.toLowerCase());
  const metadata = await (await page.request.get(`/api/v1/products/${saved.productId}/metadata`)).json();
  expect(metadata.category).toBe("transport");
  // Its page shows what the seller wrote, without JavaScript too (the page is rendered on the server).
  const html = await (await page.request.get(`/products/${saved.productId}`)).text();
  expect(html).toContain("Boardings per stop, every five minutes, for the whole city.");
  expect(errors).toEqual([]);
});

test("a seller deploys a Data Union with its freeze period, sets its admin fee, creates a join secret and publishes", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await openSignedIn(page, wallet, 2);

  await page.getByRole("radio", { name: /Data Union/ }).check();
  await page.getByLabel("Name", { exact: true }).fill("Cyclists' routes");
  await page.getByLabel("Category", { exact: true }).selectOption("location");
  await page.getByLabel("Price in DATA", { exact: true }).fill("1");
  await page.getByLabel("per", { exact: true }).selectOption("week");
  await page.getByLabel("Admin fee in %", { exact: true }).fill("10");
  const freeze = page.getByLabel("Freeze period in days", { exact: true });
  await freeze.fill("2");

  await page.getByRole("button", { name: "Deploy the Data Union" }).click();
  await expect(page.getByTestId("union-address")).toHaveText(/^0x[0-9a-fA-F]{40}$/, { timeout: 60_000 });
  await expect(page.getByTestId("chain-fee")).toHaveText("Admin fee on chain: 10 %");
  const union = await page.getByTestId("union-address").textContent();
  // The freeze period is the contract's from now on.
  await expect(freeze).toBeDisabled();

  await page.getByLabel("Admin fee in %", { exact: true }).fill("15");
  await page.getByRole("button", { name: "Set admin fee" }).click();
  await expect(page.getByTestId("chain-fee")).toHaveText("Admin fee on chain: 15 %", { timeout: 60_000 });
  const stats = await (await page.request.get(`/api/v1/unions/${union}`)).json();
  expect(stats.adminFeePercent).toBe("15");
  expect(stats.freezePeriod).toBe(2 * 86_400);
  expect(stats.owner.toLowerCase()).toBe(wallet.address.toLowerCase());

  await page.getByLabel("Secret name", { exact: true }).fill("Newsletter invite");
  await page.getByRole("button", { name: "Create secret" }).click();
  await expect(page.getByTestId("secret-value")).toHaveText(/^0x[0-9a-f]{64}$/);
  await expect(page.getByRole("list", { name: "Join secrets" })).toContainText("Newsletter invite");
  const secrets = await (await page.request.get(`/api/v1/unions/${union}/secrets`)).json();
  expect(secrets.secrets.map((s) => s.name)).toEqual(["Newsletter invite"]);
  expect(secrets.secrets[0].secret).toBeUndefined();

  await page.getByRole("button", { name: "Publish" }).click();
  // The admin fee's progress may still be on screen: follow the publication's own.
  const publishing = page.getByTestId("tx-progress").filter({ hasText: "Publishing" });
  await expect(publishing).toContainText("Confirmed in block", { timeout: 30_000 });
  await expect(async () => {
    const found = await (await page.request.get("/api/v1/products?q=cyclists")).json();
    expect(found.products).toHaveLength(1);
    expect(found.products[0].dataUnion).toBe(true);
    expect(found.products[0].beneficiary.toLowerCase()).toBe(union.toLowerCase());
  }).toPass({ timeout: 20_000 });
  expect(errors).toEqual([]);
});

test("a wrong chain is switched, a refused signature changes nothing, a wrong field is named and nothing is saved", async ({ page, wallet }) => {
  await openSignedIn(page, wallet, 1);

  await wallet.useChain("0x1");
  await expect(page.getByTestId("wallet-blocker")).toContainText("Switch to Coop dev chain");
  await expect(page.getByRole("button", { name: "Publish" })).toBeDisabled();
  await page.getByRole("banner").getByRole("button", { name: "Switch to Coop dev chain" }).click();
  await expect(page.getByTestId("wallet-blocker")).toHaveCount(0);

  await page.getByLabel("Name", { exact: true }).fill("Refused product");
  await page.getByLabel("Category", { exact: true }).selectOption("energy");
  await page.getByLabel("Price in DATA", { exact: true }).fill("3");
  wallet.rejectNext("eth_sendTransaction");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("tx-progress")).toContainText("You declined the request in your wallet");
  await expect(page.getByRole("button", { name: "Publish" })).toBeEnabled();
  const refused = await (await page.request.get("/api/v1/products?q=refused&state=all")).json();
  expect(refused.total).toBe(0);
  // Publishing saved the draft first; it stays as it was.
  expect((await drafts(page)).map((d) => [d.name, d.price])).toContainEqual(["Refused product", "3"]);

  const sent = wallet.requests.filter((m) => m === "eth_sendTransaction").length;
  await page.getByLabel("Price in DATA", { exact: true }).fill("1,5");
  await page.getByLabel("Minimum subscription in days", { exact: true }).fill("-3");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.locator("#price-message")).toContainText("not");
  await expect(page.locator("#minimum-message")).toContainText("whole number of days");
  await expect(page.getByLabel("Price in DATA", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("save-notice")).toContainText("nothing was saved");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "nothing was sent" })).toBeVisible();
  expect(wallet.requests.filter((m) => m === "eth_sendTransaction").length).toBe(sent);
  expect((await drafts(page)).map((d) => [d.name, d.price])).toContainEqual(["Refused product", "3"]);

  // Unsaved changes: leaving through a link asks first; declining stays in the editor.
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.dismiss();
  });
  await page.getByRole("banner").getByRole("link", { name: "Marketplace" }).click();
  await expect.poll(() => asked).toContain("unsaved changes");
  await expect(page).toHaveURL(/\/products\/new/);
  await expect(page.getByLabel("Price in DATA", { exact: true })).toHaveValue("1,5");
});

test("a seller reopens a published product, changes its price, unpublishes and republishes it", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await openSignedIn(page, wallet, 1);
  await page.getByLabel("Name", { exact: true }).fill("Parking sensor occupancy");
  await page.getByLabel("Category", { exact: true }).selectOption("transport");
  await page.getByLabel("Price in DATA", { exact: true }).fill("1");
  await page.getByLabel("per", { exact: true }).selectOption("day");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("tx-progress")).toContainText("Confirmed in block", { timeout: 30_000 });
  const id = (await drafts(page)).find((d) => d.name === "Parking sensor occupancy").productId;
  const product = async () => (await page.request.get(`/api/v1/products/${id}`)).json();
  await expect.poll(async () => (await product()).state, { timeout: 20_000 }).toBe("deployed");

  // The edit page, opened afresh, has the product as saved; the wallet reconnects by itself.
  await page.goto(`/products/${id}/edit`);
  await page.waitForFunction(() => window.__coopHydrated === true);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Parking sensor occupancy");
  await expect(page.getByLabel("Price in DATA", { exact: true })).toHaveValue("1");
  await expect(page.getByTestId("wallet-blocker")).toHaveCount(0);
  // Its streams are edited here as on its page.
  const data = page.getByRole("region", { name: "Data" });
  await expect(data).toContainText("The seller has not attached a stream of data yet.");
  const addStream = data.getByRole("form", { name: "Add a stream" });
  await addStream.getByLabel("Name: lower-case letters, digits and dashes").fill("occupancy");
  await addStream.getByRole("button", { name: "Save the stream" }).click();
  await expect(data.locator('[data-stream="occupancy"]')).toBeVisible();

  const step = (label) => page.getByTestId("tx-progress").filter({ hasText: label });
  await page.getByLabel("Price in DATA", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(step("Updating")).toContainText("Confirmed in block", { timeout: 30_000 });
  // 3 DATA a day is 3e18 / 86,400 wei a second, rounded down.
  await expect.poll(async () => (await product()).pricePerSecond, { timeout: 20_000 }).toBe("34722222222222");

  await page.getByRole("button", { name: "Unpublish" }).click();
  await expect(step("Unpublishing")).toContainText("Confirmed in block", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Republish" })).toBeVisible();
  await expect.poll(async () => (await product()).state, { timeout: 20_000 }).toBe("deleted");
  const search = async () => (await (await page.request.get("/api/v1/products?q=parking")).json()).total;
  expect(await search()).toBe(0);

  await page.getByRole("button", { name: "Republish" }).click();
  await expect(step("Republishing")).toContainText("Confirmed in block", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Unpublish" })).toBeVisible();
  await expect.poll(async () => (await product()).state, { timeout: 20_000 }).toBe("deployed");
  expect(await search()).toBe(1);
  // Republished with the terms it was changed to.
  expect((await product()).pricePerSecond).toBe("34722222222222");
  expect(errors).toEqual([]);
});

test("a product opened for editing shows its price as the seller typed it", async ({ page, wallet }) => {
  // The seeded "Commuter journeys" costs 20 DATA a day: 231,481,481,481,481 wei a second on chain,
  // which is 19.9999999999999584 DATA a day when multiplied back.
  await openSignedIn(page, wallet, 2);
  const found = await (await page.request.get("/api/v1/products?q=commuter")).json();
  await page.goto(`/products/${found.products[0].id}/edit`);
  await page.waitForFunction(() => window.__coopHydrated === true);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Commuter journeys");
  await expect(page.getByLabel("Price in DATA", { exact: true })).toHaveValue("20");
  await expect(page.getByText("buyers pay 19.9999999999999584 DATA per day")).toBeVisible();
});

test("a seller publishes a free product and anyone subscribes to it without paying", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await openSignedIn(page, wallet, 1);
  await page.getByLabel("Name", { exact: true }).fill("Open noise levels");
  await page.getByLabel("Category", { exact: true }).selectOption("environment");
  await page.getByLabel("Price in DATA", { exact: true }).fill("0");
  await expect(page.getByTestId("price-per-second")).toContainText("Free: anyone may subscribe without paying");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("tx-progress")).toContainText("Confirmed in block", { timeout: 30_000 });
  // The draft learns its product's id once the listing is mined.
  const published = async () => (await drafts(page)).find((draft) => draft.name === "Open noise levels")?.productId;
  await expect.poll(published, { timeout: 20_000 }).toMatch(/^0x[0-9a-f]{64}$/);
  const saved = { productId: await published() };
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/products/${saved.productId}`)).json()).pricePerSecond, { timeout: 20_000 })
    .toBe("0");

  // The marketplace marks it free; its page offers a subscription for nothing instead of the checkout.
  await expect(async () => {
    await page.goto("/?q=noise");
    await expect(page.getByRole("link", { name: "Open noise levels" }).getByTestId("price-per-day")).toHaveText("Free", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  // Another account, not signed in: a free subscription needs only a wallet.
  const subscriber = wallet.accounts[9];
  await page.context().clearCookies();
  await wallet.useAccount(9);
  const balanceBefore = await dataBalance(subscriber);
  await page.goto(`/products/${saved.productId}`);
  await page.waitForFunction(() => window.__coopHydrated === true);
  await expect(page.getByTestId("free-product")).toContainText("Free: anyone may subscribe without paying.");
  await expect(page.getByRole("region", { name: "Buy a subscription" })).toHaveCount(0);
  const free = page.getByRole("region", { name: "Subscribe for free" });
  const connectFirst = free.getByRole("button", { name: "Connect a wallet to subscribe" });
  if (await connectFirst.isVisible()) await connectFirst.click();
  await expect(free.getByRole("button", { name: "Subscribe for free" })).toBeVisible();
  await free.getByLabel("Days").fill("0");
  await free.getByRole("button", { name: "Subscribe for free" }).click();
  await expect(free.getByTestId("free-problem")).toContainText("Days: enter a whole number of days from 1");
  await free.getByLabel("Days").fill("2");
  await free.getByRole("button", { name: "Subscribe for free" }).click();
  await expect(free.getByTestId("free-progress")).toContainText("Confirmed in block", { timeout: 30_000 });

  // Recorded like a purchase, so access works the same way; not a wei of DATA moved.
  await expect(async () => {
    const found = await (await page.request.get(`/api/v1/subscriptions?subscriber=${subscriber}`)).json();
    const subscription = found.subscriptions.find((s) => s.productId === saved.productId);
    expect(subscription?.active).toBe(true);
    expect(Number(subscription.endTimestamp) - found.chainTime).toBeGreaterThan(2 * 86_400 - 120);
  }).toPass({ timeout: 20_000 });
  expect(await dataBalance(subscriber)).toBe(balanceBefore);
  expect(errors).toEqual([]);
});
