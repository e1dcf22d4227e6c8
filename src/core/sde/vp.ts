/**
 * VP SDE (Song et al. ICLR 2021, Eq. 11; App. B): dx = -beta(t)/2 x dt + sqrt(beta(t)) dw with the linear
 * beta(t) = betaMin + t (betaMax - betaMin). With B(t) = int_0^t beta = betaMin t + (betaMax - betaMin) t^2 / 2:
 * mean(t) = exp(-B/2), std(t)^2 = 1 - exp(-B) (Eq. 29). It is the N -> infinity limit of DDPM with
 * beta_n = beta(n/N) / N (App. B), i.e. the linear schedule linspace(betaMin/N, betaMax/N, N).
 */
import type { Sde } from './sde.js';
import type { Schedule } from '../schedule.js';

export interface VpParams {
  betaMin: number;
  betaMax: number;
}

/** Song et al. defaults: betaMin = 0.1, betaMax = 20 (DDPM's linear schedule at N = 1000). */
export const VP_DEFAULTS: VpParams = { betaMin: 0.1, betaMax: 20 };

/** beta(t) and its integral B(t) of the linear VP schedule. */
export function vpBeta(p: VpParams, t: number): number {
  return p.betaMin + t * (p.betaMax - p.betaMin);
}
export function vpIntegratedBeta(p: VpParams, t: number): number {
  return p.betaMin * t + 0.5 * (p.betaMax - p.betaMin) * t * t;
}

export function checkVpParams(p: VpParams, where: string): void {
  if (!(p.betaMin > 0 && p.betaMax >= p.betaMin && Number.isFinite(p.betaMax))) {
    throw new Error(`${where}: need 0 < betaMin <= betaMax < Infinity, got betaMin = ${p.betaMin}, betaMax = ${p.betaMax}`);
  }
}

export function vpSde(params: Partial<VpParams> = {}): Sde {
  const p: VpParams = { ...VP_DEFAULTS, ...params };
  checkVpParams(p, 'vpSde');
  return {
    name: 'vp',
    params: { ...p },
    meanCoef: (t) => Math.exp(-0.5 * vpIntegratedBeta(p, t)),
    std: (t) => Math.sqrt(-Math.expm1(-vpIntegratedBeta(p, t))),
    driftCoef: (t) => -0.5 * vpBeta(p, t),
    diffusion: (t) => Math.sqrt(vpBeta(p, t)),
    priorStd: 1,
  };
}

/**
 * The VP SDE of a discrete linear schedule (Song et al. App. B): betaMin = N beta_1, betaMax = N beta_N, so that
 * abar_n ~ mean(n/N)^2. Only the linear schedule has this closed form; other schedules throw.
 */
export function vpSdeForSchedule(sch: Schedule): Sde {
  if (sch.name !== 'linear') {
    throw new Error(`vpSdeForSchedule: schedule "${sch.name}" has no linear-beta VP SDE; allowed schedules: linear`);
  }
  return vpSde({ betaMin: sch.N * sch.betas[1], betaMax: sch.N * sch.betas[sch.N] });
}
