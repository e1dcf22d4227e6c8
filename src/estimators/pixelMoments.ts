/**
 * Unconditional per-pixel variants of the optimal reverse variance (Extended-Analytic-DPM §2.2-2.3 without the
 * conditioning on x_t; Su's "per-dimension, unconditional" forms, §10 of ../shared/reference/extended-analytic-dpm.md):
 * per timestep t and pixel i, by Monte Carlo over x0 from the data and fresh eps (like msEps),
 *   m2_i(t) = E[eps_theta(x_t)_i^2]                 perfect mean:   cov0_i(t) = bbar_t/abar_t (1 - m2_i(t))
 *   r2_i(t) = E[(eps - eps_theta(x_t))_i^2]         imperfect mean: cov0_i(t) = bbar_t/abar_t r2_i(t)
 * each clamped to [0, ((b-a)/2)^2]. These are the diagonal of E_{x_t} Cov[x0 | x_t] (the tower rule for an exact
 * model) and of the mean squared x0 error of the model's own mean; Analytic-DPM's scalar cov0 is their pixel average.
 * Monte Carlo error: pixel-analytic's is about sqrt(2/M) bbar_t/abar_t per pixel whatever the true value (as msEps's
 * eps2 estimator, now without the average over d pixels), so it needs a large M at large t; pixel-residual's is
 * proportional to the value itself.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import type { DataRange, EpsModel } from '../core/model.js';
import { sampleDim } from '../core/model.js';
import type { Dataset } from '../core/data/dataset.js';
import { NoiseSource } from '../core/rng.js';
import { qSample } from '../core/forward.js';
import { msEpsSubset } from './msEps.js';
import { rangeVarianceBound } from './analyticVariance.js';

/** Per-pixel tables by timestep (only the estimated timesteps are present). */
export interface PixelMoments {
  N: number;
  M: number;
  d: number;
  /** E[eps_theta^2] per pixel, and its standard error */
  m2: Map<number, Float64Array>;
  m2Stderr: Map<number, Float64Array>;
  /** E[(eps - eps_theta)^2] per pixel, and its standard error */
  r2: Map<number, Float64Array>;
  r2Stderr: Map<number, Float64Array>;
}

export interface PixelMomentsOptions {
  model: EpsModel;
  schedule: Schedule;
  data: Dataset;
  M: number;
  seed: number;
  /** the timesteps to estimate (e.g. the union of the trajectories in use) */
  timesteps: readonly number[];
  batchSize?: number;
}

/** Mean and standard error over the M rows of a [M, d] array, per column. */
function columnMeans(v: Float32Array, M: number, d: number): { mean: Float64Array; se: Float64Array } {
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let r = 0; r < M; r++) for (let i = 0; i < d; i++) mean[i] += v[r * d + i] / M;
  for (let r = 0; r < M; r++) for (let i = 0; i < d; i++) sq[i] += (v[r * d + i] - mean[i]) ** 2;
  return { mean, se: sq.map((q) => Math.sqrt(q / (M - 1) / M)) };
}

export function estimatePixelMoments(opts: PixelMomentsOptions): PixelMoments {
  const { model, schedule: sch, data, M, seed } = opts;
  const d = sampleDim(data.shape);
  const subset = msEpsSubset(data, M, seed);
  const noise = new NoiseSource(seed);
  const out: PixelMoments = { N: sch.N, M, d, m2: new Map(), m2Stderr: new Map(), r2: new Map(), r2Stderr: new Map() };
  const B = Math.max(1, opts.batchSize ?? 256);
  for (const t of opts.timesteps) {
    if (!Number.isInteger(t) || t < 1 || t > sch.N) throw new Error(`pixel moments: timestep ${t} outside 1..${sch.N}`);
    const e2 = new Float32Array(M * d);
    const r2 = new Float32Array(M * d);
    for (let b0 = 0; b0 < M; b0 += B) {
      const ids = subset.slice(b0, b0 + B);
      const [a, b] = tf.tidy(() => {
        const x0 = data.rows(ids);
        const eps = noise.normal(`pixel:${t}`, ids, data.shape);
        const epsHat = model.predictEps(qSample(sch, x0, t, eps), t);
        return [tf.square(epsHat), tf.square(tf.sub(eps, epsHat))];
      });
      e2.set(a.dataSync(), b0 * d);
      r2.set(b.dataSync(), b0 * d);
      tf.dispose([a, b]);
    }
    const m = columnMeans(e2, M, d);
    const r = columnMeans(r2, M, d);
    out.m2.set(t, m.mean);
    out.m2Stderr.set(t, m.se);
    out.r2.set(t, r.mean);
    out.r2Stderr.set(t, r.se);
  }
  return out;
}

/** The two unconditional per-pixel rules: perfect-mean (from m2) and imperfect-mean (from r2). */
export type PixelTableKind = 'pixel-analytic' | 'pixel-residual';
export const PIXEL_TABLE_NAMES: readonly PixelTableKind[] = ['pixel-analytic', 'pixel-residual'];

/** cov0_i(t) of a table rule, clamped to [0, ((b-a)/2)^2] (float64). */
export function tableCov0(kind: PixelTableKind, sch: Schedule, t: number, moments: PixelMoments, range: DataRange): Float64Array {
  const table = kind === 'pixel-analytic' ? moments.m2.get(t) : moments.r2.get(t);
  if (!table) throw new Error(`${kind}: no per-pixel moments at t = ${t}; estimate them for every timestep of the trajectory`);
  const ratio = sch.bbar[t] / sch.abar[t];
  const upper = rangeVarianceBound(range);
  return table.map((v) => Math.min(upper, Math.max(0, ratio * (kind === 'pixel-analytic' ? 1 - v : v))));
}
