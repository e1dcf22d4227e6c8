/** x0 prediction from eps: x0hat = (x_t - sqrt(bbar_t) eps) / sqrt(abar_t), clamped to the data range. */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from './schedule.js';
import type { DataRange, Timesteps } from './model.js';
import { perSample } from './coefficients.js';

export function predictX0(sch: Schedule, xt: tf.Tensor, eps: tf.Tensor, t: Timesteps, range: DataRange): tf.Tensor {
  return tf.tidy(() => {
    const invA = perSample(t, (n) => 1 / Math.sqrt(sch.abar[n]), xt.rank);
    const c = perSample(t, (n) => Math.sqrt(sch.bbar[n] / sch.abar[n]), xt.rank);
    const x0 = tf.sub(tf.mul(xt, invA), tf.mul(eps, c));
    return range ? tf.clipByValue(x0, range[0], range[1]) : x0;
  });
}

/** eps implied by an x0 estimate: eps = (x_t - sqrt(abar_t) x0) / sqrt(bbar_t). */
export function epsFromX0(sch: Schedule, xt: tf.Tensor, x0: tf.Tensor, t: Timesteps): tf.Tensor {
  return tf.tidy(() => {
    const a = perSample(t, (n) => Math.sqrt(sch.abar[n]), xt.rank);
    const invB = perSample(t, (n) => 1 / Math.sqrt(sch.bbar[n]), xt.rank);
    return tf.mul(tf.sub(xt, tf.mul(x0, a)), invB);
  });
}
