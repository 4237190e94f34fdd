#!/usr/bin/env bash
# Builds the web app with Trunk (release, offline, pinned tools) into dist/ and prints the
# gzipped size of the .wasm and .js it produced. Idempotent: run it as often as you like.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
if ! command -v trunk >/dev/null || ! command -v wasm-bindgen >/dev/null || ! command -v wasm-opt >/dev/null; then
  scripts/setup.sh
fi

trunk build --release "$@"

# Sizes as they go over the wire (gzip -9, like a static host with compression on).
total=0
printf '%-44s %12s %12s\n' "file" "bytes" "gzipped"
for f in dist/*.wasm dist/*.js; do
  [ -e "$f" ] || continue
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  printf '%-44s %12d %12d\n' "$(basename "$f")" "$raw" "$gz"
done
printf '%-44s %12s %12d (%d KB)\n' "total .wasm + .js" "" "$total" $(((total + 1023) / 1024))
