// End-to-end check that a panic in the engine's web worker costs one photo (or one preview), never
// the page. The real worker script is served wrapped: the wrapper passes every message to the real
// engine, except that a photo named breaks-the-engine.jpg, or a preview asked for the product
// category "breaks-the-engine", gets what a Rust panic in the worker sends — the panic hook's
// ["panic", message] — followed by the trap that ends the instance. The page must fail that photo
// with the reason, carry on with the others on a fresh worker, and keep previewing afterwards.
// Screenshots go to test-artifacts/. Exits non-zero on any failure.
//
//   trunk build && node e2e/worker-panic.mjs
//
// Environment: SHOTLINE_DIST (default dist), SHOTLINE_ARTIFACTS (default test-artifacts),
// CHROMIUM (default /usr/bin/chromium).
import { mkdir, mkdtemp, copyFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, requestFailure } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const photos = path.join(root, 'fixtures/photos');

/** Runs before the real worker script: catches its onmessage and breaks on the marked inputs. */
const WRAPPER = `
let real = null;
Object.defineProperty(self, 'onmessage', { configurable: true, get: () => real, set: (f) => { real = f; } });
self.addEventListener('message', (ev) => {
  const d = ev.data;
  const photo = Array.isArray(d) && typeof d[0] === 'number' && d[2] === 'breaks-the-engine.jpg';
  const preview = Array.isArray(d) && d[0] === 'show' && d[4] === 'breaks-the-engine';
  if (photo || preview) {
    self.postMessage(['panic', 'panicked at src/worker.rs:1:1: a test panic']);
    throw new WebAssembly.RuntimeError('unreachable');
  }
  if (real) real(ev);
});
`;

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build first`);
  await mkdir(out, { recursive: true });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'shotline-panic-'));
  const files = ['good-1.jpg', 'breaks-the-engine.jpg', 'good-2.jpg'];
  for (const name of files) await copyFile(path.join(photos, 'coffee.jpg'), path.join(folder, name));

  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route('**/shotline-worker_loader.js', async (route) => {
      const real = await route.fetch();
      route.fulfill({ response: real, body: WRAPPER + (await real.text()) });
    });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => { const e = requestFailure(r); if (e) errors.push(e); });

    // --- a batch with one photo that panics the engine
    await page.goto(base);
    await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('workflow-option').filter({ hasText: 'Amazon main image' }).first().click();
    await page.getByTestId('file-input').setInputFiles(files.map((f) => path.join(folder, f)));
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('[data-testid=photo-result]').length === n &&
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])'),
      files.length,
      { timeout: 180_000, polling: 250 },
    );
    check((await page.getByTestId('results').getAttribute('data-engine')) === 'workers', 'the photos ran in web workers');
    const card = (name) => page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: name }) });
    const broken = card('breaks-the-engine.jpg');
    check((await broken.getAttribute('data-status')) === 'failed', 'the photo that panicked the engine failed');
    const reason = (await broken.getByTestId('photo-error').textContent()) ?? '';
    check(
      reason.startsWith('breaks-the-engine.jpg: the engine stopped on this photo') && reason.includes('a test panic'),
      `it says why, on its own card (${reason})`,
    );
    for (const name of ['good-1.jpg', 'good-2.jpg']) {
      check((await card(name).getAttribute('data-status')) === 'ok', `${name}: processed all the same`);
    }
    await page.screenshot({ path: path.join(out, '40-worker-panic-batch.png'), fullPage: true });

    // The pool replaced the worker: another batch runs.
    await page.getByTestId('file-input').setInputFiles([path.join(folder, 'good-1.jpg')]);
    await page.waitForFunction(
      () =>
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])') &&
        [...document.querySelectorAll('[data-testid=photo-result]')].filter((c) => c.dataset.status === 'ok').length >= 3,
      null,
      { timeout: 120_000, polling: 250 },
    );
    check(true, 'a later photo runs on the replacement worker');

    // --- the editor's preview: a panic shows on the preview, the next change previews again
    await page.goto(new URL('workflows', base).href);
    await page.locator('[data-testid=template-card][data-template=amazon-main]').getByTestId('use-template').click();
    await page.getByTestId('flow-editor').waitFor({ timeout: 30_000 });
    const preview = page.getByTestId('preview');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=preview]')?.dataset.version) > 0, null, { timeout: 60_000 });
    await page.getByTestId('preview-category').fill('breaks-the-engine');
    await page.getByTestId('preview-error').waitFor({ timeout: 30_000 });
    const previewError = (await page.getByTestId('preview-error').textContent()) ?? '';
    check(previewError.includes('the preview engine stopped') && previewError.includes('a test panic'), `the preview says the engine stopped (${previewError})`);
    // The replacement worker gets the photo again, which must not ask for the same preview (and
    // stop the engine again, over and over).
    const settled = Number(await preview.getAttribute('data-version'));
    await page.waitForTimeout(2000);
    const later = Number(await preview.getAttribute('data-version'));
    check(later === settled, `the preview does not retry on its own (version ${settled} → ${later})`);
    await page.screenshot({ path: path.join(out, '41-worker-panic-preview.png'), fullPage: true });
    const before = Number(await preview.getAttribute('data-version'));
    await page.getByTestId('preview-category').fill('Mugs');
    await page.waitForFunction(
      (v) => {
        const p = document.querySelector('[data-testid=preview]');
        return Number(p?.dataset.version) > v && p?.dataset.ms !== '' && !document.querySelector('[data-testid=preview-error]');
      },
      before,
      { timeout: 60_000 },
    );
    check(true, 'the next change previews again, on a fresh worker with the photo sent again');
    check(errors.length === 0, `no console errors or page errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
  } finally {
    await browser.close();
    server.close();
    await rm(folder, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nworker-panic: all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
