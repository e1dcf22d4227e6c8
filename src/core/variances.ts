/**
 * Reverse-variance rules sigma^2_{s|t}, selectable by name. Each is a small pure function of the jump.
 *   small     sigma^2 = lambda^2         (DDPM: tildeBeta(s,t); DDIM(eta): eta^2 tildeBeta(s,t))
 *   large     sigma^2 = beta(t|s)        (Ho et al.'s sigma^2 = beta on a skip)
 *   analytic  sigma^2 = lambda^2 + gamma^2 cov0(t) from msEps (Analytic-DDPM / Analytic-DDIM)
 */
import type { Schedule } from './schedule.js';
import type { DataRange, HeadKind } from './model.js';
import { betaTS } from './skip.js';
import { analyticSigma2, cov0 } from '../estimators/analyticVariance.js';
import { PIXEL_TABLE_NAMES, type PixelMoments, type PixelTableKind } from '../estimators/pixelMoments.js';

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

/**
 * Per-pixel variance rules (Extended-Analytic-DPM): sigma^2 = lambda^2 + gamma^2 cov0(x_t) per pixel, with cov0
 * from the model's variance head (src/estimators/pixelVariance.ts). `sn` needs a head predicting E[eps^2 | x_t],
 * `npr` one predicting E[(eps - eps_hat)^2 | x_t]. The sampler and the NLL (DDPM type) evaluate them per jump.
 */
export interface PixelVarianceRule {
  readonly name: HeadKind | PixelTableKind;
  readonly perPixel: true;
  /** cov0 is clamped to [0, ((b-a)/2)^2] */
  readonly range: DataRange;
  /** the per-timestep per-pixel tables of the unconditional rules (pixel-analytic, pixel-residual) */
  readonly moments?: PixelMoments;
}

export const PIXEL_VARIANCE_NAMES: readonly HeadKind[] = ['sn', 'npr'];

/** Whether a variance name is read from a variance head (sn, npr). */
export function isHeadVariance(name: string): name is HeadKind {
  return (PIXEL_VARIANCE_NAMES as readonly string[]).includes(name);
}

export function pixelVarianceRule(name: string, range: DataRange): PixelVarianceRule {
  if (!isHeadVariance(name)) throw new Error(`unknown per-pixel variance rule "${name}"; allowed: ${PIXEL_VARIANCE_NAMES.join(', ')}`);
  return { name, perPixel: true, range };
}

/**
 * The unconditional per-pixel rules (src/estimators/pixelMoments.ts): cov0_i(t) from Monte Carlo tables of
 * E[eps_theta^2] (pixel-analytic, perfect mean) or E[(eps - eps_theta)^2] (pixel-residual, imperfect mean).
 */
export function pixelTableRule(name: string, moments: PixelMoments, range: DataRange): PixelVarianceRule {
  if (!(PIXEL_TABLE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown per-pixel table rule "${name}"; allowed: ${PIXEL_TABLE_NAMES.join(', ')}`);
  }
  return { name: name as PixelTableKind, perPixel: true, range, moments };
}

/** The head kind a per-pixel rule reads (null for the table rules, which need no head). */
export function headKindOf(rule: PixelVarianceRule): HeadKind | null {
  return rule.moments ? null : (rule.name as HeadKind);
}

export function isPixelRule(r: VarianceRule | PixelVarianceRule): r is PixelVarianceRule {
  return (r as PixelVarianceRule).perPixel === true;
}

/** Every variance rule name an experiment or CLI may select: the scalar rules and the per-pixel head rules. */
export const ALL_VARIANCE_NAMES: readonly string[] = [...VARIANCE_NAMES, ...PIXEL_VARIANCE_NAMES];

/** A scalar or per-pixel rule by name (the registry experiment files and CLIs use). */
export function anyVarianceRule(name: string, inputs: VarianceInputs): VarianceRule | PixelVarianceRule {
  if (isHeadVariance(name)) return pixelVarianceRule(name, inputs.range);
  if (!(VARIANCE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown variance rule "${name}"; allowed: ${ALL_VARIANCE_NAMES.join(', ')}`);
  }
  return varianceRule(name, inputs);
}
