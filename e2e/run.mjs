// End-to-end check of the built web app: serves dist/ on a loopback port, opens it in Debian's
// headless Chromium with a fresh profile, drops real photos and a text file on the page, and checks
// what a merchant would see. Screenshots go to test-artifacts/. Exits non-zero on any failure.
//
//   scripts/build-web.sh && node e2e/run.mjs
//
// Environment: SHOTLINE_DIST (default dist), SHOTLINE_ARTIFACTS (default test-artifacts),
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { serve, requestFailure } from './support.mjs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const photosDir = path.join(root, 'fixtures/photos');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run scripts/build-web.sh first`);
  }
  const photos = (await readdir(photosDir)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
  if (photos.length === 0) throw new Error(`no photos in ${photosDir}`);
  await mkdir(out, { recursive: true });

  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}/`;
  // launch() gives every run a fresh temporary profile; the flags keep Chromium off the network.
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => { const e = requestFailure(r); if (e) errors.push(e); });
    page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));

    console.log(`serving ${dist} at ${base}`);
    const t0 = Date.now();
    await page.goto(base);
    await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    console.log(`page ready in ${Date.now() - t0} ms`);

    check((await page.locator('h1').textContent())?.trim() === 'Shotline', 'the header says Shotline');
    const workflows = await page.getByTestId('workflow-option').count();
    check(workflows >= 1, `the picker lists workflows (${workflows})`);
    check(await page.getByTestId('empty-state').isVisible(), 'the empty state shows before any photo');
    check(
      await page.getByLabel(/choose files/).count() === 1,
      'the file input is labelled "Drop product photos here, or choose files"',
    );
    // The file input is reachable from the keyboard.
    let focused = false;
    for (let i = 0; i < 20 && !focused; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'file-input');
    }
    check(focused, 'Tab reaches the file input');
    await page.screenshot({ path: path.join(out, '01-empty.png'), fullPage: true });

    const files = [
      ...(await Promise.all(
        photos.map(async (f) => ({
          name: f,
          mimeType: /\.png$/i.test(f) ? 'image/png' : /\.webp$/i.test(f) ? 'image/webp' : 'image/jpeg',
          buffer: await readFile(path.join(photosDir, f)),
        })),
      )),
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo\n') },
    ];
    const t1 = Date.now();
    await page.getByTestId('file-input').setInputFiles(files);
    // The engine runs in web workers, so the progress line is painted while they work.
    const sawProgress = await page
      .getByTestId('progress')
      .filter({ hasText: /Processing: \d+ of \d+ done/ })
      .waitFor({ timeout: 10_000 })
      .then(() => true, () => false);
    check(sawProgress, 'the page shows "Processing: n of m done" while it works');
    if (sawProgress) await page.screenshot({ path: path.join(out, '02-processing.png'), fullPage: true });
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('[data-testid=photo-result]').length >= n &&
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])') &&
        !document.querySelector('[data-testid=progress]')?.textContent,
      files.length,
      { timeout: 180_000, polling: 200 },
    );
    console.log(`${files.length} files processed in ${Date.now() - t1} ms`);

    for (const name of photos) {
      const card = page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: name }) });
      const status = await card.getAttribute('data-status');
      const error = status === 'ok' ? '' : ` (${await card.getByTestId('photo-error').textContent()})`;
      check(status === 'ok', `${name}: processed${error}`);
      const artifacts = card.getByTestId('artifact');
      check((await artifacts.count()) >= 1, `${name}: at least one artifact`);
      if ((await artifacts.count()) === 0) continue;
      const first = artifacts.first();
      const facts = await first.getByTestId('artifact-facts').textContent();
      check(/\d+ × \d+ px · \d/.test(facts ?? ''), `${name}: artifact shows dimensions and size (${facts})`);
      check((await first.getAttribute('data-mime'))?.startsWith('image/'), `${name}: artifact is an image`);
      const link = first.getByTestId('download');
      check(((await link.getAttribute('href')) ?? '').startsWith('blob:'), `${name}: Download links to a blob`);
      check(
        await card.getByTestId('after').evaluate((img) => img.complete && img.naturalWidth > 0),
        `${name}: the "after" thumbnail loaded`,
      );
      check(
        await card.getByTestId('before').evaluate((img) => img.complete && img.naturalWidth > 0),
        `${name}: the "before" thumbnail loaded`,
      );
      const ms = await card.locator('.photo-head .subdued').textContent();
      console.log(`       ${name}: ${ms} · ${facts}`);
    }

    // The first download really gives the file.
    const firstName = await page.getByTestId('artifact-name').first().textContent();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').first().click()]);
    const saved = path.join(out, `download-${download.suggestedFilename()}`);
    await download.saveAs(saved);
    const size = (await stat(saved)).size;
    check(download.suggestedFilename() === firstName && size > 0, `Download saves ${firstName} (${size} bytes)`);

    const txt = page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: 'notes.txt' }) });
    check((await txt.getAttribute('data-status')) === 'failed', 'notes.txt: shown as failed');
    const reason = (await txt.getByTestId('photo-error').textContent()) ?? '';
    check(
      reason.startsWith('notes.txt: ') && reason.includes('not a JPEG, PNG or WebP image'),
      `notes.txt: the reason is on its card (${reason})`,
    );
    check((await txt.getByTestId('artifact').count()) === 0, 'notes.txt: no artifact');

    // Open the step log of the first photo for the screenshot.
    await page.getByTestId('step-log').first().locator('summary').click();
    await page.screenshot({ path: path.join(out, '03-results.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(out, '04-results-narrow.png'), fullPage: true });

    check(errors.length === 0, `no console errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`screenshots in ${out}`);
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall end-to-end checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
