/** Toy data sets with exact oracle models (see src/estimators/oracles). */
import { ArrayDataset, levelsToUnit } from './dataset.js';
import { NoiseSource, fillNormal, sfc32 } from '../rng.js';
import { sampleDim } from '../model.js';

/** i.i.d. Rademacher pixels: each value is pixel level 0 or 255, i.e. -1 or +1. */
export function rademacherDataset(n: number, shape: readonly number[], seed: number, name = 'rademacher'): ArrayDataset {
  const d = sampleDim(shape);
  const u = sfc32(new NoiseSource(seed).seedFor('rademacher', n));
  const levels = new Uint8Array(n * d);
  for (let i = 0; i < levels.length; i++) levels[i] = u() < 0.5 ? 0 : 255;
  return new ArrayDataset(name, shape, levelsToUnit(levels), [-1, 1], true);
}

/** A Gaussian mixture in d = prod(shape) dimensions with isotropic components. */
export interface GmmSpec {
  weights: number[];
  /** component means, each of length d */
  means: number[][];
  /** component standard deviations (isotropic) */
  stds: number[];
}

/** Draw n samples from a Gaussian mixture (component by seeded categorical draw, then isotropic noise). */
export function gmmDataset(n: number, shape: readonly number[], gmm: GmmSpec, seed: number, name = 'gmm'): ArrayDataset {
  const d = sampleDim(shape);
  const noise = new NoiseSource(seed);
  const pick = noise.uniform('gmm-component');
  const total = gmm.weights.reduce((a, b) => a + b, 0);
  const values = new Float32Array(n * d);
  const z = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    let r = pick() * total;
    let k = 0;
    while (k < gmm.weights.length - 1 && r >= gmm.weights[k]) r -= gmm.weights[k++];
    fillNormal(z, 0, d, noise.seedFor('gmm-noise', i));
    for (let j = 0; j < d; j++) values[i * d + j] = gmm.means[k][j] + gmm.stds[k] * z[j];
  }
  return new ArrayDataset(name, shape, values, null, false);
}

/** A reproducible random GMM: means uniform in [-spread, spread]^d, equal weights, common std. */
export function randomGmm(components: number, d: number, spread: number, std: number, seed: number): GmmSpec {
  const u = new NoiseSource(seed).uniform('gmm-means');
  return {
    weights: Array(components).fill(1 / components),
    means: Array.from({ length: components }, () => Array.from({ length: d }, () => spread * (2 * u() - 1))),
    stds: Array(components).fill(std),
  };
}

/** Isotropic Gaussian data N(mean, std^2 I). */
export function gaussianDataset(n: number, shape: readonly number[], mean: number, std: number, seed: number, name = 'gaussian'): ArrayDataset {
  const d = sampleDim(shape);
  return gmmDataset(n, shape, { weights: [1], means: [Array(d).fill(mean)], stds: [std] }, seed, name);
}
