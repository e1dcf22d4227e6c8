/**
 * Symmetric eigen-solver in float64 JS: Householder reduction to tridiagonal form, then the implicit QL
 * algorithm with Wilkinson-type shifts (Golub & Van Loan, Matrix Computations, 4th ed., §8.3; Bowdler, Martin,
 * Reinsch & Wilkinson 1968 "The QR and QL algorithms for symmetric matrices").
 *
 * Matrices are row-major Float64Array n×n. The reduction reads and updates only the lower triangle
 * (a[i*n + j], j <= i), walking rows so every inner loop is contiguous. Cost: (2/3)n^3 multiply-adds for
 * eigenvalues only; with eigenvectors another (2/3)n^3 to form Q and ~3n^3 for the QL rotations.
 */

export interface SymEigResult {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** when requested: eigenvector k is row k, vectors[k*n .. k*n+n) (so A = Vᵀ diag(values) V with V row-major) */
  vectors?: Float64Array;
}

/**
 * Householder vector for row k: x = a[k][0..k-1] becomes v = x - alpha e_{k-1} in place, with P x = alpha e_{k-1},
 * P = I - v vᵀ / H, H = vᵀv / 2. Sets e[k] = alpha and h[k] = H; returns false (and h[k] = 0) when x = 0.
 */
function householder(a: Float64Array, n: number, k: number, e: Float64Array, h: Float64Array): boolean {
  const rk = k * n;
  let scale = 0; // scale by max |x_j| to avoid over/underflow in the norm
  for (let j = 0; j < k; j++) scale = Math.max(scale, Math.abs(a[rk + j]));
  if (scale === 0) {
    e[k] = 0;
    h[k] = 0;
    return false;
  }
  let ss = 0;
  for (let j = 0; j < k; j++) {
    const x = a[rk + j] / scale;
    ss += x * x;
  }
  const xl = a[rk + k - 1];
  const alpha = -(xl >= 0 ? 1 : -1) * Math.sqrt(ss) * scale;
  e[k] = alpha;
  a[rk + k - 1] = xl - alpha;
  h[k] = alpha * alpha - alpha * xl; // = ||x||^2 - alpha x_{k-1} > 0
  return true;
}

/** p = A' v over the leading k×k block (from its lower triangle), v = row k's first k entries. */
function blockMatVec(a: Float64Array, n: number, k: number, p: Float64Array): void {
  const rk = k * n;
  p.fill(0, 0, k);
  for (let i = 0; i < k; i++) {
    const ri = i * n, vi = a[rk + i];
    let s = 0;
    for (let j = 0; j < i; j++) {
      const aij = a[ri + j];
      s += aij * a[rk + j];
      p[j] += aij * vi;
    }
    p[i] += s + a[ri + i] * vi;
  }
}

/**
 * Reduce the symmetric matrix in `a` (lower triangle used; overwritten) to tridiagonal T = QᵀAQ.
 * Returns the diagonal d, the sub-diagonal e (e[i] couples i-1 and i, e[0] = 0), and the Householder
 * vectors left in a's rows (row k holds v_k in columns 0..k-1) with their scalars h[k] = vᵀv/2.
 * Step k applies A' <- P A' P = A' - v wᵀ - w vᵀ (w = p - (vᵀp / 2H) v, p = A' v / H) to the leading k×k block;
 * the pass that applies it also accumulates the next step's product A'' u, so the block is read once per step.
 */
