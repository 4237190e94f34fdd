// The benchmarks' 12-megapixel photos, made at bench time from a fixture and cached (never
// committed): the fixture drawn inside a 4000×3000 frame on light grey by Chromium's canvas and
// encoded as a baseline JPEG at quality 92, as a phone camera writes them.
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

/** Writes `target` from the photo at `source` (unless it is there) and returns its bytes. */
export async function twelveMegapixel(page, source, target) {
  if (!existsSync(target)) {
    const b64 = (await readFile(source)).toString('base64');
    const out = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      const canvas = new OffscreenCanvas(4000, 3000);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#eeeeee';
      ctx.fillRect(0, 0, 4000, 3000);
      // Fit inside, centred: the photo fills the frame's height (or width).
      const s = Math.min(4000 / bmp.width, 3000 / bmp.height);
      const w = bmp.width * s, h = bmp.height * s;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bmp, (4000 - w) / 2, (3000 - h) / 2, w, h);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
      const buf = new Uint8Array(await blob.arrayBuffer());
      let s2 = '';
      for (let i = 0; i < buf.length; i += 0x8000) s2 += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      return btoa(s2);
    }, b64);
    await writeFile(target, Buffer.from(out, 'base64'));
  }
  return readFile(target);
}
