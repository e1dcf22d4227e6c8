/** Per-sample float64 coefficients turned into broadcastable float32 tensors (or plain numbers). */
import * as tf from '@tensorflow/tfjs';
import type { Timesteps } from './model.js';

/** f(t) for a scalar t, or a [B, 1, ..., 1] tensor of f(t_i) broadcastable against a rank-`rank` batch. */
export function perSample(t: Timesteps, f: (t: number) => number, rank: number): number | tf.Tensor {
  if (typeof t === 'number') return f(t);
  const shape = [t.length, ...Array(Math.max(rank - 1, 0)).fill(1)];
  return tf.tensor(Float32Array.from(t, f), shape, 'float32');
}

/** Timesteps as an array of length B. */
export function timestepArray(t: Timesteps, B: number): number[] {
  if (typeof t === 'number') return Array(B).fill(t);
  if (t.length !== B) throw new Error(`timesteps: got ${t.length} values for a batch of ${B}`);
  return [...t];
}
