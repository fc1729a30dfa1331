// The Data Union dashboards on the demo union `coop dev` seeds (owner: anvil account 2; members 3, 4
// and 5; a purchase): the owner's figures, charts, members and tools; a member's earnings and an exact
// withdrawal; joining with a secret link and by a request the owner approves or rejects; what the owner
// is told while the union lacks this server's join-part agent. The tests run in order on one chain.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";
import { api, connect, dataBalance, figure, open, passTime, person, rpc, signIn, unionOf, weiOf } from "../support/unions.mjs";

const OWNER = 2;
const MEMBER = 3;
const BY_SECRET = 7;
const BY_REQUEST = 0;
const REFUSED = 1;

test.describe.configure({ mode: "serial" });

/** The demo union: the one anvil account 2 owns. */
async function demoUnion(wallet) {
  return unionOf(wallet.accounts[OWNER]);
}

async function signedInOwner(page, wallet, union) {
  await wallet.useAccount(OWNER);
  await open(page, `/unions/${union}`);
  await connect(page);
  await signIn(page);
  await expect(page.getByRole("heading", { name: "Join requests" })).toBeVisible();
}

/** Anvil account `account`, in a browser of its own, asks to join `union` without a secret. */
async function askToJoin(browser, account, union) {
  const asker = await person(browser, account);
  await open(asker.page, `/join/${union}`);
  await connect(asker.page);
  await asker.page.getByRole("button", { name: "Ask to join" }).click();
  await expect(asker.page.getByText("Waiting for approval")).toBeVisible();
  return asker;
}

