/** Forward process q(x_t | x_0) = N(sqrt(abar_t) x_0, bbar_t I) (DDPM Eq. 4). */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from './schedule.js';
import type { Timesteps } from './model.js';
import { perSample } from './coefficients.js';

/** x_t = sqrt(abar_t) x0 + sqrt(bbar_t) eps, with per-sample or shared t. */
export function qSample(sch: Schedule, x0: tf.Tensor, t: Timesteps, eps: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = perSample(t, (n) => Math.sqrt(sch.abar[n]), x0.rank);
    const b = perSample(t, (n) => Math.sqrt(sch.bbar[n]), x0.rank);
    return tf.add(tf.mul(x0, a), tf.mul(eps, b));
  });
}
