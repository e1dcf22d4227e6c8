/**
 * Euler-Maruyama for the reverse-time family (Song et al. ICLR 2021, Eq. 6 discretised as in App. G / Su part 5):
 * from t to t - h, x <- x - h [f(x,t) - (1+lambda^2)/2 g^2 s(x,t)] + lambda g(t) sqrt(h) z. lambda = 1 is the
 * reverse-SDE sampler; lambda in [0, 1) is the marginal-preserving family (Su part 6), lambda = 0 Euler on the ODE.
 * The noise of step i comes from the keyed stream "sde:z:<i>" (shared across lambda: common random numbers).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSource } from '../rng.js';
import type { Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { reverseDrift, checkLambda } from './drift.js';
import { tweedieDenoise } from './score.js';

export function eulerMaruyamaStep(sde: Sde, score: ScoreModel, x: tf.Tensor, t: number, h: number, lambda: number, z: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.sub(x, tf.mul(reverseDrift(sde, score, x, t, lambda), h));
    if (lambda === 0 || z === null) return mean;
    return tf.add(mean, tf.mul(z, lambda * sde.diffusion(t) * Math.sqrt(h)));
  });
}

export interface ReverseSampleOptions {
  noise: NoiseSource;
  ids: readonly number[];
  /** noise scale lambda in [0, 1] (default 1: the reverse SDE) */
  lambda?: number;
  /** end with Tweedie's E[x_0 | x_eps] (default true) */
  denoise?: boolean;
  /** called after each step with the time reached */
  onStep?: (t: number) => void;
}

/** Integrate the reverse family over a decreasing grid (see reverseTimeGrid), then denoise at the last time. */
export function reverseSdeSample(sde: Sde, score: ScoreModel, xT: tf.Tensor, grid: readonly number[], opts: ReverseSampleOptions): tf.Tensor {
  const lambda = opts.lambda ?? 1;
  checkLambda(lambda);
  let x = xT.clone();
  for (let i = 0; i + 1 < grid.length; i++) {
    const t = grid[i];
    const h = t - grid[i + 1];
    const next = tf.tidy(() => {
      const z = lambda > 0 ? opts.noise.normal(`sde:z:${i}`, opts.ids, score.shape) : null;
      return eulerMaruyamaStep(sde, score, x, t, h, lambda, z);
    });
    x.dispose();
    x = next;
    opts.onStep?.(grid[i + 1]);
  }
  return finishReverse(sde, score, x, grid, opts.denoise);
}

/** The end of a reverse run at the grid's last time: x itself, or Tweedie's E[x_0 | x] (default); disposes x then. */
export function finishReverse(sde: Sde, score: ScoreModel, x: tf.Tensor, grid: readonly number[], denoise = true): tf.Tensor {
  if (!denoise) return x;
  const x0 = tweedieDenoise(sde, score, x, grid[grid.length - 1]);
  x.dispose();
  return x0;
}
