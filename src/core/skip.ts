/**
 * The (s,t) skip algebra for 0 <= s < t <= N (Analytic-DPM §4 / App. C; Extended-Analytic-DPM schedule.py).
 * All in float64 from the cumulative products, never from stride arithmetic.
 */
import type { Schedule } from './schedule.js';

/** alpha(t|s) = abar_t / abar_s = prod_{i=s+1..t} alpha_i */
export function alphaTS(sch: Schedule, s: number, t: number): number {
  return sch.abar[t] / sch.abar[s];
}

/** beta(t|s) = 1 - alpha(t|s) */
export function betaTS(sch: Schedule, s: number, t: number): number {
  return 1 - alphaTS(sch, s, t);
}

/** tildeBeta(s,t) = beta(t|s) * bbar_s / bbar_t, the DDPM posterior variance of q(x_s | x_t, x_0). */
export function tildeBeta(sch: Schedule, s: number, t: number): number {
  return (betaTS(sch, s, t) * sch.bbar[s]) / sch.bbar[t];
}

/** Throws unless 0 <= s < t <= N are integers. */
export function checkPair(sch: Schedule, s: number, t: number): void {
  if (!Number.isInteger(s) || !Number.isInteger(t) || s < 0 || t > sch.N || s >= t) {
    throw new Error(`invalid (s,t) = (${s},${t}); need integers 0 <= s < t <= N = ${sch.N}`);
  }
}
