// Playwright in Debian's Chromium against a Coop server that global-setup starts on a free port,
// with a fresh database and a fresh anvil chain.
import { defineConfig } from "@playwright/test";

const SEED_READERS = /(home|marketplace|wallet)\.spec\.mjs$/;

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  globalSetup: "./support/global-setup.mjs",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.COOP_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "off",
    screenshot: "only-on-failure",
  },
  // One server serves the whole run. The specs that read the demo seed as it was made run first; the
  // journeys that add products, members and purchases to it run after them.
  projects: [
    { name: "seed", testMatch: SEED_READERS },
    { name: "journeys", testIgnore: SEED_READERS, dependencies: ["seed"] },
  ],
});
