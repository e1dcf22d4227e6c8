/**
 * Image grids as 8-bit PNG files (like torchvision.utils.save_image): values in [-1, 1] map to levels by
 * round((x + 1) * 127.5) clamped to 0..255; images are laid out row-major, `cols` per row, with `pad` pixels of
 * `padLevel` around and between them. C = 1 is written as grayscale (or RGB with gray: 'rgb'); C = 3 as RGB.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

export interface PngGridOptions {
  /** images per grid row; default ceil(sqrt(B)) */
  cols?: number;
  /** pixels of padding around and between images; default 2 */
  pad?: number;
  /** level 0..255 of the padding; default 0 (black) */
  padLevel?: number;
  /** how to store single-channel images; default 'gray' */
  gray?: 'gray' | 'rgb';
  /** [B, H, W, C], required when images is a Float32Array */
  shape?: readonly number[];
}

/** A decoded 8-bit PNG: data holds height * width * channels bytes, row-major, interleaved. */
export interface PngImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** One value in [-1, 1] to an 8-bit level: round((x + 1) * 127.5), clamped (NaN -> 0). */
export function unitToLevel(x: number): number {
  const v = Math.round((x + 1) * 127.5);
  return v > 255 ? 255 : v >= 0 ? v : 0;
}

/** Lay out a [B, H, W, C] batch (C = 1 or 3) as one grid image, without writing it. */
export function gridImage(values: ArrayLike<number>, shape: readonly number[], opts: PngGridOptions = {}): PngImage {
  if (shape.length !== 4) throw new Error(`pngGrid: images must be [B, H, W, C], got shape [${shape.join(', ')}]`);
  const [B, H, W, C] = shape;
  if (C !== 1 && C !== 3) throw new Error(`pngGrid: C must be 1 or 3, got ${C}`);
  if (values.length !== B * H * W * C) throw new Error(`pngGrid: ${values.length} values do not fill shape [${shape.join(', ')}]`);
  if (B < 1) throw new Error('pngGrid: no images');
  const cols = Math.min(opts.cols ?? Math.ceil(Math.sqrt(B)), B);
  const pad = opts.pad ?? 2;
  if (!Number.isInteger(cols) || cols < 1 || !Number.isInteger(pad) || pad < 0) throw new Error(`pngGrid: bad cols ${cols} or pad ${pad}`);
  const rows = Math.ceil(B / cols);
  const channels: 1 | 3 = C === 3 || opts.gray === 'rgb' ? 3 : 1;
  const width = cols * (W + pad) + pad;
  const height = rows * (H + pad) + pad;
  const data = new Uint8Array(width * height * channels).fill(opts.padLevel ?? 0);
  for (let b = 0; b < B; b++) {
    const top = pad + Math.floor(b / cols) * (H + pad);
    const left = pad + (b % cols) * (W + pad);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const src = ((b * H + y) * W + x) * C;
        const dst = ((top + y) * width + left + x) * channels;
        for (let c = 0; c < channels; c++) data[dst + c] = unitToLevel(values[src + (C === 1 ? 0 : c)]);
      }
    }
  }
  return { width, height, channels, data };
}

/** Encode an 8-bit gray, RGB or RGBA image as PNG bytes. */
export function encodePng(img: PngImage): Buffer {
  const colorType = img.channels === 1 ? 0 : img.channels === 3 ? 2 : 6;
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: img.channels === 4, bitDepth: 8 });
}

/** Write `images` ([B, H, W, C] in [-1, 1]) as a grid PNG at path, atomically (temp file + rename). */
export async function writePngGrid(path: string, images: Float32Array | tf.Tensor, opts: PngGridOptions = {}): Promise<PngImage> {
  let values: ArrayLike<number>;
  let shape: readonly number[];
  if (images instanceof tf.Tensor) {
    values = await images.data();
    shape = images.shape;
  } else {
    if (!opts.shape) throw new Error('pngGrid: pass opts.shape = [B, H, W, C] with a Float32Array');
    values = images;
    shape = opts.shape;
  }
  const img = gridImage(values, shape, opts);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(tmp, encodePng(img));
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return img;
}

/** Read an 8-bit PNG with the channels it stores (gray -> 1, RGB -> 3, anything with alpha -> 4). */
export function readPng(path: string): PngImage {
  const png = PNG.sync.read(readFileSync(path));
  const meta = png as unknown as { color?: boolean; alpha?: boolean; depth?: number };
  const channels: 1 | 3 | 4 = meta.alpha ? 4 : meta.color ? 3 : 1;
  const n = png.width * png.height;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = png.data[i * 4 + c];
  return { width: png.width, height: png.height, channels, data };
}
