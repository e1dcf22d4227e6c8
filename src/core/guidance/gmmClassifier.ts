/**
 * The exact noise-aware classifier of a Gaussian mixture sum_k w_k N(mu_k, s_k^2 I) over its components: under
 * q(x_t | x0) = N(sqrt(abar_t) x0, bbar_t I) the marginal of component k is N(sqrt(abar_t) mu_k, v_k I) with
 * v_k = abar_t s_k^2 + bbar_t, so by Bayes
 *   log p(k | x_t) = log w_k - d/2 log v_k - ||x_t - sqrt(abar_t) mu_k||^2 / (2 v_k) - logsumexp(...)
 * (the responsibilities of GmmOracle). Built from differentiable ops, so grad_x log p(k | x_t) is exact up to float32.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../schedule.js';
import type { Timesteps } from '../model.js';
import { sampleDim } from '../model.js';
import { timestepArray } from '../coefficients.js';
import type { GmmSpec } from '../data/toy.js';
import type { NoiseAwareClassifier } from './noiseAwareClassifier.js';

export class GmmClassifier implements NoiseAwareClassifier {
  readonly name: string;
  readonly numClasses: number;
  readonly d: number;
  private readonly logW: Float64Array;
  private readonly vars: Float64Array;

  constructor(readonly shape: readonly number[], readonly schedule: Schedule, readonly spec: GmmSpec) {
    this.d = sampleDim(shape);
    this.numClasses = spec.weights.length;
    if (spec.means.length !== this.numClasses || spec.stds.length !== this.numClasses) {
      throw new Error(`gmm classifier: weights, means and stds must have the same length (got ${this.numClasses}, ${spec.means.length}, ${spec.stds.length})`);
    }
    spec.means.forEach((m, k) => {
      if (m.length !== this.d) throw new Error(`gmm classifier: mean ${k} has length ${m.length}, expected d = ${this.d}`);
    });
    const total = spec.weights.reduce((a, b) => a + b, 0);
    this.logW = Float64Array.from(spec.weights, (w) => Math.log(w / total));
    this.vars = Float64Array.from(spec.stds, (s) => s * s);
    this.name = `exact-gmm-classifier(${this.numClasses})`;
  }

  /** v_k = abar_t s_k^2 + bbar_t (float64). */
  componentVariance(k: number, t: number): number {
    return this.schedule.abar[t] * this.vars[k] + this.schedule.bbar[t];
  }

  logits(x: tf.Tensor, t: Timesteps): tf.Tensor2D {
    return tf.tidy(() => {
      const B = x.shape[0];
      const K = this.numClasses;
      const ts = timestepArray(t, B);
      const logPrior = new Float32Array(B * K); // log w_k - d/2 log v_k
      const inv2v = new Float32Array(B * K); // 1 / (2 v_k)
      ts.forEach((n, b) => {
        for (let k = 0; k < K; k++) {
          const v = this.componentVariance(k, n);
          logPrior[b * K + k] = this.logW[k] - (this.d / 2) * Math.log(v);
          inv2v[b * K + k] = 1 / (2 * v);
        }
      });
      const sa = tf.tensor3d(Float32Array.from(ts, (n) => Math.sqrt(this.schedule.abar[n])), [B, 1, 1]);
      const mu = tf.tensor3d(this.spec.means.flat(), [1, K, this.d]);
      const diff = tf.sub(x.reshape([B, 1, this.d]), tf.mul(mu, sa)); // [B, K, d]
      const dist = tf.sum(tf.square(diff), 2);
      return tf.sub(tf.tensor2d(logPrior, [B, K]), tf.mul(dist, tf.tensor2d(inv2v, [B, K]))) as tf.Tensor2D;
    });
  }
}
