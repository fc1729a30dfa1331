// A product's data on its page: the demo streams `coop dev` seeds (12 signed messages on each demo
// product, a preview of 3). Anyone reads the preview; the buyer of the demo Data Union product
// (anvil account 6), signed in, reads everything; every signature checks out in the browser. Then a
// member authorises an app key and `coop publish` publishes with it; a new buyer sees the preview,
// buys in the browser, and reads live and downloads at once. The tests run in order.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { api, connect, open, signIn } from "../support/unions.mjs";

const BUYER = 6;
/// anvil's well-known key of account 2, the demo union's owner.
const OWNER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

async function productId() {
  const { body } = await api("/api/v1/products?q=Commuter");
  return body.products[0].id;
}

/** `coop publish` of one line to the demo union's stream, signed with `key`, for `publisher`. */
function coopPublish(product, line, key, publisher) {
  const args = ["publish", "--server", process.env.COOP_APP_URL, "--product", product, "--stream", "journeys"];
  return spawnSync(
    process.env.COOP_BIN ?? join(process.env.CARGO_TARGET_DIR ?? "/var/tmp/coop-target", "debug", "coop"),
    publisher ? [...args, "--publisher", publisher] : args,
    { input: `${line}\n`, env: { ...process.env, COOP_PUBLISH_KEY: key }, encoding: "utf8" },
  );
}

test.describe.configure({ mode: "serial" });

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("anyone sees a product's streams and the seller's preview, each message signed", async ({ page }) => {
    // Found by a search: products other tests list may push it past the home page's first page.
    await page.goto("/?q=commuter");
    await page.getByRole("link", { name: "Commuter journeys" }).click();
    const stream = page.locator('article[data-stream="journeys"]');
    await expect(stream.getByRole("heading", { name: "journeys" })).toBeVisible();
    await expect(stream.getByTestId("stream-access")).toHaveText(
      "A preview of the newest 3 of 12 messages; subscribe to read them all.",
    );
    const rows = stream.locator("tbody tr");
    await expect(rows).toHaveCount(3);
    await expect(rows.first()).toContainText("11");
    for (const row of await rows.all()) await expect(row).toContainText("✓ the publisher's");
    await expect(stream.getByRole("link", { name: "Download CSV" })).toHaveCount(0);
  });
});

test("a subscriber who signs in reads all the messages, checked in the browser", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await wallet.useAccount(BUYER);
  await page.goto("/?q=commuter");
  await open(page, new URL(await page.getByRole("link", { name: "Commuter journeys" }).getAttribute("href"), page.url()).pathname);
  const stream = page.locator('article[data-stream="journeys"]');
  await expect(stream.getByTestId("stream-access")).toContainText("A preview");
  await connect(page);
  await signIn(page);
  await expect(stream.getByTestId("stream-access")).toHaveText("You may read all 12 messages: the newest are below.");
  const rows = stream.locator("tbody tr");
  await expect(rows).toHaveCount(10);
  for (const row of await rows.all()) await expect(row).toContainText("✓ the publisher's");
  const csv = await page.request.get(await stream.getByRole("link", { name: "Download CSV" }).getAttribute("href"));
  expect(csv.ok()).toBe(true);
  const lines = (await csv.text()).trim().split("\n");
  expect(lines[0]).toBe("offset,receivedAt,publisher,sequence,timestamp,signer,signature,content");
  expect(lines).toHaveLength(13);

  // The owner publishes (anvil's well-known key of account 2): the row arrives without a reload.
  const published = coopPublish(await productId(), '{"mode":"ferry","minutes":20,"km":4}', OWNER_KEY);
  expect(published.stderr).toContain("published 1 messages");
  await expect(rows.first()).toContainText('"mode":"ferry"');
  await expect(rows.first()).toContainText("12");
  await expect(rows).toHaveCount(10);
  expect(errors).toEqual([]);
});

