// One model load and one cut-out of the mug scene in a fresh Node process: what a new browser
// worker goes through, before V8 has optimised anything. Prints the WASM memory after it, the
// load and the (first) inference time. Run it several times, alternating builds.
//
//   scripts/bench-wasm.sh --build-only && node bench/wasm/cold.mjs [PATH to another build's .js]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const build = resolve(process.argv[2] ?? join(root, 'target/bench-wasm/shotline_bench_wasm.js'));
const wasm = createRequire(import.meta.url)(build);
const model = readFileSync(join(root, 'models/u2netp.onnx'));
const photo = readFileSync(join(root, 'fixtures/scenes/mug.jpg'));
const MB = 1024 * 1024;
const start = wasm.memory_bytes();
const r = JSON.parse(wasm.cutout_stages(model, photo, 1, 1));
console.log(`${build}: memory ${(start / MB).toFixed(1)} → ${(wasm.memory_bytes() / MB).toFixed(1)} MB, ` +
  `load ${r.load_ms} ms, first inference ${r.inference_ms} ms`);
