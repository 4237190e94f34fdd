#!/usr/bin/env bash
# The engine as WebAssembly (crates/bench-wasm) against sharp (libvips) in the same Node process, on
# the same 12–16 MP photos as scripts/bench.sh. Builds, installs sharp, runs bench/wasm/run.mjs.
# Arguments go to run.mjs (--json, --runs N); --build-only stops after the build (for bench/wasm/cutout.mjs). SHOTLINE_WASM_OPT=1 also runs wasm-opt -O3 (measured:
# no speed change, 9 % smaller). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
log() { printf '\033[1;34m[bench-wasm]\033[0m %s\n' "$*" >&2; }

mkdir -p bench-data/photos
if [ ! -f bench-data/photos/sunset_by_Aitzol_Berasategi.jpg ]; then
  log "fetching the photos (Debian's lomiri wallpapers)"
  (cd bench-data && apt-get download lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 >/dev/null 2>&1)
  for f in bench-data/*.deb; do dpkg-deb -x "$f" bench-data/x; done
  for f in sunset_by_Aitzol_Berasategi.jpg Dragonfly_by_Bolly.jpg seeding_by_Clements_Engelhardt.jpg; do
    cp "bench-data/x/usr/share/backgrounds/$f" bench-data/photos/
  done
fi

if ! command -v wasm-bindgen >/dev/null; then
  SHOTLINE_SKIP_TRUNK=1 scripts/setup.sh
fi
log "building crates/bench-wasm (release, wasm32, +simd128 from .cargo/config.toml)"
cargo build --release --target wasm32-unknown-unknown -p shotline-bench-wasm >&2
wasm-bindgen --target nodejs --out-dir target/bench-wasm \
  target/wasm32-unknown-unknown/release/shotline_bench_wasm.wasm
if [ "${SHOTLINE_WASM_OPT:-0}" = 1 ]; then
  log "wasm-opt -O3"
  # Node 20 rejects what --all-features emits: name the features the build uses.
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    target/bench-wasm/shotline_bench_wasm_bg.wasm -o target/bench-wasm/shotline_bench_wasm_bg.wasm
fi

# sharp ships libvips as prebuilt npm packages; reinstall only when the lockfile changed.
if [ ! -f bench/wasm/node_modules/.package-lock.json ] \
  || [ bench/wasm/package-lock.json -nt bench/wasm/node_modules/.package-lock.json ]; then
  log "npm ci in bench/wasm"
  (cd bench/wasm && npm ci --no-audit --no-fund >&2)
fi

if [ "${1:-}" = --build-only ]; then
  exit 0
fi
log "load: $(uptime)"
# One core, like scripts/bench.sh: the engine and sharp's libvips (concurrency 1) both run on it.
if command -v taskset >/dev/null; then
  exec taskset -c 0 node bench/wasm/run.mjs "$@"
fi
exec node bench/wasm/run.mjs "$@"
