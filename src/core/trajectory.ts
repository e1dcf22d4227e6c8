/**
 * Trajectories 1 = tau_1 < ... < tau_K = N (1-indexed timesteps) and their (s,t) pairs.
 * Example: evenTrajectory(1000, 10) = [1,112,223,334,445,556,667,778,889,1000];
 * sampling then visits the pairs (889,1000), ..., (1,112), (0,1): K network evaluations.
 */
import { roundHalfEven } from './rounding.js';

/** Even trajectory (Analytic-DPM App. F.4, from iDDPM): tau_k = round(1 + (N-1)(k-1)/(K-1)), Python rounding. */
export function evenTrajectory(N: number, K: number): number[] {
  checkK(N, K);
  if (K === 1) return [N];
  const a = (N - 1) / (K - 1);
  // The official code accumulates cur += a; for every paper setting this equals the direct form.
  const steps: number[] = [];
  let cur = 1;
  for (let k = 0; k < K; k++) {
    steps.push(roundHalfEven(cur));
    cur += a;
  }
  return steps;
}

/**
 * DDIM's quadratic trajectory: int(linspace(0, sqrt(0.8 N), K)^2) + 1. It ends at int(0.8N)+1, not N,
 * and may repeat timesteps for large K (analytic-dpm.md §4.3); only for reproducing baseline tables.
 */
export function quadTrajectory(N: number, K: number): number[] {
  checkK(N, K);
  const end = Math.sqrt(0.8 * N);
  return Array.from({ length: K }, (_, k) => {
    const v = K === 1 ? 0 : (end * k) / (K - 1);
    return Math.floor(v * v) + 1;
  });
}

/** Validate an explicit list: integers, strictly increasing, within [1, N]. */
export function explicitTrajectory(N: number, steps: readonly number[]): number[] {
  if (steps.length === 0) throw new Error('trajectory: an explicit trajectory needs at least one step');
  steps.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1 || n > N) {
      throw new Error(`trajectory: step ${i} = ${n} is not an integer in [1, ${N}]`);
    }
    if (i > 0 && n <= steps[i - 1]) {
      throw new Error(`trajectory: steps must be strictly increasing, got ${steps[i - 1]} then ${n}`);
    }
  });
  return [...steps];
}

/** Reverse-order (s,t) pairs of a trajectory: [(tau_{K-1}, tau_K), ..., (tau_1, tau_2), (0, tau_1)]. */
export function reversePairs(traj: readonly number[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let k = traj.length - 1; k >= 0; k--) pairs.push([k === 0 ? 0 : traj[k - 1], traj[k]]);
  return pairs;
}

export function checkK(N: number, K: number): void {
  if (!Number.isInteger(K) || K < 1) throw new Error(`trajectory: K must be a positive integer, got ${K}`);
  if (K > N) throw new Error(`trajectory: K = ${K} exceeds the number of diffusion steps N = ${N}`);
}
