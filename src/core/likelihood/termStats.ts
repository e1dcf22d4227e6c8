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
import { requireHeadModel, type DataRange, type EpsModel, type HeadKind, type HeadOutputs } from '../model.js';
import { headKindOf, type PixelVarianceRule } from '../variances.js';
import { lambda2, gammaCoef } from '../posterior.js';
import { ruleCov0, pixelSigma2 } from '../../estimators/pixelVariance.js';
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
  /** per-image KL (nats) of each requested per-pixel jump, keyed by pixelJumpKey */
  pixelTerms?: Map<string, Float64Array>;
}

/** A DDPM jump t -> s whose KL uses per-pixel variances from the model's head (Extended-Analytic-DPM §5). */
export interface PixelJump {
  rule: PixelVarianceRule;
  s: number;
  t: number;
}

export const pixelJumpKey = (j: PixelJump): string => `${j.rule.name}:${j.s}:${j.t}`;

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
  /** DDPM jumps with per-pixel variances (the model must have the rules' head); their t join the timesteps */
  pixelJumps?: readonly PixelJump[];
}

/**
 * Per-image KL(q(x_s | x_t, x0) || p(x_s | x_t)) of a DDPM jump with per-pixel sigma^2 (official nelbo_dtdpm):
 * 0.5 sum_i [log(sigma_i^2 / lambda^2) + (lambda^2 + gamma^2 (x0 - x0c)_i^2) / sigma_i^2 - 1], lambda^2 = tildeBeta(s,t).
 */
function pixelJumpKL(sch: Schedule, j: PixelJump, x0: tf.Tensor, x0c: tf.Tensor, eps: tf.Tensor, heads: HeadOutputs['heads'], axes: number[]): tf.Tensor {
  return tf.tidy(() => {
    const lam2 = lambda2(sch, 'ddpm', j.s, j.t);
    const g2 = gammaCoef(sch, j.s, j.t, lam2) ** 2;
    const sigma2 = pixelSigma2(sch, j.s, j.t, lam2, ruleCov0(j.rule, sch, j.t, eps, heads));
    const num = tf.add(tf.mul(tf.square(tf.sub(x0, x0c)), g2), lam2);
    const perPixel = tf.sub(tf.add(tf.log(tf.div(sigma2, lam2)), tf.div(num, sigma2)), 1);
    return tf.mul(tf.sum(perPixel, axes), 0.5);
  });
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
  const jumps = opts.pixelJumps ?? [];
  const kinds = [...new Set(jumps.map((j) => headKindOf(j.rule)).filter((k): k is HeadKind => k !== null))];
  const headModel = kinds.length > 0 ? requireHeadModel(model, kinds, 'nll: variance') : null;
  const ts = [...new Set([...opts.timesteps, ...jumps.map((j) => j.t)].filter((t) => t >= 2))].sort((a, b) => a - b);
  ts.forEach((t) => {
    if (!Number.isInteger(t) || t > sch.N) throw new Error(`nll: timestep ${t} outside 1..${sch.N}`);
  });
  const stats: NllStats = {
    schedule: sch, d, ids,
    prior: new Float64Array(ids.length), decoder: new Float64Array(ids.length), terms: new Map(),
    pixelTerms: new Map(jumps.map((j) => [pixelJumpKey(j), new Float64Array(ids.length)])),
  };
  jumps.forEach((j) => {
    if (!(j.s >= 1 && j.s < j.t)) throw new Error(`nll: per-pixel jump needs 1 <= s < t, got (${j.s}, ${j.t})`);
  });
  const B = Math.max(1, opts.batchSize ?? 250);
  const batches = Math.ceil(ids.length / B);
  const visit = opts.includeDecoder === false ? ts : [1, ...ts];
  const total = visit.length * batches;
  let done = 0;
  for (const t of visit) {
    const term: TermStats = { rx: new Float64Array(ids.length), re: new Float64Array(ids.length), cross: new Float64Array(ids.length) };
    const jumpsHere = t >= 2 ? jumps.filter((j) => j.t === t) : [];
    for (let b0 = 0; b0 < ids.length; b0 += B) {
      const batchIds = ids.slice(b0, b0 + B);
      const out = tf.tidy(() => {
        const x0 = data.rows(batchIds);
        const eps = noise.normal(`nll:${t}`, batchIds, data.shape);
        const xt = qSample(sch, x0, t, eps);
        const { eps: epsHat, heads }: HeadOutputs = headModel && jumpsHere.length > 0 ? headModel.predictWithHeads(xt, t) : { eps: model.predictEps(xt, t), heads: {} };
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
        const kls = jumpsHere.map((j) => pixelJumpKL(sch, j, x0, x0c, epsHat, heads, axes));
        return tf.stack([tf.sum(tf.square(dx), axes), tf.sum(tf.square(de), axes), tf.sum(tf.mul(dx, de), axes), ...kls], 1);
      });
      const v = out.dataSync();
      const width = out.shape[1] as number;
      out.dispose();
      batchIds.forEach((_, j) => {
        const i = b0 + j;
        if (t === 1) {
          stats.decoder[i] = v[2 * j];
          stats.prior[i] = priorKL(d, sch.abar[sch.N], sch.bbar[sch.N], v[2 * j + 1]);
        } else {
          term.rx[i] = v[width * j];
          term.re[i] = v[width * j + 1];
          term.cross[i] = v[width * j + 2];
          jumpsHere.forEach((jump, k) => (stats.pixelTerms!.get(pixelJumpKey(jump))![i] = v[width * j + 3 + k]));
        }
      });
      opts.onProgress?.(++done, total);
    }
    if (t >= 2) stats.terms.set(t, term);
  }
  return stats;
}
