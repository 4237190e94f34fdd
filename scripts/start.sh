#!/usr/bin/env bash
# Builds and starts Shotline: the web app (Trunk, release) served by the native `shotline` binary.
# Installs what it needs first (scripts/setup.sh). Prints the URL. PORT=8080 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
bash scripts/build-web.sh
cargo build --release -p shotline-server
exec ./target/release/shotline serve --dist dist --addr "127.0.0.1:${PORT:-8080}"
