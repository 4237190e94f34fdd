// End-to-end check of the workflow editor (/workflows/{id}): from an empty profile, use a template
// from the Workflows page, add an IF on product.category with a step in THEN, move a step, move a
// slider and see the live preview change, undo, reload and see the change kept. Screenshots of the
// editor at 1280 px and ~820 px, the before / after split and the IF branches go to test-artifacts/.
// Prints the preview time the page measured. Exits non-zero on any failure.
//
//   trunk build && node e2e/editor.mjs
//
// Environment: SHOTLINE_DIST (default dist), SHOTLINE_ARTIFACTS (default test-artifacts),
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { serve } from './support.mjs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const previewVersion = async (page) => Number((await page.getByTestId('preview').getAttribute('data-version')) ?? 0);
async function previewAfter(page, version, timeout = 60000) {
  await page.waitForFunction(
    (v) => Number(document.querySelector('[data-testid=preview]')?.getAttribute('data-version') ?? 0) > v,
    version,
    { timeout },
  );
  return page.getByTestId('preview');
}

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build first`);
  await mkdir(out, { recursive: true });
  const server = await serve(dist);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
    if (m.text().startsWith('shotline preview:')) console.log(`       ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  try {
    // An empty profile: use a template from the Workflows page; it opens the editor.
    await page.goto(`${base}/workflows`);
    await page.getByTestId('use-template').first().click();
    await page.waitForURL(/\/workflows\/local-/);
    await page.getByTestId('flow-editor').waitFor();
    const url = page.url();
    check(/\/workflows\/local-/.test(url), `"Use this template" opened the editor (${url})`);
    const stepsAtStart = await page.getByTestId('step').count();
    check(stepsAtStart > 0, `the template's ${stepsAtStart} steps are listed`);
    check((await page.getByTestId('save-state').getAttribute('data-state')) === 'saved', 'it shows "Saved"');

    // The preview of the bundled sample appears.
    await page.waitForFunction(() => document.querySelector('[data-testid=preview]')?.getAttribute('data-ms'), null, { timeout: 60000 });
    const firstMs = await page.getByTestId('preview').getAttribute('data-ms');
    console.log(`       preview of the whole template on the sample proxy: ${firstMs} ms`);

    // Add an IF on product.category with a step in THEN.
    await page.getByTestId('add-step').last().click();
    await page.getByTestId('palette').locator('[data-kind=if]').click();
    const iff = page.locator(`[data-testid=step][data-kind=if]`).last();
    const ifPath = await iff.getAttribute('data-path');
    await iff.getByTestId('rule-field').fill('product.category');
    await iff.getByTestId('rule-field').dispatchEvent('change');
    await iff.getByTestId('rule-value').fill('Rings');
    await iff.locator(`[data-testid=add-step][data-list="${ifPath}.then"]`).click();
    await page.getByTestId('palette').locator('[data-kind=adjust]').click();
    const inThen = page.locator(`[data-testid=step][data-path="${ifPath}.then[0]"]`);
    check((await inThen.getAttribute('data-kind')) === 'adjust', 'an Adjust step sits in THEN');
    await page.waitForFunction(() => document.querySelector('[data-testid=save-state]')?.getAttribute('data-state') === 'saved');
    check(true, 'the IF with its THEN step is saved');

    // Both branches side by side when the IF is selected.
    let v = await previewVersion(page);
    await iff.getByTestId('step-title').first().click();
    await previewAfter(page, v);
    await page.getByTestId('preview-branches').waitFor();
    check((await page.getByTestId('preview').getAttribute('data-mode')) === 'branches', 'an IF step previews both branches');
    await page.getByTestId('preview-branches').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(out, 'editor-if-branches.png'), fullPage: false });

    // Drag the IF's THEN step out to the top of the list (HTML5 drag and drop on the handle).
    const firstKind = await page.locator('[data-testid=step][data-path="steps[0]"]').getAttribute('data-kind');
    await inThen.getByTestId('step-handle').dragTo(page.locator('[data-testid=step][data-path="steps[0]"] > .step-card'));
    await page.waitForFunction(() => document.querySelector('[data-testid=step][data-path="steps[0]"]')?.getAttribute('data-kind') === 'adjust', null, { timeout: 5000 }).catch(() => {});
    const movedKind = await page.locator('[data-testid=step][data-path="steps[0]"]').getAttribute('data-kind');
    check(movedKind === 'adjust', `dragging moved the Adjust step to the top (top is now ${movedKind}, was ${firstKind})`);
    // And back down with the keyboard.
    await page.locator('[data-testid=step][data-path="steps[0]"]').getByTestId('step-handle').first().focus();
    await page.keyboard.press('Alt+ArrowDown');
    const second = await page.locator('[data-testid=step][data-path="steps[1]"]').getAttribute('data-kind');
    check(second === 'adjust', 'Alt+ArrowDown moved it one place down');

    // Keyboard moves cross IF blocks: Alt+ArrowDown on the step just above the IF puts it first in
    // THEN (focus on its handle, the move announced); Alt+ArrowUp takes it back out above the IF.
    const ifAt = await page.locator('[data-testid=step][data-kind=if]').last().getAttribute('data-path');
    const ifIndex = Number(/^steps\[(\d+)\]$/.exec(ifAt)?.[1]);
    const abovePath = `steps[${ifIndex - 1}]`;
    const aboveKind = await page.locator(`[data-testid=step][data-path="${abovePath}"]`).getAttribute('data-kind');
    await page.locator(`[data-testid=step][data-path="${abovePath}"]`).getByTestId('step-handle').first().focus();
    await page.keyboard.press('Alt+ArrowDown');
    const inThenPath = `steps[${ifIndex - 1}].then[0]`;
    await page.waitForFunction((p) => document.activeElement?.getAttribute('data-handle') === p, inThenPath, { timeout: 5000 }).catch(() => {});
    const intoThen = await page.locator(`[data-testid=step][data-path="${inThenPath}"]`).getAttribute('data-kind').catch(() => null);
    check(intoThen === aboveKind, `Alt+ArrowDown above the IF moved ${aboveKind} into THEN (found ${intoThen})`);
    const focusedHandle = await page.evaluate(() => document.activeElement?.getAttribute('data-handle'));
    check(focusedHandle === inThenPath, `the moved step's handle keeps the focus (${focusedHandle})`);
    const said = await page.getByTestId('editor-announce').textContent();
    check(/under Then of the IF/.test(said ?? ''), `the move is announced ("${said}")`);
    await page.keyboard.press('Alt+ArrowUp');
    await page.waitForFunction((p) => document.activeElement?.getAttribute('data-handle') === p, abovePath, { timeout: 5000 }).catch(() => {});
    const backOut = await page.locator(`[data-testid=step][data-path="${abovePath}"]`).getAttribute('data-kind');
    check(backOut === aboveKind, `Alt+ArrowUp took it back out above the IF (found ${backOut})`);

    // Select the Adjust step, move its brightness slider: the preview changes.
    const adjust = page.locator('[data-testid=step][data-path="steps[1]"]');
    if ((await adjust.getByTestId('step-form').count()) === 0) await adjust.getByTestId('step-title').first().click();
    v = await previewVersion(page);
    await previewAfter(page, v).catch(() => {});
    const hashBefore = await page.getByTestId('preview').getAttribute('data-hash');
    v = await previewVersion(page);
    const slider = adjust.locator('[data-field=brightness] input[type=range]');
    await slider.focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    await previewAfter(page, v);
    await page.waitForTimeout(300);
    const hashAfter = await page.getByTestId('preview').getAttribute('data-hash');
    const ms = await page.getByTestId('preview').getAttribute('data-ms');
    check(hashBefore !== hashAfter, 'moving the slider changed the preview');
    console.log(`       preview after a slider move (1024 px proxy, in the engine worker, round trip): ${ms} ms`);
    const brightness = await adjust.locator('[data-field=brightness] input[type=number]').inputValue();
    check(Number(brightness) > 0, `the number box shows the slider's value (${brightness})`);

    // Screenshots: the split, the editor at 1280 and ~820 px.
    await page.getByTestId('preview-split-range').fill('35');
    await page.getByTestId('preview-split').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(out, 'editor-preview-split.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(out, 'editor-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 820, height: 1100 });
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(out, 'editor-820.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Undo takes the slider move back (Ctrl+Z outside text boxes).
    await page.getByTestId('undo').click();
    const afterUndo = await adjust.locator('[data-field=brightness] input[type=number]').inputValue();
    check(Number(afterUndo) === 0, `undo took the slider move back (${afterUndo})`);
    await page.keyboard.press('Control+Shift+Z');
    await page.getByTestId('redo').focus();
    await page.keyboard.press('Control+Shift+Z');
    const afterRedo = await adjust.locator('[data-field=brightness] input[type=number]').inputValue();
    check(Number(afterRedo) > 0, `Ctrl+Shift+Z redid it (${afterRedo})`);
    await page.waitForFunction(() => document.querySelector('[data-testid=save-state]')?.getAttribute('data-state') === 'saved');

    // Reload: everything is still there.
    const kindsBefore = await page.locator('[data-testid=step]').evaluateAll((els) => els.map((e) => `${e.dataset.path}:${e.dataset.kind}`));
    await page.reload();
    await page.getByTestId('flow-editor').waitFor();
    const kindsAfter = await page.locator('[data-testid=step]').evaluateAll((els) => els.map((e) => `${e.dataset.path}:${e.dataset.kind}`));
    check(JSON.stringify(kindsBefore) === JSON.stringify(kindsAfter), `the steps are kept after a reload (${kindsAfter.length})`);
    await page.locator('[data-testid=step][data-path="steps[1]"]').getByTestId('step-title').first().click();
    const kept = await page.locator('[data-testid=step][data-path="steps[1]"] [data-field=brightness] input[type=number]').inputValue();
    check(Number(kept) === Number(afterRedo), `the slider value is kept after a reload (${kept})`);

    const errors = consoleErrors.filter((e) => !/favicon/.test(e));
    check(errors.length === 0, `no console errors (${errors.join(' | ')})`);
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`${failures.length} check(s) failed`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
