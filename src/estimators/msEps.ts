/**
 * Monte Carlo msEps (the code-form Gamma of Analytic-DPM Eq. 8): msEps_t = E_{x_t ~ q_t} ||eps_theta(x_t,t)||^2 / d,
 * estimated for every t = 1..N from M data points, each with one fresh eps per timestep (official save_ms_eps).
 * The standard error per t is the sample std of the M per-point values over sqrt(M).
 * The paper's Gamma_t (mean squared score) is msEps_t / bbar_t.
 *
 * Two estimators of the same quantity for an exact model (E[eps . eps_theta] = E||eps_theta||^2 by the tower rule):
 *   eps2      msEps_t = E||eps_theta||^2 / d                      (Analytic-DPM Eq. 8, the official code; default)
 *   residual  msEps_t = 1 - E||eps - eps_theta||^2 / d             (the imperfect-mean form of Extended-Analytic-DPM)
 * Where the model is accurate and 1 - msEps_t is tiny (large t, or small t on discrete data), the eps2 estimate
 * has a standard error of about sqrt(2/d)/sqrt(M) regardless of 1 - msEps_t, so it lands above 1 half the time;
 * the residual estimate has an error proportional to 1 - msEps_t and never exceeds 1. For an imperfect model the
 * residual form gives the optimal variance of the imperfect mean (model error included), not the paper's Gamma.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import type { EpsModel } from '../core/model.js';
import type { Dataset } from '../core/data/dataset.js';
import { NoiseSource, permutation } from '../core/rng.js';
import { qSample } from '../core/forward.js';

export type MsEpsEstimator = 'eps2' | 'residual';
export const MS_EPS_ESTIMATORS: readonly MsEpsEstimator[] = ['eps2', 'residual'];

export interface MsEpsArtifact {
  N: number;
  M: number;
  seed: number;
  schedule: string;
  model: string;
  estimator: MsEpsEstimator;
  data: { name: string; hash: string; size: number };
  /** length N+1, index 0 = 0 */
  msEps: number[];
  /** standard error per t, length N+1, index 0 = 0 */
  stderr: number[];
}

export interface MsEpsOptions {
  model: EpsModel;
  schedule: Schedule;
  data: Dataset;
  /** Monte Carlo samples per timestep (distinct data points) */
  M: number;
  seed: number;
  /** rows per network call (items are (t, data point) pairs) */
  batchSize?: number;
  /** default 'eps2' (the paper's estimator) */
  estimator?: MsEpsEstimator;
  /** estimate only these timesteps (the others stay 0); default 1..N. Used to split the work over processes. */
  timesteps?: readonly number[];
  onProgress?: (done: number, total: number) => void;
}

/** The M data points used: the first M of a seeded permutation of the data set. */
export function msEpsSubset(data: Dataset, M: number, seed: number): number[] {
  if (!Number.isInteger(M) || M < 2) throw new Error(`msEps: M must be an integer >= 2, got ${M}`);
  if (M > data.size) throw new Error(`msEps: M = ${M} exceeds the data set size ${data.size} (${data.name})`);
  return permutation(data.size, new NoiseSource(seed).uniform('mseps-subset')).slice(0, M);
}

/** Estimate msEps and its standard error for t = 1..N. */
export function estimateMsEps(opts: MsEpsOptions): MsEpsArtifact {
  const { model, schedule: sch, data, M, seed } = opts;
  const estimator = opts.estimator ?? 'eps2';
  if (!MS_EPS_ESTIMATORS.includes(estimator)) throw new Error(`msEps: unknown estimator "${estimator}"; allowed: ${MS_EPS_ESTIMATORS.join(', ')}`);
  const N = sch.N;
  const subset = msEpsSubset(data, M, seed);
  const noise = new NoiseSource(seed);
  const sum = new Float64Array(N + 1);
  const sumSq = new Float64Array(N + 1);
  const steps = opts.timesteps ?? Array.from({ length: N }, (_, i) => i + 1);
  steps.forEach((t) => {
    if (!Number.isInteger(t) || t < 1 || t > N) throw new Error(`msEps: timestep ${t} outside 1..${N}`);
  });
  const visited = new Set(steps);
  const total = steps.length * M;
  const B = Math.max(1, opts.batchSize ?? 256);
  for (let start = 0; start < total; start += B) {
    const items = Array.from({ length: Math.min(B, total - start) }, (_, j) => start + j);
    const ts = items.map((k) => steps[Math.floor(k / M)]);
    const points = items.map((k) => k % M);
    const values = tf.tidy(() => {
      const x0 = data.rows(points.map((i) => subset[i]));
      const eps = noise.normalItems(points.map((i, j) => [`mseps:${ts[j]}`, i] as const), data.shape);
      const xt = qSample(sch, x0, ts, eps);
      const e = model.predictEps(xt, ts);
      const axes = e.shape.slice(1).map((_, a) => a + 1);
      return estimator === 'eps2' ? tf.mean(tf.square(e), axes) : tf.sub(1, tf.mean(tf.square(tf.sub(eps, e)), axes));
    });
    const v = values.dataSync();
    values.dispose();
    ts.forEach((t, j) => {
      sum[t] += v[j];
      sumSq[t] += v[j] * v[j];
    });
    opts.onProgress?.(start + items.length, total);
  }
  const msEps = [0];
  const stderr = [0];
  for (let t = 1; t <= N; t++) {
    if (!visited.has(t)) {
      msEps.push(0);
      stderr.push(0);
      continue;
    }
    const mean = sum[t] / M;
    const variance = Math.max(sumSq[t] / M - mean * mean, 0) * (M / (M - 1));
    msEps.push(mean);
    stderr.push(Math.sqrt(variance / M));
  }
  return {
    N, M, seed, schedule: sch.name, model: model.name, estimator,
    data: { name: data.name, hash: data.hash, size: data.size },
    msEps, stderr,
  };
}
