/**
 * Exact model of diagonal Gaussian data x0 ~ N(mu, diag(s^2)):
 * E[x0 | x_t] = mu + sqrt(abar) s^2 / (abar s^2 + bbar) * (x_t - sqrt(abar) mu).
 * Closed forms: msEps_t = mean_i bbar/(abar s_i^2 + bbar); Var[x0 | x_t] = s^2 bbar / (abar s^2 + bbar).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/schedule.js';
import type { Timesteps } from '../../core/model.js';
import { sampleDim } from '../../core/model.js';
import { timestepArray } from '../../core/coefficients.js';
import { PosteriorMeanOracle } from './posteriorMeanOracle.js';

export class GaussianOracle extends PosteriorMeanOracle {
  readonly mean: Float64Array;
  readonly std: Float64Array;

  constructor(shape: readonly number[], schedule: Schedule, mean: number | number[], std: number | number[]) {
    super('oracle:gaussian', shape, schedule, null);
    const d = sampleDim(shape);
    this.mean = broadcastParam('mean', mean, d);
    this.std = broadcastParam('std', std, d);
  }

  protected posteriorMeanFlat(x: tf.Tensor2D, t: Timesteps): tf.Tensor2D {
    return tf.tidy(() => {
      const ts = timestepArray(t, x.shape[0]);
      const B = ts.length;
      const gain = new Float32Array(B * this.d); // sqrt(abar) s^2 / (abar s^2 + bbar)
      const shift = new Float32Array(B * this.d); // mu - gain sqrt(abar) mu
      ts.forEach((n, b) => {
        const a = this.schedule.abar[n];
        const bb = this.schedule.bbar[n];
        for (let i = 0; i < this.d; i++) {
          const v = this.std[i] * this.std[i];
          const g = (Math.sqrt(a) * v) / (a * v + bb);
          gain[b * this.d + i] = g;
          shift[b * this.d + i] = this.mean[i] * (1 - g * Math.sqrt(a));
        }
      });
      return tf.add(tf.mul(x, tf.tensor2d(gain, [B, this.d])), tf.tensor2d(shift, [B, this.d]));
    });
  }

  /** Exact per-dimension posterior variance averaged over dims: E tr Cov[x0 | x_t] / d. */
  posteriorVariance(t: number): number {
    const a = this.schedule.abar[t];
    const b = this.schedule.bbar[t];
    let s = 0;
    for (let i = 0; i < this.d; i++) s += (this.std[i] ** 2 * b) / (a * this.std[i] ** 2 + b);
    return s / this.d;
  }

  /** Exact msEps_t = E ||E[eps | x_t]||^2 / d. */
  msEps(t: number): number {
    const a = this.schedule.abar[t];
    const b = this.schedule.bbar[t];
    let s = 0;
    for (let i = 0; i < this.d; i++) s += b / (a * this.std[i] ** 2 + b);
    return s / this.d;
  }
}

function broadcastParam(name: string, v: number | number[], d: number): Float64Array {
  if (typeof v === "number") return new Float64Array(d).fill(v);
  if (v.length !== d) throw new Error(`gaussian oracle: ${name} has length ${v.length}, expected d = ${d}`);
  return Float64Array.from(v);
}
