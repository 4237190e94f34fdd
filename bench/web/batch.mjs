// The Run screen under load: 20 twelve-megapixel photos through "Shopify + Instagram pack" in
// headless Chromium, on the release build in dist/ (scripts/build-web.sh). Prints the batch time, the
// time a photo, the longest main-thread long task during the batch (PerformanceObserver 'longtask'),
// the first-screen time, and the gzipped sizes of the app shell (main .wasm + .js) and the worker.
//
//   scripts/build-web.sh && node bench/web/batch.mjs [--photos 20]
//
// The 12 MP photos are made at bench time, not committed: each fixture photo is drawn at 4000×3000
// on a canvas in Chromium and encoded as a baseline JPEG (quality 92, like a phone camera), cached in
// bench-data/web/.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, watchLongTasks } from '../../e2e/support.mjs';
import { twelveMegapixel } from './photos.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const cache = path.join(root, 'bench-data/web');
const argi = process.argv.indexOf('--photos');
const COUNT = argi > 0 ? Number(process.argv[argi + 1]) : 20;
const SOURCES = ['astronaut.jpg', 'coffee.jpg', 'rocket.jpg'];

async function makePhotos(browser) {
  await mkdir(cache, { recursive: true });
  const page = await browser.newPage();
  const photos = [];
  for (const src of SOURCES) {
    const target = path.join(cache, src.replace('.jpg', '-12mp.jpg'));
    photos.push(await twelveMegapixel(page, path.join(root, 'fixtures/photos', src), target));
  }
  await page.close();
  return photos;
}

async function shellSizes() {
  const files = await readdir(dist);
  const row = async (f) => {
    const raw = await readFile(path.join(dist, f));
    return { file: f, bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  };
  const main = await Promise.all(files.filter((f) => /^shotline-web.*\.(wasm|js)$/.test(f)).map(row));
  const worker = await Promise.all(files.filter((f) => /^shotline-worker.*\.(wasm|js)$/.test(f)).map(row));
  return { main, worker };
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run scripts/build-web.sh`);
  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch();
  try {
    const photos = await makePhotos(browser);
    // Files on disk, so Chromium takes them as a file picker would (buffers would be decoded by
    // Playwright's own script in the page, a long task that is not the app's).
    const dir = path.join(cache, 'batch');
    await mkdir(dir, { recursive: true });
    const files = [];
    for (let i = 0; i < COUNT; i++) {
      const f = path.join(dir, `photo-${String(i + 1).padStart(2, '0')}.jpg`);
      if (!existsSync(f)) await writeFile(f, photos[i % photos.length]);
      files.push(f);
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await watchLongTasks(page);
    const t0 = Date.now();
    await page.goto(base);
    await page.getByTestId('file-input').waitFor({ state: 'attached', timeout: 30_000 });
    await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    const firstScreen = Date.now() - t0;
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.getByTestId('workflow-option').filter({ hasText: 'Shopify + Instagram pack' }).click();
    await page.evaluate(() => {
      window.__longtasks.length = 0;
      window.__longtaskEntries.length = 0;
      window.__t1 = performance.now();
    });

    const t1 = Date.now();
    await page.getByTestId('file-input').setInputFiles(files);
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('[data-testid=photo-result]').length === n &&
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])') &&
        !document.querySelector('[data-testid=progress]')?.textContent,
      COUNT,
      { timeout: 1_800_000, polling: 200 },
    );
    const batch = Date.now() - t1;
    const longTasks = await page.evaluate(() => window.__longtasks.slice());
    const longEntries = await page.evaluate(() => window.__longtaskEntries.slice());
    const ok = await page.locator('[data-testid=photo-result][data-status=ok]').count();
    const engine = await page.getByTestId('results').getAttribute('data-engine');
    const perPhotoEngine = await page.$$eval('[data-testid=photo-result] .photo-head .subdued', (els) =>
      els.map((e) => parseFloat(e.textContent)).filter((n) => !Number.isNaN(n)),
    );
    const sizes = await shellSizes();
    const shell = sizes.main.reduce((s, f) => s + f.gzip, 0);
    const workerGz = sizes.worker.reduce((s, f) => s + f.gzip, 0);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const result = {
      photos: COUNT,
      ok,
      engine,
      workers: cores,
      batch_ms: batch,
      per_photo_ms: Math.round(batch / COUNT),
      engine_ms_median: Math.round(median(perPhotoEngine)),
      long_tasks: longTasks.length,
      longest_task_ms: Math.round(Math.max(0, ...longTasks)),
      long_task_entries: longEntries,
      first_screen_ms: firstScreen,
      shell_gzip_bytes: shell,
      worker_gzip_bytes: workerGz,
      files: [...sizes.main, ...sizes.worker],
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\n${COUNT} × 12 MP through "Shopify + Instagram pack" on ${cores} workers: ${(batch / 1000).toFixed(1)} s ` +
        `(${result.per_photo_ms} ms a photo; engine median ${result.engine_ms_median} ms a photo in a worker); ` +
        `longest main-thread task ${result.longest_task_ms} ms (${longTasks.length} over 50 ms); ` +
        `first screen ${firstScreen} ms; shell ${(shell / 1024).toFixed(0)} KB gzip, worker ${(workerGz / 1024).toFixed(0)} KB gzip`,
    );
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
