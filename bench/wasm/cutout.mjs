// The neural cut-out as WebAssembly in Node, part by part (crates/bench-wasm/src/cutout.rs): the
// model load (parse + tract's optimisation), then on a 12 MP product photo (fixtures/scenes/mug.jpg
// upscaled to 4000×3000 by sharp, JPEG q90) decode, the model's input, inference, the refinement
// and the engine's edge work after it. Medians; the same parts as crates/cutout/examples/stages.rs
// times natively.
//
//   scripts/fetch-model.sh && scripts/bench-wasm.sh --build-only && node bench/wasm/cutout.mjs [--runs N] [--loads N]
//   [--wasm PATH]: another build of crates/bench-wasm (another commit, other target features)
//
// One thread (WASM has no threads here); pin it with `taskset -c 0` to compare with native figures.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 5);
const loads = arg('--loads', 3);

const require = createRequire(import.meta.url);
const w = process.argv.indexOf('--wasm');
const wasm = require(w > 0 ? resolve(process.argv[w + 1]) : join(root, 'target/bench-wasm/shotline_bench_wasm.js'));
const model = readFileSync(join(root, 'models/u2netp.onnx'));
const photo = await sharp(join(root, 'fixtures/scenes/mug.jpg'))
  .resize(4000, 3000, { fit: 'fill' })
  .jpeg({ quality: 90 })
  .toBuffer();
const figures = JSON.parse(wasm.cutout_stages(model, photo, loads, runs));
console.log(JSON.stringify(figures, null, 1));
