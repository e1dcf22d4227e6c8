/**
 * The lambda-family reverse step t -> s (Analytic-DPM Eq. 2, DDIM Eq. 7 on a skip):
 * q(x_s | x_t, x0) = N(mu~, lambda^2 I), mu~ = sqrt(abar_s) x0 + sqrt(bbar_s - lambda^2) (x_t - sqrt(abar_t) x0)/sqrt(bbar_t).
 * DDPM: lambda^2 = tildeBeta(s,t); DDIM(eta): lambda^2 = eta^2 tildeBeta(s,t).
 */
import * as tf from '@tensorflow/tfjs';
import type { Schedule } from './schedule.js';
import { tildeBeta } from './skip.js';

export type ProcessName = 'ddpm' | 'ddim';
export const PROCESS_NAMES: readonly ProcessName[] = ['ddpm', 'ddim'];

/** lambda^2_{s|t} of the forward family (0 at s = 0). */
export function lambda2(sch: Schedule, process: ProcessName, s: number, t: number, eta = 1): number {
  if (s === 0) return 0;
  const tb = tildeBeta(sch, s, t);
  return process === 'ddpm' ? tb : eta * eta * tb;
}

/** Coefficient of x_t in mu~: sqrt(bbar_s - lambda^2) / sqrt(bbar_t). */
export function meanCoefXt(sch: Schedule, s: number, t: number, lam2: number): number {
  return Math.sqrt(Math.max(sch.bbar[s] - lam2, 0) / sch.bbar[t]);
}

/** gamma_{s|t} = sqrt(abar_s) - sqrt(bbar_s - lambda^2) sqrt(abar_t / bbar_t): the coefficient of x0 in mu~. */
export function gammaCoef(sch: Schedule, s: number, t: number, lam2: number): number {
  return Math.sqrt(sch.abar[s]) - Math.sqrt(Math.max(sch.bbar[s] - lam2, 0)) * Math.sqrt(sch.abar[t] / sch.bbar[t]);
}

/**
 * Mean of the reverse step. DDPM (posterior form): gamma x0 + c x_t with the clamped x0.
 * DDIM (official reverse_ddim): sqrt(abar_s) x0 + sqrt(bbar_s - lambda^2) eps, keeping the raw network eps.
 */
export function reverseMean(
  sch: Schedule, process: ProcessName, s: number, t: number, lam2: number,
  xt: tf.Tensor, x0: tf.Tensor, eps: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    if (process === 'ddpm') {
      return tf.add(tf.mul(x0, gammaCoef(sch, s, t, lam2)), tf.mul(xt, meanCoefXt(sch, s, t, lam2)));
    }
    const cEps = Math.sqrt(Math.max(sch.bbar[s] - lam2, 0));
    return tf.add(tf.mul(x0, Math.sqrt(sch.abar[s])), tf.mul(eps, cEps));
  });
}
