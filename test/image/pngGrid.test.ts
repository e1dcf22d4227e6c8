/** Grid PNGs: known images written as a 2x2 grid read back pixel-exact (gray, gray as RGB, RGB, tensors). */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { gridImage, readPng, unitToLevel, writePngGrid } from '../../src/core/image/pngGrid.js';

const B = 4, H = 3, W = 5;
/** level of image b at (y, x, channel c): distinct everywhere, covers 0 and 255 */
const level = (b: number, y: number, x: number, c: number) => (b * 60 + y * 17 + x * 5 + c * 101 + (b === 3 && y === 2 && x === 4 ? 200 : 0)) % 256;

function batch(C: number): Float32Array {
  const v = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    v[((b * H + y) * W + x) * C + c] = level(b, y, x, c) / 127.5 - 1;
  }
  return v;
}

describe('image/pngGrid', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'pnggrid-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Check every pixel of a 2x2 grid with pad p: images where expected, padLevel elsewhere. */
  function checkGrid(img: ReturnType<typeof readPng>, C: number, channels: number, pad: number, padLevel: number) {
    expect([img.width, img.height, img.channels]).to.deep.equal([2 * (W + pad) + pad, 2 * (H + pad) + pad, channels]);
    for (let gy = 0; gy < img.height; gy++) {
      for (let gx = 0; gx < img.width; gx++) {
        const row = Math.floor((gy - pad) / (H + pad)), y = (gy - pad) % (H + pad);
        const col = Math.floor((gx - pad) / (W + pad)), x = (gx - pad) % (W + pad);
        const inside = gy >= pad && gx >= pad && y < H && x < W;
        for (let c = 0; c < channels; c++) {
          const want = inside ? level(row * 2 + col, y, x, C === 1 ? 0 : c) : padLevel;
          expect(img.data[(gy * img.width + gx) * channels + c], `pixel (${gx}, ${gy}) channel ${c}`).to.equal(want);
        }
      }
    }
  }

  it('grayscale 2x2 grid round-trips pixel-exact, as gray and as RGB', async () => {
    const p = join(dir, 'gray.png');
    await writePngGrid(p, batch(1), { shape: [B, H, W, 1], cols: 2, pad: 1, padLevel: 7 });
    checkGrid(readPng(p), 1, 1, 1, 7);
    const q = join(dir, 'gray-rgb.png');
    await writePngGrid(q, batch(1), { shape: [B, H, W, 1], cols: 2, pad: 2, gray: 'rgb' });
    checkGrid(readPng(q), 1, 3, 2, 0);
  });

  it('RGB tensor 2x2 grid round-trips pixel-exact, default cols = ceil(sqrt(B))', async () => {
    const p = join(dir, 'rgb.png');
    const t = tf.tensor(batch(3), [B, H, W, 3]);
    const img = await writePngGrid(p, t, { pad: 0 });
    t.dispose();
    checkGrid(readPng(p), 3, 3, 0, 0);
    expect(readPng(p).data).to.deep.equal(img.data);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).to.deep.equal([]); // atomic write leaves no temp file
  });

  it('maps values like save_image: round((x + 1) * 127.5), clamped', () => {
    expect([-1, 1, 0, -2, 3, NaN, -1 + 0.6 / 127.5, 1e-9].map(unitToLevel)).to.deep.equal([0, 255, 128, 0, 255, 0, 1, 128]);
    const img = gridImage([-1.5, 0.2, 1.7], [3, 1, 1, 1], { pad: 0, cols: 3 });
    expect(Array.from(img.data)).to.deep.equal([0, 153, 255]);
  });

  it('rejects bad shapes with clear errors', async () => {
    expect(() => gridImage(new Float32Array(8), [2, 2, 2], {})).to.throw(/\[B, H, W, C\]/);
    expect(() => gridImage(new Float32Array(16), [2, 2, 2, 2], {})).to.throw(/C must be 1 or 3/);
    let msg = '';
    await writePngGrid(join(dir, 'x.png'), new Float32Array(4)).catch((e: Error) => (msg = e.message));
    expect(msg).to.match(/opts\.shape/);
  });
});
