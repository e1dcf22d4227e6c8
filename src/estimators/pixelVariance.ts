/**
 * Per-pixel reverse variances from a variance head (Extended-Analytic-DPM, Bao et al. ICML 2022, §2.2-2.4; code
 * dtdpm.py). For the jump t -> s with forward variance lambda^2 and gamma = sqrt(abar_s) - sqrt(bbar_s - lambda^2)
 * sqrt(abar_t/bbar_t):
 *   SN-DPM   cov0 = bbar_t/abar_t (h - eps_hat^2),  h ~ E[eps^2 | x_t]
 *   NPR-DPM  cov0 = bbar_t/abar_t g,                g ~ E[(eps - eps_hat)^2 | x_t]
 *   cov0 clamped to [0, ((b-a)/2)^2] (the heads have no positivity activation), sigma^2 = lambda^2 + gamma^2 cov0.
 * Squares are elementwise; the results have the shape of x. Unlike the scalar Analytic-DPM cov0, no
 * bbar_t/abar_t cap applies per pixel (Var[eps_i | x_t] may exceed 1 at a given x_t). In float32 the SN form
 * h - eps_hat^2 cancels to a few ulps of h, which bbar_t/abar_t amplifies (about 1e-3 absolute at t = 1000 of the
 * linear schedule, where the exact cov0 is < 1e-2 for concentrated pixels); NPR's g has no such cancellation.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import type { DataRange, HeadKind, HeadOutputs } from '../core/model.js';
import type { PixelVarianceRule } from '../core/variances.js';
import { tableCov0, type PixelTableKind } from './pixelMoments.js';
import { gammaCoef } from '../core/posterior.js';
import { rangeVarianceBound } from './analyticVariance.js';

/** Per-pixel Cov[x0 | x_t] diagonal from a head output, clamped to [0, ((b-a)/2)^2]. */
export function pixelCov0(kind: HeadKind, sch: Schedule, t: number, epsHat: tf.Tensor, head: tf.Tensor, range: DataRange): tf.Tensor {
  return tf.tidy(() => {
    const ratio = sch.bbar[t] / sch.abar[t];
    const raw = kind === 'sn' ? tf.mul(tf.sub(head, tf.square(epsHat)), ratio) : tf.mul(head, ratio);
    const upper = rangeVarianceBound(range);
    return Number.isFinite(upper) ? tf.clipByValue(raw, 0, upper) : tf.relu(raw);
  });
}

/** sigma^2 = lambda^2 + gamma^2 cov0 per pixel (Extended-Analytic-DPM §2.2 on a skip (s,t)). */
export function pixelSigma2(sch: Schedule, s: number, t: number, lam2: number, cov0: tf.Tensor): tf.Tensor {
  const g = gammaCoef(sch, s, t, lam2);
  return tf.tidy(() => tf.add(tf.mul(cov0, g * g), lam2));
}

/** cov0 of a per-pixel rule at x_t, shaped like eps_hat: from its head's output (sn, npr) or its table (pixel-*). */
export function ruleCov0(rule: PixelVarianceRule, sch: Schedule, t: number, epsHat: tf.Tensor, heads: HeadOutputs['heads']): tf.Tensor {
  if (rule.moments) {
    const row = Float32Array.from(tableCov0(rule.name as PixelTableKind, sch, t, rule.moments, rule.range));
    return tf.tidy(() => tf.broadcastTo(tf.tensor(row, epsHat.shape.slice(1)), epsHat.shape));
  }
  const head = heads[rule.name as HeadKind];
  if (!head) throw new Error(`variance "${rule.name}": the model gave no ${rule.name.toUpperCase()} head output`);
  return pixelCov0(rule.name as HeadKind, sch, t, epsHat, head, rule.range);
}
