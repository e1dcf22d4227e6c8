/**
 * Exact continuous-time score of diagonal Gaussian data x_0 ~ N(mu, diag(s^2)) under a linear SDE: p_t is
 * N(m mu, diag(m^2 s^2 + std^2)) (Song et al. Eq. 29-31 convolved with the data), so
 * s(x, t) = -(x - m mu) / (m^2 s^2 + std^2). Also an EpsModel at real-valued timesteps n = t N
 * (eps = -std(t) s(x, t)), and the closed-form log p_t and PF-ODE flow used as references by the tests.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../../model.js';
import { sampleDim } from '../../model.js';
import { timeCoef, type ContinuousTime, type Sde } from '../sde.js';
import type { ScoreModel } from '../score.js';

export class GaussianScoreOracle implements ScoreModel, EpsModel {
  readonly name = 'oracle:gaussian-score';
  readonly d: number;
  readonly mean: Float64Array;
  readonly stdData: Float64Array;

  /** N: the network timestep scale of the EpsModel view (n = t N). */
  constructor(readonly shape: readonly number[], readonly sde: Sde, readonly N: number, mean: number | number[], std: number | number[]) {
    this.d = sampleDim(shape);
    this.mean = broadcast('mean', mean, this.d);
    this.stdData = broadcast('std', std, this.d);
  }

  /** Per-dimension marginal variance of p_t: m^2 s_i^2 + std^2. */
  marginalVariance(t: number, i: number): number {
    const m = this.sde.meanCoef(t);
    const s = this.sde.std(t);
    return m * m * this.stdData[i] ** 2 + s * s;
  }

  score(x: tf.Tensor, t: ContinuousTime): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      const ts = typeof t === 'number' ? Array<number>(B).fill(t) : t;
      const inv = new Float32Array(B * this.d);
      const shift = new Float32Array(B * this.d);
      ts.forEach((u, b) => {
        const m = this.sde.meanCoef(u);
        for (let i = 0; i < this.d; i++) {
          inv[b * this.d + i] = 1 / this.marginalVariance(u, i);
          shift[b * this.d + i] = m * this.mean[i];
        }
      });
      const flat = x.reshape([B, this.d]);
      const sh = [B, this.d];
      return tf.mul(tf.sub(tf.tensor(shift, sh), flat), tf.tensor(inv, sh)).reshape(x.shape);
    });
  }

  predictEps(x: tf.Tensor, n: Timesteps): tf.Tensor {
    return tf.tidy(() => {
      const t = typeof n === 'number' ? n / this.N : n.map((v) => v / this.N);
      return tf.mul(this.score(x, t), timeCoef(t, (u) => -this.sde.std(u), x.rank));
    });
  }

  /** Closed-form log p_t(x) per sample (float64). */
  logProb(x: tf.Tensor, t: number): Float64Array {
    const B = x.shape[0];
    const v = x.dataSync();
    const m = this.sde.meanCoef(t);
    const out = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = 0; i < this.d; i++) {
        const varI = this.marginalVariance(t, i);
        s += -0.5 * Math.log(2 * Math.PI * varI) - (v[b * this.d + i] - m * this.mean[i]) ** 2 / (2 * varI);
      }
      out[b] = s;
    }
    return out;
  }

  /** The exact PF-ODE flow from t0 to t1: x(t1) - m1 mu = sqrt(v1 / v0) (x(t0) - m0 mu), per dimension. */
  flow(x: tf.Tensor, t0: number, t1: number): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      const gain = new Float32Array(this.d);
      const off = new Float32Array(this.d);
      const m0 = this.sde.meanCoef(t0);
      const m1 = this.sde.meanCoef(t1);
      for (let i = 0; i < this.d; i++) {
        const g = Math.sqrt(this.marginalVariance(t1, i) / this.marginalVariance(t0, i));
        gain[i] = g;
        off[i] = m1 * this.mean[i] - g * m0 * this.mean[i];
      }
      const flat = x.reshape([B, this.d]);
      return tf.add(tf.mul(flat, tf.tensor2d(gain, [1, this.d])), tf.tensor2d(off, [1, this.d])).reshape(x.shape);
    });
  }
}

function broadcast(name: string, v: number | number[], d: number): Float64Array {
  if (typeof v === 'number') return new Float64Array(d).fill(v);
  if (v.length !== d) throw new Error(`gaussian score oracle: ${name} has length ${v.length}, expected d = ${d}`);
  return Float64Array.from(v);
}
