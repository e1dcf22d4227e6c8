/**
 * sub-VP SDE (Song et al. ICLR 2021, Eq. 12; App. B): dx = -beta(t)/2 x dt + sqrt(beta(t) (1 - exp(-2 B(t)))) dw,
 * with the linear beta(t) and B(t) of the VP SDE. mean(t) = exp(-B/2), std(t) = 1 - exp(-B) (Eq. 30), so its
 * variance is everywhere below the VP one.
 */
import type { Sde } from './sde.js';
import { VP_DEFAULTS, checkVpParams, vpBeta, vpIntegratedBeta, type VpParams } from './vp.js';

export function subVpSde(params: Partial<VpParams> = {}): Sde {
  const p: VpParams = { ...VP_DEFAULTS, ...params };
  checkVpParams(p, 'subVpSde');
  return {
    name: 'subvp',
    params: { ...p },
    meanCoef: (t) => Math.exp(-0.5 * vpIntegratedBeta(p, t)),
    std: (t) => -Math.expm1(-vpIntegratedBeta(p, t)),
    driftCoef: (t) => -0.5 * vpBeta(p, t),
    diffusion: (t) => Math.sqrt(vpBeta(p, t) * -Math.expm1(-2 * vpIntegratedBeta(p, t))),
    priorStd: 1,
  };
}
