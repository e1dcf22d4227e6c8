/**
 * Analytic-DPM optimal trajectory, OT (Bao et al., "Analytic-DPM", ICLR 2022, §4, Theorem 3, Algorithm 1;
 * official code `core/inference/utils.py::_dp_seg` with `_split`, `_get_fn_m`, `_solve_fn_dp`).
 *
 * Theorem 3 (DDPM forward, Cor. 4): the KL between the forward and the optimal reverse process on a
 * trajectory 1 = tau_1 < ... < tau_K = N is (d/2) sum_k J(tau_{k-1}, tau_k) + const, with
 *   J(s,t) = log(1 - beta(t|s) * ms_eps[t] / bbar[t]),   beta(t|s) = 1 - abar_t / abar_s,
 * where ms_eps[t] = E||eps(x_t)||^2 / d (the code's Γ). The minimising path is found by a DP over
 * (number of nodes, end node) in O(K n^2) time (Watson et al. 2021; paper Algorithm 1). Here the cost
 * column J(., t) is computed on the fly, so memory is O(K n), never an n x n matrix.
 *
 * The `_split` heuristic ("Theoretically, ms_eps <= 1. Remove points of poor estimation"): for an exact
 * model E||E[eps|x_t]||^2 <= E||eps||^2 = d, so ms_eps <= 1; an estimate above 1 is impossible and can make
 * 1 - beta(t|s) ms_eps[t]/bbar[t] negative, i.e. J = log(negative) = NaN, which poisons the DP min/argmin.
 * So, from the first point with ms_eps > 1 (idx_g1), a tail of twice its length,
 * num_bad = 2 (N - idx_g1 + 1), is excluded from the DP; the DP runs on [1, N1 = N - num_bad] with K1 nodes
 * and the tail (N1, N] is covered by K2 evenly spaced steps. K is split roughly in proportion to the two
 * parts, with the bad part weighted 80%: K1 = ceil((1 - 0.8 num_bad/N) K), then clamped (see splitBadTail).
 * With no bad points num_bad = 0, N1 = N, K1 = K, K2 = 0: the plain DP on [1, N].
 *
 * The heuristic assumes estimates exceed 1 only in a tail of large t (model error). For data whose msEps is
 * close to 1 at small t as well (e.g. discrete data with an exact model: x0 is identifiable from x_1, so
 * msEps_1 = 1 - 1e-12), Monte Carlo noise alone puts estimates above 1 near t = 1 and `_split` would discard
 * everything. The alternative `badTail: 'clamp'` projects estimates onto the feasible set, min(msEps, 1), which
 * keeps every J finite (beta(t|s) < bbar_t for s >= 1) and runs the DP on all of [1, N].
 */
import type { Schedule } from '../core/schedule.js';
import { betaTS } from '../core/skip.js';
import { roundHalfEven } from '../core/rounding.js';

export interface DpResult {
  /** the path lo = tau_1 < ... < tau_K = hi */
  readonly steps: number[];
  /** sum of J over consecutive pairs of the path */
  readonly cost: number;
}

export interface SplitInfo {
  /** the DP covers [1, N1] */
  readonly N1: number;
  /** nodes given to the DP part */
  readonly K1: number;
  /** evenly spaced nodes in the bad tail (N1, N] */
  readonly K2: number;
  /** length of the excluded tail, 2 (N - idx_g1 + 1) */
  readonly numBad: number;
}

export interface OptimalTrajectoryResult {
  /** K strictly increasing timesteps from 1 to N */
  readonly steps: number[];
  /** sum of J along the whole returned path (NaN if the tail holds points with ms_eps > 1) */
  readonly cost: number;
  /** the part of the cost minimised by the DP, i.e. J summed along the path on [1, N1] */
  readonly dpCost: number;
  /** the `_split` decision; null when K == N (no DP is run) */
  readonly split: SplitInfo | null;
}

/** J(s,t) without checks (Theorem 3 / Cor. 4): log(1 - beta(t|s) ms_eps[t] / bbar[t]). */
function jumpCostRaw(sch: Schedule, msEps: ArrayLike<number>, s: number, t: number): number {
  return Math.log(1 - (betaTS(sch, s, t) * msEps[t]) / sch.bbar[t]);
}

/** J(s,t) = log(1 - beta(t|s) ms_eps[t] / bbar[t]) for 1 <= s < t <= N (Theorem 3, DDPM forward). */
export function jumpCost(sch: Schedule, msEps: ArrayLike<number>, s: number, t: number): number {
  if (!Number.isInteger(s) || !Number.isInteger(t) || s < 1 || t > sch.N || s >= t) {
    throw new Error(`jumpCost: need integers 1 <= s < t <= N = ${sch.N}, got (s,t) = (${s},${t})`);
  }
  return jumpCostRaw(sch, msEps, s, t);
}

/** Sum of J over consecutive pairs of a path. */
export function pathCost(sch: Schedule, msEps: ArrayLike<number>, steps: readonly number[]): number {
  let c = 0;
  for (let k = 1; k < steps.length; k++) c += jumpCost(sch, msEps, steps[k - 1], steps[k]);
  return c;
}

