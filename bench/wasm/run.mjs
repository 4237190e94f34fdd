// Times Shotline's engine as WebAssembly (crates/bench-wasm, built by scripts/bench-wasm.sh) against
// sharp (libvips, native) doing the same job in the same Node process, one thread each.
//
//   fit2048  decode → fit in 2048² → pad white → JPEG q85, on every bench-data/photos/*.jpg:
//            one warm-up, then N runs of each, interleaved so that load on a shared machine hits
//            both sides alike; median per photo, mean of the medians, ratio WASM / sharp.
//   amazon   the "amazon-main" template on a 12 MP product photo (fixtures/scenes/mug.jpg upscaled
//            to 4000×3000, JPEG q92, made before timing): median time and peak WASM memory.
//
// Usage: node run.mjs [--json] [--runs N] [--photos DIR] [--wasm PATH/TO/shotline_bench_wasm.js]
//                     [--baseline PATH/TO/an/older/shotline_bench_wasm.js]
// --baseline times an older build of the engine too, interleaved with the other two (before/after
// in one process: build it from an older commit and wasm-bindgen it into another directory).
// Every output is checked (a 2048×2048 JPEG with white padding) before a figure is reported.

import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

function parseArgs(argv) {
  const args = {
    json: false,
    runs: 5,
    photos: join(root, 'bench-data/photos'),
    wasm: join(root, 'target/bench-wasm/shotline_bench_wasm.js'),
    baseline: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--photos') args.photos = resolve(argv[++i]);
    else if (a === '--wasm') args.wasm = resolve(argv[++i]);
    else if (a === '--baseline') args.baseline = resolve(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs needs a whole number ≥ 1');
  return args;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const MB = 1024 * 1024;

// The baseline: libvips on one thread, no operation cache (each run decodes from scratch).
sharp.concurrency(1);
sharp.cache(false);
const sharpFit2048 = (buf) =>
  sharp(buf)
    .resize(2048, 2048, { fit: 'contain', background: '#ffffff', kernel: 'lanczos3' })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 85 })
    .toBuffer();

/**
 * Throws unless `out` is a `w`×`h` JPEG whose top-left and bottom-right pixels are white.
 * With `strict` false a wrong size is only reported (the amazon preset's steps are still being built).
 */
async function check(label, out, w, h, strict = true) {
  const meta = await sharp(out).metadata();
  const problem =
    meta.format !== 'jpeg' || meta.width !== w || meta.height !== h
      ? `${label}: expected a ${w}×${h} JPEG, got ${meta.format} ${meta.width}×${meta.height}`
      : null;
  if (problem && (strict || meta.format !== 'jpeg')) throw new Error(problem);
  if (problem) return problem;
  for (const [left, top] of [[0, 0], [w - 1, h - 1]]) {
    const px = await sharp(out).extract({ left, top, width: 1, height: 1 }).removeAlpha().raw().toBuffer();
    // JPEG q85 may round pure white to 254 or so; padding in another colour would be far off.
    const problem = `${label}: pixel (${left},${top}) is ${[...px]}, not white`;
    if (Math.min(...px) < 250) {
      if (strict) throw new Error(problem);
      return problem;
    }
  }
  return null;
}

/** PSNR (dB) between two same-sized images, over RGB: how alike the two implementations' outputs are. */
async function psnr(a, b) {
  const [pa, pb] = await Promise.all([a, b].map((x) => sharp(x).removeAlpha().raw().toBuffer()));
  if (pa.length !== pb.length) return NaN;
  let se = 0;
  for (let i = 0; i < pa.length; i++) se += (pa[i] - pb[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / pa.length));
}

async function time(fn) {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  let wasm;
  try {
    wasm = require(args.wasm);
  } catch (e) {
    throw new Error(`${args.wasm}: ${e.message} — build it with scripts/bench-wasm.sh`);
  }
  const memStart = wasm.memory_bytes();
  const base = args.baseline ? require(args.baseline) : null;

  const files = readdirSync(args.photos).filter((f) => /\.jpe?g$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`${args.photos}: no JPEGs — scripts/bench-wasm.sh fetches them`);

  // The amazon preset first, so that the memory read after it is its own peak, not the photos'.
  const mug = readFileSync(join(root, 'fixtures/scenes/mug.jpg'));
  const product = await sharp(mug).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
  const amazonOut = wasm.amazon(product);
  const amazonProblem = await check('amazon', amazonOut, 2000, 2000, false);
  const amazonMeta = await sharp(amazonOut).metadata();
  const amazonMs = [];
  const amazonBaseMs = [];
  if (base) base.amazon(product);
  for (let i = 0; i < args.runs; i++) {
    amazonMs.push((await time(() => wasm.amazon(product)))[0]);
    if (base) amazonBaseMs.push((await time(() => base.amazon(product)))[0]);
  }
  const amazon = {
    photo: 'fixtures/scenes/mug.jpg upscaled to 4000×3000, JPEG q92',
    bytes: product.length,
    output: `${amazonMeta.width}×${amazonMeta.height} ${amazonMeta.format}, ${amazonOut.length} bytes`,
    problem: amazonProblem,
    runs_ms: amazonMs,
    median_ms: median(amazonMs),
    baseline_median_ms: base ? median(amazonBaseMs) : null,
    peak_memory_mb: wasm.memory_bytes() / MB,
    steps: JSON.parse(wasm.steps_json('amazon', product)),
  };

  const photos = [];
  for (const name of files) {
    const buf = readFileSync(join(args.photos, name));
    const meta = await sharp(buf).metadata();
    // Warm-up: the first call compiles the WASM hot paths (V8 tiers up) and loads libvips' codecs.
    const w0 = wasm.fit2048(buf);
    const s0 = await sharpFit2048(buf);
    await check(`${name} (wasm)`, w0, 2048, 2048);
    await check(`${name} (sharp)`, s0, 2048, 2048);
    const wasmMs = [];
    const sharpMs = [];
    const baseMs = [];
    if (base) await check(`${name} (baseline)`, base.fit2048(buf), 2048, 2048);
    for (let i = 0; i < args.runs; i++) {
      wasmMs.push((await time(() => wasm.fit2048(buf)))[0]);
      sharpMs.push((await time(() => sharpFit2048(buf)))[0]);
      if (base) baseMs.push((await time(() => base.fit2048(buf)))[0]);
    }
    photos.push({
      photo: name,
      width: meta.width,
      height: meta.height,
      progressive: Boolean(meta.isProgressive),
      wasm_ms: wasmMs,
      sharp_ms: sharpMs,
      wasm_median_ms: median(wasmMs),
      sharp_median_ms: median(sharpMs),
      ratio: median(wasmMs) / median(sharpMs),
      baseline_median_ms: base ? median(baseMs) : null,
      wasm_bytes: w0.length,
      sharp_bytes: s0.length,
      psnr_wasm_vs_sharp_db: await psnr(w0, s0),
      wasm_steps: JSON.parse(wasm.steps_json('fit2048', buf)),
    });
  }

  const wasmMean = mean(photos.map((p) => p.wasm_median_ms));
  const sharpMean = mean(photos.map((p) => p.sharp_median_ms));
  const result = {
    bench: 'shotline wasm vs sharp',
    runs: args.runs,
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      loadavg: os.loadavg(),
      node: process.version,
      sharp: sharp.versions,
    },
    fit2048: {
      photos,
      wasm_mean_of_medians_ms: wasmMean,
      sharp_mean_of_medians_ms: sharpMean,
      ratio: wasmMean / sharpMean,
      baseline_mean_of_medians_ms: base ? mean(photos.map((p) => p.baseline_median_ms)) : null,
    },
    amazon,
    memory_mb: { start: memStart / MB, after_amazon: amazon.peak_memory_mb, peak: wasm.memory_bytes() / MB },
  };

  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (x) => x.toFixed(0).padStart(7);
  const load = result.machine.loadavg.map((x) => x.toFixed(2)).join(' ');
  console.log(`${result.machine.cpu}, ${result.machine.cores} cores, load ${load}, node ${process.version}, ` +
    `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, ${args.runs} runs each, medians in ms`);
  console.log('\nfit2048: decode → fit 2048² → pad white → JPEG q85 (one thread each)');
  console.log('photo                                   size         WASM    sharp  WASM/sharp  PSNR dB');
  for (const p of photos) {
    console.log(`${p.photo.padEnd(38)} ${`${p.width}×${p.height}`.padEnd(10)} ${f(p.wasm_median_ms)}  ${f(p.sharp_median_ms)}` +
      `  ${p.ratio.toFixed(2).padStart(10)}  ${p.psnr_wasm_vs_sharp_db.toFixed(1).padStart(7)}`);
  }
  console.log(`${'mean of medians'.padEnd(49)} ${f(wasmMean)}  ${f(sharpMean)}  ${(wasmMean / sharpMean).toFixed(2).padStart(10)}`);
  if (base) {
    const baseMean = result.fit2048.baseline_mean_of_medians_ms;
    console.log(`baseline build (${args.baseline}), same runs: ` +
      photos.map((p) => p.baseline_median_ms.toFixed(0)).join(' / ') +
      ` ms, mean ${baseMean.toFixed(0)}, ${(baseMean / sharpMean).toFixed(2)}× sharp`);
  }
  const steps = (s) => s.map((x) => `${x.step} ${x.ms.toFixed(0)}`).join(', ');
  console.log('\nWASM steps (ms, one run each):');
  for (const p of photos) console.log(`  ${p.photo}: ${steps(p.wasm_steps)}`);
  console.log(`\namazon preset, ${amazon.photo}: median ${amazon.median_ms.toFixed(0)} ms, ` +
    `peak WASM memory ${amazon.peak_memory_mb.toFixed(1)} MB`);
  console.log(`  output ${amazon.output}; steps: ${steps(amazon.steps)}`);
  if (base) console.log(`  baseline build, same runs: median ${amazon.baseline_median_ms.toFixed(0)} ms`);
  if (amazon.problem) console.log(`  NOTE ${amazon.problem}`);
  console.log(`\nWASM memory: ${result.memory_mb.start.toFixed(1)} MB at start, ` +
    `${result.memory_mb.peak.toFixed(1)} MB peak over the whole run`);
}

main().catch((e) => {
  console.error(e.message ?? e);
  process.exit(1);
});
