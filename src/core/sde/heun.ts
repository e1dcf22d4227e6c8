/**
 * Heun's method (explicit trapezoidal rule, 2nd order; Karras et al. 2022 Alg. 1 without churn) on a fixed grid:
 * y' = y + h F(y, t); y_next = y + h/2 (F(y, t) + F(y', t + h)). h may be negative (reverse time). 2 F-evaluations
 * per step.
 */
import * as tf from '@tensorflow/tfjs';
import type { OdeFn } from './ode.js';

export function heunStep(fn: OdeFn, y: tf.Tensor, t: number, tNext: number): tf.Tensor {
  return tf.tidy(() => {
    const h = tNext - t;
    const k1 = fn(y, t);
    const yEuler = tf.add(y, tf.mul(k1, h));
    const k2 = fn(yEuler, tNext);
    return tf.add(y, tf.mul(tf.add(k1, k2), h / 2));
  });
}

/** Integrate over the grid t_0, t_1, ... (either direction); returns y(t_last) and the number of F-evaluations. */
export function heunSolve(fn: OdeFn, y0: tf.Tensor, grid: readonly number[]): { y: tf.Tensor; nfe: number } {
  if (grid.length < 2) throw new Error(`heun: the time grid needs at least 2 points, got ${grid.length}`);
  let y = y0.clone();
  for (let i = 0; i + 1 < grid.length; i++) {
    const next = heunStep(fn, y, grid[i], grid[i + 1]);
    y.dispose();
    y = next;
  }
  return { y, nfe: 2 * (grid.length - 1) };
}
