/**
 * Noise schedules in float64 JS numbers, 1-indexed: arrays have length N+1 with betas[0] = 0,
 * so abar[0] = 1 and index n is timestep n (Analytic-DPM code convention, analytic-dpm.md §1).
 */
export type ScheduleName = 'linear' | 'cosine';

export interface Schedule {
  readonly name: ScheduleName;
  readonly N: number;
  /** per-step beta_n, betas[0] = 0 */
  readonly betas: Float64Array;
  /** alpha_n = 1 - beta_n */
  readonly alphas: Float64Array;
  /** bar-alpha_n = prod_{i<=n} alpha_i, abar[0] = 1 */
  readonly abar: Float64Array;
  /** bar-beta_n = 1 - bar-alpha_n, bbar[0] = 0 */
  readonly bbar: Float64Array;
}

export const SCHEDULE_NAMES: readonly ScheduleName[] = ['linear', 'cosine'];

/** Linear schedule of Ho et al., rescaled by 1000/N as in improved-diffusion: linspace(s*1e-4, s*0.02, N). */
export function linearBetas(N: number): number[] {
  const scale = 1000 / N;
  const lo = scale * 1e-4;
  const hi = scale * 0.02;
  if (N === 1) return [lo];
  return Array.from({ length: N }, (_, i) => lo + ((hi - lo) * i) / (N - 1));
}

/** Cosine schedule of Nichol & Dhariwal (iDDPM Eq. 17): beta_i = min(1 - f((i+1)/N)/f(i/N), 0.999). */
export function cosineBetas(N: number, s = 0.008, maxBeta = 0.999): number[] {
  const f = (u: number) => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  return Array.from({ length: N }, (_, i) => Math.min(1 - f((i + 1) / N) / f(i / N), maxBeta));
}

/** Build the padded schedule arrays from per-step betas (betas[0] = 0 is prepended). */
export function scheduleFromBetas(name: ScheduleName, stepBetas: number[]): Schedule {
  const N = stepBetas.length;
  const betas = new Float64Array(N + 1);
  const alphas = new Float64Array(N + 1);
  const abar = new Float64Array(N + 1);
  const bbar = new Float64Array(N + 1);
  alphas[0] = 1;
  abar[0] = 1;
  for (let n = 1; n <= N; n++) {
    betas[n] = stepBetas[n - 1];
    alphas[n] = 1 - betas[n];
    abar[n] = abar[n - 1] * alphas[n];
    bbar[n] = 1 - abar[n];
  }
  return { name, N, betas, alphas, abar, bbar };
}

/** A named schedule with N steps; throws a clear error for unknown names or bad N. */
export function makeSchedule(name: string, N: number): Schedule {
  if (!Number.isInteger(N) || N < 2) {
    throw new Error(`schedule: N must be an integer >= 2, got ${N}`);
  }
  if (name === 'linear') return scheduleFromBetas('linear', linearBetas(N));
  if (name === 'cosine') return scheduleFromBetas('cosine', cosineBetas(N));
  throw new Error(`schedule: unknown name "${name}"; allowed: ${SCHEDULE_NAMES.join(', ')}`);
}
