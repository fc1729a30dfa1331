// Helpers for the tests of the Data Union pages (checkout uses its chain calls too): the chain (calls,
// balances, time), the API, and the steps a person takes in the header (connect, sign in).
import { expect } from "@playwright/test";
import { collectPageErrors } from "./fixtures.mjs";
import { TestWallet } from "./wallet.mjs";

export async function rpc(method, params = []) {
  const response = await fetch(process.env.COOP_CHAIN_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Stops the chain from mining, so a transaction stays pending: `coop dev` runs anvil with a block
 * every second, which `evm_setAutomine(false)` alone does not stop.
 */
export async function pauseMining() {
  await rpc("evm_setAutomine", [false]);
  await rpc("evm_setIntervalMining", [0]);
}

/** Mines again as `coop dev` does: a block every second. */
export async function resumeMining() {
  await rpc("evm_setIntervalMining", [1]);
}

/** Moves the chain's clock past a freeze period and mines a block at the new time. */
export async function passTime(seconds) {
  await rpc("evm_increaseTime", [seconds]);
  await rpc("evm_mine", []);
}

export async function api(path, init) {
  const response = await fetch(`${process.env.COOP_APP_URL}${path}`, init);
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** The DATA balance of `address` in wei, read from the chain. */
export async function dataBalance(address) {
  const { body } = await api("/api/v1/chain");
  const data = "0x70a08231" + address.toLowerCase().replace(/^0x/, "").padStart(64, "0");
  return BigInt(await rpc("eth_call", [{ to: body.contracts.data_token, data }, "latest"]));
}

/** `"12.5 DATA"` (exact, as the pages write member figures) in wei. */
export function weiOf(text) {
  const [whole, fraction = ""] = text.replace(/DATA|,|\s/g, "").split(".");
  return BigInt(whole) * 10n ** 18n + BigInt((fraction + "0".repeat(18)).slice(0, 18));
}

/** The union `owner` (an address) owns; the first one when it owns several and `newest` is false. */
export async function unionOf(owner, { newest = false } = {}) {
  const { body } = await api(`/api/v1/unions?owner=${owner}`);
  const unions = body.unions;
  expect(unions.length).toBeGreaterThan(0);
  return (newest ? unions[unions.length - 1] : unions[0]).address;
}

export async function open(page, path) {
  await page.goto(path);
  await page.waitForFunction(() => window.__coopHydrated === true);
}

/** Connects the wallet from the header, unless the page reconnected it from an earlier visit. */
export async function connect(page) {
  const connectButton = page.getByRole("button", { name: "Connect wallet" });
  const connected = page.getByRole("button", { name: "Sign in" }).or(page.getByLabel(/^Account .*, signed in$/));
  await expect(connectButton.or(connected).first()).toBeVisible();
  if (await connectButton.isVisible()) await connectButton.click();
  await expect(connected.first()).toBeVisible();
}

export async function signIn(page) {
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel(/^Account .*, signed in$/)).toBeVisible();
}

/** The exact amount a member figure shows on the earnings page, in wei. */
export async function figure(card, label) {
  return weiOf(await card.locator(`[data-figure="${label}"]`).innerText());
}

/** Another person, in a browser context of its own, its wallet on anvil account `account`. */
export async function person(browser, account) {
  const context = await browser.newContext({ baseURL: process.env.COOP_APP_URL });
  const page = await context.newPage();
  const wallet = await TestWallet.install(page, process.env.COOP_CHAIN_URL);
  await wallet.useAccount(account);
  return { page, wallet, context, errors: collectPageErrors(page) };
}
