/**
 * DDIM (eta = 0) as an ODE solver (DDIM paper, Song, Meng & Ermon ICLR 2021, Eq. 13-14; Song et al. ICLR 2021
 * "SDEs", App. F; Su part 6: d(x / abar) = eps d(bbar / abar) in his std-dev notation). In the variables
 * y = x / sqrt(abar) and sigma = sqrt(bbar / abar) the probability-flow ODE of the VP SDE reads dy/dsigma = eps(x, t),
 * and one DDIM step t -> s is exactly its Euler step: y_s = y_t + (sigma_s - sigma_t) eps(x_t, t).
 * (Proof: x_s = sqrt(abar_s) x0hat + sqrt(bbar_s) eps with x0hat = y_t - sigma_t eps; divide by sqrt(abar_s).)
 * In continuous time: dy/dt = (F - f x) / m = -g^2 s / (2 m) and sigma' = g^2 / (2 m std), so dy/dt = eps sigma'
 * with eps = -std s (ddimVariablesDrift checks this on any SDE).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../schedule.js';
import type { EpsModel } from '../model.js';
import { reversePairs } from '../trajectory.js';
import type { Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { probabilityFlowDrift } from './drift.js';

/** sigma_n = sqrt(bbar_n / abar_n), the DDIM ODE "time" (0 at n = 0). */
export function ddimSigma(sch: Schedule, n: number): number {
  return Math.sqrt(sch.bbar[n] / sch.abar[n]);
}

/** One Euler step of dy/dsigma = eps from t to s, mapped back to x_s = sqrt(abar_s) y_s. */
export function ddimEulerStep(sch: Schedule, model: EpsModel, x: tf.Tensor, s: number, t: number): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.div(x, Math.sqrt(sch.abar[t]));
    const ys = tf.add(y, tf.mul(model.predictEps(x, t), ddimSigma(sch, s) - ddimSigma(sch, t)));
    return tf.mul(ys, Math.sqrt(sch.abar[s]));
  });
}

/** Euler on dy/dsigma = eps along a trajectory tau_1 < ... < tau_K, ending at sigma = 0 (n = 0). */
export function ddimOdeEuler(sch: Schedule, model: EpsModel, xT: tf.Tensor, trajectory: readonly number[]): tf.Tensor {
  let x = xT.clone();
  for (const [s, t] of reversePairs(trajectory)) {
    const next = ddimEulerStep(sch, model, x, s, t);
    x.dispose();
    x = next;
  }
  return x;
}

/** The PF-ODE (Song et al. Eq. 13) in DDIM variables: { dy/dt = (F - f x) / m, eps sigma'(t) } for comparison. */
export function ddimVariablesDrift(sde: Sde, score: ScoreModel, x: tf.Tensor, t: number): { dydt: tf.Tensor; epsDsigma: tf.Tensor } {
  return tf.tidy(() => {
    const m = sde.meanCoef(t);
    const std = sde.std(t);
    const g2 = sde.diffusion(t) ** 2;
    const F = probabilityFlowDrift(sde, score, x, t);
    const dydt = tf.div(tf.sub(F, tf.mul(x, sde.driftCoef(t))), m);
    const sigmaDot = g2 / (2 * m * std);
    const eps = tf.mul(score.score(x, t), -std);
    return { dydt, epsDsigma: tf.mul(eps, sigmaDot) };
  });
}
