/**
 * Linear SDEs dx = f(t) x dt + g(t) dw on t in [0, 1] (Song et al. ICLR 2021, Eq. 5) whose transition kernels are
 * Gaussian: x_t | x_0 ~ N(mean(t) x_0, std(t)^2 I) (Song et al. Eq. 29; Su part 5 defines the marginal first and backs
 * out f = d ln mean/dt, g^2 = mean^2 d(std^2/mean^2)/dt). Coefficients are float64 JS numbers; only data is a tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { perSample } from '../coefficients.js';

export type SdeName = 'vp' | 'subvp' | 've';
export const SDE_NAMES: readonly SdeName[] = ['vp', 'subvp', 've'];

/** A continuous time: one for the whole batch, or one per sample. */
export type ContinuousTime = number | readonly number[];

export interface Sde {
  readonly name: SdeName;
  /** the parameters it was built with (betaMin/betaMax or sigmaMin/sigmaMax), recorded in results */
  readonly params: Readonly<Record<string, number>>;
  /** mean coefficient m(t) of x_t | x_0 */
  meanCoef(t: number): number;
  /** standard deviation s(t) of x_t | x_0 */
  std(t: number): number;
  /** f(t) of the linear drift f(x, t) = f(t) x */
  driftCoef(t: number): number;
  /** diffusion coefficient g(t) */
  diffusion(t: number): number;
  /** the prior p_1 is N(0, priorStd^2 I) (Song et al. App. B, C) */
  readonly priorStd: number;
}

/** x_t | x_0 ~ N(mean x_0, std^2 I) (Song et al. Eq. 29 for VP, Eq. 31 for VE, App. B for sub-VP). */
export function marginal(sde: Sde, t: number): { mean: number; std: number } {
  checkTime(t, 'marginal');
  return { mean: sde.meanCoef(t), std: sde.std(t) };
}

/** A time must lie in [0, 1]. */
export function checkTime(t: number, where: string): void {
  if (!(t >= 0 && t <= 1)) throw new Error(`${where}: time t must be in [0, 1], got ${t}`);
}

/** c(t) as a number or a [B, 1, ..., 1] tensor broadcastable against a rank-`rank` batch. */
export function timeCoef(t: ContinuousTime, f: (t: number) => number, rank: number): number | tf.Tensor {
  return perSample(t, f, rank);
}

/** f(x, t) = f(t) x (Song et al. Eq. 5 for the linear SDEs). */
export function drift(sde: Sde, x: tf.Tensor, t: ContinuousTime): tf.Tensor {
  return tf.tidy(() => tf.mul(x, timeCoef(t, (u) => sde.driftCoef(u), x.rank)));
}

/** log N(x; 0, priorStd^2 I) per sample, as float64 numbers (Song et al. Eq. 39, the first term). */
export function priorLogProb(sde: Sde, x: tf.Tensor): Float64Array {
  const d = x.size / x.shape[0];
  const sq = tf.tidy(() => tf.sum(tf.square(x.reshape([x.shape[0], d])), 1));
  const v = sq.dataSync();
  sq.dispose();
  const s2 = sde.priorStd * sde.priorStd;
  return Float64Array.from(v, (q) => -0.5 * d * Math.log(2 * Math.PI * s2) - q / (2 * s2));
}

/** x_1 ~ N(0, priorStd^2 I) from the stream "xT" (the stream of the discrete samplers, so compared cells share x_T). */
export function priorSample(sde: Sde, noise: { normal(stream: string, ids: readonly number[], shape: readonly number[]): tf.Tensor }, ids: readonly number[], shape: readonly number[]): tf.Tensor {
  return tf.tidy(() => tf.mul(noise.normal('xT', ids, shape), sde.priorStd));
}
