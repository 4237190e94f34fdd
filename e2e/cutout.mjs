// End-to-end check of the neural cut-out in the browser: the engine workers fetch U²-Net-p
// (models/u2netp.onnx) the first time a workflow needs it, show the download's progress, and cut
// out the product scenes in fixtures/scenes in WASM; each cut-out's alpha meets the same IoU floor
// against the exact mask as the native test (crates/cutout/tests/cutout.rs). The editor's live
// preview of a neural step fetches the model the same way and shows the cut-out; after a reload the
// workers read the model from the browser's cache. Then, with the model
// missing (HTTP 404), the step fails with a reason that names the colour key, and a colour-key
// workflow still works. Screenshots go to test-artifacts/. Exits non-zero on any failure.
//
//   scripts/fetch-model.sh && trunk build && node e2e/cutout.mjs
//
// Environment: SHOTLINE_DIST (default dist), SHOTLINE_ARTIFACTS (default test-artifacts),
// CHROMIUM (default /usr/bin/chromium).
import { serve, launch, requestFailure } from './support.mjs';
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const fixtures = path.join(root, 'fixtures');
const SCENES = ['mug', 'shoe'];
// The native test's floor for the same scenes and the same refinement.
const IOU_FLOOR = 0.93;

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function workflow(name, method) {
  return {
    schema: 1,
    name,
    description: `remove_background (${method}), then a transparent PNG`,
    steps: [
      { type: 'remove_background', method },
      { type: 'export', format: 'png', name: '{stem}.png' },
    ],
  };
}

/** My workflows as the app stores them (src/library.rs), seeded before the page loads. */
async function seed(context, workflows) {
  const library = {
    workflows: workflows.map((workflow, i) => ({
      id: `local-e2e-${i}`,
      workflow,
      version: 1,
      updated_at: 1_700_000_000_000 + i,
      dirty: false,
    })),
    deleted: [],
  };
  await context.addInitScript((text) => {
    if (!localStorage.getItem('shotline.workflows.v1')) localStorage.setItem('shotline.workflows.v1', text);
  }, JSON.stringify(library));
}

/** Every text the model line shows, in order (the download can be quicker than any poll). */
async function recordModelLines(page) {
  await page.addInitScript(() => {
    window.__modelLines = [];
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid=model-status]');
      const line = el ? `${el.dataset.state}: ${el.textContent}` : null;
      if (line && window.__modelLines.at(-1) !== line) window.__modelLines.push(line);
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

async function runPhotos(page, workflowName, names) {
  await page.getByTestId('workflow-option').filter({ hasText: workflowName }).click();
  const files = await Promise.all(
    names.map(async (n) => ({
      name: `${n}.jpg`,
      mimeType: 'image/jpeg',
      buffer: await readFile(path.join(fixtures, 'scenes', `${n}.jpg`)),
    })),
  );
  await page.getByTestId('file-input').setInputFiles(files);
  await allDone(page, files.length);
}

/** Waits until `n` photo cards are done and the batch's progress line is gone. */
function allDone(page, n) {
  return page.waitForFunction(
    (n) =>
      document.querySelectorAll('[data-testid=photo-result]').length >= n &&
      !document.querySelector('[data-testid=photo-result]:is([data-status=queued],[data-status=processing])') &&
      !document.querySelector('[data-testid=progress]')?.textContent,
    n,
    { timeout: 300_000, polling: 250 },
  );
}

function card(page, name) {
  return page.getByTestId('photo-result').filter({ has: page.locator('h3', { hasText: `${name}.jpg` }) });
}

/** IoU (alpha ≥ 128 against mask ≥ 128) of an artifact's alpha, decoded by the browser. */
async function iouInPage(page, href, maskUrl) {
  return page.evaluate(
    async ([href, maskUrl]) => {
      const pixels = async (url) => {
        const bitmap = await createImageBitmap(await (await fetch(url)).blob(), {
          premultiplyAlpha: 'none',
          colorSpaceConversion: 'none',
        });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0);
        return { w: bitmap.width, h: bitmap.height, data: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data };
      };
      const cut = await pixels(href);
      const mask = await pixels(maskUrl);
      if (cut.w !== mask.w || cut.h !== mask.h) return { error: `size ${cut.w}×${cut.h} vs mask ${mask.w}×${mask.h}` };
      let inter = 0;
      let union = 0;
      let soft = 0;
      for (let i = 0; i < cut.w * cut.h; i++) {
        const a = cut.data[i * 4 + 3] >= 128;
        const b = mask.data[i * 4] >= 128;
        inter += a && b;
        union += a || b;
        const alpha = cut.data[i * 4 + 3];
        soft += alpha > 0 && alpha < 255;
      }
      return { iou: union ? inter / union : 1, soft, w: cut.w, h: cut.h };
    },
    [href, maskUrl],
  );
}

/** The editor's "after" picture: alpha at the corners and centre, and the transparent share. */
async function previewAlpha(page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid=preview-after]');
    if (!c || !c.width) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const at = (x, y) => d[(y * c.width + x) * 4 + 3];
    let clear = 0;
    for (let i = 3; i < d.length; i += 4) clear += d[i] < 128;
    const [w, h] = [c.width - 1, c.height - 1];
    return {
      w: c.width,
      h: c.height,
      corners: [at(0, 0), at(w, 0), at(0, h), at(w, h)],
      centre: at(w >> 1, h >> 1),
      clear: clear / (c.width * c.height),
    };
  });
}

