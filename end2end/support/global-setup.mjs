// Starts `coop dev` on 127.0.0.1 with a free port, a fresh data folder and its own anvil, waits
// until it is ready, and hands its addresses to the tests through the environment. The returned
// function stops it (and with it the chain) when the run ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const targetDir = process.env.CARGO_TARGET_DIR ?? "/var/tmp/coop-target";

export default async function globalSetup() {
  const dataDir = mkdtempSync(join(tmpdir(), "coop-e2e-"));
  const server = spawn(process.env.COOP_BIN ?? join(targetDir, "debug", "coop"), ["dev"], {
    cwd: root,
    env: {
      ...process.env,
      COOP_LISTEN: "127.0.0.1:0",
      COOP_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? join(root, "target", "site"),
      RUST_LOG: "info",
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = [];
  const addresses = await new Promise((resolvePromise, reject) => {
    const found = {};
    const timer = setTimeout(() => reject(new Error(`coop dev did not start within 120 s:\n${log.join("")}`)), 120_000);
    const onData = (chunk) => {
      const text = chunk.toString();
      log.push(text);
      if (process.env.TEST_LOG) process.stderr.write(text);
      found.chain ??= text.match(/started anvil url=(\S+)/)?.[1];
      found.app ??= text.match(/listening on (http:\/\/\S+)/)?.[1];
      if (found.chain && found.app) {
        clearTimeout(timer);
        resolvePromise(found);
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`coop dev exited with ${code}:\n${log.join("")}`));
    });
  });
  await waitUntilReady(addresses.app);
  process.env.COOP_APP_URL = addresses.app;
  process.env.COOP_CHAIN_URL = addresses.chain;

  return async () => {
    server.kill("SIGTERM");
    await new Promise((done) => (server.exitCode !== null ? done() : server.on("exit", done)));
    rmSync(dataDir, { recursive: true, force: true });
  };
}

async function waitUntilReady(appUrl) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`${appUrl}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${appUrl}/readyz never answered 200`);
}
