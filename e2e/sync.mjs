// End-to-end check of my workflows, workspace sync and share links against the real server:
// starts `shotline serve` on a free loopback port with a fresh data directory, then plays two
// devices (two browser contexts, each with its own localStorage) and a stranger opening a share
// link. Screenshots go to test-artifacts/. Exits non-zero on any failure.
//
//   cargo build -p shotline-server && trunk build && node e2e/sync.mjs
//
// Environment: SHOTLINE_BIN (default target/debug/shotline), SHOTLINE_DIST (default dist),
// SHOTLINE_ARTIFACTS (default test-artifacts), CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestFailure } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.env.SHOTLINE_DIST ?? 'dist');
const out = path.resolve(root, process.env.SHOTLINE_ARTIFACTS ?? 'test-artifacts');
const bin = path.resolve(root, process.env.SHOTLINE_BIN ?? 'target/debug/shotline');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const failures = [];
function check(ok, what) {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${what}`);
  if (!ok) failures.push(what);
  return ok;
}

/** Starts the server and resolves with its base URL once it prints where it runs. */
function startServer(dataDir) {
  const child = spawn(bin, ['serve', '--dist', dist, '--data', dataDir, '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: '' },
  });
  const log = [];
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${log.join('')}`)), 60_000);
    const onData = (chunk) => {
      log.push(chunk.toString());
      const m = log.join('').match(/Shotline is running at (http:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]}/`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => log.push(c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before it was ready:\n${log.join('')}`));
    });
  });
  return { child, url, log };
}

