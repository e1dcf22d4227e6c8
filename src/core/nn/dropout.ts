/** Inverted dropout with a mask drawn from the project's seeded generator (sfc32), never Math.random. */
import * as tf from '@tensorflow/tfjs';
import { sfc32 } from '../rng.js';

/** x · m / (1 - p) with m_i ~ Bernoulli(1 - p) from sfc32(seed); identity for p = 0. */
export function dropout<T extends tf.Tensor>(x: T, p: number, seed: number): T {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const u = sfc32(seed);
  const keep = 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = u() < p ? 0 : keep;
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32')) as T;
}
