// End-to-end check of a batch on the Run screen: a folder of 3 real photos, a products CSV and a
// text file goes through "Shopify + Instagram pack" in the web workers; "Download all (ZIP)" gives
// every image, listing.csv and report.json, which are unpacked and checked here (sizes, pure-white
// borders, CRCs, product rows). Then a batch is cancelled mid-way and the pool still works after.
// Screenshots go to test-artifacts/. Exits non-zero on any failure.
//
//   trunk build && node e2e/batch.mjs
//
// Environment: SHOTLINE_DIST (default dist), SHOTLINE_ARTIFACTS (default test-artifacts),
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, readFile, writeFile, copyFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, unzip, watchLongTasks, requestFailure } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const photos = path.join(root, 'fixtures/photos');

// The fixture photos under the names fixtures/products.csv knows.
const AS = { 'mug.jpg': 'astronaut.jpg', 'ring.jpg': 'coffee.jpg', 'shoe.jpg': 'rocket.jpg' };
const SKU = { 'mug.jpg': 'MUG-RED-01', 'ring.jpg': 'RING-925-07', 'shoe.jpg': 'SHOE-BL-42' };
// What "Shopify + Instagram pack" exports for each photo (channels.rs).
const SIZES = ['2048x2048', '1080x1080', '1080x1350'];

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build first`);
  await mkdir(out, { recursive: true });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'shotline-batch-'));
  for (const [name, src] of Object.entries(AS)) await copyFile(path.join(photos, src), path.join(folder, name));
  await copyFile(path.join(root, 'fixtures/products.csv'), path.join(folder, 'products.csv'));
  await writeFile(path.join(folder, 'notes.txt'), 'not a photo\n');

  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await watchLongTasks(page);
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => { const e = requestFailure(r); if (e) errors.push(e); });
    page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
    // Photos never leave the device: nothing but the app's own files is requested.
    const requests = [];
    page.on('request', (r) => requests.push(r));

    await page.goto(base);
    await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('workflow-option').filter({ hasText: 'Shopify + Instagram pack' }).click();
    check(
      await page.getByTestId('folder-input').evaluate((el) => el.webkitdirectory && !!el.labels?.length),
      'the folder picker is a labelled directory input',
    );
    check(await page.getByRole('button', { name: 'Add products CSV' }).isVisible(), 'an "Add products CSV" button shows');

    // --- a folder: 3 photos, the products CSV, a text file
    const t0 = Date.now();
    await page.evaluate(() => (window.__longtasks.length = 0));
    await page.getByTestId('folder-input').setInputFiles(folder);
    const sawBar = await page.getByTestId('run-bar').waitFor({ timeout: 10_000 }).then(() => true, () => false);
    check(sawBar, 'an overall progress bar shows while the batch runs');
    const line = (await page.getByTestId('progress').textContent()) ?? '';
    check(/Processing: \d+ of 4 done/.test(line), `the progress line counts the batch (${line})`);
    check(await page.getByTestId('cancel').isVisible(), 'a Cancel button shows while the batch runs');
    check(
      (await page.locator('[data-testid=photo-result][data-status=queued], [data-testid=photo-result][data-status=processing]').count()) > 0,
      'photos show as queued or processing',
    );
    await page.screenshot({ path: path.join(out, '10-batch-running.png'), fullPage: true });
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid=photo-result]').length === 4 &&
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])') &&
        !document.querySelector('[data-testid=progress]')?.textContent,
      null,
      { timeout: 300_000, polling: 250 },
    );
    const batchMs = Date.now() - t0;
    const longest = await page.evaluate(() => Math.max(0, ...window.__longtasks));
    console.log(`       folder batch: ${batchMs} ms, longest main-thread task ${longest.toFixed(0)} ms`);

    check((await page.getByTestId('results').getAttribute('data-engine')) === 'workers', 'the photos ran in web workers');
    check(
      ((await page.getByTestId('products-name').textContent()) ?? '').includes('products.csv · 3 products'),
      'the products CSV from the folder is in use',
    );
    for (const name of Object.keys(AS)) {
      const card = page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: name }) });
      const status = await card.getAttribute('data-status');
      const err = status === 'ok' ? '' : ` (${await card.getByTestId('photo-error').textContent()})`;
      check(status === 'ok', `${name}: processed${err}`);
      check((await card.getByTestId('artifact').count()) === 3, `${name}: three images`);
      check((await card.getByTestId('compliance').count()) === 3, `${name}: a compliance badge per image`);
      check((await card.getByTestId('copy').count()) === 1, `${name}: generated listing copy shows`);
    }
    const txt = page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: 'notes.txt' }) });
    check((await txt.getAttribute('data-status')) === 'failed', 'notes.txt: refused');
    const reason = (await txt.getByTestId('photo-error').textContent()) ?? '';
    check(reason.startsWith('notes.txt: ') && reason.includes('not a JPEG, PNG or WebP image'), `notes.txt: says why (${reason})`);
    await page.getByTestId('step-log').first().locator('summary').click();
    await page.screenshot({ path: path.join(out, '11-batch-done.png'), fullPage: true });

    // --- Download all (ZIP)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-zip').click()]);
    const zipPath = path.join(out, 'shotline-results.zip');
    await download.saveAs(zipPath);
    check(download.suggestedFilename() === 'shotline-results.zip', `the ZIP is named ${download.suggestedFilename()}`);
    const files = unzip(await readFile(zipPath));
    const names = files.map((f) => f.name);
    console.log(`       ZIP: ${names.join(', ')}`);
    check(files.every((f) => f.crcOk), 'every ZIP entry passes its CRC-32');
    check(names.includes('listing.csv') && names.includes('report.json'), 'the ZIP has listing.csv and report.json');
    const images = files.filter((f) => /\.(jpe?g|png|webp)$/i.test(f.name));
    check(images.length === 9, `the ZIP has 9 images (${images.length})`);
    const decoded = await page.evaluate(async (list) => {
      const out = [];
      for (const { name, b64 } of list) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bmp = await createImageBitmap(new Blob([bytes]));
        const canvas = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bmp, 0, 0);
        const { data } = ctx.getImageData(0, 0, bmp.width, bmp.height);
        // The outermost 2 px ring: the darkest channel value found there.
        let min = 255;
        const w = bmp.width, h = bmp.height;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            if (x > 1 && x < w - 2 && y > 1 && y < h - 2) { x = w - 3; continue; }
            const i = (y * w + x) * 4;
            min = Math.min(min, data[i], data[i + 1], data[i + 2]);
          }
        }
        out.push({ name, size: `${w}x${h}`, borderMin: min });
      }
      return out;
    }, images.map((f) => ({ name: f.name, b64: f.data.toString('base64') })));
    for (const d of decoded) console.log(`       ${d.name}: ${d.size}, darkest border value ${d.borderMin}`);
    const sizes = decoded.map((d) => d.size).sort();
    check(
      JSON.stringify(sizes) === JSON.stringify([...SIZES, ...SIZES, ...SIZES].sort()),
      `each photo gives 2048², 1080² and 1080×1350 images (${sizes.join(' ')})`,
    );
    // JPEG keeps pure white within a couple of levels.
    check(decoded.every((d) => d.borderMin >= 250), 'every image has a pure-white border');
    const csv = files.find((f) => f.name === 'listing.csv')?.data.toString('utf8') ?? '';
    const rows = csv.trim().split('\n');
    check(rows[0].startsWith('file,sku,title,description'), 'listing.csv has its header');
    check(rows.length === 5, `listing.csv has a row per file (${rows.length - 1})`);
    for (const [name, sku] of Object.entries(SKU)) {
      const row = rows.find((r) => r.startsWith(`${name},`)) ?? '';
      check(row.includes(sku) && row.endsWith(',ok'), `listing.csv: ${name} has its SKU ${sku} and status ok`);
    }
    check(rows.some((r) => r.startsWith('notes.txt,') && r.includes('failed')), 'listing.csv: notes.txt is marked failed');
    const report = JSON.parse(files.find((f) => f.name === 'report.json')?.data.toString('utf8') ?? '{}');
    check(report.ok === 3 && report.failed === 1 && report.workflow === 'Shopify + Instagram pack', `report.json counts 3 ok, 1 failed`);

    // --- one file's download still works
    const [single] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').first().click()]);
    check(single.suggestedFilename().length > 0, `one file downloads on its own (${single.suggestedFilename()})`);

    // --- cancel mid-batch, then the pool still works
    await page.getByTestId('clear').click();
    const many = [];
    for (let i = 1; i <= 10; i++) {
      const src = Object.values(AS)[i % 3];
      many.push({ name: `copy-${String(i).padStart(2, '0')}.jpg`, mimeType: 'image/jpeg', buffer: await readFile(path.join(photos, src)) });
    }
    await page.getByTestId('file-input').setInputFiles(many);
    await page.locator('[data-testid=photo-result][data-status=processing]').first().waitFor({ timeout: 20_000 });
    await page.getByTestId('cancel').click();
    await page.waitForFunction(() => !document.querySelector('[data-testid=progress]')?.textContent, null, { timeout: 10_000 });
    const count = (s) => page.locator(`[data-testid=photo-result][data-status=${s}]`).count();
    const cancelled = await count('cancelled');
    check(cancelled > 0, `Cancel stops the batch (${cancelled} of 10 not processed)`);
    check((await count('queued')) + (await count('processing')) === 0, 'nothing is left queued or processing');
    check(/Cancelled/.test((await page.getByTestId('run-summary').textContent()) ?? ''), 'the summary says the batch was cancelled');
    await page.waitForTimeout(1500);
    check((await count('cancelled')) === cancelled, 'no cancelled photo comes back later');
    await page.screenshot({ path: path.join(out, '12-cancelled.png'), fullPage: true });
    await page.getByTestId('file-input').setInputFiles([
      { name: 'after-cancel.jpg', mimeType: 'image/jpeg', buffer: await readFile(path.join(photos, 'coffee.jpg')) },
    ]);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=photo-result]')?.getAttribute('data-status') === 'ok',
      null,
      { timeout: 120_000, polling: 250 },
    );
    check(true, 'after Cancel, the next photo is processed (the workers were replaced)');

    await page.setViewportSize({ width: 820, height: 1180 });
    await page.screenshot({ path: path.join(out, '13-tablet.png'), fullPage: true });

    const foreign = requests.filter((r) => !r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'));
    check(foreign.length === 0, `no request leaves the app's origin${foreign.length ? `: ${foreign.map((r) => r.url()).join(', ')}` : ''}`);
    check(errors.length === 0, `no console errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
  } finally {
    await browser.close();
    server.close();
    await rm(folder, { recursive: true, force: true });
  }
  console.log(`screenshots in ${out}`);
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall batch checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