/** Calls the API from Node, as a script of the merchant's would. */
async function api(base, token, method, p) {
  const res = await fetch(new URL(`api/v1${p}`, base), {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// 4xx answers the scenario provokes on purpose; anything else in the browser is an error.
const EXPECTED = [
  [401, /\/api\/v1\/workspace$/],
  [412, /\/api\/v1\/workflows\/[^/]+$/],
  [404, /\/api\/v1\/shared\//],
];

/** A device: a browser context with its own storage, and the page of the app in it. */
async function device(browser, base, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(base).origin });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`${name}: page error: ${e.message}`));
  page.on('requestfailed', (r) => { const e = requestFailure(r); if (e) page.errors.push(`${name}: ${e}`); });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const expected = EXPECTED.some(([s, re]) => s === r.status() && re.test(new URL(r.url()).pathname));
    if (!expected) page.errors.push(`${name}: HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    // Chromium logs every 4xx as "Failed to load resource"; the response handler judges those.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.errors.push(`${name}: console: ${m.text()}`);
  });
  return { context, page };
}

async function openHome(page, base) {
  await page.goto(new URL("workflows", base).href);
  await page.getByTestId('sync-panel').waitFor({ timeout: 30_000 });
}

/** Presses "Sync now" and waits until that sync has finished (or failed). */
async function syncNow(page) {
  const status = page.getByTestId('sync-status');
  const before = await status.getAttribute('data-last-synced');
  await page.getByTestId('sync-now').click();
  await page.waitForFunction(
    (before) => {
      const s = document.querySelector('[data-testid=sync-status]');
      return (
        s?.getAttribute('data-syncing') === 'false' &&
        (s.getAttribute('data-last-synced') !== before || document.querySelector('[data-testid=sync-error]'))
      );
    },
    before,
    { timeout: 20_000, polling: 50 },
  );
  const error = page.getByTestId('sync-error');
  if (await error.count()) check(false, `sync failed: ${await error.textContent()}`);
}

/** Waits for a sync that started by itself (on connect, on opening the page) to finish. */
async function syncSettled(page) {
  await page.waitForFunction(
    () => {
      const s = document.querySelector('[data-testid=sync-status]');
      return s?.getAttribute('data-syncing') === 'false' && (s.getAttribute('data-last-synced') || document.querySelector('[data-testid=sync-error]'));
    },
    null,
    { timeout: 20_000, polling: 50 },
  );
}

function row(page, name) {
  return page.getByTestId('my-workflow').filter({ has: page.getByTestId('my-workflow-name').getByText(name, { exact: true }) });
}

async function openEditor(page, name) {
  const r = row(page, name);
  if ((await r.getByTestId('workflow-editor').count()) === 0) await r.getByTestId('edit-workflow').click();
  await r.getByTestId('workflow-editor').waitFor();
  return r;
}

async function rename(page, from, to) {
  const r = await openEditor(page, from);
  await r.getByTestId('workflow-name').fill(to);
  await row(page, to).getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
}

const library = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('shotline.workflows.v1') ?? '{"workflows":[]}'));
const stepTexts = (scope) => scope.getByTestId('step-line').allTextContents();

async function main() {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run trunk build first`);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build -p shotline-server first`);
  await mkdir(out, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shotline-e2e-'));
  const server = startServer(dataDir);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const pages = [];
  try {
    const base = await server.url;
    console.log(`shotline serve at ${base} (data in ${dataDir})`);
    const A = (await device(browser, base, 'device A')).page;
    const B = (await device(browser, base, 'device B')).page;
    pages.push(A, B);
    const shot = (page, name) => page.screenshot({ path: path.join(out, name), fullPage: true });

    // --- Device A: a wrong token, then a new workspace --------------------------------------
    await openHome(A, base);
    check(await A.getByTestId('no-workflows').isVisible(), 'A: "My workflows" says there are none yet');
    await A.getByTestId('token-input').fill('ws_nope.not-a-real-secret');
    await A.getByTestId('connect').click();
    const wrong = A.getByTestId('connect-error');
    await wrong.waitFor({ timeout: 10_000 });
    check(/not accepted/.test(await wrong.textContent()), `a wrong token is refused with a clear message (${await wrong.textContent()})`);
    await shot(A, '10-wrong-token.png');

    await A.getByTestId('create-workspace').click();
    await A.getByTestId('new-token').waitFor({ timeout: 10_000 });
    const token = await A.getByTestId('new-token').inputValue();
    check(/^ws_/.test(token), `A: creating a workspace shows its token once (${token.slice(0, 12)}…)`);
    check(/another device/.test(await A.getByTestId('new-token-callout').textContent()), 'A: the token says to paste it on another device');
    await A.getByTestId('copy-token').click();
    await A.getByTestId('copy-token').filter({ hasText: 'Copied' }).waitFor();
    check((await A.evaluate(() => navigator.clipboard.readText())) === token, 'A: "Copy token" puts the token on the clipboard');
    await syncSettled(A);
    check((await A.getByTestId('connected').count()) === 1, 'A: the panel says Connected');
    await shot(A, '11-workspace-created.png');
    await A.getByTestId('dismiss-token').click();

    // --- A: a template saved as my own workflow, edited, invalid JSON refused -----------------
    await A.locator('[data-testid=template-card][data-template=amazon-main]').getByTestId('use-template').click();
    await A.waitForURL(/\/workflows\/local-/);
    await A.getByTestId('flow-editor').waitFor({ timeout: 30_000 });
    await openHome(A, base);
    const copyName = 'Amazon main image (copy)';
    const editor = (await openEditor(A, copyName)).getByTestId('workflow-editor');
    check((await editor.getByTestId('save-state').textContent()) === 'Saved', 'A: "Use this template" makes a saved workflow');
    await A.getByTestId('nav-run').click();
    await A.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    check(
      (await A.getByTestId('workflow-option').filter({ hasText: copyName }).getAttribute('data-mine')) === 'true',
      'A: the photo workflow picker offers my workflow',
    );
    await openHome(A, base);
    await rename(A, copyName, 'Mug photos');
    check((await library(A)).workflows[0]?.workflow.name === 'Mug photos', 'A: a rename is autosaved to localStorage');

    const json = row(A, 'Mug photos').getByTestId('workflow-json');
    const good = await json.inputValue();
    await json.fill(good.replace(/"steps": \[/, '"steps": [ {"type": "export", "quality": 0},'));
    const problems = row(A, 'Mug photos').getByTestId('workflow-problems');
    await problems.waitFor();
    check(/steps\[0\]\.quality/.test(await problems.textContent()), `A: a bad setting is reported with its path (${await problems.textContent()})`);
    await json.fill('{ "schema": 1, "name": "Broken", ');
    await A.waitForFunction(() => /JSON/.test(document.querySelector('[data-testid=workflow-problems]')?.textContent ?? ''));
    check((await row(A, 'Mug photos').getByTestId('save-state').textContent()) === 'Not saved', 'A: invalid JSON shows "Not saved"');
    check((await library(A)).workflows[0]?.workflow.name === 'Mug photos', 'A: invalid JSON never replaces the saved version');
    await shot(A, '12-editor-invalid.png');
    const fixed = JSON.parse(good);
    fixed.description = 'Mugs on pure white, sized for Amazon.';
    await json.fill(JSON.stringify(fixed, null, 2));
    await row(A, 'Mug photos').getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    check((await problems.count()) === 0, 'A: fixing the JSON clears the problems and saves');

    // A reload keeps the workflow (and the connection).
    await openHome(A, base);
    await syncSettled(A);
    check((await row(A, 'Mug photos').count()) === 1, 'A: my workflow is still there after a reload');
    check((await row(A, 'Mug photos').getByTestId('sync-badge').getAttribute('data-state')) === 'synced', 'A: opening the page synced it (badge "Synced")');
    const remoteId = (await library(A)).workflows[0]?.remote_id;
    check(/^wf_/.test(remoteId ?? ''), `A: the workflow keeps its workspace id (${remoteId})`);
    await openEditor(A, 'Mug photos');
    await shot(A, '13-my-workflow-synced.png');

    // --- Device B connects with A's token and gets the workflow -------------------------------
    await openHome(B, base);
    await B.getByTestId('token-input').fill(token);
    await B.getByTestId('connect').click();
    await B.getByTestId('connected').waitFor({ timeout: 10_000 });
    await syncSettled(B);
    check((await row(B, 'Mug photos').count()) === 1, 'B: connecting with the token brings A\'s workflow');
    check((await B.getByTestId('new-token-callout').count()) === 0, 'B: no token callout on a device that pasted one');
    await shot(B, '14-device-b-connected.png');

    // B renames, syncs; A syncs and sees it.
    await rename(B, 'Mug photos', 'Mug photos (from B)');
    check((await row(B, 'Mug photos (from B)').getByTestId('sync-badge').getAttribute('data-state')) === 'changed', 'B: an edit shows "Changes not synced"');
    await syncNow(B);
    check((await row(B, 'Mug photos (from B)').getByTestId('sync-badge').getAttribute('data-state')) === 'synced', 'B: after "Sync now" it is synced');
    await syncNow(A);
    check((await row(A, 'Mug photos (from B)').count()) === 1, 'A: "Sync now" takes B\'s newer version');

    // --- A conflict: both edit, B syncs first, A syncs --------------------------------------
    await rename(A, 'Mug photos (from B)', 'Mugs: A\'s version');
    await rename(B, 'Mug photos (from B)', 'Mugs: B\'s version');
    // B also drops a step, so the two step lists differ.
    const bJson = row(B, 'Mugs: B\'s version').getByTestId('workflow-json');
    const bDoc = JSON.parse(await bJson.inputValue());
    bDoc.steps = bDoc.steps.slice(0, -1);
    await bJson.fill(JSON.stringify(bDoc, null, 2));
    await row(B, 'Mugs: B\'s version').getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    await syncNow(B);
    await syncNow(A);
    const card = A.getByTestId('conflict-card');
    check(await card.isVisible(), 'A: syncing over B\'s newer edit shows a conflict card, nothing is overwritten');
    if (await card.count()) {
      const mine = card.getByTestId('conflict-mine');
      const theirs = card.getByTestId('conflict-theirs');
      check((await mine.getByTestId('version-name').textContent()) === 'Mugs: A\'s version', 'conflict: "On this device" shows A\'s version');
      check((await theirs.getByTestId('version-name').textContent()) === 'Mugs: B\'s version', 'conflict: "From the other device" shows B\'s version');
      check(/Revision \d+/.test(await theirs.getByTestId('version-revision').textContent()), 'conflict: the other version says its revision');
      const [m, t] = [await stepTexts(mine), await stepTexts(theirs)];
      check(m.length > t.length && t.length > 0, `conflict: both step lists are shown (${m.length} and ${t.length} steps)`);
      check(
        (await row(A, 'Mugs: A\'s version').getByTestId('sync-badge').getAttribute('data-state')) === 'conflict',
        'conflict: the workflow is marked "Conflict" in my workflows',
      );
      await card.scrollIntoViewIfNeeded();
      await shot(A, '15-conflict.png');
      await card.getByTestId('keep-mine').click();
      await card.waitFor({ state: 'detached', timeout: 10_000 });
      check(true, 'conflict: "Keep mine" settles it');
    }
    const rec = await api(base, token, 'GET', `/workflows/${remoteId}`);
    check(rec.body?.name === 'Mugs: A\'s version' && rec.body?.workflow?.name === 'Mugs: A\'s version', `server: has A's version after "Keep mine" (${rec.body?.name})`);
    const history = await api(base, token, 'GET', `/workflows/${remoteId}/revisions`);
    check(
      history.body?.revisions?.some((r) => r.name === 'Mugs: B\'s version'),
      `server: the revision history keeps B's version (${history.body?.revisions?.map((r) => `${r.revision}:${r.name}`).join(', ')})`,
    );
    await syncNow(B);
    check((await row(B, 'Mugs: A\'s version').count()) === 1, 'B: the next sync takes the kept version');

    // The other choice: "Use the other device's".
    await rename(A, 'Mugs: A\'s version', 'Mugs v2 (A)');
    await rename(B, 'Mugs: A\'s version', 'Mugs v2 (B)');
    await syncNow(B);
    await syncNow(A);
    check(await card.isVisible(), 'A: a second conflict shows a card');
    if (await card.count()) {
      await card.getByTestId('use-theirs').click();
      await card.waitFor({ state: 'detached', timeout: 10_000 });
    }
    check((await row(A, 'Mugs v2 (B)').getByTestId('sync-badge').getAttribute('data-state')) === 'synced', 'A: "Use the other device\'s" takes B\'s version here');
    check((await api(base, token, 'GET', `/workflows/${remoteId}`)).body?.name === 'Mugs v2 (B)', 'server: still has B\'s version');

    // --- Share links ----------------------------------------------------------------------
    const shareRow = await openEditor(A, 'Mugs v2 (B)');
    await shareRow.getByTestId('create-share').click();
    const urlField = shareRow.getByTestId('share-url');
    await urlField.waitFor({ timeout: 10_000 });
    const shareUrl = await urlField.inputValue();
    check(shareUrl.startsWith(`${base}s/`), `A: "Share link" shows the full URL (${shareUrl})`);
    await shareRow.getByTestId('copy-share').click();
    check((await A.evaluate(() => navigator.clipboard.readText())) === shareUrl, 'A: Copy puts the link on the clipboard');
    const aSteps = await stepTexts(shareRow.getByTestId('workflow-editor'));
    await urlField.scrollIntoViewIfNeeded();
    await shot(A, '16-share-link.png');

    const C = (await device(browser, base, 'stranger')).page;
    pages.push(C);
    await C.goto(shareUrl);
    await C.getByTestId('shared-name').waitFor({ timeout: 30_000 });
    check((await C.getByTestId('shared-name').textContent()) === 'Mugs v2 (B)', 'share: the link shows the workflow\'s name');
    const cSteps = await stepTexts(C);
    check(JSON.stringify(cSteps) === JSON.stringify(aSteps) && cSteps.length > 0, `share: the same steps, in plain words (${cSteps.length})`);
    check(!cSteps.some((s) => /[a-z]+_[a-z]+/.test(s.replace(/“[^”]*”/g, ''))), 'share: no raw step type names');
    await shot(C, '17-shared.png');
    await C.getByTestId('use-workflow').click();
    await C.waitForURL(/\/workflows\/local-/);
    await C.getByTestId('flow-editor').waitFor({ timeout: 30_000 });
    await openHome(C, base);
    check((await row(C, 'Mugs v2 (B)').count()) === 1, 'share: "Use this workflow" saves a copy (and opens it in the editor)');
    await C.getByTestId('nav-run').click();
    await C.getByTestId('workflow-option').first().waitFor({ timeout: 30_000 });
    check(
      (await C.getByTestId('workflow-option').filter({ hasText: 'Mugs v2 (B)' }).getAttribute('data-mine')) === 'true',
      'share: the copy is offered for processing photos',
    );

    await shareRow.getByTestId('revoke-share').click();
    await urlField.waitFor({ state: 'detached', timeout: 10_000 });
    await C.goto(shareUrl);
    const gone = C.getByTestId('shared-error');
    await gone.waitFor({ timeout: 30_000 });
    check(/revoked or does not exist/.test(await gone.textContent()), `share: a revoked link says so (${await gone.textContent()})`);
    await shot(C, '18-share-revoked.png');

    // --- Disconnect ------------------------------------------------------------------------
    await B.getByTestId('disconnect').click();
    await B.getByTestId('create-workspace').waitFor();
    check((await row(B, 'Mugs v2 (B)').count()) === 1, 'B: after "Disconnect" the workflows stay on the device');
    await B.setViewportSize({ width: 390, height: 844 });
    await shot(B, '19-narrow-disconnected.png');
    await B.getByTestId('sync-panel').screenshot({ path: path.join(out, '20-narrow-sync-panel.png') });

    const errors = pages.flatMap((p) => p.errors);
    check(errors.length === 0, `no unexpected errors${errors.length ? `:\n    ${errors.join('\n    ')}` : ''}`);
  } finally {
    await browser.close();
    server.child.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
  console.log(`screenshots in ${out}`);
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall sync end-to-end checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
