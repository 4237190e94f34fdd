// The merchant's whole journey, end to end, in headless Chromium from an empty profile:
// Workflows → "Use this template" (Shopify + Instagram pack) → in the editor, add an IF on
// product.category with a step in THEN → Process photos: pick that workflow, give a folder of three
// real photos plus a products CSV → "Download all (ZIP)" → check inside it the image sizes, the
// pure-white borders, the listing.csv rows and that the IF took the right branch per product →
// "Copy link" → open the link in a fresh browser context (no shared storage, no server behind the
// link) and see the same steps → "Use this workflow" makes a copy there.
// Screenshots of each screen go to test-artifacts/flow-*.png. Exits non-zero on any failure.
//
//   trunk build && node e2e/flow.mjs
import { mkdir, mkdtemp, readFile, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch, unzip } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
// Real photographs (fixtures/photos) under the file names fixtures/products.csv knows.
const AS = { 'mug.jpg': 'astronaut.jpg', 'ring.jpg': 'coffee.jpg', 'shoe.jpg': 'rocket.jpg' };
const SKU = { 'mug.jpg': 'MUG-RED-01', 'ring.jpg': 'RING-925-07', 'shoe.jpg': 'SHOE-BL-42' };
// products.csv: only the ring is in category Jewelry.
const BRANCH = { 'mug.jpg': 'else', 'ring.jpg': 'then', 'shoe.jpg': 'else' };
const SIZES = ['2048x2048', '1080x1080', '1080x1350'];

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function watch(page, name, errors) {
  page.on('console', (m) => m.type() === 'error' && errors.push(`${name}: console: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`${name}: page error: ${e.message}`));
}

/** The outline of a workflow's steps, as the read-only step list words it. */
const outline = (scope) => scope.getByTestId('step-line').allTextContents();

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build first`);
  await mkdir(out, { recursive: true });
  const folder = await mkdtemp(path.join(os.tmpdir(), 'shotline-flow-'));
  for (const [name, src] of Object.entries(AS)) await copyFile(path.join(root, 'fixtures/photos', src), path.join(folder, name));
  await copyFile(path.join(root, 'fixtures/products.csv'), path.join(folder, 'products.csv'));

  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launch();
  const errors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    watch(page, 'merchant', errors);
    const foreign = [];
    page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:') && foreign.push(r.url()));

    // --- Workflows: the gallery, "Use this template"
    await page.goto(`${base}/workflows`);
    await page.getByTestId('template-card').first().waitFor({ timeout: 30_000 });
    check((await page.getByTestId('no-workflows').count()) === 1, 'an empty profile has no workflows of its own and says what to do');
    // The app adds the cards after the page's load event, so wait for their pictures themselves
    // (a broken one never loads: the wait times out and the check below fails).
    await page
      .waitForFunction(
        () => {
          const imgs = [...document.querySelectorAll('[data-testid=template-card] img')];
          return imgs.length >= 10 && imgs.every((i) => i.complete && i.naturalWidth > 0);
        },
        null,
        { timeout: 30_000, polling: 250 },
      )
      .catch(() => {});
    const thumbs = await page.locator('[data-testid=template-card] img').evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
    check(thumbs.length >= 10 && thumbs.every(Boolean), `every template shows its before and after (${thumbs.filter(Boolean).length}/${thumbs.length} loaded)`);
    await page.screenshot({ path: path.join(out, 'flow-1-workflows.png'), fullPage: true });
    await page.locator('[data-testid=template-card][data-template=shopify-instagram]').getByTestId('use-template').click();
    await page.waitForURL(/\/workflows\/local-/);
    await page.getByTestId('flow-editor').waitFor({ timeout: 30_000 });

    // --- Editor: IF product.category is Jewelry THEN reduce glare
    await page.getByTestId('add-step').last().click();
    await page.getByTestId('palette').locator('[data-kind=if]').click();
    const iff = page.locator('[data-testid=step][data-kind=if]').last();
    const ifPath = await iff.getAttribute('data-path');
    await iff.getByTestId('rule-field').fill('product.category');
    await iff.getByTestId('rule-field').dispatchEvent('change');
    await iff.getByTestId('rule-value').fill('Jewelry');
    await iff.getByTestId('rule-value').dispatchEvent('change');
    await iff.locator(`[data-testid=add-step][data-list="${ifPath}.then"]`).click();
    await page.getByTestId('palette').locator('[data-kind=reduce_glare]').click();
    check(
      (await page.locator(`[data-testid=step][data-path="${ifPath}.then[0]"]`).getAttribute('data-kind')) === 'reduce_glare',
      'the editor put "Reduce glare" in the IF\'s THEN',
    );
    await page.waitForFunction(() => document.querySelector('[data-testid=save-state]')?.getAttribute('data-state') === 'saved');
    await page.screenshot({ path: path.join(out, 'flow-2-editor.png'), fullPage: true });

    // --- Process photos: my workflow, a folder of photos with its products CSV
    await page.getByTestId('nav-run').click();
    const mine = page.locator('[data-testid=workflow-option][data-mine=true]');
    await mine.first().waitFor({ timeout: 30_000 });
    check(((await mine.first().textContent()) ?? '').includes('Shopify + Instagram pack (copy)'), 'the run screen offers my copy first');
    await mine.first().click();
    await page.getByTestId('folder-input').setInputFiles(folder);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid=photo-result]').length === 3 &&
        !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])'),
      null,
      { timeout: 300_000, polling: 250 },
    );
    const statuses = await page.getByTestId('photo-result').evaluateAll((els) => els.map((e) => e.dataset.status));
    check(statuses.every((s) => s === 'ok'), `all three photos processed (${statuses.join(', ')})`);
    await page.screenshot({ path: path.join(out, 'flow-3-results.png'), fullPage: true });

    // --- the ZIP
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-zip').click()]);
    const zipPath = path.join(out, 'flow-results.zip');
    await download.saveAs(zipPath);
    const files = unzip(await readFile(zipPath));
    check(files.every((f) => f.crcOk), 'every ZIP entry passes its CRC-32');
    const images = files.filter((f) => /\.(jpe?g|png|webp)$/i.test(f.name));
    const measured = await page.evaluate(async (list) => {
      const res = [];
      for (const b64 of list) {
        const bmp = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]));
        const ctx = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d');
        ctx.drawImage(bmp, 0, 0);
        const { data } = ctx.getImageData(0, 0, bmp.width, bmp.height);
        let min = 255;
        const [w, h] = [bmp.width, bmp.height];
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x += y === 0 || y === h - 1 ? 1 : w - 1) {
          const i = (y * w + x) * 4;
          min = Math.min(min, data[i], data[i + 1], data[i + 2]);
        }
        res.push({ size: `${w}x${h}`, min });
      }
      return res;
    }, images.map((f) => f.data.toString('base64')));
    const sizes = measured.map((m) => m.size).sort();
    check(JSON.stringify(sizes) === JSON.stringify([...SIZES, ...SIZES, ...SIZES].sort()), `the ZIP has each photo at 2048², 1080² and 1080×1350 (${sizes.join(' ')})`);
    check(measured.every((m) => m.min >= 250), `every image's outermost pixels are white (darkest ${Math.min(...measured.map((m) => m.min))})`);
    const rows = (files.find((f) => f.name === 'listing.csv')?.data.toString('utf8') ?? '').trim().split('\n');
    check(rows.length === 4, `listing.csv has a header and a row per photo (${rows.length - 1})`);
    for (const [name, sku] of Object.entries(SKU)) {
      check(rows.some((r) => r.startsWith(`${name},`) && r.includes(sku)), `listing.csv: ${name} carries SKU ${sku}`);
    }
    const report = JSON.parse(files.find((f) => f.name === 'report.json')?.data.toString('utf8') ?? '{}');
    for (const [name, branch] of Object.entries(BRANCH)) {
      const photo = report.photos?.find((p) => p.file === name);
      const took = photo?.steps?.find((s) => s.path === ifPath)?.message;
      check(took === branch, `report.json: the IF took ${branch.toUpperCase()} for ${name} (${took})`);
      const glare = photo?.steps?.some((s) => s.path === `${ifPath}.then[0]` && s.step === 'reduce_glare');
      check(glare === (branch === 'then'), `report.json: ${name} ${branch === 'then' ? 'had' : 'skipped'} the glare fix`);
    }

    // --- Copy link, open it in a fresh context
    await page.getByTestId('nav-workflows').click();
    const row = page.getByTestId('my-workflow').filter({ hasText: 'Shopify + Instagram pack (copy)' });
    await row.waitFor({ timeout: 30_000 });
    await row.getByTestId('copy-link').click();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    check(link.startsWith(`${base}/link#w1.`), `"Copy link" puts a link with the workflow in its fragment on the clipboard (${link.length} characters)`);
    await row.getByTestId('edit-workflow').click();
    const mySteps = await outline(row.getByTestId('workflow-editor'));

    const fresh = await browser.newContext({ viewport: { width: 820, height: 1000 } });
    const other = await fresh.newPage();
    watch(other, 'recipient', errors);
    const sent = [];
    other.on('request', (r) => r.url().includes('/api/') && sent.push(r.url()));
    await other.goto(link);
    await other.getByTestId('shared-name').waitFor({ timeout: 30_000 });
    const theirSteps = await outline(other);
    check(mySteps.length > 0 && JSON.stringify(theirSteps) === JSON.stringify(mySteps), `the link shows the same ${theirSteps.length} steps`);
    check(theirSteps.some((s) => /Jewelry/.test(s)), 'including the IF on the category');
    check(sent.length === 0, 'opening the link asks no server for anything');
    await other.screenshot({ path: path.join(out, 'flow-4-link.png'), fullPage: true });
    await other.getByTestId('use-workflow').click();
    await other.waitForURL(/\/workflows\/local-/);
    await other.getByTestId('flow-editor').waitFor({ timeout: 30_000 });
    const kinds = await other.locator('[data-testid=step]').evaluateAll((els) => els.map((e) => e.dataset.kind));
    check(kinds.includes('if') && kinds.includes('reduce_glare'), `"Use this workflow" opens the recipient's own copy in the editor (${kinds.join(', ')})`);

    // A damaged link says so instead of showing a blank page.
    await other.goto(link.slice(0, -40));
    const damaged = (await other.getByTestId('shared-error').textContent({ timeout: 30_000 })) ?? '';
    check(/damaged/.test(damaged), `a cut-short link says it is damaged (${damaged})`);
    await other.screenshot({ path: path.join(out, 'flow-5-damaged-link.png') });

    check(foreign.length === 0, `photos never leave the device: no request outside the app (${foreign.join(' ')})`);
    check(errors.length === 0, `no console errors or page errors (${errors.join(' | ')})`);
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nflow: all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
