#!/usr/bin/env bash
# The README's bundle figures: what a first visit downloads, page by page, from the release site
# (wasm-release profile, split into chunks, wasm-opt from npm, hashed names), beside a bare Leptos
# counter app built the same way, in one run. Fails when the home page's wasm is over its budget
# (end2end/bundle/first-page.spec.mjs). Everything runs on 127.0.0.1 and stops by itself.
#   scripts/bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/coop-target}"
export LEPTOS_OUTPUT_NAME=coop LEPTOS_SITE_ROOT="$PWD/target/site"
export PATH="$PWD/node_modules/.bin:$PATH"

# The baseline, in a target folder of its own (its Leptos is built with other features).
bare="$CARGO_TARGET_DIR/bare-leptos"
(cd benches/bare-leptos && LEPTOS_OUTPUT_NAME=bare LEPTOS_SITE_ROOT="$bare/site" CARGO_TARGET_DIR="$bare" \
  cargo leptos build --release --frontend-only)

rm -rf target/site
LEPTOS_HASH_FILES=true cargo leptos build --release --frontend-only --split
cargo build --release -p coop-server

# Compressed as the test compresses Coop's files (zlib, level 9), so the two compare.
echo "bare Leptos counter app: bytes, gzip -9 bytes"
node -e 'const fs = require("fs"), zlib = require("zlib");
  for (const file of process.argv.slice(1))
    console.log(`${file.split("/").pop()}\t${fs.statSync(file).size}\t${zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length}`);' \
  "$bare"/site/pkg/bare.wasm "$bare"/site/pkg/bare.js
LEPTOS_HASH_FILES=true COOP_BIN="$CARGO_TARGET_DIR/release/coop" npx playwright test -c end2end/bundle/playwright.config.mjs
