// The neural cut-out in a browser worker: one 12-megapixel product photo (the mug scene drawn at
// 4000×3000, bench/web/photos.mjs) sent straight to the engine
// worker of the build in dist/, as the Run screen sends it. Prints the model's download and load
// time, then the median of several runs of "decode → cut-out" with the model and, as the baseline
// in the same run, with the colour key. Figures go to BENCHMARKS.md.
//
//   scripts/fetch-model.sh && scripts/build-web.sh && node bench/web/cutout.mjs [--runs 5]
//
// The 12 MP photo is made at bench time in Chromium and cached in bench-data/web/ (not committed).
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from '../../e2e/support.mjs';
import { twelveMegapixel } from './photos.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const cache = path.join(root, 'bench-data/web');
const argi = process.argv.indexOf('--runs');
const RUNS = argi > 0 ? Number(process.argv[argi + 1]) : 5;

async function makePhoto(page) {
  await mkdir(cache, { recursive: true });
  return twelveMegapixel(page, path.join(root, 'fixtures/scenes/mug.jpg'), path.join(cache, 'mug-12mp.jpg'));
}

/** Runs the jobs in one engine worker and returns each job's report (and the model's news). */
async function inWorker(page, photo, jobs) {
  return page.evaluate(
    async ([b64, jobs]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const worker = new Worker('/shotline-worker_loader.js');
      const news = [];
      let answer = null;
      worker.onmessage = (ev) => {
        const m = ev.data;
        if (m[0] === 'model') news.push(m.slice(1).join(' '));
        if (m[0] === 'ready' || m[0] === 'done' || m[0] === 'panic') answer?.(m);
      };
      const next = () => new Promise((resolve) => (answer = resolve));
      await next();
      const reports = [];
      for (const [i, workflow] of jobs.entries()) {
        const buf = bytes.slice().buffer;
        const t0 = performance.now();
        worker.postMessage([i, JSON.stringify(workflow), 'mug-12mp.jpg', buf, i + 1, '{}'], [buf]);
        const m = await next();
        const wall = performance.now() - t0;
        if (m[0] === 'panic') return { error: m[1] };
        const r = JSON.parse(m[2]);
        reports.push({ wall, ms: r.ms, status: r.status, error: r.error, steps: r.steps.map((s) => [s.step, s.ms]) });
      }
      worker.terminate();
      return { reports, news };
    },
    [photo.toString('base64'), jobs],
  );
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cut = (method) => ({ schema: 1, name: method, steps: [{ type: 'remove_background', method }] });

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run scripts/build-web.sh`);
  if (!existsSync(path.join(root, 'models/u2netp.onnx'))) throw new Error('models/u2netp.onnx is missing: run scripts/fetch-model.sh');
  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(base);
    const photo = await makePhoto(page);
    // The first neural job fetches and loads the model; the runs after it are timed.
    const jobs = [cut('neural'), ...Array(RUNS).fill(cut('neural')), ...Array(RUNS).fill(cut('color_key'))];
    const res = await inWorker(page, photo, jobs);
    if (res.error) throw new Error(`the worker panicked: ${res.error}`);
    const bad = res.reports.find((r) => r.status !== 'ok');
    if (bad) throw new Error(`a cut-out failed: ${bad.error}`);
    const [first, ...rest] = res.reports;
    const neural = rest.slice(0, RUNS);
    const key = rest.slice(RUNS);
    const step = (name) => (r) => r.steps.find((s) => s[0] === name)?.[1] ?? NaN;
    console.log(`photo: 4000×3000 baseline JPEG, ${(photo.length / 1e6).toFixed(1)} MB; build: ${dist}`);
    console.log(`model: ${res.news.filter((n) => n.startsWith('ready')).join(', ')} (ms); first neural job ${first.ms.toFixed(0)} ms in the engine, ${first.wall.toFixed(0)} ms round trip`);
    for (const [name, rs] of [['neural', neural], ['color_key (baseline)', key]]) {
      console.log(
        `${name}: decode → cut-out median ${median(rs.map((r) => r.ms)).toFixed(0)} ms in the engine ` +
          `(decode ${median(rs.map(step('decode'))).toFixed(0)} ms, cut-out ${median(rs.map(step('remove_background'))).toFixed(0)} ms; round trip ${median(rs.map((r) => r.wall)).toFixed(0)} ms; ` +
          `runs ${rs.map((r) => r.ms.toFixed(0)).join(', ')})`,
      );
    }
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