/** A chain time as the pages write it: `2026-12-07 15:04 UTC`. */
function utc(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

test("the owner's dashboard shows the figures, the charts and the members, also without JavaScript", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  const union = await demoUnion(wallet);
  await signedInOwner(page, wallet, union);

  await expect(page.locator('[data-tile="Active members"]')).toHaveText("3");
  await expect(page.locator('[data-tile="Members ever"]')).toHaveText("3");
  await expect(page.locator('[data-tile="Admin fee"]')).toHaveText("10 %");
  await expect(page.locator('[data-tile="Active subscribers"]')).toHaveText("1");
  await expect(page.locator('[data-tile="Total revenue"]')).toContainText("600 DATA");
  await expect(page.getByRole("img", { name: "Members" })).toBeVisible();
  await expect(page.getByRole("img", { name: "Revenue" })).toBeVisible();
  const rows = page.locator("tr[data-member]");
  await expect(rows).toHaveCount(3);
  for (const account of [3, 4, 5]) {
    await expect(page.locator(`tr[data-member="${wallet.accounts[account]}" i]`)).toContainText("active");
  }
  // Times, not blocks: when each member joined, where the charts begin and end, what the page is as of,
  // all as the chain's block times say.
  const joiner = wallet.accounts[3];
  const { firstJoinedAt, firstJoinedBlock } = (await api(`/api/v1/unions/${union}/members/${joiner}`)).body;
  const joinedCell = page.locator(`tr[data-member="${joiner}" i] td`).nth(2);
  await expect(joinedCell).toHaveText(utc(firstJoinedAt));
  await expect(joinedCell).toHaveAttribute("title", `block ${firstJoinedBlock}`);
  const stamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;
  for (const name of ["Members", "Revenue"]) {
    const chart = page.locator("figure").filter({ has: page.getByRole("heading", { name, exact: true }) });
    const ends = chart.locator("svg text[data-axis-end]");
    await expect(ends).toHaveCount(2);
    for (const end of await ends.allTextContents()) expect(end).toMatch(stamp);
  }
  await expect(page.getByText(/^As of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(block \d+\)$/)).toBeVisible();
  await expect(page.getByRole("heading", { name: "Shared secrets" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Admin fee" })).toBeVisible();
  await expect(page.getByRole("button", { name: /^Remove 0x/ })).toHaveCount(3);
  await page.screenshot({ path: "docs/screenshots/dashboard.png", fullPage: true });

  // Searching by address narrows the list, through the URL.
  await page.getByLabel("Address").fill(wallet.accounts[4].slice(0, 8));
  await page.getByRole("button", { name: "Search" }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-member", new RegExp(wallet.accounts[4], "i"));

  // The server's HTML has the figures, the charts as SVG and the members: no script needed to read it.
  const html = await (await fetch(`${process.env.COOP_APP_URL}/unions/${union}`, { headers: { accept: "text/html" } })).text();
  expect(html).toContain('role="img"');
  expect(html).toMatch(/<path d="M[\d.]+,[\d.]+ H/);
  expect(html).toContain("Active members");
  for (const account of [3, 4, 5]) expect(html.toLowerCase()).toContain(wallet.accounts[account].toLowerCase());
  expect(errors).toEqual([]);
});

test("a member who is not the owner cannot reach the owner's tools: the page hides them and the API refuses", async ({ page, wallet }) => {
  const union = await demoUnion(wallet);
  await wallet.useAccount(MEMBER);
  await open(page, `/unions/${union}`);
  await connect(page);
  await signIn(page);

  await expect(page.getByRole("region", { name: "Owner tools" })).toContainText("are for the owner");
  await expect(page.getByRole("heading", { name: "Join requests" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Shared secrets" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Remove 0x/ })).toHaveCount(0);
  await expect(page.locator('[data-tile="Active members"]')).toHaveText("3");

  // Signed in as a member, the API answers 403 to every owner action; without a session, 401.
  const base = `/api/v1/unions/${union}`;
  expect((await page.request.get(`${base}/join-requests`)).status()).toBe(403);
  expect((await page.request.get(`${base}/secrets`)).status()).toBe(403);
  expect((await page.request.post(`${base}/secrets`, { data: { name: "mine" } })).status()).toBe(403);
  expect((await page.request.post(`${base}/members/${wallet.accounts[4]}/remove`)).status()).toBe(403);
  expect((await api(`${base}/join-requests`)).status).toBe(401);
  // The page's own server functions go through the same checks.
  const viaPage = await page.request.post("/api/unions/secrets", { form: { union }, headers: { accept: "application/json" } });
  expect(viaPage.status()).toBe(403);
  expect((await viaPage.json()).code).toBe("forbidden");
  // Nothing changed: still three active members.
  expect((await api(base)).body.activeMembers).toBe(3);
});

test("a member sees its earnings, frozen then withdrawable, and withdraws exactly the amount shown", async ({ page, wallet }) => {
  test.setTimeout(120_000);
  const union = await demoUnion(wallet);
  await wallet.useAccount(MEMBER);
  await open(page, "/earnings");
  await connect(page);
  const card = page.locator(`article[data-union="${union}" i]`);
  await expect(card).toBeVisible();
  await expect(card.locator('[data-figure="Earnings now"]')).toContainText("DATA");
  // The earnings in dollars, from the DAI pool on chain, marked as an estimate with its block.
  await expect(card.getByTestId("usd-earnings")).toHaveText(
    /^About \$\d+\.\d{2} earned, \$\d+\.\d{2} withdrawable: an estimate, what the DATA would sell for in DAI through the pools on chain at block \d+\.$/,
  );

  // The operator commits within about twenty blocks; the commit is frozen for 60 s of chain time.
  await expect.poll(() => figure(card, "Committed"), { timeout: 60_000 }).toBeGreaterThan(0n);
  const committed = await figure(card, "Committed");
  await passTime(120);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBe(committed);
  await expect(card.locator('[data-figure="Frozen"]')).toHaveText("0 DATA");

  const shown = await figure(card, "Withdrawable");
  await page.screenshot({ path: "docs/screenshots/earnings.png", fullPage: true });
  const before = await dataBalance(wallet.address);
  await card.getByRole("button", { name: /^Withdraw / }).click();
  await expect(card.getByRole("status")).toContainText("Confirmed in block", { timeout: 30_000 });
  expect((await dataBalance(wallet.address)) - before).toBe(shown);
  await expect.poll(() => figure(card, "Withdrawn"), { timeout: 30_000 }).toBe(shown);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBe(0n);
});

test("a join link with a shared secret lets a new member in at once", async ({ page, wallet, browser }) => {
  test.setTimeout(90_000);
  const union = await demoUnion(wallet);
  await signedInOwner(page, wallet, union);
  await page.getByLabel("Name", { exact: true }).fill("Cycling club");
  await page.getByRole("button", { name: "Create secret" }).click();
  await expect(page.getByText("it is not shown again")).toBeVisible();
  const link = await page.locator('[data-secret="link"]').getAttribute("href");
  expect(link).toMatch(/^\/join\/0x[0-9a-fA-F]{40}\?secret=0x[0-9a-f]{64}$/);
  await expect(page.getByText("Cycling club", { exact: true })).toBeVisible();

  const joiner = await person(browser, BY_SECRET);
  await open(joiner.page, link);
  await connect(joiner.page);
  await joiner.page.getByRole("button", { name: "Join with this link" }).click();
  await expect(joiner.page.locator("[data-join-status]")).toHaveAttribute("data-join-status", /approved|sent|joined/);
  // The join-part agent adds approved members on chain; the page follows the blocks.
  await expect(joiner.page.getByText("You are a member")).toBeVisible({ timeout: 45_000 });
  const member = await api(`/api/v1/unions/${union}/members/${joiner.wallet.address}`);
  expect(member.status).toBe(200);
  expect(member.body.active).toBe(true);

  // Revoked, the secret no longer lets anyone in.
  await page.getByRole("button", { name: "Revoke Cycling club" }).click();
  await expect(page.getByText("Cycling club", { exact: true })).toHaveCount(0);
  const late = await person(browser, 4);
  await open(late.page, link);
  await connect(late.page);
  await late.page.getByRole("button", { name: "Join with this link" }).click();
  await expect(late.page.getByRole("alert")).toContainText("is not a secret of this Data Union");
  await joiner.context.close();
  await late.context.close();
});

test("a request without a secret waits for the owner, who approves it", async ({ page, wallet, browser }) => {
  test.setTimeout(90_000);
  const union = await demoUnion(wallet);
  const asker = await askToJoin(browser, BY_REQUEST, union);

  await signedInOwner(page, wallet, union);
  const approve = page.getByRole("button", { name: new RegExp(`^Approve ${asker.wallet.address}$`, "i") });
  await approve.click();
  await expect(page.locator(`[data-request="${asker.wallet.address}" i]`)).toContainText(/approved|sent|joined/);

  await expect(asker.page.getByText("You are a member")).toBeVisible({ timeout: 45_000 });
  expect((await api(`/api/v1/unions/${union}/members/${asker.wallet.address}`)).body.active).toBe(true);
  await asker.context.close();
});

test("a request the owner rejects is shown as not approved and its asker stays out", async ({ page, wallet, browser }) => {
  const union = await demoUnion(wallet);
  const asker = await askToJoin(browser, REFUSED, union);

  await signedInOwner(page, wallet, union);
  await page.getByRole("button", { name: new RegExp(`^Reject ${asker.wallet.address}$`, "i") }).click();
  const row = page.locator(`[data-request="${asker.wallet.address}" i]`);
  await expect(row).toContainText("rejected");
  // A rejected request can still be approved later; it cannot be rejected twice.
  await expect(row.getByRole("button", { name: /^Approve / })).toBeVisible();
  await expect(row.getByRole("button", { name: /^Reject / })).toHaveCount(0);

  await open(asker.page, `/join/${union}`);
  await expect(asker.page.getByText("Not approved")).toBeVisible();
  const member = await api(`/api/v1/unions/${union}/members/${asker.wallet.address}`);
  expect(member.status).toBe(404);
  expect(asker.errors).toEqual([]);
  await asker.context.close();
});

/** `owner` (an address) calls `signature` on `union` with one address argument, through anvil. */
async function callWithAddress(owner, union, signature, address) {
  const hash = await rpc("web3_sha3", ["0x" + Buffer.from(signature).toString("hex")]);
  const data = hash.slice(0, 10) + address.toLowerCase().replace(/^0x/, "").padStart(64, "0");
  const tx = await rpc("eth_sendTransaction", [{ from: owner, to: union, data }]);
  // Blocks come every second: wait for the one that mines it.
  await expect.poll(async () => (await rpc("eth_getTransactionReceipt", [tx]))?.status).toBe("0x1");
}

test("while the union does not have this server's join-part agent, the owner is told why approvals wait", async ({ page, wallet }) => {
  const union = await demoUnion(wallet);
  const owner = wallet.accounts[OWNER];
  const agent = (await api("/api/v1/chain")).body.joinAgent;
  await signedInOwner(page, wallet, union);
  const notice = page.locator("[data-agent-notice]");
  await expect(notice).toHaveCount(0);

  await callWithAddress(owner, union, "removeJoinPartAgent(address)", agent);
  try {
    // The panel follows the chain block by block: no reload.
    await expect(notice).toContainText("Approved requests wait");
    await expect(notice).toContainText(new RegExp(agent, "i"));
  } finally {
    await callWithAddress(owner, union, "addJoinPartAgent(address)", agent);
  }
  await expect(notice).toHaveCount(0);
});

test("a member withdraws to another address, which receives exactly the amount shown", async ({ page, wallet }) => {
  const union = await demoUnion(wallet);
  await wallet.useAccount(4);
  await open(page, "/earnings");
  await connect(page);
  const card = page.locator(`article[data-union="${union}" i]`);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBeGreaterThan(0n);
  const shown = await figure(card, "Withdrawable");
  const recipient = wallet.accounts[BY_SECRET];
  const before = { member: await dataBalance(wallet.address), recipient: await dataBalance(recipient) };

  await card.getByRole("radio", { name: "To another address" }).check();
  await card.getByLabel("Recipient address").fill("0x1234");
  await card.getByRole("button", { name: /^Withdraw / }).click();
  await expect(card.getByRole("alert")).toContainText("recipient");
  await card.getByLabel("Recipient address").fill(recipient);
  await card.getByRole("button", { name: /^Withdraw / }).click();
  await expect(card.getByRole("status")).toContainText("Confirmed in block", { timeout: 30_000 });
  expect((await dataBalance(recipient)) - before.recipient).toBe(shown);
  expect(await dataBalance(wallet.address)).toBe(before.member);
});

test("a member without ETH for gas withdraws through the relayer, which takes only the fee shown", async ({ page, wallet }) => {
  const union = await demoUnion(wallet);
  await wallet.useAccount(5);
  await open(page, "/earnings");
  await connect(page);
  const card = page.locator(`article[data-union="${union}" i]`);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBeGreaterThan(0n);
  const shown = await figure(card, "Withdrawable");
  const before = { data: await dataBalance(wallet.address), eth: BigInt(await rpc("eth_getBalance", [wallet.address, "latest"])) };

  await card.getByRole("button", { name: "Without ETH: use the relayer" }).click();
  const offer = card.locator("[data-relay-offer]");
  await expect(offer).toContainText("you get");
  const [fee, received] = (await offer.innerText()).match(/[0-9.,]+ DATA/g).map(weiOf);
  expect(fee + received).toBe(shown);
  expect(fee).toBeGreaterThan(0n);
  await card.getByRole("button", { name: "Sign and withdraw" }).click();
  await expect(card.locator("[data-relay] [role=status]")).toContainText("On its way", { timeout: 30_000 });

  await expect.poll(async () => (await dataBalance(wallet.address)) - before.data, { timeout: 30_000 }).toBe(received);
  expect(BigInt(await rpc("eth_getBalance", [wallet.address, "latest"]))).toBe(before.eth);
  await expect.poll(() => figure(card, "Withdrawable"), { timeout: 30_000 }).toBe(0n);
});

test("the owner changes the admin fee from the dashboard through its wallet", async ({ page, wallet }) => {
  const union = await demoUnion(wallet);
  await signedInOwner(page, wallet, union);
  await page.getByLabel("New admin fee (%)").fill("101");
  await page.getByRole("button", { name: "Change admin fee" }).click();
  await expect(page.getByRole("alert")).toContainText("admin fee: at most 100 %");

  // What protects the members: this server's validator is named in the demo union.
  const chain = (await api("/api/v1/chain")).body;
  await expect(page.locator("[data-validators]")).toContainText(chain.validator);

  // A rise over members is announced: everyone sees it coming, and it waits the freeze period (60 s).
  await page.getByLabel("New admin fee (%)").fill("12.5");
  await page.getByRole("button", { name: "Change admin fee" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Confirmed in block" })).toBeVisible({ timeout: 30_000 });
  const announced = page.locator("[data-announced] li").filter({ hasText: "The admin fee rises to 12.5 %" });
  await expect(announced).toContainText("Takes effect from", { timeout: 30_000 });
  await expect(page.locator('[data-tile="Admin fee"]')).toHaveText("10 %");
  const summary = (await api(`/api/v1/unions/${union}`)).body;
  expect(summary.adminFeePercent).toBe("10");
  expect(summary.announced).toEqual([expect.objectContaining({ change: "adminFee", adminFeePercent: "12.5" })]);

  // Once due, anyone applies it.
  await passTime(61);
  await announced.getByRole("button", { name: "Apply it" }).click({ timeout: 30_000 });
  await expect(page.locator('[data-tile="Admin fee"]')).toHaveText("12.5 %", { timeout: 30_000 });
  await expect(page.locator("[data-announced] li")).toHaveCount(0);
  expect((await api(`/api/v1/unions/${union}`)).body.adminFeePercent).toBe("12.5");
});
