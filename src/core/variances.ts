/**
 * Reverse-variance rules sigma^2_{s|t}, selectable by name. Each is a small pure function of the jump.
 *   small     sigma^2 = lambda^2         (DDPM: tildeBeta(s,t); DDIM(eta): eta^2 tildeBeta(s,t))
 *   large     sigma^2 = beta(t|s)        (Ho et al.'s sigma^2 = beta on a skip)
 *   analytic  sigma^2 = lambda^2 + gamma^2 cov0(t) from msEps (Analytic-DDPM / Analytic-DDIM)
 */
import type { Schedule } from './schedule.js';
import type { DataRange } from './model.js';
import { betaTS } from './skip.js';
import { analyticSigma2, cov0 } from '../estimators/analyticVariance.js';

export interface JumpContext {
  sch: Schedule;
  s: number;
  t: number;
  /** forward-family variance lambda^2_{s|t} of the process being sampled */
  lam2: number;
}

export interface VarianceRule {
  readonly name: VarianceName;
  sigma2(ctx: JumpContext): number;
}

export type VarianceName = 'small' | 'large' | 'analytic';
export const VARIANCE_NAMES: readonly VarianceName[] = ['small', 'large', 'analytic'];

export interface VarianceInputs {
  /** msEps vector of length N+1 (index 0 = 0); required by `analytic` */
  msEps?: ArrayLike<number>;
  range: DataRange;
}

const smallRule: VarianceRule = { name: 'small', sigma2: ({ lam2 }) => lam2 };
const largeRule: VarianceRule = { name: 'large', sigma2: ({ sch, s, t }) => betaTS(sch, s, t) };

function analyticRule(msEps: ArrayLike<number>, range: DataRange): VarianceRule {
  return {
    name: 'analytic',
    sigma2: ({ sch, s, t, lam2 }) => analyticSigma2(sch, s, t, lam2, cov0(sch, t, msEps[t], range)),
  };
}

/** Look up a variance rule by name; throws a clear error for unknown names or missing inputs. */
export function varianceRule(name: string, inputs: VarianceInputs): VarianceRule {
  if (name === 'small') return smallRule;
  if (name === 'large') return largeRule;
  if (name === 'analytic') {
    if (!inputs.msEps) throw new Error('variance "analytic" needs an msEps vector (estimate or load one first)');
    return analyticRule(inputs.msEps, inputs.range);
  }
  throw new Error(`unknown variance rule "${name}"; allowed: ${VARIANCE_NAMES.join(', ')}`);
}
