/**
 * One generic reverse loop over the (s,t) pairs of a trajectory (Analytic-DPM §2.6 / Extended-Analytic-DPM
 * sample.py). Per jump t -> s: eps = model(x_t, t); x0 = clamp((x_t - sqrt(bbar_t) eps)/sqrt(abar_t));
 * mean by the process (DDPM posterior form or DDIM eps form); sigma^2 by the variance rule, clipped at the
 * tau_2 -> tau_1 jump when clipPixel = y > 0; x_s = mean + sigma z. The last jump (0, tau_1) returns the
 * clamped x0 prediction without noise. Per-pixel rules (sn, npr; Extended-Analytic-DPM) read sigma^2 per pixel
 * from the model's variance head in the same forward pass, with the same clipPixel and last-step rules.
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from './schedule.js';
import { requireHeadModel, type DataRange, type EpsModel, type HeadOutputs } from './model.js';
import type { NoiseSource } from './rng.js';
import { headKindOf, isPixelRule, type PixelVarianceRule, type VarianceRule } from './variances.js';
import { ruleCov0, pixelSigma2 } from '../estimators/pixelVariance.js';
import { lambda2, reverseMean, type ProcessName, PROCESS_NAMES } from './posterior.js';
import { predictX0 } from './predictX0.js';
import { reversePairs } from './trajectory.js';
import { clipPixelThreshold } from '../estimators/analyticVariance.js';
import { CONTINUOUS_SAMPLERS, CONTINUOUS_SAMPLER_NAMES, isContinuousSamplerName } from './sde/registry.js';

export interface StepInfo {
  s: number;
  t: number;
  lam2: number;
  /** sigma^2 (per-pixel rules: its mean over pixels and samples) */
  sigma2: number;
  /** sigma^2 before the clipPixel clip */
  sigma2Unclipped: number;
}

export interface SampleArgs {
  model: EpsModel;
  schedule: Schedule;
  /** increasing timesteps tau_1 < ... < tau_K */
  trajectory: readonly number[];
  /** a scalar rule (small, large, analytic) or a per-pixel rule (sn, npr) read from the model's variance head */
  variance: VarianceRule | PixelVarianceRule;
  /** x0 clamp range; null for unbounded data */
  range: DataRange;
  /** keyed noise source; sample ids select the per-sample streams */
  noise: NoiseSource;
  ids: readonly number[];
  /** DDIM eta (ignored by ddpm) */
  eta?: number;
  /** y in {0,1,2}: clip sigma^2 of the tau_2 -> tau_1 jump to (y 2/255 sqrt(pi/2))^2; 0 = off */
  clipPixel?: number;
  /** starting x_T; default: N(0, I) from the stream "xT" */
  xT?: tf.Tensor;
  onStep?: (info: StepInfo) => void;
}

/** The uniform sampler signature: every sampler maps SampleArgs to x_0 samples [B, ...shape]. */
export type Sampler = (args: SampleArgs) => tf.Tensor;

/** sigma^2 of one jump with the clipPixel rule applied at s = tau_1 (the second-to-last jump). */
export function jumpVariance(args: SampleArgs & { variance: VarianceRule }, s: number, t: number, lam2: number): StepInfo {
  const sigma2Unclipped = args.variance.sigma2({ sch: args.schedule, s, t, lam2 });
  const threshold = clipThreshold(args, s);
  return { s, t, lam2, sigma2: Math.min(sigma2Unclipped, threshold), sigma2Unclipped };
}

/** The clipPixel cap on sigma^2 of the jump to s (Infinity when off or not the tau_2 -> tau_1 jump). */
function clipThreshold(args: SampleArgs, s: number): number {
  const y = args.clipPixel ?? 0;
  return y > 0 && s === args.trajectory[0] ? clipPixelThreshold(y) : Infinity;
}

