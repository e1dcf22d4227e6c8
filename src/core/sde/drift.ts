/**
 * Drifts of the reverse-time family (Song et al. ICLR 2021, Eq. 6 and Eq. 13; Su part 6, the sigma-family):
 * for lambda in [0, 1], dx = [f(x, t) - (1 + lambda^2)/2 g(t)^2 s(x, t)] dt + lambda g(t) dw-bar, integrated from
 * t = 1 down to 0, has the marginals p_t of the forward SDE. lambda = 1 is the reverse SDE (Eq. 6), lambda = 0 the
 * probability-flow ODE (Eq. 13). (Su writes sigma_t = lambda g_t.)
 */
import * as tf from '@tensorflow/tfjs';
import { drift, timeCoef, type ContinuousTime, type Sde } from './sde.js';
import type { ScoreModel } from './score.js';

export function checkLambda(lambda: number): void {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`lambda (noise scale of the reverse family) must be in [0, 1], got ${lambda}`);
}

/** f(x, t) - (1 + lambda^2)/2 g(t)^2 s(x, t) (Su part 6; lambda = 1: Song et al. Eq. 6, lambda = 0: Eq. 13). */
export function reverseDrift(sde: Sde, score: ScoreModel, x: tf.Tensor, t: ContinuousTime, lambda: number): tf.Tensor {
  checkLambda(lambda);
  return tf.tidy(() => {
    const c = timeCoef(t, (u) => -0.5 * (1 + lambda * lambda) * sde.diffusion(u) ** 2, x.rank);
    return tf.add(drift(sde, x, t), tf.mul(score.score(x, t), c));
  });
}

/** The probability-flow ODE dx/dt = f(x, t) - g(t)^2/2 s(x, t) (Song et al. Eq. 13). */
export function probabilityFlowDrift(sde: Sde, score: ScoreModel, x: tf.Tensor, t: ContinuousTime): tf.Tensor {
  return reverseDrift(sde, score, x, t, 0);
}