/** Opens the editor on a seeded workflow and waits for its preview (or its error). */
async function openEditor(page, base, id) {
  await page.goto(`${base}workflows/${id}`);
  await page.getByTestId('flow-editor').waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid=preview]')?.getAttribute('data-ms') ||
      document.querySelector('[data-testid=preview-error]'),
    null,
    { timeout: 300_000, polling: 250 },
  );
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run trunk build (or scripts/build-web.sh) first`);
  }
  if (!existsSync(path.join(root, 'models/u2netp.onnx'))) {
    throw new Error('models/u2netp.onnx is missing: run scripts/fetch-model.sh first');
  }
  await mkdir(out, { recursive: true });
  const server = await serve(dist, { '/fixtures/': fixtures });
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launch();
  try {
    // 1. The model is there: lazily fetched with progress, then the cut-outs meet the floor.
    {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await seed(context, [workflow('Neural cut-out (e2e)', 'neural')]);
      const page = await context.newPage();
      await recordModelLines(page);
      const errors = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => { const e = requestFailure(r); if (e) errors.push(e); });
      page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
      // A worker's request can be reported to both the page and the context: one entry each.
      const modelRequests = new Set();
      page.on('request', (r) => r.url().endsWith('/models/u2netp.onnx') && modelRequests.add(r));
      context.on('request', (r) => r.url().endsWith('/models/u2netp.onnx') && modelRequests.add(r));

      await page.goto(base);
      await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
      // Lazy: opening the app does not fetch the model.
      await page.waitForTimeout(1500);
      check(modelRequests.size === 0, 'opening the app does not download the model');
      check((await page.getByTestId('model-status').count()) === 0, 'no model line before a workflow needs it');

      const t0 = Date.now();
      await page.getByTestId('workflow-option').filter({ hasText: 'Neural cut-out (e2e)' }).click();
      const shown = page.getByTestId('model-status').waitFor({ timeout: 60_000 }).then(() => true, () => false);
      await page
        .getByTestId('file-input')
        .setInputFiles(
          await Promise.all(
            SCENES.map(async (n) => ({
              name: `${n}.jpg`,
              mimeType: 'image/jpeg',
              buffer: await readFile(path.join(fixtures, 'scenes', `${n}.jpg`)),
            })),
          ),
        );
      check(await shown, 'the model line appears once a photo needs the model');
      await page.screenshot({ path: path.join(out, 'cutout-01-loading.png'), fullPage: true });
      await allDone(page, SCENES.length);
      console.log(`${SCENES.length} neural cut-outs in ${Date.now() - t0} ms (model download and load included)`);
      const lines = await page.evaluate(() => window.__modelLines);
      console.log(`       model line: ${lines.join(' → ')}`);
      check(
        lines.some((l) => /^loading: Loading the background-removal model: [\d.]+ MB of 4\.6 MB \(\d+%\)/.test(l)),
        'the download shows its progress (MB of 4.6 MB, %)',
      );
      check(lines.some((l) => /^loading: Preparing the background-removal model/.test(l)), 'then that it is preparing it');
      check(/^ready: Background-removal model ready \(loaded in [\d.]+ s\)/.test(lines.at(-1) ?? ''), 'then says the model is ready');
      check(modelRequests.size >= 1, `the workers fetched the model (${modelRequests.size} request(s))`);

      for (const name of SCENES) {
        const c = card(page, name);
        const status = await c.getAttribute('data-status');
        const why = status === 'ok' ? '' : ` (${await c.getByTestId('photo-error').textContent()})`;
        check(status === 'ok', `${name}: cut out${why}`);
        if (status !== 'ok') continue;
        const href = await c.getByTestId('download').first().getAttribute('href');
        const r = await iouInPage(page, href, `/fixtures/masks/${name}-mask.png`);
        if (r.error) {
          check(false, `${name}: ${r.error}`);
          continue;
        }
        console.log(`       ${name}: IoU ${r.iou.toFixed(4)} in WASM, ${r.soft} soft edge pixels, ${r.w}×${r.h}`);
        check(r.iou >= IOU_FLOOR, `${name}: IoU ${r.iou.toFixed(4)} ≥ ${IOU_FLOOR} against the exact mask`);
        check(r.soft > 0, `${name}: the edge is soft (partly transparent pixels)`);
      }
      await page.screenshot({ path: path.join(out, 'cutout-02-done.png'), fullPage: true });

      // The next visit: new workers read the model from this browser's cache, not the network.
      const fetched = modelRequests.size;
      await page.reload();
      await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
      await runPhotos(page, 'Neural cut-out (e2e)', ['mug']);
      check((await card(page, 'mug').getAttribute('data-status')) === 'ok', 'after a reload the neural cut-out works');
      check(modelRequests.size === fetched, `after a reload the model comes from the browser's cache (${modelRequests.size - fetched} new request(s))`);
      const again = await page.evaluate(() => window.__modelLines);
      console.log(`       model line after the reload: ${again.join(' → ')}`);
      check(/^ready: /.test(again.at(-1) ?? ''), 'and the model line says it is ready');
      check(errors.length === 0, `no console errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
      await context.close();
    }

    // 2. The editor's live preview of a neural cut-out: the preview worker fetches the model too
    //    (with the same progress line), then shows the cut-out of the sample photo.
    {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await seed(context, [workflow('Neural preview (e2e)', 'neural')]);
      const page = await context.newPage();
      await recordModelLines(page);
      const errors = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      const t0 = Date.now();
      await openEditor(page, base, 'local-e2e-0');
      // openEditor returns once the preview or its error is there: read the error only if it is
      // (waiting for one that never comes would cost the locator's 30 s timeout).
      const errorEl = page.getByTestId('preview-error');
      const failed = (await errorEl.count()) ? await errorEl.textContent() : null;
      check(!failed, `the editor previews the neural cut-out${failed ? ` (${failed})` : ''}`);
      console.log(`       first preview with the model: ${Date.now() - t0} ms (model download and load included)`);
      const lines = await page.evaluate(() => window.__modelLines);
      console.log(`       model line in the editor: ${lines.join(' → ')}`);
      check(lines.some((l) => l.startsWith('loading: ')), 'the preview shows the model loading');
      check((await page.getByTestId('model-status').count()) === 0, 'and the line goes once the model is ready');
      const a = await previewAlpha(page);
      console.log(`       preview ${a?.w}×${a?.h}: corners α ${a?.corners}, centre α ${a?.centre}, ${((a?.clear ?? 0) * 100).toFixed(0)} % transparent`);
      check(a && a.corners.every((v) => v === 0), 'the backdrop around the product is transparent in the preview');
      check(a && a.centre === 255, 'the product in the middle stays');
      check(a && a.clear > 0.3 && a.clear < 0.95, 'a plausible share of the photo is cut away');
      await page.getByTestId('preview').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(out, 'cutout-04-editor-preview.png'), fullPage: false });
      check(errors.length === 0, `no console errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
      await context.close();
    }

    // 3. The model cannot be had: the step says why and points to the colour key, which works.
    {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.route('**/models/u2netp.onnx', (route) =>
        route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }),
      );
      await seed(context, [
        workflow('Neural cut-out (e2e)', 'neural'),
        workflow('Colour key (e2e)', 'color_key'),
        workflow('Auto cut-out (e2e)', 'auto'),
      ]);
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      await page.goto(base);
      await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });

      await runPhotos(page, 'Neural cut-out (e2e)', ['mug']);
      const c = card(page, 'mug');
      check((await c.getAttribute('data-status')) === 'failed', 'without the model, the neural cut-out fails');
      const reason = (await c.getByTestId('photo-error').textContent()) ?? '';
      check(
        /could not be loaded/.test(reason) && /404/.test(reason) && /color_key/.test(reason),
        `the reason says the model could not be loaded (404) and names color_key (${reason})`,
      );
      const line = page.getByTestId('model-status');
      check((await line.getAttribute('data-state')) === 'failed', 'the model line says it failed');
      check(/colour key/.test((await line.textContent()) ?? ''), 'and that the colour key still works');
      await page.screenshot({ path: path.join(out, 'cutout-03-no-model.png'), fullPage: true });

      // The editor's preview of that step says the same.
      await openEditor(page, base, 'local-e2e-0');
      const previewWhy = (await page.getByTestId('preview-error').textContent().catch(() => '')) ?? '';
      check(
        /could not be loaded/.test(previewWhy) && /color_key/.test(previewWhy),
        `the editor's preview says the model could not be loaded and names color_key (${previewWhy})`,
      );
      await page.goto(base);
      await page.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });

      await runPhotos(page, 'Colour key (e2e)', ['mug']);
      check((await card(page, 'mug').getAttribute('data-status')) === 'ok', 'a colour-key workflow still works');
      // `auto` on a studio shot (plain backdrop) uses the colour key and never needs the model.
      await page.getByTestId('clear').click();
      await runPhotos(page, 'Auto cut-out (e2e)', ['shoe']);
      const auto = card(page, 'shoe');
      const autoWhy = (await auto.getAttribute('data-status')) === 'ok' ? '' : ` (${await auto.getByTestId('photo-error').textContent()})`;
      check((await auto.getAttribute('data-status')) === 'ok', `auto on a studio shot works without the model${autoWhy}`);
      check(errors.length === 0, `no page errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`screenshots in ${out}`);
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall cut-out end-to-end checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
