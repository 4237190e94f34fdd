#!/usr/bin/env bash
# Runs every test: the engine and command line natively, the engine and web app in headless Chromium
# (wasm-bindgen-test), and the end-to-end browser test. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
SHOTLINE_NEED_BROWSER=1 bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

# The store tests run on SQLite and on PostgreSQL (127.0.0.1:5432).
bash scripts/ensure-postgres.sh

echo "== native tests (engine, command line, REST API on SQLite and PostgreSQL)"
cargo test --workspace --exclude shotline-web --no-fail-fast

echo "== engine builds for wasm32"
cargo check -p shotline-core --target wasm32-unknown-unknown

echo "== web app: browser tests and end-to-end"
bash scripts/test-web.sh
