/**
 * Fréchet (2-Wasserstein) distance between Gaussians, in float64 JS:
 *   d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})      (Dowson & Landau 1982)
 * FID is this distance between Gaussians fitted to network features of two image sets (Heusel et al. 2017).
 *
 * tr((S1 S2)^{1/2}) = Σ_k sqrt(λ_k), λ_k the eigenvalues of the symmetric PSD matrix S1^{1/2} S2 S1^{1/2}
 * (similar to S1 S2, so the eigenvalues are real and >= 0; tiny negative rounding is clamped to 0).
 * Two ways to form a matrix with exactly those eigenvalues:
 *   'cholesky' (default): S1 = F Fᵀ by a pivoted Cholesky (works for singular S1); Fᵀ S2 F has the same nonzero
 *       eigenvalues as S2 F Fᵀ = S2 S1, hence as S1^{1/2} S2 S1^{1/2}. ~(5/6)n^3 multiply-adds plus the eigenvalues.
 *   'sqrtm': S1^{1/2} = V diag(sqrt λ) Vᵀ from a full eigen-decomposition, then S1^{1/2} S2 S1^{1/2} literally.
 *       About 4× slower; kept as the definitional cross-check.
 */
import { symEig } from './symEig.js';
import type { GaussianStats } from './gaussianStats.js';

export { GaussianAccumulator, gaussianStats, type GaussianStats } from './gaussianStats.js';

export type TraceSqrtMethod = 'cholesky' | 'sqrtm';

function checkSquare(s: Float64Array | Float32Array, n: number, what: string): void {
  if (s.length !== n * n) throw new Error(`frechet: ${what} has ${s.length} entries, expected ${n}×${n} = ${n * n}`);
  for (let i = 0; i < s.length; i++) if (!Number.isFinite(s[i])) throw new Error(`frechet: ${what} has a non-finite entry at ${i}`);
}

/** Pivoted Cholesky of a PSD matrix: P A Pᵀ = L Lᵀ (up to the dropped tail <= n·eps·max diag); L is n×rank, stride n. */
export function pivotedCholesky(A: Float64Array | Float32Array, n: number): { L: Float64Array; perm: Int32Array; rank: number } {
  const a = Float64Array.from(A);
  const L = new Float64Array(n * n);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const diag = Float64Array.from({ length: n }, (_, i) => a[i * n + i]);
  let maxDiag = 0;
  for (const v of diag) maxDiag = Math.max(maxDiag, v);
  const tol = n * Number.EPSILON * maxDiag;
  let rank = 0;
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (diag[i] > diag[p]) p = i;
    if (!(diag[p] > tol)) break;
    if (p !== j) {
      [perm[j], perm[p]] = [perm[p], perm[j]];
      [diag[j], diag[p]] = [diag[p], diag[j]];
      for (let k = 0; k < n; k++) [a[j * n + k], a[p * n + k]] = [a[p * n + k], a[j * n + k]];
      for (let k = 0; k < n; k++) [a[k * n + j], a[k * n + p]] = [a[k * n + p], a[k * n + j]];
      for (let k = 0; k < j; k++) [L[j * n + k], L[p * n + k]] = [L[p * n + k], L[j * n + k]];
    }
    const ljj = Math.sqrt(diag[j]), rj = j * n;
    L[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0; // Σ_k L[i][k] L[j][k], four partial sums (latency)
      for (; k + 3 < j; k += 4) {
        s0 += L[ri + k] * L[rj + k];
        s1 += L[ri + k + 1] * L[rj + k + 1];
        s2 += L[ri + k + 2] * L[rj + k + 2];
        s3 += L[ri + k + 3] * L[rj + k + 3];
      }
      for (; k < j; k++) s0 += L[ri + k] * L[rj + k];
      const lij = (a[ri + j] - (s0 + s1 + s2 + s3)) / ljj;
      L[ri + j] = lij;
      diag[i] -= lij * lij;
    }
    rank = j + 1;
  }
  return { L, perm, rank };
}

