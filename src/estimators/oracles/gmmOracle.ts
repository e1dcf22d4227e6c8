/**
 * Exact model of a Gaussian mixture sum_k w_k N(mu_k, s_k^2 I). With v_k = abar s_k^2 + bbar,
 * responsibilities r_k(x_t) ∝ w_k N(x_t; sqrt(abar) mu_k, v_k I) and
 * E[x0 | x_t] = sum_k r_k [mu_k + sqrt(abar) s_k^2 / v_k (x_t - sqrt(abar) mu_k)].
 * With s_k = 0 and equal weights this is the empirical distribution of a finite data set, whose exact
 * posterior mean is the softmax-weighted average of the data points (the best model of the training set).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../../core/schedule.js';
import type { DataRange, Timesteps } from '../../core/model.js';
import { timestepArray } from '../../core/coefficients.js';
import type { GmmSpec } from '../../core/data/toy.js';
import type { Dataset } from '../../core/data/dataset.js';
import { PosteriorMeanOracle } from './posteriorMeanOracle.js';

/** Max elements of the [B, chunk, d] difference tensor built when computing distances. */
const CHUNK_ELEMENTS = 1 << 22;

export class GmmOracle extends PosteriorMeanOracle {
  private readonly means: tf.Tensor2D;
  private readonly logW: Float64Array;
  private readonly vars: Float64Array;

  constructor(name: string, shape: readonly number[], schedule: Schedule, spec: GmmSpec, range: DataRange = null) {
    super(name, shape, schedule, range);
    const K = spec.weights.length;
    if (spec.means.length !== K || spec.stds.length !== K) {
      throw new Error(`gmm oracle: weights, means and stds must have the same length (got ${K}, ${spec.means.length}, ${spec.stds.length})`);
    }
    spec.means.forEach((m, k) => {
      if (m.length !== this.d) throw new Error(`gmm oracle: mean ${k} has length ${m.length}, expected d = ${this.d}`);
    });
    const flat = new Float32Array(K * this.d);
    spec.means.forEach((m, k) => flat.set(m, k * this.d));
    this.means = tf.keep(tf.tensor2d(flat, [K, this.d]));
    const total = spec.weights.reduce((a, b) => a + b, 0);
    this.logW = Float64Array.from(spec.weights, (w) => Math.log(w / total));
    this.vars = Float64Array.from(spec.stds, (s) => s * s);
  }

  /** The empirical distribution of a data set (every row a component with zero variance). */
  static empirical(data: Dataset, schedule: Schedule): GmmOracle {
    const idx = Array.from({ length: data.size }, (_, i) => i);
    const means = idx.map((i) => Array.from(data.row(i)));
    return new GmmOracle(`oracle:empirical:${data.name}`, data.shape, schedule,
      { weights: Array(data.size).fill(1), means, stds: Array(data.size).fill(0) }, data.range);
  }

  get components(): number {
    return this.logW.length;
  }

  protected posteriorMeanFlat(x: tf.Tensor2D, t: Timesteps): tf.Tensor2D {
    return tf.tidy(() => {
      const ts = timestepArray(t, x.shape[0]);
      const B = ts.length;
      const K = this.components;
      const sa = Float32Array.from(ts, (n) => Math.sqrt(this.schedule.abar[n]));
      const logPrior = new Float32Array(B * K); // log w_k - d/2 log v_k
      const inv2v = new Float32Array(B * K);
      const keep = new Float32Array(B * K); // 1 - abar s^2 / v: weight of mu_k
      const gain = new Float32Array(B * K); // sqrt(abar) s^2 / v: weight of x_t
      ts.forEach((n, b) => {
        const a = this.schedule.abar[n];
        for (let k = 0; k < K; k++) {
          const v = a * this.vars[k] + this.schedule.bbar[n];
          logPrior[b * K + k] = this.logW[k] - (this.d / 2) * Math.log(v);
          inv2v[b * K + k] = 1 / (2 * v);
          keep[b * K + k] = 1 - (a * this.vars[k]) / v;
          gain[b * K + k] = (Math.sqrt(a) * this.vars[k]) / v;
        }
      });
      const dist = this.scaledDistances(x, tf.tensor2d(sa, [B, 1]));
      const logits = tf.sub(tf.tensor2d(logPrior, [B, K]), tf.mul(dist, tf.tensor2d(inv2v, [B, K])));
      const r = tf.softmax(logits, 1);
      const fromMeans = tf.matMul(tf.mul(r, tf.tensor2d(keep, [B, K])), this.means);
      const fromX = tf.mul(x, tf.sum(tf.mul(r, tf.tensor2d(gain, [B, K])), 1, true));
      return tf.add(fromMeans, fromX) as tf.Tensor2D;
    });
  }

  /** ||x_b - sqrt(abar_b) mu_k||^2 as [B, K], from explicit differences (no cancellation at small bbar). */
  private scaledDistances(x: tf.Tensor2D, sa: tf.Tensor2D): tf.Tensor2D {
    const [B, d] = x.shape;
    const K = this.components;
    const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / (B * d)));
    const parts: tf.Tensor[] = [];
    for (let k0 = 0; k0 < K; k0 += chunk) {
      const k1 = Math.min(K, k0 + chunk);
      parts.push(tf.tidy(() => {
        const mu = this.means.slice([k0, 0], [k1 - k0, d]).expandDims(0); // [1, c, d]
        const diff = tf.sub(x.expandDims(1), tf.mul(mu, sa.expandDims(2))); // [B, c, d]
        return tf.sum(tf.square(diff), 2);
      }));
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor2D;
  }

  dispose(): void {
    this.means.dispose();
  }
}
