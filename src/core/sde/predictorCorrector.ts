/**
 * Predictor-corrector sampling (Song et al. ICLR 2021, Alg. 1 and the VE/VP versions Alg. 4/5 of App. G): at each
 * time, `steps` Langevin corrector steps x <- x + e s(x,t) + sqrt(2 e) z with the signal-to-noise step rule
 * e = 2 alpha (r ||z|| / ||s(x,t)||)^2 (Alg. 4/5; alpha = 1 for VE, alpha_i = 1 - beta_i for VP, here
 * (m(t)/m(t-h))^2 = exp(-int beta) which equals 1 for VE), then one Euler-Maruyama predictor step.
 * Norms are per sample (Song's code averages them over the batch; per-sample keeps every row independent of the
 * batch it is drawn in). Default snr r = 0.16 (Song et al. VP CIFAR-10 setting), 1 corrector step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { eulerMaruyamaStep, finishReverse, type ReverseSampleOptions } from './eulerMaruyama.js';

export interface CorrectorOptions {
  /** target signal-to-noise ratio r (default 0.16) */
  snr?: number;
  /** Langevin steps per time (default 1) */
  steps?: number;
}
export const PC_DEFAULTS = { snr: 0.16, steps: 1 };

/** One Langevin step with the snr rule (Song et al. Alg. 4/5, lines 7-9), per-sample step sizes. */
export function langevinCorrectorStep(score: ScoreModel, x: tf.Tensor, t: number, snr: number, alpha: number, z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const B = x.shape[0];
    const s = score.score(x, t);
    const flatNorm = (v: tf.Tensor) => tf.norm(v.reshape([B, -1]), 'euclidean', 1);
    const ratio = tf.div(tf.mul(flatNorm(z), snr), tf.maximum(flatNorm(s), 1e-30));
    const step = tf.mul(tf.square(ratio), 2 * alpha).reshape([B, ...Array(x.rank - 1).fill(1)]);
    return tf.add(tf.add(x, tf.mul(s, step)), tf.mul(z, tf.sqrt(tf.mul(step, 2))));
  });
}

export function pcSample(sde: Sde, score: ScoreModel, xT: tf.Tensor, grid: readonly number[], opts: ReverseSampleOptions & CorrectorOptions): tf.Tensor {
  const snr = opts.snr ?? PC_DEFAULTS.snr;
  const steps = opts.steps ?? PC_DEFAULTS.steps;
  if (!(snr > 0)) throw new Error(`snr (predictor-corrector signal-to-noise ratio) must be > 0, got ${snr}`);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`steps (Langevin corrector steps) must be an integer >= 0, got ${steps}`);
  let x = xT.clone();
  for (let i = 0; i + 1 < grid.length; i++) {
    const t = grid[i];
    const h = t - grid[i + 1];
    const alpha = (sde.meanCoef(t) / sde.meanCoef(t - h)) ** 2;
    for (let j = 0; j < steps; j++) {
      const next = tf.tidy(() => langevinCorrectorStep(score, x, t, snr, alpha, opts.noise.normal(`sde:langevin:${i}:${j}`, opts.ids, score.shape)));
      x.dispose();
      x = next;
    }
    const next = tf.tidy(() => eulerMaruyamaStep(sde, score, x, t, h, 1, opts.noise.normal(`sde:z:${i}`, opts.ids, score.shape)));
    x.dispose();
    x = next;
    opts.onStep?.(grid[i + 1]);
  }
  return finishReverse(sde, score, x, grid, opts.denoise);
}