function tridiagonalise(a: Float64Array, n: number): { d: Float64Array; e: Float64Array; h: Float64Array } {
  const d = new Float64Array(n), e = new Float64Array(n), h = new Float64Array(n);
  let p = new Float64Array(n), q = new Float64Array(n);
  let pReady = false; // p already holds A' v for this step (accumulated by the previous pass)
  for (let k = n - 1; k >= 2; k--) {
    const rk = k * n;
    if (!pReady) {
      if (!householder(a, n, k, e, h)) continue;
      blockMatVec(a, n, k, p);
    }
    pReady = false;
    const H = h[k];
    let vp = 0;
    for (let i = 0; i < k; i++) {
      p[i] /= H;
      vp += a[rk + i] * p[i];
    }
    const K = vp / (2 * H);
    for (let i = 0; i < k; i++) p[i] -= K * a[rk + i]; // p is now w
    // row k-1 first: it gives the next Householder vector u (stored in row k-1)
    const r1 = (k - 1) * n;
    {
      const vi = a[rk + k - 1], wi = p[k - 1];
      for (let j = 0; j < k; j++) a[r1 + j] -= vi * p[j] + wi * a[rk + j];
    }
    const fuse = k - 1 >= 2 && householder(a, n, k - 1, e, h);
    if (fuse) q.fill(0, 0, k - 1);
    for (let i = 0; i < k - 1; i++) {
      const ri = i * n, vi = a[rk + i], wi = p[i];
      if (fuse) {
        const ui = a[r1 + i];
        let s = 0;
        for (let j = 0; j < i; j++) {
          const aij = a[ri + j] - (vi * p[j] + wi * a[rk + j]);
          a[ri + j] = aij;
          s += aij * a[r1 + j];
          q[j] += aij * ui;
        }
        const aii = a[ri + i] - 2 * vi * wi;
        a[ri + i] = aii;
        q[i] += s + aii * ui;
      } else {
        for (let j = 0; j <= i; j++) a[ri + j] -= vi * p[j] + wi * a[rk + j];
      }
    }
    if (fuse) {
      [p, q] = [q, p];
      pReady = true;
    }
  }
  if (n >= 2) e[1] = a[n];
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  return { d, e, h };
}

/** Q = P_{n-1} ⋯ P_2 from the Householder vectors left by tridiagonalise, returned transposed (row-major Qᵀ). */
function formQt(a: Float64Array, h: Float64Array, n: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const g = new Float64Array(n);
  // M <- P_k M for k = 2..n-1; P_k touches only the leading k×k block, where M is still the product so far.
  for (let k = 2; k < n; k++) {
    const H = h[k];
    if (H === 0) continue;
    const rk = k * n;
    g.fill(0, 0, k);
    for (let i = 0; i < k; i++) {
      const vi = a[rk + i], ri = i * n;
      for (let j = 0; j < k; j++) g[j] += vi * q[ri + j];
    }
    for (let i = 0; i < k; i++) {
      const c = a[rk + i] / H, ri = i * n;
      for (let j = 0; j < k; j++) q[ri + j] -= c * g[j];
    }
  }
  // transpose in place
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const t = q[i * n + j];
      q[i * n + j] = q[j * n + i];
      q[j * n + i] = t;
    }
  }
  return q;
}

/**
 * Implicit QL on the tridiagonal (d, e) (e[i] couples i-1 and i). Overwrites d with the eigenvalues.
 * If zt is given (row-major, row i = column i of the accumulated transform), the plane rotations are applied
 * to its rows, which are then the eigenvectors.
 */
function tridiagonalQL(d: Float64Array, eIn: Float64Array, n: number, zt?: Float64Array): void {
  // shift so that e[i] couples i and i+1
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i - 1] = eIn[i];
  const EPS = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(e[m]) <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (iter === 100) throw new Error(`symEig: QL did not converge for eigenvalue ${l} of ${n}`);
      // shift: the eigenvalue of the leading 2×2 block closer to d[l]
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i], b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // underflow: the matrix split; deflate and restart
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (zt) {
          const ri = i * n, rj = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const zi = zt[ri + k], zj = zt[rj + k];
            zt[rj + k] = s * zi + c * zj;
            zt[ri + k] = c * zi - s * zj;
          }
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

/** Eigen-decomposition of a symmetric n×n matrix (row-major; only its lower triangle is read; not modified). */
export function symEig(matrix: Float64Array | Float32Array, n: number, opts: { vectors?: boolean } = {}): SymEigResult {
  if (matrix.length !== n * n) throw new Error(`symEig: matrix has ${matrix.length} entries, expected ${n}×${n}`);
  for (let i = 0; i < matrix.length; i++) if (!Number.isFinite(matrix[i])) throw new Error(`symEig: non-finite entry at ${i}`);
  const a = Float64Array.from(matrix);
  const { d, e, h } = tridiagonalise(a, n);
  const zt = opts.vectors ? formQt(a, h, n) : undefined;
  tridiagonalQL(d, e, n, zt);
  // sort ascending (with the vectors)
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!zt) return { values };
  const vectors = new Float64Array(n * n);
  order.forEach((src, k) => vectors.set(zt.subarray(src * n, src * n + n), k * n));
  return { values, vectors };
}

/** Eigenvalues only (ascending). */
export function symEigvals(matrix: Float64Array | Float32Array, n: number): Float64Array {
  return symEig(matrix, n).values;
}
