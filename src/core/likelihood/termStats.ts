/**
 * Per-timestep statistics from which every ELBO term follows in closed form (Analytic-DPM §5.1).
 * For a scalar reverse variance the KL term of the jump t -> s needs only ||mu_q - mu_p||^2, and
 *   DDPM mean: mu_q - mu_p = gamma (x0 - x0c)
 *   DDIM mean: mu_q - mu_p = sqrt(abar_s)(x0 - x0c) + sqrt(bbar_s - lambda^2)(eps - eps_theta),
 * so three sums over dimensions per image and t suffice: rx = ||x0 - x0c||^2, re = ||eps - eps_theta||^2,
 * cross = <x0 - x0c, eps - eps_theta>. They depend on t only, so one pass over the union of timesteps
 * serves every variance rule and trajectory, with the same x_t (common random numbers) in every cell.
 * Each (image, t) draws its own eps from the stream "nll:t" (fresh noise per term, as the official code).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../schedule.js';
import type { DataRange, EpsModel } from '../model.js';
import { sampleDim } from '../model.js';
import type { Dataset } from '../data/dataset.js';
import type { NoiseSource } from '../rng.js';
import { qSample } from '../forward.js';
import { predictX0 } from '../predictX0.js';
import { tildeBeta } from '../skip.js';
import { priorKL } from './gaussianKL.js';
import { discretizedGaussianLogLik, gaussianLogDensity } from './decoder.js';

export interface TermStats {
  rx: Float64Array;
  re: Float64Array;
  cross: Float64Array;
}

export interface NllStats {
  schedule: Schedule;
  d: number;
  /** data-set indices of the evaluated images */
  ids: number[];
  /** prior KL at N per image (nats) */
  prior: Float64Array;
  /** -log p(x0 | x_1) per image (nats), decoder variance tildeBeta(1,2) */
  decoder: Float64Array;
  /** statistics at every timestep t >= 2 that was requested */
  terms: Map<number, TermStats>;
}

export interface NllStatsOptions {
  model: EpsModel;
  schedule: Schedule;
  data: Dataset;
  ids: readonly number[];
  /** timesteps t >= 2 whose KL statistics are needed (t = 1, the decoder, is always computed) */
  timesteps: Iterable<number>;
  noise: NoiseSource;
  /** clamp range of x0 predictions (defaults to the data range) */
  range?: DataRange;
  batchSize?: number;
  /** compute the t = 1 decoder and the prior (default true); false when another process does */
  includeDecoder?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Decoder variance of L_0: tildeBeta(1,2) for every method (official nelbo code). */
export function decoderVariance(sch: Schedule): number {
  return tildeBeta(sch, 1, 2);
}

export function computeNllStats(opts: NllStatsOptions): NllStats {
  const { model, schedule: sch, data, noise } = opts;
  const ids = [...opts.ids];
  const range = opts.range === undefined ? data.range : opts.range;
  const d = sampleDim(data.shape);
  const ts = [...new Set([...opts.timesteps].filter((t) => t >= 2))].sort((a, b) => a - b);
  ts.forEach((t) => {
    if (!Number.isInteger(t) || t > sch.N) throw new Error(`nll: timestep ${t} outside 1..${sch.N}`);
  });
  const stats: NllStats = {
    schedule: sch, d, ids,
    prior: new Float64Array(ids.length), decoder: new Float64Array(ids.length), terms: new Map(),
  };
  const B = Math.max(1, opts.batchSize ?? 250);
  const batches = Math.ceil(ids.length / B);
  const visit = opts.includeDecoder === false ? ts : [1, ...ts];
  const total = visit.length * batches;
  let done = 0;
  for (const t of visit) {
    const term: TermStats = { rx: new Float64Array(ids.length), re: new Float64Array(ids.length), cross: new Float64Array(ids.length) };
    for (let b0 = 0; b0 < ids.length; b0 += B) {
      const batchIds = ids.slice(b0, b0 + B);
      const out = tf.tidy(() => {
        const x0 = data.rows(batchIds);
        const eps = noise.normal(`nll:${t}`, batchIds, data.shape);
        const xt = qSample(sch, x0, t, eps);
        const epsHat = model.predictEps(xt, t);
        const x0c = predictX0(sch, xt, epsHat, t, range);
        const axes = x0.shape.slice(1).map((_, a) => a + 1);
        if (t === 1) {
          const ll = data.discrete
            ? discretizedGaussianLogLik(x0, x0c, decoderVariance(sch))
            : gaussianLogDensity(x0, x0c, decoderVariance(sch));
          return tf.stack([tf.neg(tf.sum(ll, axes)), tf.sum(tf.square(x0), axes)], 1);
        }
        const dx = tf.sub(x0, x0c);
        const de = tf.sub(eps, epsHat);
        return tf.stack([tf.sum(tf.square(dx), axes), tf.sum(tf.square(de), axes), tf.sum(tf.mul(dx, de), axes)], 1);
      });
      const v = out.dataSync();
      out.dispose();
      batchIds.forEach((_, j) => {
        const i = b0 + j;
        if (t === 1) {
          stats.decoder[i] = v[2 * j];
          stats.prior[i] = priorKL(d, sch.abar[sch.N], sch.bbar[sch.N], v[2 * j + 1]);
        } else {
          term.rx[i] = v[3 * j];
          term.re[i] = v[3 * j + 1];
          term.cross[i] = v[3 * j + 2];
        }
      });
      opts.onProgress?.(++done, total);
    }
    if (t >= 2) stats.terms.set(t, term);
  }
  return stats;
}
