#!/usr/bin/env bash
# Installs everything Shotline's build and tests need, skipping what is already there.
# Used by scripts/start.sh and scripts/test.sh (and so by CI). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `=` pin in Cargo.toml
TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc than this machine's
BINARYEN_VERSION=132           # the only wasm-opt here that reads wasm-bindgen's output

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile pins crates this toolchain cannot build.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "${SHOTLINE_SKIP_TRUNK:-0}" != 1 ]; then
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q " $TRUNK_VERSION\$"; then
    log "installing trunk $TRUNK_VERSION"
    cargo install trunk --version "$TRUNK_VERSION" --locked --force
  fi
fi

if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
  log "installing binaryen@$BINARYEN_VERSION (wasm-opt) from npm into .tools/"
  mkdir -p .tools
  (cd .tools && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >/dev/null)
fi

if [ "${SHOTLINE_NEED_BROWSER:-0}" = 1 ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
# The background-removal model (U²-Net-p, ~4.6 MB) for native cut-outs and their tests.
./scripts/fetch-model.sh
log "tools ready"