/** Lower triangle of Fᵀ S2 F (r×r) with S1 = Pᵀ L Lᵀ P, i.e. F = Pᵀ L. */
function congruenceCholesky(s1: Float64Array | Float32Array, s2: Float64Array | Float32Array, n: number): { g: Float64Array; r: number } {
  const { L, perm, rank: r } = pivotedCholesky(s1, n);
  // M = (P S2 Pᵀ) L, n×r. L is zero above its diagonal, so four rows of L are combined per pass over M's row.
  const m = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    const rs = perm[i] * n, rm = i * r;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const s0 = s2[rs + perm[j]], s1 = s2[rs + perm[j + 1]], s2_ = s2[rs + perm[j + 2]], s3 = s2[rs + perm[j + 3]];
      const l0 = j * n, l1 = l0 + n, l2 = l1 + n, l3 = l2 + n, lim = Math.min(j + 3, r - 1);
      for (let b = 0; b <= lim; b++) m[rm + b] += s0 * L[l0 + b] + s1 * L[l1 + b] + s2_ * L[l2 + b] + s3 * L[l3 + b];
    }
    for (; j < n; j++) {
      const s = s2[rs + perm[j]], rl = j * n, lim = Math.min(j, r - 1);
      for (let b = 0; b <= lim; b++) m[rm + b] += s * L[rl + b];
    }
  }
  // G = Lᵀ M, lower triangle only: G[a][b] = Σ_i L[i][a] M[i][b], four rows i per pass over G's row a.
  const g = new Float64Array(r * r);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const l0 = i * n, l1 = l0 + n, l2 = l1 + n, l3 = l2 + n;
    const m0 = i * r, m1 = m0 + r, m2 = m1 + r, m3 = m2 + r, lim = Math.min(i + 3, r - 1);
    for (let a = 0; a <= lim; a++) {
      const c0 = L[l0 + a], c1 = L[l1 + a], c2 = L[l2 + a], c3 = L[l3 + a], ra = a * r;
      for (let b = 0; b <= a; b++) g[ra + b] += c0 * m[m0 + b] + c1 * m[m1 + b] + c2 * m[m2 + b] + c3 * m[m3 + b];
    }
  }
  for (; i < n; i++) {
    const rl = i * n, rm = i * r, lim = Math.min(i, r - 1);
    for (let a = 0; a <= lim; a++) {
      const l = L[rl + a], ra = a * r;
      for (let b = 0; b <= a; b++) g[ra + b] += l * m[rm + b];
    }
  }
  return { g, r };
}

/** Symmetric PSD square root A^{1/2} = Vᵀ diag(sqrt(max(λ, 0))) V (full eigen-decomposition). */
export function sqrtPsd(A: Float64Array | Float32Array, n: number): Float64Array {
  const { values, vectors } = symEig(A, n, { vectors: true });
  const v = vectors!;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k], 0)), rk = k * n;
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const c = s * v[rk + i], ri = i * n;
      for (let j = 0; j <= i; j++) out[ri + j] += c * v[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
  return out;
}

/** Lower triangle of R S2 R with R = S1^{1/2}. */
function congruenceSqrtm(s1: Float64Array | Float32Array, s2: Float64Array | Float32Array, n: number): Float64Array {
  const r = sqrtPsd(s1, n);
  const t = new Float64Array(n * n); // T = R S2
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < n; k++) {
      const c = r[ri + k], rk = k * n;
      if (c === 0) continue;
      for (let j = 0; j < n; j++) t[ri + j] += c * s2[rk + j];
    }
  }
  const g = new Float64Array(n * n); // G = T R (R symmetric), lower triangle
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < n; k++) {
      const c = t[ri + k], rk = k * n;
      for (let j = 0; j <= i; j++) g[ri + j] += c * r[rk + j];
    }
  }
  return g;
}

/** tr((S1 S2)^{1/2}) for symmetric PSD n×n S1, S2 (row-major). */
export function traceSqrtProduct(s1: Float64Array | Float32Array, s2: Float64Array | Float32Array, n: number, method: TraceSqrtMethod = 'cholesky'): number {
  checkSquare(s1, n, 'S1');
  checkSquare(s2, n, 'S2');
  let values: Float64Array;
  if (method === 'cholesky') {
    const { g, r } = congruenceCholesky(s1, s2, n);
    values = r === 0 ? new Float64Array(0) : symEig(g, r).values;
  } else if (method === 'sqrtm') {
    values = symEig(congruenceSqrtm(s1, s2, n), n).values;
  } else throw new Error(`frechet: unknown method "${method as string}" (cholesky | sqrtm)`);
  let tr = 0;
  for (const l of values) tr += Math.sqrt(Math.max(l, 0));
  return tr;
}

/**
 * Fréchet distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982). Not clamped: rounding can leave
 * a result of order -1e-12·tr(S) for identical inputs.
 */
export function frechetDistance(
  mu1: ArrayLike<number>, s1: Float64Array | Float32Array,
  mu2: ArrayLike<number>, s2: Float64Array | Float32Array,
  opts: { method?: TraceSqrtMethod } = {},
): number {
  const n = mu1.length;
  if (mu2.length !== n) throw new Error(`frechet: means have dimensions ${n} and ${mu2.length}`);
  let dm = 0, tr = 0;
  for (let i = 0; i < n; i++) {
    dm += (mu1[i] - mu2[i]) ** 2;
    tr += s1[i * n + i] + s2[i * n + i];
  }
  return dm + tr - 2 * traceSqrtProduct(s1, s2, n, opts.method);
}

/** Fréchet distance between two fitted Gaussians; FID when the statistics are of network features (Heusel et al. 2017). */
export function frechetDistanceStats(a: GaussianStats, b: GaussianStats, opts: { method?: TraceSqrtMethod } = {}): number {
  if (a.d !== b.d) throw new Error(`frechet: statistics of dimensions ${a.d} and ${b.d}`);
  return frechetDistance(a.mu, a.sigma, b.mu, b.sigma, opts);
}
