/**
 * Continuous-time samplers selectable by name, with the repo's Sampler signature (src/core/sampler.ts).
 * The eps-model becomes a score model s = -eps(x, t N) / std(t) (./score.ts) under args.sde, default the VP SDE of the
 * (linear) schedule. K = args.trajectory.length is the number of steps on the grid t_i = 1 - i (1 - eps)/K; every
 * sampler ends with Tweedie's denoised x_0 at t = eps (one more evaluation) and clamps to args.range.
 *   'sde-em'     reverse SDE, Euler-Maruyama, K steps (NFE K + 1)
 *   'sde-pc'     predictor-corrector: 1 Langevin corrector (snr 0.16) + EM predictor per step (NFE 2K + 1)
 *   'ode-heun'   probability-flow ODE, Heun, K steps (NFE 2K + 1)
 *   'ode-rk45'   probability-flow ODE, adaptive RK45 (rtol = atol = 1e-5); K is ignored, NFE reported by onNfe
 *   'sde-lambda' the reverse family with lambda = args.eta (default 0, as DDIM's eta), Euler-Maruyama, K steps
 * args.variance, args.clipPixel and args.onStep are ignored.
 */
import * as tf from '@tensorflow/tfjs';
import type { SampleArgs, Sampler } from '../sampler.js';
import { priorSample, type Sde } from './sde.js';
import { vpSdeForSchedule } from './vp.js';
import { scoreFromEpsModel, type ScoreModel, type TimestepMode } from './score.js';
import { reverseTimeGrid, SAMPLING_EPS } from './timeGrid.js';
import { reverseSdeSample } from './eulerMaruyama.js';
import { pcSample, PC_DEFAULTS } from './predictorCorrector.js';
import { odeSample } from './odeSample.js';
import { RK45_DEFAULTS } from './rk45.js';

export type ContinuousSamplerName = 'sde-em' | 'sde-pc' | 'ode-heun' | 'ode-rk45' | 'sde-lambda';
export const CONTINUOUS_SAMPLER_NAMES: readonly ContinuousSamplerName[] = ['sde-em', 'sde-pc', 'ode-heun', 'ode-rk45', 'sde-lambda'];

/** SampleArgs plus the optional continuous-time settings (all have defaults). */
export interface ContinuousSampleArgs extends SampleArgs {
  /** default: vpSdeForSchedule(args.schedule) */
  sde?: Sde;
  /** smallest time (default 1e-3) */
  eps?: number;
  /** how t N reaches the eps-model (default 'auto', see score.ts) */
  timesteps?: TimestepMode;
  /** predictor-corrector snr (default 0.16) and corrector steps (default 1) */
  snr?: number;
  correctorSteps?: number;
  /** RK45 tolerances (default 1e-5) */
  rtol?: number;
  atol?: number;
  /** receives the number of model evaluations of the batch */
  onNfe?: (nfe: number) => void;
}

interface Setup { sde: Sde; score: ScoreModel; xT: tf.Tensor; K: number; eps: number }

function setup(args: ContinuousSampleArgs): Setup {
  const sde = args.sde ?? vpSdeForSchedule(args.schedule);
  const score = scoreFromEpsModel(args.model, sde, { schedule: args.schedule, timesteps: args.timesteps });
  const K = args.trajectory.length;
  if (K < 1) throw new Error('continuous sampler: trajectory must have at least 1 entry (its length is the number of steps K)');
  const xT = args.xT ? args.xT.clone() : priorSample(sde, args.noise, args.ids, args.model.shape);
  return { sde, score, xT, K, eps: args.eps ?? SAMPLING_EPS };
}

function finish(x: tf.Tensor, args: ContinuousSampleArgs): tf.Tensor {
  if (!args.range) return x;
  const out = tf.clipByValue(x, args.range[0], args.range[1]);
  x.dispose();
  return out;
}

function reverseFamily(args: ContinuousSampleArgs, lambda: number): tf.Tensor {
  const { sde, score, xT, K, eps } = setup(args);
  const x = reverseSdeSample(sde, score, xT, reverseTimeGrid(K, eps), { noise: args.noise, ids: args.ids, lambda });
  xT.dispose();
  args.onNfe?.(K + 1);
  return finish(x, args);
}

function ode(args: ContinuousSampleArgs, method: 'heun' | 'rk45'): tf.Tensor {
  const { sde, score, xT, K, eps } = setup(args);
  const { x, nfe } = odeSample(sde, score, xT, { method, steps: K, eps, rtol: args.rtol ?? RK45_DEFAULTS.rtol, atol: args.atol ?? RK45_DEFAULTS.atol });
  xT.dispose();
  args.onNfe?.(nfe);
  return finish(x, args);
}

export const CONTINUOUS_SAMPLERS: Record<ContinuousSamplerName, Sampler> = {
  'sde-em': (args: ContinuousSampleArgs) => reverseFamily(args, 1),
  'sde-lambda': (args: ContinuousSampleArgs) => reverseFamily(args, args.eta ?? 0),
  'sde-pc': (args: ContinuousSampleArgs) => {
    const { sde, score, xT, K, eps } = setup(args);
    const steps = args.correctorSteps ?? PC_DEFAULTS.steps;
    const x = pcSample(sde, score, xT, reverseTimeGrid(K, eps), { noise: args.noise, ids: args.ids, snr: args.snr ?? PC_DEFAULTS.snr, steps });
    xT.dispose();
    args.onNfe?.(K * (steps + 1) + 1);
    return finish(x, args);
  },
  'ode-heun': (args: ContinuousSampleArgs) => ode(args, 'heun'),
  'ode-rk45': (args: ContinuousSampleArgs) => ode(args, 'rk45'),
};

export function isContinuousSamplerName(name: string): name is ContinuousSamplerName {
  return (CONTINUOUS_SAMPLER_NAMES as readonly string[]).includes(name);
}
