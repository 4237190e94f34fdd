// Shared by e2e/batch.mjs and bench/web/batch.mjs: a static server for dist/, Chromium, a ZIP
// reader and a long-task recorder.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Serves `dir` on a loopback port (unknown paths get index.html, as the app routes itself), and,
 * as `shotline serve` does, the cut-out model at /models/u2netp.onnx (from models/, where
 * scripts/fetch-model.sh puts it). `mounts` adds other URL prefixes → directories.
 */
export function serve(dir, mounts = {}) {
  const all = { '/models/': path.join(ROOT, 'models'), ...mounts };
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const pathname = decodeURIComponent(url.pathname);
      const mount = Object.keys(all).find((prefix) => pathname.startsWith(prefix));
      const base = mount ? all[mount] : dir;
      let file = path.normalize(path.join(base, mount ? pathname.slice(mount.length) : pathname));
      if (!file.startsWith(base)) throw new Error('outside the served folder');
      if (mount && !(await stat(file).catch(() => null))?.isFile()) throw new Error('not found');
      if (!(await stat(file).catch(() => null))?.isFile()) {
        if (path.extname(file)) throw new Error('not found');
        file = path.join(dir, 'index.html');
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Debian's headless Chromium with a fresh profile, kept off the network. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
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
}

/** Records the duration of every main-thread long task (> 50 ms) in `window.__longtasks`. */
export async function watchLongTasks(page) {
  await page.addInitScript(() => {
    window.__longtasks = [];
    // When each started (ms since the mark `window.__t1`, if set) and what Chromium blames.
    window.__longtaskEntries = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__longtasks.push(e.duration);
        window.__longtaskEntries.push({
          at: Math.round(e.startTime - (window.__t1 ?? 0)),
          ms: Math.round(e.duration),
          by: e.attribution?.map((a) => `${a.containerType}:${a.containerSrc || a.containerName}`).join(' '),
        });
      }
    }).observe({ type: 'longtask', buffered: true });
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The files of a ZIP (stored or deflated), read through its central directory. */
export function unzip(zip) {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error('not a ZIP: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const packed = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: bad local header`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + packed);
    const data = method === 8 ? inflateRawSync(raw) : raw;
    files.push({ name, data, crcOk: crc32(data) === crc });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

/**
 * A failed request worth reporting, or null. Leaving a page cancels the loads still in flight
 * (a preview's sample photo, say); Chromium reports those as net::ERR_ABORTED, which is the
 * navigation we asked for, not a fault of the app.
 */
export function requestFailure(r) {
  const why = r.failure()?.errorText ?? 'unknown';
  return why === 'net::ERR_ABORTED' ? null : `request failed: ${r.url()} ${why}`;
}
