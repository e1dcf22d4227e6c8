/**
 * Exact oracle eps-models: for data with a known posterior mean E[x0 | x_t], the optimal noise predictor is
 * E[eps | x_t] = (x_t - sqrt(abar_t) E[x0 | x_t]) / sqrt(bbar_t). Every oracle goes through this one conversion.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/schedule.js';
import type { DataRange, EpsModel, Timesteps } from '../../core/model.js';
import { sampleDim } from '../../core/model.js';
import { epsFromX0 } from '../../core/predictX0.js';
import { perSample } from '../../core/coefficients.js';

export abstract class PosteriorMeanOracle implements EpsModel {
  readonly d: number;
  constructor(readonly name: string, readonly shape: readonly number[], readonly schedule: Schedule, readonly range: DataRange) {
    this.d = sampleDim(shape);
  }

  /** E[x0 | x_t] for flat x of shape [B, d]. */
  protected abstract posteriorMeanFlat(x: tf.Tensor2D, t: Timesteps): tf.Tensor2D;

  posteriorMean(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return tf.tidy(() => this.posteriorMeanFlat(x.reshape([x.shape[0], this.d]) as tf.Tensor2D, t).reshape(x.shape));
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return tf.tidy(() => epsFromX0(this.schedule, x, this.posteriorMean(x, t), t));
  }

  /** Per-sample sqrt(abar_t) as a number or a [B,1] tensor. */
  protected sqrtAbar(t: Timesteps): number | tf.Tensor {
    return perSample(t, (n) => Math.sqrt(this.schedule.abar[n]), 2);
  }
}
