/**
 * Negative ELBO on a trajectory (Analytic-DPM §5.1, nelbo_ms_eps_ddpm):
 *   nelbo(x0) = L_prior + sum_{k=2..K} KL(q(x_{tau_{k-1}} | x_{tau_k}, x0) || p(x_{tau_{k-1}} | x_{tau_k})) + L_0,
 * reported in bits/dim = nats / (d ln 2). No clipPixel clip here (it is sampling-only). Scalar rules combine the
 * per-timestep sums of termStats in closed form; per-pixel rules (sn, npr; DDPM only, Extended-Analytic-DPM
 * nelbo_dtdpm) use the per-jump KLs that computeNllStats evaluates for pixelJumpsOf(cell).
 */
import type { Schedule } from '../schedule.js';
import { isPixelRule, type PixelVarianceRule, type VarianceRule } from '../variances.js';
import { lambda2, gammaCoef, type ProcessName } from '../posterior.js';
import { reversePairs } from '../trajectory.js';
import { scalarVarianceKL } from './gaussianKL.js';
import { pixelJumpKey, type NllStats, type PixelJump } from './termStats.js';

export interface NelboCell {
  process: ProcessName;
  eta?: number;
  variance: VarianceRule | PixelVarianceRule;
  trajectory: readonly number[];
}

/** The per-pixel jumps a cell's NLL needs from computeNllStats (none for scalar rules). */
export function pixelJumpsOf(cell: NelboCell): PixelJump[] {
  const rule = cell.variance;
  if (!isPixelRule(rule)) return [];
  return reversePairs(cell.trajectory).filter(([s]) => s > 0).map(([s, t]) => ({ rule, s, t }));
}

/** Per-image components in nats. */
export interface NelboTerms {
  prior: Float64Array;
  klSum: Float64Array;
  decoder: Float64Array;
  total: Float64Array;
}

export interface MeanStderr {
  mean: number;
  stderr: number;
}

export interface NelboBpd {
  total: MeanStderr;
  prior: MeanStderr;
  klSum: MeanStderr;
  decoder: MeanStderr;
  n: number;
}

/** ||mu_q - mu_p||^2 of the jump t -> s for one image from its statistics at t. */
function meanSqDiff(sch: Schedule, process: ProcessName, s: number, t: number, lam2: number, rx: number, re: number, cross: number): number {
  if (process === 'ddpm') return gammaCoef(sch, s, t, lam2) ** 2 * rx;
  const a = Math.sqrt(sch.abar[s]);
  const c = Math.sqrt(Math.max(sch.bbar[s] - lam2, 0));
  return a * a * rx + c * c * re + 2 * a * c * cross;
}

/** Add the per-image KL of every per-pixel jump of the cell (computed by computeNllStats with pixelJumpsOf(cell)). */
function addPixelKL(stats: NllStats, cell: NelboCell, rule: PixelVarianceRule, klSum: Float64Array): void {
  if (cell.process !== 'ddpm') throw new Error(`nll: per-pixel variance "${rule.name}" is defined for the ddpm process only (its L_vb), got ${cell.process}`);
  for (const j of pixelJumpsOf(cell)) {
    const kl = stats.pixelTerms?.get(pixelJumpKey(j));
    if (!kl) throw new Error(`nll: no per-pixel statistics for the jump (${j.s}, ${j.t}) of "${rule.name}"; pass pixelJumpsOf(cell) to computeNllStats`);
    for (let i = 0; i < kl.length; i++) klSum[i] += kl[i];
  }
}

/** Combine statistics into the per-image nelbo of one cell. */
export function nelboFromStats(stats: NllStats, cell: NelboCell): NelboTerms {
  const sch = stats.schedule;
  const n = stats.ids.length;
  if (cell.trajectory[0] !== 1) {
    throw new Error(`nll: the trajectory must start at timestep 1 (L_0 is -log p(x0|x1)), got ${cell.trajectory[0]}`);
  }
  if (cell.trajectory[cell.trajectory.length - 1] !== sch.N) {
    throw new Error(`nll: the trajectory must end at N = ${sch.N} (the prior term is at N)`);
  }
  const klSum = new Float64Array(n);
  const rule = cell.variance;
  if (isPixelRule(rule)) addPixelKL(stats, cell, rule, klSum);
  else {
    for (const [s, t] of reversePairs(cell.trajectory)) {
      if (s === 0) continue;
      const st = stats.terms.get(t);
      if (!st) throw new Error(`nll: no statistics for timestep ${t}; include it in computeNllStats`);
      const lam2 = lambda2(sch, cell.process, s, t, cell.eta ?? 0);
      const sigma2 = rule.sigma2({ sch, s, t, lam2 });
      for (let i = 0; i < n; i++) {
        klSum[i] += scalarVarianceKL(stats.d, lam2, sigma2, meanSqDiff(sch, cell.process, s, t, lam2, st.rx[i], st.re[i], st.cross[i]));
      }
    }
  }
  const total = new Float64Array(n);
  for (let i = 0; i < n; i++) total[i] = stats.prior[i] + klSum[i] + stats.decoder[i];
  return { prior: stats.prior, klSum, decoder: stats.decoder, total };
}

/** Mean and standard error of per-image values scaled by `scale`. */
export function meanStderr(v: ArrayLike<number>, scale = 1): MeanStderr {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i] * scale;
  const mean = s / n;
  let q = 0;
  for (let i = 0; i < n; i++) q += (v[i] * scale - mean) ** 2;
  return { mean, stderr: n > 1 ? Math.sqrt(q / (n - 1) / n) : NaN };
}

/** Components in bits/dim with standard errors over images. */
export function toBitsPerDim(terms: NelboTerms, d: number): NelboBpd {
  const k = 1 / (d * Math.LN2);
  return {
    total: meanStderr(terms.total, k),
    prior: meanStderr(terms.prior, k),
    klSum: meanStderr(terms.klSum, k),
    decoder: meanStderr(terms.decoder, k),
    n: terms.total.length,
  };
}
