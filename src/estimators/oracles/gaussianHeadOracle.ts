/**
 * Exact variance heads for diagonal Gaussian data x0 ~ N(mu, diag(s^2)) (Extended-Analytic-DPM §2.2-2.3):
 *   Var[x0_i | x_t]  = s_i^2 bbar / (abar s_i^2 + bbar)              (constant in x_t)
 *   Var[eps_i | x_t] = abar/bbar Var[x0_i | x_t] = abar s_i^2 / (abar s_i^2 + bbar)
 *   SN  head h = E[eps^2 | x_t] = E[eps | x_t]^2 + Var[eps | x_t]
 *   NPR head g = E[(eps - eps_hat)^2 | x_t] = Var[eps | x_t] + bias^2   for eps_hat = E[eps | x_t] + bias.
 * `bias` (per dimension, default 0) makes eps_hat an imperfect mean with a known error.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/schedule.js';
import type { HeadKind, HeadModel, HeadOutputs, Timesteps } from '../../core/model.js';
import { timestepArray } from '../../core/coefficients.js';
import { GaussianOracle } from './gaussianOracle.js';

export class GaussianHeadOracle implements HeadModel {
  readonly name: string;
  readonly shape: readonly number[];
  private readonly base: GaussianOracle;
  private readonly bias: Float64Array;
  readonly headKinds: readonly HeadKind[];

  /** `kinds`: the head(s) the oracle exposes (one kind or a list). */
  constructor(kinds: HeadKind | readonly HeadKind[], shape: readonly number[], readonly schedule: Schedule, mean: number | number[], std: number | number[], bias: number | number[] = 0) {
    this.base = new GaussianOracle(shape, schedule, mean, std);
    this.shape = shape;
    this.bias = typeof bias === 'number' ? new Float64Array(this.base.d).fill(bias) : Float64Array.from(bias);
    if (this.bias.length !== this.base.d) throw new Error(`gaussian head oracle: bias has length ${this.bias.length}, expected d = ${this.base.d}`);
    this.headKinds = typeof kinds === 'string' ? [kinds] : [...kinds];
    this.name = `oracle:gaussian-${this.headKinds.join('+')}${this.bias.some((b) => b !== 0) ? '-biased' : ''}`;
  }

  /** Exact Var[x0_i | x_t] for every dimension i. */
  posteriorVariance(t: number): Float64Array {
    const a = this.schedule.abar[t];
    const b = this.schedule.bbar[t];
    return this.base.std.map((s) => (s * s * b) / (a * s * s + b));
  }

  /** Exact Var[eps_i | x_t] for every dimension i. */
  epsVariance(t: number): Float64Array {
    const a = this.schedule.abar[t];
    const b = this.schedule.bbar[t];
    return this.base.std.map((s) => (a * s * s) / (a * s * s + b));
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return tf.tidy(() => tf.add(this.base.predictEps(x, t), this.perSampleRows(x, t, () => this.bias)));
  }

  predictWithHeads(x: tf.Tensor, t: Timesteps): HeadOutputs {
    return tf.tidy(() => {
      const exact = this.base.predictEps(x, t);
      const eps = tf.add(exact, this.perSampleRows(x, t, () => this.bias));
      const varEps = this.perSampleRows(x, t, (n) => this.epsVariance(n));
      const exactHead = (kind: HeadKind) => kind === 'sn'
        ? tf.add(tf.square(exact), varEps)
        : tf.add(varEps, this.perSampleRows(x, t, () => this.bias.map((b) => b * b)));
      return { eps, heads: Object.fromEntries(this.headKinds.map((k) => [k, exactHead(k)])) };
    });
  }

  /** A [B, ...shape] tensor whose row b is f(t_b). */
  private perSampleRows(x: tf.Tensor, t: Timesteps, f: (n: number) => Float64Array): tf.Tensor {
    const ts = timestepArray(t, x.shape[0]);
    const d = this.base.d;
    const v = new Float32Array(ts.length * d);
    ts.forEach((n, b) => v.set(f(n), b * d));
    return tf.tensor(v, x.shape);
  }
}
