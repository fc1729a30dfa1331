#!/usr/bin/env bash
# Every check Coop has, in order; the first failure stops the run with a non-zero status.
#   scripts/test.sh         all of them
#   scripts/test.sh lint    formatting, contract artifacts, clippy (server side and wasm side)
#   scripts/test.sh e2e     build the site, then the Playwright tests
#   scripts/test.sh fuzz    build the server, then schemathesis over the API against `coop dev`
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/coop-target}"
export LEPTOS_OUTPUT_NAME=coop
export LEPTOS_SITE_ROOT="$PWD/target/site"
what="${1:-all}"

# The wasm bundle, CSS and assets through cargo-leptos; the server with plain cargo, so it shares its
# build with the tests and clippy (cargo-leptos would build it with other RUSTFLAGS). `--split` puts
# each page's code in a chunk of its own (app/src/routes.rs); without it the bundle would not load.
build_site() {
  cargo leptos build --frontend-only --split
  cargo build -p coop-server
}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

start_postgres() {
  step "starting PostgreSQL"
  local cluster
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start 2>/dev/null || pg_lsclusters --no-header | grep -q online
  local port
  port=$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'coop_test'" | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE coop_test LOGIN CREATEDB PASSWORD 'coop_test'"
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'coop_test'" | grep -q 1 \
    || runuser -u postgres -- createdb -O coop_test coop_test
  # Tests create and drop a database of their own under this role.
  export COOP_TEST_POSTGRES_URL="postgres://coop_test:coop_test@127.0.0.1:$port/coop_test"
  export COOP_REQUIRE_POSTGRES=1
}

lint() {
  step "rustfmt"
  cargo fmt --all --check
  if [ -f contracts/compile.mjs ]; then
    step "contract artifacts match their sources"
    node contracts/compile.mjs --check
  fi
  step "clippy, server side"
  cargo clippy -p coop -p coop-server --all-targets -- -D warnings
  step "clippy, wasm side"
  cargo clippy -p coop -p frontend --target wasm32-unknown-unknown -- -D warnings
}

rust_tests() {
  step "Rust tests"
  # The NATS tests start a nats-server of their own (tests/support/nats.rs); here a missing one fails.
  COOP_REQUIRE_NATS=1 cargo test -p coop -p app -p coop-server
}

e2e() {
  step "building the site"
  build_site
  step "Playwright tests"
  npx playwright test -c end2end/playwright.config.mjs
}

# Every operation of the OpenAPI document, signed in, with every check and the document's links:
# no 5xx, and the document says exactly what is accepted. A longer run:
# scripts/fuzz-api.py --max-examples 200 --seed N
fuzz() {
  step "API fuzzing against coop dev"
  cargo build -p coop-server
  COOP_VENV="${COOP_VENV:-/var/tmp/coop-venv}" python3 scripts/fuzz-api.py --max-examples 25 --seed 1
}

case "$what" in
  lint) lint ;;
  e2e) e2e ;;
  fuzz) fuzz ;;
  all)
    lint
    start_postgres
    rust_tests
    e2e
    fuzz
    ;;
  *) echo "unknown part: $what (lint, e2e, fuzz or nothing for all)" >&2; exit 2 ;;
esac
