/**
 * Exact class-conditional eps-model of a Gaussian mixture, the classes being its components: for component y,
 * x0 | y ~ N(mu_y, s_y^2 I) gives E[eps | x_t, y] = sqrt(bbar_t) (x_t - sqrt(abar_t) mu_y) / v_y with
 * v_y = abar_t s_y^2 + bbar_t (GaussianOracle's posterior mean put through eps = (x_t - sqrt(abar) x0hat)/sqrt(bbar));
 * the null label gives the mixture's exact eps (GmmOracle). With the exact classifier of gmmClassifier.ts,
 * eps(x_t, t, y) = eps(x_t, t) - sqrt(bbar_t) grad_x log p(y | x_t) holds exactly (Su part 9; Song et al. 2021).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../schedule.js';
import type { Timesteps } from '../model.js';
import { sampleDim } from '../model.js';
import { timestepArray } from '../coefficients.js';
import type { GmmSpec } from '../data/toy.js';
import { GmmOracle } from '../../estimators/oracles/gmmOracle.js';
import type { ConditionalEpsModel } from './conditionalModel.js';

export class GmmConditionalOracle implements ConditionalEpsModel {
  readonly name: string;
  readonly numClasses: number;
  readonly d: number;
  readonly mixture: GmmOracle;

  constructor(readonly shape: readonly number[], readonly schedule: Schedule, readonly spec: GmmSpec) {
    this.d = sampleDim(shape);
    this.numClasses = spec.weights.length;
    this.mixture = new GmmOracle(`oracle:gmm${this.numClasses}`, shape, schedule, spec);
    this.name = `oracle:gmm${this.numClasses}-conditional`;
  }

  predictEpsConditional(x: tf.Tensor, t: Timesteps, labels: readonly number[] | null): tf.Tensor {
    const B = x.shape[0];
    if (labels === null) return this.mixture.predictEps(x, t);
    if (labels.length !== B) throw new Error(`gmm conditional oracle: ${labels.length} labels for a batch of ${B}`);
    labels.forEach((y) => {
      if (!Number.isInteger(y) || y < 0 || y > this.numClasses) throw new Error(`gmm conditional oracle: label ${y} outside 0..${this.numClasses} (${this.numClasses} = null)`);
    });
    return tf.tidy(() => {
      const ts = timestepArray(t, B);
      const isNull = labels.map((y) => y === this.numClasses);
      const shift = new Float32Array(B * this.d); // sqrt(abar_t) mu_y
      const gain = new Float32Array(B); // sqrt(bbar_t) / v_y
      labels.forEach((y, b) => {
        if (isNull[b]) return;
        const a = this.schedule.abar[ts[b]];
        const bb = this.schedule.bbar[ts[b]];
        const v = a * this.spec.stds[y] ** 2 + bb;
        gain[b] = Math.sqrt(bb) / v;
        for (let i = 0; i < this.d; i++) shift[b * this.d + i] = Math.sqrt(a) * this.spec.means[y][i];
      });
      const flat = x.reshape([B, this.d]);
      const cond = tf.mul(tf.sub(flat, tf.tensor2d(shift, [B, this.d])), tf.tensor2d(gain, [B, 1]));
      if (!isNull.some(Boolean)) return cond.reshape(x.shape);
      const mix = this.mixture.predictEps(x, t).reshape([B, this.d]);
      const mask = tf.tensor2d(isNull.map((n) => (n ? 1 : 0)), [B, 1], 'bool');
      return tf.where(tf.broadcastTo(mask, [B, this.d]), mix, cond).reshape(x.shape);
    });
  }

  /** eps(x_t, t, y) as a plain EpsModel for a fixed label per row. */
  bind(labels: readonly number[]): { name: string; shape: readonly number[]; predictEps: (x: tf.Tensor, t: Timesteps) => tf.Tensor } {
    return { name: `${this.name}(y)`, shape: this.shape, predictEps: (x, t) => this.predictEpsConditional(x, t, labels) };
  }

  dispose(): void {
    this.mixture.dispose();
  }
}
