/**
 * Score models s(x, t) ~ grad_x log p_t(x) in continuous time t in (0, 1], and the conversion of a discrete-time
 * eps-model (timesteps 1..N) to one: s(x, t) = -eps(x, n) / std(t) (Song et al. ICLR 2021 App. B; Su part 5:
 * s = -eps / bbar with Su's bbar a standard deviation), evaluated at the network timestep n = t N.
 *
 * Non-integer n: trained UNets and MLPs embed real-valued timesteps (sinusoidal embedding), so n = t N is passed as is
 * ('real'). The discrete oracles of src/estimators/oracles index schedule arrays with integers, so for them n is
 * rounded to the nearest integer in [1, N] and std is the schedule's sqrt(bbar_n) ('round'); 'auto' picks 'round' for
 * those oracles and 'real' otherwise. The exact continuous-time oracles are in ./oracles.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel } from '../model.js';
import type { Schedule } from '../schedule.js';
import { PosteriorMeanOracle } from '../../estimators/oracles/posteriorMeanOracle.js';
import { timeCoef, type ContinuousTime, type Sde } from './sde.js';

export interface ScoreModel {
  readonly name: string;
  /** shape of one sample (no batch axis) */
  readonly shape: readonly number[];
  /** s(x, t) for x of shape [B, ...shape]; returns a new tensor of the same shape */
  score(x: tf.Tensor, t: ContinuousTime): tf.Tensor;
}

export type TimestepMode = 'real' | 'round' | 'auto';
export const TIMESTEP_MODES: readonly TimestepMode[] = ['real', 'round', 'auto'];

export interface EpsToScoreOptions {
  /** how n = t N is passed to the eps-model (default 'auto') */
  timesteps?: TimestepMode;
  /** the discrete schedule: N, and sqrt(bbar_n) in 'round' mode */
  schedule: Schedule;
}

/** Network timestep of a continuous time: n = t N, rounded to [1, N] in 'round' mode. */
export function networkTimestep(t: number, N: number, mode: 'real' | 'round'): number {
  const n = t * N;
  return mode === 'real' ? n : Math.min(N, Math.max(1, Math.round(n)));
}

/** The mode 'auto' resolves to for a model. */
export function resolveTimestepMode(model: EpsModel, mode: TimestepMode): 'real' | 'round' {
  if (!TIMESTEP_MODES.includes(mode)) throw new Error(`timesteps: unknown mode "${mode}"; allowed: ${TIMESTEP_MODES.join(', ')}`);
  if (mode !== 'auto') return mode;
  return model instanceof PosteriorMeanOracle ? 'round' : 'real';
}

/** s(x, t) = -eps(x, t N) / std (Song et al. App. B; Su part 5). */
export function scoreFromEpsModel(model: EpsModel, sde: Sde, opts: EpsToScoreOptions): ScoreModel {
  const sch = opts.schedule;
  const mode = resolveTimestepMode(model, opts.timesteps ?? 'auto');
  const stdAt = (u: number) => (mode === 'round' ? Math.sqrt(sch.bbar[networkTimestep(u, sch.N, 'round')]) : sde.std(u));
  return {
    name: `score(${model.name})`,
    shape: model.shape,
    score: (x, t) => tf.tidy(() => {
      const n = typeof t === 'number' ? networkTimestep(t, sch.N, mode) : t.map((u) => networkTimestep(u, sch.N, mode));
      return tf.mul(model.predictEps(x, n), timeCoef(t, (u) => -1 / stdAt(u), x.rank));
    }),
  };
}

/** Tweedie's formula E[x_0 | x_t] = (x_t + std^2 s(x_t, t)) / mean (the denoising last step of Song et al. App. G). */
export function tweedieDenoise(sde: Sde, score: ScoreModel, x: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => {
    const m = sde.meanCoef(t);
    const s = sde.std(t);
    return tf.div(tf.add(x, tf.mul(score.score(x, t), s * s)), m);
  });
}
