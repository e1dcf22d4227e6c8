/**
 * Closed-form ms_eps references (analytic-dpm.md §1, §4.4 regression vector) for data with a known posterior,
 * under the forward process x_t = sqrt(abar_t) x0 + sqrt(bbar_t) eps (Analytic-DPM, Bao et al. ICLR 2022).
 *
 * ms_eps[t] := E||E[eps|x_t]||^2 / d (the code's `ms_eps`, = bbar_t * Gamma_t of the paper), and by the
 * identity E[eps|x_t] = (x_t - sqrt(abar_t) E[x0|x_t]) / sqrt(bbar_t):
 *   ms_eps[t] = 1 - (abar_t / bbar_t) * E Var[x0|x_t] / d   (per-dimension posterior variance).
 * Index 0 (data) is set to 0 so arrays stay 1-indexed, as in the official Γ files.
 */
import type { Schedule } from '../core/schedule.js';
import { expectNormal } from './gaussHermite.js';

/** Number of Gauss–Hermite nodes used for the Rademacher reference (the §4.4 regression vector uses 200). */
export const RADEMACHER_GH_NODES = 200;

/**
 * E Var[x0|x_t] per dimension for i.i.d. Rademacher pixels: 1 - E tanh^2(u), u = sqrt(abar) x_t / bbar.
 * By symmetry condition on x0 = +1: u = sqrt(abar)(sqrt(abar) + sqrt(bbar) z) / bbar, z ~ N(0,1).
 */
export function rademacherPosteriorVariance(abar: number, bbar: number): number {
  if (!(abar >= 0) || !(bbar > 0)) {
    throw new Error(`rademacherPosteriorVariance: need abar >= 0 and bbar > 0, got abar=${abar}, bbar=${bbar}`);
  }
  const sa = Math.sqrt(abar);
  const sb = Math.sqrt(bbar);
  const meanSq = expectNormal((z) => Math.tanh((sa * (sa + sb * z)) / bbar) ** 2, RADEMACHER_GH_NODES);
  return 1 - meanSq;
}

/** ms_eps[t] = 1 - (abar_t/bbar_t) E Var[x0|x_t] for i.i.d. Rademacher data; length N+1, index 0 = 0. */
export function rademacherMsEps(sch: Schedule): Float64Array {
  const out = new Float64Array(sch.N + 1);
  for (let t = 1; t <= sch.N; t++) {
    const a = sch.abar[t];
    const b = sch.bbar[t];
    out[t] = 1 - (a / b) * rademacherPosteriorVariance(a, b);
  }
  return out;
}

/** ms_eps[t] = bbar_t / (abar_t std^2 + bbar_t) for isotropic Gaussian data N(mu, std^2 I); index 0 = 0. */
export function gaussianMsEps(sch: Schedule, std: number): Float64Array {
  if (!(std >= 0) || !Number.isFinite(std)) {
    throw new Error(`gaussianMsEps: std must be a finite number >= 0, got ${std}`);
  }
  const out = new Float64Array(sch.N + 1);
  for (let t = 1; t <= sch.N; t++) {
    const b = sch.bbar[t];
    out[t] = b / (sch.abar[t] * std * std + b); // E[eps|x_t] = sqrt(b)(x_t - sqrt(a) mu)/(a std^2 + b)
  }
  return out;
}
