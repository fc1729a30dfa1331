#!/usr/bin/env bash
# Read throughput of `coop serve` on PostgreSQL, straight and through nginx with one and with three
# instances (the README's figures). Everything runs on 127.0.0.1 and stops by itself.
#   scripts/load.sh                        10,000 members, 32 connections, 15 s per run, 3 runs
#   COOP_LOAD_MEMBERS=100000 COOP_LOAD_CONNECTIONS=64 COOP_LOAD_SECONDS=30 scripts/load.sh
#   scripts/load.sh pages REV              pages and answers with wrk, this build beside commit REV's
#   COOP_LOAD_HOLD=600 scripts/load.sh     one instance over the filled chain, up for 600 s (to profile)
# Needs PostgreSQL, nginx and wrk (scripts/setup.sh --test) and the npm packages (anvil).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-coop}" LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$PWD/target/site}"

if [ -z "${COOP_TEST_POSTGRES_URL:-}" ]; then
  # The local cluster and the role the test suite uses (scripts/test.sh); a database of its own is
  # created for the run and dropped after it.
  read -r version cluster port < <(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2, $3}')
  pg_ctlcluster "$version" "$cluster" start 2>/dev/null || pg_lsclusters --no-header | grep -q online
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'coop_test'" | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE coop_test LOGIN CREATEDB PASSWORD 'coop_test'"
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'coop_test'" | grep -q 1 \
    || runuser -u postgres -- createdb -O coop_test coop_test
  export COOP_TEST_POSTGRES_URL="postgres://coop_test:coop_test@127.0.0.1:$port/coop_test"
fi

# Figures are for the release build.
if [ "${1:-}" = pages ]; then
  base="${2:?name the commit to compare with: scripts/load.sh pages REV}"
  command -v wrk >/dev/null || { echo "wrk is missing: scripts/setup.sh --test installs it" >&2; exit 1; }
  # The baseline's sources in a folder of their own that stays put, so its build is reused.
  baseline_src=/var/tmp/coop-load-baseline
  rm -rf "$baseline_src" && mkdir -p "$baseline_src"
  git archive "$base" | tar -x -C "$baseline_src"
  (cd "$baseline_src" && cargo build --release -p coop-server --bin coop)
  cp "$CARGO_TARGET_DIR/release/coop" "$baseline_src/coop"
  export COOP_BASELINE_BIN="$baseline_src/coop"
fi
cargo build --release -p coop-server --bin coop --example load
COOP_BIN="$CARGO_TARGET_DIR/release/coop" exec "$CARGO_TARGET_DIR/release/examples/load"
