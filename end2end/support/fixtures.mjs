// Test fixtures: `app` is the base URL of the server from global-setup; `wallet` injects the test
// wallet into the page before it loads.
import { test as base, expect } from "@playwright/test";
import { TestWallet } from "./wallet.mjs";

export const test = base.extend({
  baseURL: async ({}, use) => use(process.env.COOP_APP_URL),
  wallet: async ({ page }, use) => use(await TestWallet.install(page, process.env.COOP_CHAIN_URL)),
});

export { expect };

/** Fails the test on any error thrown in the page (a broken hydration shows up here). */
export function collectPageErrors(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return errors;
}
