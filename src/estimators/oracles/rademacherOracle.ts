/** Exact model of i.i.d. Rademacher (+-1) pixels: E[x0 | x_t] = tanh(sqrt(abar_t) x_t / bbar_t). */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/schedule.js';
import type { Timesteps } from '../../core/model.js';
import { perSample } from '../../core/coefficients.js';
import { PosteriorMeanOracle } from './posteriorMeanOracle.js';

export class RademacherOracle extends PosteriorMeanOracle {
  constructor(shape: readonly number[], schedule: Schedule) {
    super('oracle:rademacher', shape, schedule, [-1, 1]);
  }

  protected posteriorMeanFlat(x: tf.Tensor2D, t: Timesteps): tf.Tensor2D {
    return tf.tidy(() => tf.tanh(tf.mul(x, perSample(t, (n) => Math.sqrt(this.schedule.abar[n]) / this.schedule.bbar[n], 2))) as tf.Tensor2D);
  }
}
