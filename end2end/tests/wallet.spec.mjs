// The wallet in the header: connecting, signing in with Ethereum and out, wallet errors in plain
// words, switching to Coop's chain, and staying connected and signed in across reloads.
import { test, expect, collectPageErrors } from "../support/fixtures.mjs";

// The page writes addresses checksummed (EIP-55); anvil hands them out in lowercase.
const short = (address) => new RegExp(`${address.slice(0, 6)}…${address.slice(-4)}`, "i");

async function open(page) {
  await page.goto("/");
  await page.waitForFunction(() => window.__coopHydrated === true);
}

async function connect(page) {
  await page.getByRole("button", { name: "Connect wallet" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
}

async function signIn(page, wallet) {
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(accountMenu(page, wallet)).toBeVisible();
}

/** A second wallet in the browser (EIP-6963), which refuses every request. */
async function announceOtherWallet(page) {
  await page.addInitScript(() => {
    const provider = { request: async () => Promise.reject({ code: 4001, message: "no" }), on() {}, removeListener() {} };
    const info = Object.freeze({ uuid: "00000000-0000-4000-8000-000000000002", name: "Other Wallet", icon: "", rdns: "org.example.other" });
    const announce = () =>
      window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
    window.addEventListener("eip6963:requestProvider", announce);
  });
}

const accountMenu = (page, wallet) => page.getByLabel(new RegExp(`^Account ${short(wallet.address).source}, signed in$`, "i"));

async function me(page) {
  const response = await page.request.get("/api/v1/auth/me");
  return { status: response.status(), body: await response.json() };
}

test("a person connects, signs in and signs out", async ({ page, wallet }) => {
  const errors = collectPageErrors(page);
  await open(page);

  await connect(page);
  await expect(page.getByRole("banner").getByText(short(wallet.address))).toBeVisible();
  await signIn(page, wallet);

  const session = await me(page);
  expect(session.status).toBe(200);
  expect(session.body.address.toLowerCase()).toBe(wallet.address.toLowerCase());
  expect(wallet.requests).toContain("personal_sign");

  await accountMenu(page, wallet).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect((await me(page)).status).toBe(401);
  expect(errors).toEqual([]);
});

test("a rejected signature says so in plain words and changes nothing", async ({ page, wallet }) => {
  await open(page);
  await connect(page);

  wallet.rejectNext("personal_sign");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByRole("alert")).toContainText("You declined the request in your wallet. Nothing was changed");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  expect((await me(page)).status).toBe(401);

  await page.getByRole("button", { name: "Dismiss" }).click();
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("a wallet on another chain is asked to switch, and switching works", async ({ page, wallet }) => {
  await open(page);
  await connect(page);

  await wallet.useChain("0x1");
  const switchButton = page.getByRole("button", { name: "Switch to Coop dev chain" });
  await expect(switchButton).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeDisabled();

  await switchButton.click();
  await expect(switchButton).toHaveCount(0);
  expect(wallet.requests).toContain("wallet_switchEthereumChain");
  await signIn(page, wallet);
});

test("a wallet that is on another chain when it connects is asked to switch", async ({ page, wallet }) => {
  await open(page);
  await wallet.useChain("0x1");
  await page.getByRole("button", { name: "Connect wallet" }).click();
  await expect(page.getByRole("button", { name: "Switch to Coop dev chain" })).toBeVisible();

  await page.getByRole("button", { name: "Switch to Coop dev chain" }).click();
  await signIn(page, wallet);
  expect((await me(page)).body.chainId).toBe(31337);
});

test("a reload keeps the wallet connected and the person signed in", async ({ page, wallet }) => {
  await open(page);
  await connect(page);
  await page.reload();
  await page.waitForFunction(() => window.__coopHydrated === true);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Connect wallet" })).toHaveCount(0);
  expect(wallet.requests.filter((method) => method === "eth_requestAccounts")).toHaveLength(1);

  await signIn(page, wallet);
  await page.reload();
  await expect(accountMenu(page, wallet)).toBeVisible();
});

test("moving the wallet to another account ends the session of the first", async ({ page, wallet }) => {
  await open(page);
  await connect(page);
  await signIn(page, wallet);
  const first = wallet.address;

  await wallet.useAccount(1);

  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await expect(page.getByRole("banner").getByText(short(wallet.address))).toBeVisible();
  expect(wallet.address).not.toBe(first);
  await expect.poll(async () => (await me(page)).status).toBe(401);
});

test("with several wallets the person chooses one", async ({ page, wallet }) => {
  await announceOtherWallet(page);
  await open(page);

  await page.getByRole("button", { name: "Connect wallet" }).click();
  const chooser = page.getByRole("dialog", { name: "Choose a wallet" });
  await expect(chooser.getByRole("button")).toHaveText([/Coop Test Wallet/, /Other Wallet/, /Cancel/]);
  await chooser.getByRole("button", { name: "Coop Test Wallet" }).click();

  await expect(page.getByRole("banner").getByText(short(wallet.address))).toBeVisible();
  await expect(chooser).toHaveCount(0);
});

test("the wallet chooser holds the keyboard and closes on Escape", async ({ page, wallet }) => {
  await announceOtherWallet(page);
  await open(page);
  const connectButton = page.getByRole("button", { name: "Connect wallet" });
  await connectButton.click();
  const chooser = page.getByRole("dialog", { name: "Choose a wallet" });
  await expect(chooser).toHaveAttribute("aria-modal", "true");
  const first = chooser.getByRole("button", { name: "Coop Test Wallet" });
  const cancel = chooser.getByRole("button", { name: "Cancel" });
  await expect(first).toBeFocused();

  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(cancel).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(first).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(cancel).toBeFocused();

  await page.keyboard.press("Escape");
  await expect(chooser).toHaveCount(0);
  await expect(connectButton).toBeFocused();
});

test("without any wallet the page says what to install", async ({ page }) => {
  await open(page);
  await page.getByRole("button", { name: "Connect wallet" }).click();
  await expect(page.getByRole("alert")).toContainText("No wallet was found in this browser. Install a wallet extension");
});

test.describe("without JavaScript", () => {
  test("the header shows who is signed in, and signing out works as a form", async ({ page, wallet, browser }) => {
    await open(page);
    await connect(page);
    await signIn(page, wallet);

    const context = await browser.newContext({ javaScriptEnabled: false, baseURL: process.env.COOP_APP_URL });
    await context.addCookies(await page.context().cookies());
    expect((await context.request.get("/api/v1/auth/me")).status()).toBe(200);
    const plain = await context.newPage();
    await plain.goto("/");
    const menu = accountMenu(plain, wallet);
    await expect(menu).toBeVisible();

    await menu.click();
    await plain.getByRole("button", { name: "Sign out" }).click();
    await expect(plain.getByRole("button", { name: "Connect wallet" })).toBeVisible();
    expect((await me(page)).status).toBe(401);
    await context.close();
  });
});
