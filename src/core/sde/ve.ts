/**
 * VE SDE (Song et al. ICLR 2021, Eq. 9; App. C): dx = sqrt(d sigma(t)^2 / dt) dw with the geometric
 * sigma(t) = sigmaMin (sigmaMax / sigmaMin)^t, so g(t) = sigma(t) sqrt(2 ln(sigmaMax / sigmaMin)) and f = 0.
 * Marginal: mean = 1 and, started from x(0) = x_0, std(t)^2 = sigma(t)^2 - sigmaMin^2 (exact; Song's code uses
 * std = sigma(t), i.e. data already perturbed by sigmaMin). Prior N(0, sigmaMax^2 I) as in Song et al.
 */
import type { Sde } from './sde.js';

export interface VeParams {
  sigmaMin: number;
  sigmaMax: number;
}

/** Song et al. CIFAR-10 defaults: sigmaMin = 0.01, sigmaMax = 50. */
export const VE_DEFAULTS: VeParams = { sigmaMin: 0.01, sigmaMax: 50 };

export function veSde(params: Partial<VeParams> = {}): Sde {
  const p: VeParams = { ...VE_DEFAULTS, ...params };
  if (!(p.sigmaMin > 0 && p.sigmaMax > p.sigmaMin && Number.isFinite(p.sigmaMax))) {
    throw new Error(`veSde: need 0 < sigmaMin < sigmaMax < Infinity, got sigmaMin = ${p.sigmaMin}, sigmaMax = ${p.sigmaMax}`);
  }
  const logRatio = Math.log(p.sigmaMax / p.sigmaMin);
  const sigma = (t: number) => p.sigmaMin * Math.exp(t * logRatio);
  return {
    name: 've',
    params: { ...p },
    meanCoef: () => 1,
    // sigma(t)^2 - sigmaMin^2 = sigmaMin^2 (exp(2 t logRatio) - 1), written with expm1 for small t
    std: (t) => p.sigmaMin * Math.sqrt(Math.expm1(2 * t * logRatio)),
    driftCoef: () => 0,
    diffusion: (t) => sigma(t) * Math.sqrt(2 * logRatio),
    priorStd: p.sigmaMax,
  };
}
