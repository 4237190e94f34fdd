// The engine's JPEG decode in WASM at full size and at 1/2, 1/4 and 1/8 (shrink-on-load), in one
// process, interleaved: medians of N runs after a warm-up, per photo in bench-data/photos.
//
//   scripts/bench-wasm.sh --build-only && taskset -c 0 node bench/wasm/decode.mjs [--runs N] [--wasm PATH]
// (--wasm: another build of crates/bench-wasm, e.g. an older commit's, for a before/after)

import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const w = process.argv.indexOf('--wasm');
const wasm = require(w > 0 ? resolve(process.argv[w + 1]) : join(root, 'target/bench-wasm/shotline_bench_wasm.js'));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const dir = join(root, 'bench-data/photos');
const scales = [1, 2, 4, 8];
console.log(`decode in WASM, medians of ${runs} runs (ms): ${scales.map((s) => `1/${s}`).join(', ')}`);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()) {
  const b = readFileSync(join(dir, f));
  for (const s of scales) wasm.decode_ms(b, s);
  const t = Object.fromEntries(scales.map((s) => [s, []]));
  for (let r = 0; r < runs; r++) for (const s of scales) t[s].push(wasm.decode_ms(b, s));
  console.log(`${f.padEnd(38)} ${scales.map((s) => median(t[s]).toFixed(0).padStart(6)).join(' ')}`);
}