/** Per-pixel sigma^2 tensor of one jump from the head output, with the clipPixel rule (Extended-Analytic-DPM §2.4). */
function pixelJumpVariance(args: SampleArgs, rule: PixelVarianceRule, s: number, t: number, lam2: number, eps: tf.Tensor, heads: HeadOutputs['heads']): tf.Tensor {
  return tf.tidy(() => {
    const sigma2 = pixelSigma2(args.schedule, s, t, lam2, ruleCov0(rule, args.schedule, t, eps, heads));
    const threshold = clipThreshold(args, s);
    if (args.onStep) {
      const mean = (v: tf.Tensor) => tf.mean(v).dataSync()[0];
      const clipped = Number.isFinite(threshold) ? tf.minimum(sigma2, threshold) : sigma2;
      args.onStep({ s, t, lam2, sigma2: mean(clipped), sigma2Unclipped: mean(sigma2) });
    }
    return Number.isFinite(threshold) ? tf.minimum(sigma2, threshold) : sigma2;
  });
}


/** The generic reverse loop for a process (ddpm | ddim). */
export function reverseLoop(process: ProcessName, args: SampleArgs): tf.Tensor {
  const { model, schedule: sch, noise, ids } = args;
  if (![0, 1, 2].includes(args.clipPixel ?? 0)) throw new Error(`clipPixel must be 0, 1 or 2, got ${args.clipPixel}`);
  const rule = args.variance;
  const kind = isPixelRule(rule) ? headKindOf(rule) : null;
  const headModel = kind ? requireHeadModel(model, [kind]) : null;
  let x = args.xT ? args.xT.clone() : noise.normal('xT', ids, model.shape);
  for (const [s, t] of reversePairs(args.trajectory)) {
    const next = tf.tidy(() => {
      const { eps, heads }: HeadOutputs = headModel ? headModel.predictWithHeads(x, t) : { eps: model.predictEps(x, t), heads: {} };
      const x0 = predictX0(sch, x, eps, t, args.range);
      if (s === 0) return x0;
      const lam2 = lambda2(sch, process, s, t, args.eta ?? 0);
      const mean = reverseMean(sch, process, s, t, lam2, x, x0, eps);
      if (isPixelRule(rule)) {
        const sigma2 = pixelJumpVariance(args, rule, s, t, lam2, eps, heads);
        return tf.add(mean, tf.mul(noise.normal(`z:${t}`, ids, model.shape), tf.sqrt(sigma2)));
      }
      const info = jumpVariance({ ...args, variance: rule }, s, t, lam2);
      args.onStep?.(info);
      if (info.sigma2 <= 0) return mean;
      return tf.add(mean, tf.mul(noise.normal(`z:${t}`, ids, model.shape), Math.sqrt(info.sigma2)));
    });
    x.dispose();
    x = next;
  }
  return x;
}

export const SAMPLERS: Record<ProcessName, Sampler> = {
  ddpm: (args) => reverseLoop('ddpm', args),
  ddim: (args) => reverseLoop('ddim', args),
};

/**
 * Samples of `ids`, `batch` at a time, as one row-major float32 array [ids.length, ...shape]. Each row depends
 * only on its id (keyed noise), so the batch size and any split of the ids leave the samples unchanged.
 */
export function sampleRows(sampler: Sampler, args: Omit<SampleArgs, 'ids'>, ids: readonly number[], batch: number, progress: (done: number) => void = () => {}): Float32Array {
  const d = args.model.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(ids.length * d);
  for (let i = 0; i < ids.length; i += batch) {
    const part = ids.slice(i, i + batch);
    const x = sampler({ ...args, ids: part });
    values.set(x.dataSync(), i * d);
    x.dispose();
    progress(i + part.length);
  }
  return values;
}

/** Look up a sampler by name: the discrete processes (ddpm, ddim) or a continuous-time SDE/ODE sampler (src/core/sde). */
export function samplerByName(name: string): Sampler {
  if (isContinuousSamplerName(name)) return CONTINUOUS_SAMPLERS[name];
  if (!(PROCESS_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown sampler "${name}"; allowed: ${[...PROCESS_NAMES, ...CONTINUOUS_SAMPLER_NAMES].join(', ')}`);
  }
  return SAMPLERS[name as ProcessName];
}