test("the seller adds a stream on its product's page, a wrong name is named, and it removes the stream", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await wallet.useAccount(1);
  const { body } = await api("/api/v1/products?q=Helsinki");
  await open(page, `/products/${body.products[0].id}`);
  await connect(page);
  await signIn(page);
  const form = page.getByRole("form", { name: "Add a stream" });
  await form.getByLabel(/^Name/).fill("Wind Gusts");
  await form.getByRole("button", { name: "Save the stream" }).click();
  await expect(form.getByRole("alert")).toContainText("name");
  await form.getByLabel(/^Name/).fill("wind-gusts");
  await form.getByLabel("Description").fill("Gusts over 10 m/s");
  await form.getByRole("button", { name: "Save the stream" }).click();
  const card = page.locator('article[data-stream="wind-gusts"]');
  await expect(card).toContainText("Gusts over 10 m/s");
  await expect(card.getByTestId("stream-access")).toContainText("You may read all");
  await card.getByRole("button", { name: "Remove this stream" }).click();
  await expect(card).toHaveCount(0);
  await expect(page.locator('article[data-stream="readings"]')).toBeVisible();
  // The refused name is a 400 the browser logs; the page said why above.
  expect(errors.filter((error) => !error.includes("status of 400"))).toEqual([]);
});

test("a member authorises an app key, `coop publish` feeds the union's stream with it, and a revocation stops it", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  const MEMBER = 3;
  // anvil's well-known key of account 7: here, the member's app's key.
  const APP_KEY = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356";
  const appKey = wallet.accounts[7];
  const member = wallet.accounts[MEMBER];
  await wallet.useAccount(MEMBER);
  await open(page, "/earnings");
  await connect(page);
  await signIn(page);
  const keys = page.getByRole("region", { name: "App keys" }).first();
  await keys.getByLabel("The app's key (its address)").fill(appKey);
  await keys.getByRole("button", { name: "Authorise this app key" }).click();
  const row = keys.locator(`li[data-app-key="${appKey}" i]`);
  await expect(row).toContainText("until");

  const product = await productId();
  const publish = (line) => coopPublish(product, line, APP_KEY, member);
  const published = publish('{"mode":"walk","minutes":5,"km":1}');
  expect(published.stderr).toContain("published 1 messages");
  expect(published.status).toBe(0);
  const { body: read } = await api(`/api/v1/products/${product}/streams/journeys/messages?limit=1&from=0`);
  const { body: newest } = await api(`/api/v1/products/${product}/streams/journeys/messages`);
  expect(read.access).toBe("preview");
  const last = newest.messages[newest.messages.length - 1];
  expect(last.content).toBe('{"mode":"walk","minutes":5,"km":1}');
  expect(last.signer.toLowerCase()).toBe(appKey.toLowerCase());
  expect(last.publisher.toLowerCase()).toBe(member.toLowerCase());

  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(row).toContainText("revoked");
  const refused = publish('{"mode":"walk","minutes":6,"km":1}');
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toContain("app_key_not_granted");
  expect(errors).toEqual([]);
});

test("a buyer sees only the preview, buys, then reads every message live and downloads them", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  const NEW_BUYER = 9;
  await wallet.useAccount(NEW_BUYER);
  const product = await productId();
  await open(page, `/products/${product}`);
  await connect(page);
  await signIn(page);
  const stream = page.locator('article[data-stream="journeys"]');
  await expect(stream.getByTestId("stream-access")).toContainText("A preview of the newest 3");
  await expect(stream.getByRole("link", { name: "Download CSV" })).toHaveCount(0);

  await page.getByLabel("Number of periods").fill("1");
  await page.getByLabel("Period unit").selectOption("day");
  await page.getByRole("radio", { name: "DATA" }).check();
  await page.getByRole("button", { name: "Buy with DATA" }).click();
  await expect(page.getByTestId("checkout-done")).toBeVisible({ timeout: 30_000 });
  // Without a reload: the page asks again once the purchase is read.
  await expect(stream.getByTestId("stream-access")).toContainText("You may read all");
  const rows = stream.locator("tbody tr");
  await expect(rows).toHaveCount(10);

  const published = coopPublish(product, '{"mode":"bike","minutes":12,"km":3}', OWNER_KEY);
  expect(published.stderr).toContain("published 1 messages");
  await expect(rows.first()).toContainText('"mode":"bike"');
  const csv = await page.request.get(await stream.getByRole("link", { name: "Download CSV" }).getAttribute("href"));
  expect(csv.ok()).toBe(true);
  const lines = (await csv.text()).trim().split("\n");
  expect(lines[0]).toBe("offset,receivedAt,publisher,sequence,timestamp,signer,signature,content");
  expect(lines[lines.length - 1]).toContain('""mode"":""bike""');
  expect(errors).toEqual([]);
});
