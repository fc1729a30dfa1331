# Coop: `make dev` serves a local marketplace on http://127.0.0.1:3000; `make test` runs every check.
# Both install whatever is missing first (scripts/setup.sh).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

# One cargo target folder outside the clone, so fresh clones (and CI) reuse earlier builds.
export CARGO_TARGET_DIR ?= /var/tmp/coop-target
# cargo-leptos sets this while building; setting it for every cargo call keeps plain `cargo test`
# and `cargo clippy` from rebuilding Leptos with a different fingerprint.
export LEPTOS_OUTPUT_NAME := coop
export LEPTOS_SITE_ROOT := $(CURDIR)/target/site

.PHONY: dev test setup build release serve fmt lint contracts e2e bundle

dev: ## install what is missing, start a local chain, serve http://127.0.0.1:3000
	scripts/setup.sh
	cargo leptos build --frontend-only --split
	cargo build -p coop-server
	"$(CARGO_TARGET_DIR)/debug/coop" dev

test: ## install what is missing, then run every check and test
	scripts/setup.sh --test
	scripts/test.sh

setup:
	scripts/setup.sh

build:
	cargo leptos build --frontend-only --split
	cargo build -p coop-server

# What runs in production: the release server and the optimized wasm bundle (wasm-release profile,
# wasm-opt from npm) with hashed file names, precompressed. The site is served from the folder in
# LEPTOS_SITE_ROOT; hash.txt must stay beside the binary. deploy/ has systemd units that use them.
release: ## build target/release/coop and its site in target/site, as deploy/ runs them
	scripts/setup.sh
	rm -rf target/site
	LEPTOS_HASH_FILES=true cargo leptos build --release --frontend-only --split
	cargo build --release -p coop-server
	node scripts/compress-site.mjs target/site

fmt:
	cargo fmt --all

lint:
	scripts/test.sh lint

e2e:
	scripts/test.sh e2e

bundle: ## what a first visit downloads from the release site, beside a bare Leptos app (README figures)
	scripts/setup.sh --test
	scripts/bundle.sh
