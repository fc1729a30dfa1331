#!/usr/bin/env bash
# Installs what building, running and testing Coop needs, skipping whatever is already there.
#   scripts/setup.sh          build and dev tools
#   scripts/setup.sh --test   also the test services and tools: Chromium, PostgreSQL, nginx, NATS, wrk, and
#                             schemathesis (PyPI) in a virtual environment of its own
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
SCHEMATHESIS_VERSION=4.32.5
# Outside the clone, like the cargo target folder, so fresh clones reuse it.
COOP_VENV="${COOP_VENV:-/var/tmp/coop-venv}"
# Must equal the wasm-bindgen crate pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (a one-time build of about 15 minutes)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm packages (Tailwind, wasm-opt, anvil, solc, Uniswap, OpenZeppelin, Playwright) from the lockfile,
# reinstalled only when the lockfile changed.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.coop-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  step "installing npm packages"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.coop-lock-hash
fi

if [ "${1:-}" = "--test" ]; then
  missing=()
  for package in chromium postgresql nginx-light nats-server wrk; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  # Debian's Python makes virtual environments only with python3-venv.
  python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi

  if ! "$COOP_VENV/bin/st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    step "installing schemathesis $SCHEMATHESIS_VERSION into $COOP_VENV"
    python3 -m venv "$COOP_VENV"
    "$COOP_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
fi
