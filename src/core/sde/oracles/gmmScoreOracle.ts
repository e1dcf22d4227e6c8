/**
 * Exact continuous-time score of a Gaussian mixture sum_k w_k N(mu_k, s_k^2 I) under a linear SDE: p_t is the mixture
 * of N(m mu_k, v_k I), v_k = m^2 s_k^2 + std^2, so s(x, t) = -sum_k r_k (x - m mu_k) / v_k with responsibilities
 * r_k ∝ w_k N(x; m mu_k, v_k I). Also an EpsModel at real timesteps n = t N, and the closed-form log p_t.
 * Built from differentiable tf ops, so tf.grad gives exact Jacobian-vector products (Hutchinson tests).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../../model.js';
import { sampleDim } from '../../model.js';
import type { GmmSpec } from '../../data/toy.js';
import { timeCoef, type ContinuousTime, type Sde } from '../sde.js';
import type { ScoreModel } from '../score.js';

export class GmmScoreOracle implements ScoreModel, EpsModel {
  readonly name = 'oracle:gmm-score';
  readonly d: number;
  private readonly logW: Float64Array;
  private readonly vars: Float64Array;
  private readonly means: Float32Array;

  constructor(readonly shape: readonly number[], readonly sde: Sde, readonly N: number, readonly spec: GmmSpec) {
    this.d = sampleDim(shape);
    const K = spec.weights.length;
    if (spec.means.length !== K || spec.stds.length !== K) {
      throw new Error(`gmm score oracle: weights, means and stds must have the same length (got ${K}, ${spec.means.length}, ${spec.stds.length})`);
    }
    spec.means.forEach((m, k) => {
      if (m.length !== this.d) throw new Error(`gmm score oracle: mean ${k} has length ${m.length}, expected d = ${this.d}`);
    });
    const total = spec.weights.reduce((a, b) => a + b, 0);
    this.logW = Float64Array.from(spec.weights, (w) => Math.log(w / total));
    this.vars = Float64Array.from(spec.stds, (s) => s * s);
    this.means = new Float32Array(K * this.d);
    spec.means.forEach((m, k) => this.means.set(m, k * this.d));
  }

  get components(): number {
    return this.logW.length;
  }

  /** Per-sample, per-component [B, K] log w_k - d/2 log(2 pi v_k) - ||x - m mu_k||^2 / (2 v_k), and the [B, K] 1/v_k. */
  private logJoint(flat: tf.Tensor2D, ts: readonly number[]): { logits: tf.Tensor2D; invV: tf.Tensor2D; mu: tf.Tensor3D } {
    const B = ts.length;
    const K = this.components;
    const logC = new Float32Array(B * K);
    const inv = new Float32Array(B * K);
    const mus = new Float32Array(B * K * this.d);
    ts.forEach((u, b) => {
      const m = this.sde.meanCoef(u);
      const s = this.sde.std(u);
      for (let k = 0; k < K; k++) {
        const v = m * m * this.vars[k] + s * s;
        logC[b * K + k] = this.logW[k] - 0.5 * this.d * Math.log(2 * Math.PI * v);
        inv[b * K + k] = 1 / v;
        for (let i = 0; i < this.d; i++) mus[(b * K + k) * this.d + i] = m * this.means[k * this.d + i];
      }
    });
    const mu = tf.tensor3d(mus, [B, K, this.d]);
    const diff = tf.sub(flat.expandDims(1), mu); // [B, K, d]
    const invV = tf.tensor2d(inv, [B, K]);
    const logits = tf.sub(tf.tensor2d(logC, [B, K]), tf.mul(tf.sum(tf.square(diff), 2), tf.mul(invV, 0.5))) as tf.Tensor2D;
    return { logits, invV, mu };
  }

  score(x: tf.Tensor, t: ContinuousTime): tf.Tensor {
    return tf.tidy(() => {
      const B = x.shape[0];
      const ts = typeof t === 'number' ? Array<number>(B).fill(t) : t;
      const flat = x.reshape([B, this.d]) as tf.Tensor2D;
      const { logits, invV, mu } = this.logJoint(flat, ts);
      const w = tf.mul(tf.softmax(logits, 1), invV); // r_k / v_k, [B, K]
      // -sum_k (r_k / v_k) (x - m mu_k) = sum_k (r_k/v_k) m mu_k - x sum_k r_k/v_k
      const toMeans = tf.squeeze(tf.matMul(w.expandDims(1), mu), [1]);
      return tf.sub(toMeans, tf.mul(flat, tf.sum(w, 1, true))).reshape(x.shape);
    });
  }

  predictEps(x: tf.Tensor, n: Timesteps): tf.Tensor {
    return tf.tidy(() => {
      const t = typeof n === 'number' ? n / this.N : n.map((v) => v / this.N);
      return tf.mul(this.score(x, t), timeCoef(t, (u) => -this.sde.std(u), x.rank));
    });
  }

  /** Closed-form log p_t(x) per sample (float64 from float32 logits). */
  logProb(x: tf.Tensor, t: number): Float64Array {
    const out = tf.tidy(() => {
      const B = x.shape[0];
      const { logits } = this.logJoint(x.reshape([B, this.d]) as tf.Tensor2D, Array<number>(B).fill(t));
      return tf.logSumExp(logits, 1);
    });
    const v = Float64Array.from(out.dataSync());
    out.dispose();
    return v;
  }
}
