#!/usr/bin/env bash
# Runs every test: the engine and command line natively, the engine and web app in headless Chromium
# (wasm-bindgen-test), and the end-to-end browser test. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase prints the clock and the time since this script started (CI has 90 minutes in all).
phase() { printf '== [%s, +%dm%02ds] %s\n' "$(date +%T)" $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
SHOTLINE_NEED_BROWSER=1 bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

# The store tests run on SQLite and on PostgreSQL (127.0.0.1:5432).
bash scripts/ensure-postgres.sh

phase "native tests (engine, command line, REST API on SQLite and PostgreSQL)"
cargo test --workspace --exclude shotline-web --no-fail-fast

phase "engine builds for wasm32"
cargo check -p shotline-core --target wasm32-unknown-unknown

phase "web app: browser tests and end-to-end"
bash scripts/test-web.sh
phase "all tests passed"
