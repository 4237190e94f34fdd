// Shotline's own U²-Net-p network (Winograd and direct convolutions) against tract, all as WebAssembly in Node, interleaved in one
// process (crates/bench-wasm/src/cutout.rs, `net_ab`): load and inference at 320², best of N, and
// the largest difference of their outputs.
//
//   scripts/fetch-model.sh && scripts/bench-wasm.sh --build-only && taskset -c 0 node bench/wasm/net_ab.mjs [--runs N] [--wasm PATH]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const r = process.argv.indexOf('--runs');
const runs = r > 0 ? Number(process.argv[r + 1]) : 3;
const w = process.argv.indexOf('--wasm');
const require = createRequire(import.meta.url);
const wasm = require(w > 0 ? resolve(process.argv[w + 1]) : join(root, 'target/bench-wasm/shotline_bench_wasm.js'));
const model = readFileSync(join(root, 'models/u2netp.onnx'));
const photo = readFileSync(join(root, 'fixtures/scenes/mug.jpg'));
console.log(JSON.stringify(JSON.parse(wasm.net_ab(model, photo, runs)), null, 1));