/** Fill col[s - lo] = J(s, t) for s = lo..t-1; throws on NaN (ms_eps[t] too large: see `_split`). */
function fillColumn(sch: Schedule, msEps: ArrayLike<number>, lo: number, t: number, col: Float64Array): void {
  for (let s = lo; s < t; s++) {
    const j = jumpCostRaw(sch, msEps, s, t);
    if (Number.isNaN(j)) {
      throw new Error(
        `dpTrajectory: J(${s},${t}) is NaN (ms_eps[${t}] = ${msEps[t]} makes 1 - beta(t|s) ms_eps/bbar < 0); ` +
          'exclude such points, e.g. with optimalTrajectory / splitBadTail',
      );
    }
    col[s - lo] = j;
  }
}

function checkDpArgs(sch: Schedule, msEps: ArrayLike<number>, K: number, lo: number, hi: number): void {
  if (msEps.length !== sch.N + 1) {
    throw new Error(`dpTrajectory: msEps has length ${msEps.length}, expected N+1 = ${sch.N + 1}`);
  }
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > sch.N || lo > hi) {
    throw new Error(`dpTrajectory: need integers 1 <= lo <= hi <= N = ${sch.N}, got lo=${lo}, hi=${hi}`);
  }
  const n = hi - lo + 1;
  if (!Number.isInteger(K) || K < 1 || K > n) {
    throw new Error(`dpTrajectory: K = ${K} must be an integer in [1, n = ${n}] for [lo, hi] = [${lo}, ${hi}]`);
  }
  if (K === 1 && lo !== hi) {
    throw new Error(`dpTrajectory: K = 1 is only valid when lo == hi, got lo=${lo}, hi=${hi}`);
  }
}

/**
 * Minimise sum_k J(tau_{k-1}, tau_k) over paths lo = tau_1 < ... < tau_K = hi (paper Algorithm 1).
 * C[k][t - lo] = least cost of a k-node path from lo to t; B[k][t - lo] its second-to-last node.
 * Ties go to the smallest s (numpy argmin). O(K n^2) time, O(K n) memory.
 */
export function dpTrajectory(
  sch: Schedule,
  msEps: ArrayLike<number>,
  K: number,
  lo = 1,
  hi: number = sch.N,
): DpResult {
  checkDpArgs(sch, msEps, K, lo, hi);
  const n = hi - lo + 1;
  if (K === n) {
    const steps = Array.from({ length: n }, (_, i) => lo + i);
    return { steps, cost: pathCost(sch, msEps, steps) };
  }
  if (K === 1) return { steps: [lo], cost: 0 };
  const { C, B } = runDp(sch, msEps, K, lo, hi);
  const steps = backtrack(B, K, lo, hi);
  return { steps, cost: C[K][n - 1] };
}

/** The DP tables for k = 2..K (rows 0 and 1 unused), filled end node by end node. */
function runDp(
  sch: Schedule,
  msEps: ArrayLike<number>,
  K: number,
  lo: number,
  hi: number,
): { C: Float64Array[]; B: Int32Array[] } {
  const n = hi - lo + 1;
  const C = Array.from({ length: K + 1 }, () => new Float64Array(n).fill(Infinity));
  const B = Array.from({ length: K + 1 }, () => new Int32Array(n).fill(-1));
  const col = new Float64Array(n);
  for (let t = lo + 1; t <= hi; t++) {
    fillColumn(sch, msEps, lo, t, col); // J(., t), computed once and shared by every k
    const ti = t - lo;
    C[2][ti] = col[0]; // 2-node paths start at lo
    B[2][ti] = lo;
    // k nodes fit in [lo, t] only if k <= t - lo + 1; C[k][t] is needed only if K - k <= hi - t.
    const kMin = Math.max(3, K - (hi - t));
    const kMax = Math.min(K, ti + 1);
    for (let k = kMin; k <= kMax; k++) {
      relax(C[k - 1], col, k - 2, ti, C[k], B[k], lo);
    }
  }
  return { C, B };
}

/** C_k[ti] = min_{si in [sMin, ti)} C_{k-1}[si] + J(lo+si, t); first minimiser wins. */
function relax(
  prev: Float64Array,
  col: Float64Array,
  sMin: number,
  ti: number,
  cur: Float64Array,
  back: Int32Array,
  lo: number,
): void {
  let best = Infinity;
  let arg = -1;
  for (let si = sMin; si < ti; si++) {
    const v = prev[si] + col[si];
    if (v < best) {
      best = v;
      arg = si;
    }
  }
  cur[ti] = best;
  back[ti] = arg < 0 ? -1 : lo + arg;
}

