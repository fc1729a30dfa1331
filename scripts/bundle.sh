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

echo "bare Leptos counter app, gzip -9 bytes"
for file in "$bare"/site/pkg/bare.wasm "$bare"/site/pkg/bare.js; do
  printf '%s\t%s bytes\tgzip -9 %s\n' "$(basename "$file")" "$(stat -c %s "$file")" "$(gzip -9c "$file" | wc -c)"
done
LEPTOS_HASH_FILES=true COOP_BIN="$CARGO_TARGET_DIR/release/coop" npx playwright test -c end2end/bundle/playwright.config.mjs
