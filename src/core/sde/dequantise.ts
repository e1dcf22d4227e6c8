/**
 * Bits/dim of 8-bit data from a continuous density (Song et al. ICLR 2021 App. D.2; Theis et al. 2016; Ho et al.
 * 2020 App.). Exactly what is implemented: the repo stores level k in {0..255} as x = k / 127.5 - 1; uniformDequantise
 * maps it to y = (k + u) / 128 - 1 with u ~ U[0, 1) (the bins [k/128 - 1, (k+1)/128 - 1) tile [-1, 1), width 1/128;
 * this is Song's (k + u) / 256 in [0, 1] rescaled by 2y - 1). Then log P(k) >= E_u log p(y) + d log(1/128), so
 *   bits/dim(discrete) <= -(E_u log p(y) - d ln 128) / (d ln 2)    ('uniform'),
 * and 'none' reports the continuous -log p(x) / (d ln 2) of the given x.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSource } from '../rng.js';

export type Dequantisation = 'none' | 'uniform';
export const DEQUANTISATIONS: readonly Dequantisation[] = ['none', 'uniform'];

/** y = (k + u) / 128 - 1 with k = round((x + 1) 127.5) and u = Phi(z), z from the keyed stream "dequant". */
export function uniformDequantise(x: tf.Tensor, noise: NoiseSource, ids: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const k = tf.clipByValue(tf.round(tf.mul(tf.add(x, 1), 127.5)), 0, 255);
    const z = noise.normal('dequant', ids, x.shape.slice(1));
    const u = tf.clipByValue(tf.mul(tf.add(tf.erf(tf.div(z, Math.SQRT2)), 1), 0.5), 0, 1 - 1e-7);
    return tf.sub(tf.div(tf.add(k, u), 128), 1);
  });
}

/** Bits/dim from a log-density in nats of d-dimensional data. */
export function bitsPerDim(logp: number, d: number, dequantisation: Dequantisation): number {
  if (!DEQUANTISATIONS.includes(dequantisation)) throw new Error(`dequantisation: unknown "${dequantisation}"; allowed: ${DEQUANTISATIONS.join(', ')}`);
  const shift = dequantisation === 'uniform' ? d * Math.log(128) : 0;
  return -(logp - shift) / (d * Math.LN2);
}
