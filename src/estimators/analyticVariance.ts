/**
 * Analytic-DPM optimal reverse variance from msEps (Bao et al., ICLR 2022, Thm 1 / Eq. 9 in eps form; code
 * reverse_ddpm.py / reverse_ddim.py). For the jump t -> s with forward variance lambda^2:
 *   cov0(t)  = clamp(bbar_t/abar_t * (1 - msEps_t), 0, ((b-a)/2)^2)       (E tr Cov[x0 | x_t] / d, Thm 2 clip)
 *   sigma^2  = lambda^2 + gamma^2 cov0(t),  gamma = sqrt(abar_s) - sqrt(bbar_s - lambda^2) sqrt(abar_t/bbar_t)
 * Only msEps at the later time t enters, so one msEps vector serves every K and every trajectory.
 */
import type { Schedule } from '../core/schedule.js';
import type { DataRange } from '../core/model.js';
import { gammaCoef } from '../core/posterior.js';

/** ((b-a)/2)^2, the largest per-dimension variance of data in [a,b] (Thm 2, Eq. 12); Infinity if unbounded. */
export function rangeVarianceBound(range: DataRange): number {
  return range ? ((range[1] - range[0]) / 2) ** 2 : Infinity;
}

/**
 * cov0(t) = bbar_t/abar_t (1 - msEps_t), clipped to [0, min(bbar_t/abar_t, ((b-a)/2)^2)]: Theorem 2 (Eqs. 11-12).
 * The official code clips to [0, 1] only, since msEps >= 0 already gives Eq. 11; the residual estimator can
 * dip below 0 by Monte Carlo noise, so Eq. 11 is applied explicitly (identical for msEps >= 0).
 */
export function cov0(sch: Schedule, t: number, msEpsT: number, range: DataRange): number {
  const ratio = sch.bbar[t] / sch.abar[t];
  return Math.min(Math.max(ratio * (1 - msEpsT), 0), ratio, rangeVarianceBound(range));
}

/** sigma^2 = lambda^2 + gamma^2 cov0 (Analytic-DPM Eq. 9 / Lemma 13 on a skip). */
export function analyticSigma2(sch: Schedule, s: number, t: number, lam2: number, cov: number): number {
  const g = gammaCoef(sch, s, t, lam2);
  return lam2 + g * g * cov;
}

/** Theorem 2 bounds: lambda^2 <= sigma^2 <= lambda^2 + gamma^2 min(bbar_t/abar_t, ((b-a)/2)^2). */
export function sigma2Bounds(sch: Schedule, s: number, t: number, lam2: number, range: DataRange): { lower: number; upper: number } {
  const g = gammaCoef(sch, s, t, lam2);
  const covMax = Math.min(sch.bbar[t] / sch.abar[t], rangeVarianceBound(range));
  return { lower: lam2, upper: lam2 + g * g * covMax };
}

/** Sampling-only clip of the tau_2 -> tau_1 step (App. F.2): sigma^2 <= (y * 2/255 * sqrt(pi/2))^2. */
export function clipPixelThreshold(y: number): number {
  return (y * (2 / 255) * Math.sqrt(Math.PI / 2)) ** 2;
}