/** Follow the back-pointers from (K, hi) to lo. */
function backtrack(B: Int32Array[], K: number, lo: number, hi: number): number[] {
  const steps = new Array<number>(K);
  steps[K - 1] = hi;
  for (let k = K; k >= 2; k--) {
    const prev = B[k][steps[k - 1] - lo];
    if (prev < 0) throw new Error(`dpTrajectory: no finite path with K = ${K} nodes on [${lo}, ${hi}]`);
    steps[k - 2] = prev;
  }
  return steps;
}

/**
 * The official `_split(ms_eps, N, K)`: exclude the tail starting at the first ms_eps > 1, doubled in length,
 * from the DP, and share K between the DP part (K1) and the even tail grid (K2), with an 80% weight.
 */
export function splitBadTail(msEps: ArrayLike<number>, N: number, K: number): SplitInfo {
  let idxG1 = N + 1;
  for (let n = 1; n <= N; n++) {
    if (msEps[n] > 1) {
      idxG1 = n;
      break;
    }
  }
  const numBad = 2 * (N - idxG1 + 1);
  const N1 = N - numBad;
  const badRatio = numBad / N;
  let K1 = Math.ceil((1 - 0.8 * badRatio) * K);
  let K2 = K - K1;
  if (K1 > N1) {
    K1 = N1;
    K2 = K - K1;
  }
  if (K2 > numBad) {
    K2 = numBad;
    K1 = K - K2;
  }
  if (numBad > 0 && K2 === 0) {
    K2 = 1;
    K1 = K - 1;
  }
  checkSplit(N, K, idxG1, { N1, K1, K2, numBad });
  return { N1, K1, K2, numBad };
}

/** Reject splits that leave no valid DP segment (too many bad points, or too few nodes for [1, N1]). */
function checkSplit(N: number, K: number, idxG1: number, s: SplitInfo): void {
  const what = `(N = ${N}, K = ${K}, first ms_eps > 1 at ${idxG1}, numBad = ${s.numBad}, N1 = ${s.N1}, K1 = ${s.K1}, K2 = ${s.K2})`;
  if (s.N1 < 1) {
    throw new Error(`splitBadTail: the doubled bad tail covers all of [1, N], nothing left for the DP ${what}`);
  }
  if (s.K1 < 1 || s.K1 > s.N1) {
    throw new Error(`splitBadTail: K1 must lie in [1, N1] ${what}`);
  }
  if (s.K1 === 1 && s.N1 !== 1) {
    throw new Error(`splitBadTail: K1 = 1 node cannot span [1, N1] with N1 > 1 ${what}`);
  }
  if (s.K2 < 0 || s.K2 > s.numBad) {
    throw new Error(`splitBadTail: K2 must lie in [0, numBad] ${what}`);
  }
}

/** The even tail grid of `_dp_seg`: [round(N - (N-N1)/K2 * k) for k in range(K2)][::-1] (Python round). */
export function tailSteps(N: number, N1: number, K2: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < K2; k++) out.push(roundHalfEven(N - ((N - N1) / K2) * k));
  return out.reverse();
}

/**
 * OT of Analytic-DPM (`_dp_seg`): K timesteps 1 = tau_1 < ... < tau_K = N minimising sum J (Theorem 3),
 * with the `_split` heuristic for ms_eps > 1 (see the file comment).
 */
export type BadTailRule = 'split' | 'clamp';
export const BAD_TAIL_RULES: readonly BadTailRule[] = ['split', 'clamp'];

export function optimalTrajectory(sch: Schedule, msEpsIn: ArrayLike<number>, K: number, badTail: BadTailRule = 'split'): OptimalTrajectoryResult {
  const N = sch.N;
  if (!BAD_TAIL_RULES.includes(badTail)) throw new Error(`optimalTrajectory: badTail must be one of ${BAD_TAIL_RULES.join(', ')}, got "${badTail}"`);
  const msEps = badTail === 'clamp' ? Float64Array.from(msEpsIn, (v) => Math.min(v, 1)) : msEpsIn;
  if (!Number.isInteger(K) || K < 2) throw new Error(`optimalTrajectory: K must be an integer >= 2, got K = ${K}`);
  if (K > N) throw new Error(`optimalTrajectory: K = ${K} exceeds the number of diffusion steps N = ${N}`);
  if (msEps.length !== N + 1) {
    throw new Error(`optimalTrajectory: msEps has length ${msEps.length}, expected N+1 = ${N + 1}`);
  }
  if (K === N) {
    const steps = Array.from({ length: N }, (_, i) => i + 1);
    const cost = pathCost(sch, msEps, steps);
    return { steps, cost, dpCost: cost, split: null };
  }
  let split: SplitInfo;
  try {
    split = splitBadTail(msEps, N, K);
  } catch (e) {
    throw new Error(`${(e as Error).message}; if msEps is close to 1 at small t too (an exact model of discrete data), use badTail 'clamp'`);
  }
  const head = dpTrajectory(sch, msEps, split.K1, 1, split.N1);
  const steps = [...head.steps, ...tailSteps(N, split.N1, split.K2)];
  return { steps, cost: pathCost(sch, msEps, steps), dpCost: head.cost, split };
}
