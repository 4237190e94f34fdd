#!/usr/bin/env bash
# Tests the web app: its plain logic natively (sync plan, local library, outlines, link codec, tree
# edits, ZIP writer), the wasm-bindgen component tests (tests/web.rs) in headless Chromium, then a
# build and the end-to-end scripts, which leave screenshots in test-artifacts/:
#   e2e/run.mjs     photos on the Run screen
#   e2e/batch.mjs   a folder batch in the web workers, the ZIP unpacked and checked, cancel
#   e2e/sync.mjs    my workflows, sync and server share links against the real `shotline serve`
#   e2e/editor.mjs  the step editor and its live preview
#   e2e/flow.mjs    the whole journey: template → IF → photos + CSV → ZIP → link in a fresh browser
#   e2e/worker-panic.mjs  a panic in the engine's worker fails one photo (or one preview), not the page
#   e2e/cutout.mjs  the neural cut-out in the workers: lazy model download with progress, IoU floor in
#                   WASM on the rendered scenes, and a clear failure when the model is missing
# Exits non-zero if anything fails.
#   scripts/test-web.sh            everything
#   scripts/test-web.sh --no-e2e   only the component tests
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase prints the clock and the time since this script started (CI has 90 minutes in all).
phase() { printf '== [%s, +%dm%02ds] %s\n' "$(date +%T)" $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
SHOTLINE_NEED_BROWSER=1 scripts/setup.sh

# wasm-bindgen-test-runner starts chromedriver, which starts Chromium with webdriver.json's flags
# (headless, no sandbox: this runs as root in containers).
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=120
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver.json"
phase "web app logic (native unit tests)"
cargo test -p shotline-web --lib
phase "component tests (wasm-bindgen-test, headless Chromium)"
# With the engine: the worker script is not served here, so the page's fallbacks run it.
cargo test -p shotline-web --features engine --target wasm32-unknown-unknown --test web

if [ "${1:-}" = --no-e2e ]; then
  exit 0
fi

# The end-to-end test runs on a dev build by default: it reuses the wasm32 artifacts of the component
# tests above (dependencies and the engine are optimised in dev too, see Cargo.toml), which keeps CI
# well inside its time. SHOTLINE_E2E_RELEASE=1 tests the release build that scripts/start.sh serves.
if [ "${SHOTLINE_E2E_RELEASE:-0}" = 1 ]; then
  phase "release build"
  scripts/build-web.sh
else
  phase "dev build"
  trunk build
fi
phase "server for the sync end-to-end test"
# The same command as scripts/test.sh's native tests, so after them it builds nothing: the test build
# already linked target/debug/shotline. (`cargo build -p shotline-server` would not reuse it: the
# server's dev-dependencies turn on tokio features, and without them tokio and everything above it,
# hyper, axum, sqlx, reqwest, would compile a second time.)
cargo test --workspace --exclude shotline-web --no-run
phase "end-to-end (playwright-core, headless Chromium)"
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
for script in run batch sync editor flow worker-panic cutout; do
  phase "e2e/$script.mjs"
  node "e2e/$script.mjs"
done
phase "web app tests passed"
