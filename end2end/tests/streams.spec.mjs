// A product's data on its page: the demo streams `coop dev` seeds (12 signed messages on each demo
// product, a preview of 3). Anyone reads the preview; the buyer of the demo Data Union product
// (anvil account 6), signed in, reads everything; every signature checks out in the browser.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { connect, open, signIn } from "../support/unions.mjs";

const BUYER = 6;

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("anyone sees a product's streams and the seller's preview, each message signed", async ({ page }) => {
    await page.goto("/");
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
  await page.goto("/");
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
  expect(errors).toEqual([]);
});
