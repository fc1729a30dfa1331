// The bundle figures (`scripts/bundle.sh`): the main configuration, with this folder's one test.
import { defineConfig } from "@playwright/test";
import main from "../playwright.config.mjs";

export default defineConfig({
  ...main,
  testDir: ".",
  outputDir: "../test-results",
  globalSetup: "../support/global-setup.mjs",
  projects: undefined,
});
