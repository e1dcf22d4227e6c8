/**
 * Probabilists' Gauss–Hermite quadrature: E_{z~N(0,1)}[f(z)] ≈ sum_i w_i f(z_i), weights summing to 1.
 *
 * Method (Golub–Welsch matrix, solved by Sturm bisection, then Newton polishing):
 * the orthonormal Hermite polynomials of N(0,1), phi_k = He_k / sqrt(k!), satisfy
 *   x phi_k(x) = sqrt(k+1) phi_{k+1}(x) + sqrt(k) phi_{k-1}(x),
 * so the n nodes are the eigenvalues of the symmetric tridiagonal Jacobi matrix with zero diagonal and
 * off-diagonal sqrt(1), ..., sqrt(n-1). Each eigenvalue is bracketed by Sturm-sequence bisection (robust,
 * needs no initial guess), then polished by Newton on phi_n (phi_n' = sqrt(n) phi_{n-1}).
 * Christoffel–Darboux gives the weight w_i = 1 / sum_{k<n} phi_k(z_i)^2 = 1 / (n phi_{n-1}(z_i)^2).
 * For n <= 300 the largest |phi_k| is ~1e130, far from overflow.
 */

export interface QuadratureRule {
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

const cache = new Map<number, QuadratureRule>();

/** Number of eigenvalues of the Hermite Jacobi matrix (size n) below x, by the Sturm/LDL^T count. */
function sturmCountBelow(n: number, x: number): number {
  let count = 0;
  let q = -x; // q_1 = a_1 - x with a_i = 0
  if (q < 0) count++;
  for (let i = 1; i < n; i++) {
    const qPrev = q === 0 ? 1e-300 : q;
    q = -x - i / qPrev; // q_{i+1} = a - x - b_i^2 / q_i with b_i^2 = i
    if (q < 0) count++;
  }
  return count;
}

/** Evaluate phi_{n-1}(x), phi_n(x) by the orthonormal three-term recurrence. */
function orthonormalPair(n: number, x: number): { pPrev: number; p: number } {
  let pPrev = 0;
  let p = 1; // phi_0 = 1 (N(0,1) is a probability measure)
  for (let k = 0; k < n; k++) {
    const next = (x * p - Math.sqrt(k) * pPrev) / Math.sqrt(k + 1);
    pPrev = p;
    p = next;
  }
  return { pPrev, p };
}

/** The i-th smallest eigenvalue (0-based) by bisection on [-R, R], R a Gershgorin bound. */
function bisectNode(n: number, i: number, R: number): number {
  let lo = -R;
  let hi = R;
  for (let it = 0; it < 200 && hi - lo > 0; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (sturmCountBelow(n, mid) > i) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/** A few Newton steps on phi_n, using phi_n' = sqrt(n) phi_{n-1}. */
function polishNode(n: number, x0: number): number {
  let x = x0;
  for (let it = 0; it < 3; it++) {
    const { pPrev, p } = orthonormalPair(n, x);
    const dx = p / (Math.sqrt(n) * pPrev);
    if (!Number.isFinite(dx)) break;
    x -= dx;
    if (Math.abs(dx) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

function buildRule(n: number): QuadratureRule {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  const R = 2 * Math.sqrt(n) + 1; // Gershgorin: |lambda| <= sqrt(n-1) + sqrt(n-2)
  const half = Math.floor(n / 2);
  // Compute the upper half (largest nodes) and mirror: the rule is symmetric about 0.
  for (let i = n - 1; i >= n - half; i--) {
    const x = polishNode(n, bisectNode(n, i, R));
    nodes[i] = x;
    nodes[n - 1 - i] = -x;
  }
  if (n % 2 === 1) nodes[half] = 0;
  for (let i = 0; i < n; i++) {
    const { pPrev } = orthonormalPair(n, nodes[i]);
    weights[i] = 1 / (n * pPrev * pPrev); // Christoffel–Darboux weight
  }
  normalise(weights);
  return { nodes, weights };
}

/** Rescale so the weights sum to exactly 1 up to rounding (they already do to ~1e-15). */
function normalise(w: Float64Array): void {
  let s = 0;
  // Sum smallest first (the tails) for accuracy.
  const order = Array.from(w.keys()).sort((a, b) => w[a] - w[b]);
  for (const i of order) s += w[i];
  for (let i = 0; i < w.length; i++) w[i] /= s;
}

/** Nodes and weights of the n-point probabilists' Gauss–Hermite rule (cached by n). */
export function gaussHermiteProbabilists(n: number): QuadratureRule {
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    throw new Error(`gaussHermiteProbabilists: n must be an integer in [1, 500], got ${n}`);
  }
  let rule = cache.get(n);
  if (!rule) {
    rule = buildRule(n);
    cache.set(n, rule);
  }
  return rule;
}

/** E_{z~N(0,1)}[f(z)] by the n-point probabilists' Gauss–Hermite rule. */
export function expectNormal(f: (z: number) => number, n = 200): number {
  const { nodes, weights } = gaussHermiteProbabilists(n);
  let s = 0;
  for (let i = 0; i < n; i++) s += weights[i] * f(nodes[i]);
  return s;
}
