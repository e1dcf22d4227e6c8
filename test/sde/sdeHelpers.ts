/** Helpers shared by the SDE tests. */
import * as tf from '@tensorflow/tfjs';
import { NoiseSource } from '../../src/core/rng.js';

/** Diagonal Gaussian data mu + s z, z from a keyed stream, as [B, d]. */
export function gaussianData(mu: number[], s: number[], B: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const z = new NoiseSource(seed).normal('data', Array.from({ length: B }, (_, i) => i), [mu.length]);
    return tf.add(tf.mul(z, tf.tensor2d(s, [1, s.length])), tf.tensor2d(mu, [1, mu.length])) as tf.Tensor2D;
  });
}

/** Per-dimension sample mean and variance of x [B, d]. */
export function columnMoments(x: tf.Tensor): { mean: number[]; variance: number[]; n: number } {
  const [B, d] = [x.shape[0], x.size / x.shape[0]];
  const v = x.dataSync();
  const mean = Array.from({ length: d }, (_, i) => { let s = 0; for (let b = 0; b < B; b++) s += v[b * d + i]; return s / B; });
  const variance = mean.map((m, i) => { let s = 0; for (let b = 0; b < B; b++) s += (v[b * d + i] - m) ** 2; return s / (B - 1); });
  return { mean, variance, n: B };
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const t = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
