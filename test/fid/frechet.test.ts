import { expect } from 'chai';
import { fillNormal } from '../../src/core/rng.js';
import { symEig } from '../../src/estimators/fid/symEig.js';
import {
  GaussianAccumulator, frechetDistance, gaussianStats, pivotedCholesky, sqrtPsd, traceSqrtProduct,
} from '../../src/estimators/fid/frechet.js';

// ---- small dense helpers (plain arrays of rows; independent of the code under test) ----
type M = number[][];
const eye = (n: number): M => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
const mul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const tr = (a: M): number => a.reduce((s, r, i) => s + r[i], 0);
const T = (a: M): M => a[0].map((_, j) => a.map((r) => r[j]));
const flat = (a: M): Float64Array => Float64Array.from(a.flat());
const add = (a: M, b: M, s = 1): M => a.map((r, i) => r.map((v, j) => v + s * b[i][j]));

function gaussians(n: number, seed: number): number[] {
  const a = new Float32Array(n);
  fillNormal(a, 0, n, seed);
  return Array.from(a);
}

/** Random orthogonal matrix: Gram-Schmidt on Gaussian rows. */
function rotation(n: number, seed: number): M {
  const g = gaussians(n * n, seed);
  const q: M = [];
  for (let i = 0; i < n; i++) {
    let v = g.slice(i * n, i * n + n);
    for (const u of q) {
      const d = v.reduce((s, x, j) => s + x * u[j], 0);
      v = v.map((x, j) => x - d * u[j]);
    }
    const nr = Math.hypot(...v);
    q.push(v.map((x) => x / nr));
  }
  return q;
}

/** Qᵀ diag(l) Q (rows of Q are the eigenvectors). */
const withSpectrum = (q: M, l: number[]): M => mul(mul(T(q), l.map((v, i) => l.map((_, j) => (i === j ? v : 0)))), q);

/** Random PSD matrix A Aᵀ / m with A n×m Gaussian (full rank when m >= n). */
function randomPsd(n: number, m: number, seed: number): M {
  const g = gaussians(n * m, seed);
  const a: M = Array.from({ length: n }, (_, i) => g.slice(i * m, i * m + m));
  return mul(a, T(a)).map((r) => r.map((v) => v / m));
}

/** Gauss-Jordan inverse with partial pivoting. */
function inverse(a: M): M {
  const n = a.length;
  const w = a.map((r, i) => [...r, ...eye(n)[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(w[r][c]) > Math.abs(w[p][c])) p = r;
    [w[c], w[p]] = [w[p], w[c]];
    const d = w[c][c];
    w[c] = w[c].map((v) => v / d);
    for (let r = 0; r < n; r++) if (r !== c) w[r] = w[r].map((v, j) => v - w[r][c] * w[c][j]);
  }
  return w.map((r) => r.slice(n));
}

/** Principal square root by the Denman–Beavers iteration (Denman & Beavers 1976): Y -> A^{1/2}, Z -> A^{-1/2}. */
function sqrtmDenmanBeavers(a: M): M {
  let y = a, z = eye(a.length);
  for (let k = 0; k < 60; k++) {
    const yi = inverse(y), zi = inverse(z);
    const yn = add(y, zi).map((r) => r.map((v) => v / 2));
    z = add(z, yi).map((r) => r.map((v) => v / 2));
    const change = Math.max(...yn.flat().map((v, i) => Math.abs(v - y.flat()[i])));
    y = yn;
    if (change < 1e-15) break;
  }
  return y;
}

const sqrtDiagFd = (a: number[], b: number[]) => a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
const zeros = (n: number) => new Float64Array(n);

describe('fid/symEig', () => {
  it('recovers a prescribed spectrum (with repeats and a zero) and orthonormal eigenvectors', () => {
    const n = 12;
    const l = [3, 3, 3, 0, -1.5, 2, 7, 1e-3, 2, 5, -4, 0.5];
    const q = rotation(n, 7);
    const a = flat(withSpectrum(q, l));
    const { values, vectors } = symEig(a, n, { vectors: true });
    const sorted = [...l].sort((x, y) => x - y);
    values.forEach((v, i) => expect(v).to.be.closeTo(sorted[i], 1e-13));
    const v = vectors!;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * v[k * n + j];
        expect(av).to.be.closeTo(values[k] * v[k * n + i], 1e-13);
      }
      for (let m = 0; m <= k; m++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += v[k * n + j] * v[m * n + j];
        expect(dot).to.be.closeTo(+(k === m), 1e-13);
      }
    }
  });

  it('handles 1×1, diagonal and already-tridiagonal matrices', () => {
    expect(Array.from(symEig(Float64Array.of(-2.5), 1).values)).to.deep.equal([-2.5]);
    expect(Array.from(symEig(flat([[3, 0, 0], [0, 1, 0], [0, 0, 2]]), 3).values)).to.deep.equal([1, 2, 3]);
    // tridiagonal [2 -1; -1 2 -1; -1 2] has eigenvalues 2 - 2cos(k pi / 4)
    const v = symEig(flat([[2, -1, 0], [-1, 2, -1], [0, -1, 2]]), 3).values;
    [1, 2, 3].forEach((k, i) => expect(v[i]).to.be.closeTo(2 - 2 * Math.cos((k * Math.PI) / 4), 1e-14));
  });

  it('n = 300: eigenvalues keep the trace and Frobenius norm, vectors diagonalise (values-only run agrees)', () => {
    const n = 300;
    const g = gaussians(n * n, 5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = g[i * n + j];
    const { values, vectors } = symEig(a, n, { vectors: true });
    let trA = 0, fro = 0;
    a.forEach((v, i) => { fro += v * v; if (i % (n + 1) === 0) trA += v; });
    expect(values.reduce((x, y) => x + y, 0)).to.be.closeTo(trA, 1e-10);
    expect(values.reduce((x, y) => x + y * y, 0)).to.be.closeTo(fro, 1e-9 * fro);
    symEig(a, n).values.forEach((v, i) => expect(v).to.be.closeTo(values[i], 1e-11));
    const v = vectors!;
    for (const k of [0, 137, 299]) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * v[k * n + j];
        expect(av).to.be.closeTo(values[k] * v[k * n + i], 1e-11);
      }
    }
  });

  it('sqrtPsd squares back to the matrix', () => {
    const a = randomPsd(9, 20, 3);
    const r = sqrtPsd(flat(a), 9);
    const rr: M = Array.from({ length: 9 }, (_, i) => Array.from(r.subarray(i * 9, i * 9 + 9)));
    mul(rr, rr).flat().forEach((v, i) => expect(v).to.be.closeTo(a.flat()[i], 1e-13));
  });
});

describe('fid/frechet: closed forms (Dowson & Landau 1982)', () => {
  it('identical Gaussians give 0', () => {
    const s = flat(randomPsd(10, 30, 1));
    const mu = Float64Array.from(gaussians(10, 2));
    expect(Math.abs(frechetDistance(mu, s, mu, s))).to.be.below(1e-12);
    expect(Math.abs(frechetDistance(mu, s, mu, s, { method: 'sqrtm' }))).to.be.below(1e-12);
  });

  it('means that differ only: ||mu1 - mu2||^2', () => {
    const s = flat(randomPsd(6, 10, 3));
    const m1 = gaussians(6, 4), m2 = gaussians(6, 5);
    const want = m1.reduce((acc, v, i) => acc + (v - m2[i]) ** 2, 0);
    expect(frechetDistance(m1, s, m2, s)).to.be.closeTo(want, 1e-12 * want + 1e-12);
  });

  it('diagonal covariances: Σ (sqrt a_i - sqrt b_i)^2, including zero variances', () => {
    const a = [1, 4, 0.25, 9, 0, 2], b = [4, 1, 0.25, 0, 0, 3];
    const diag = (v: number[]) => flat(v.map((x, i) => v.map((_, j) => (i === j ? x : 0))));
    for (const method of ['cholesky', 'sqrtm'] as const) {
      expect(frechetDistance(zeros(6), diag(a), zeros(6), diag(b), { method })).to.be.closeTo(sqrtDiagFd(a, b), 1e-13);
    }
  });

  it('commuting covariances under a random rotation, plus a mean shift', () => {
    const n = 15, q = rotation(n, 11);
    const a = gaussians(n, 12).map((v) => v * v), b = gaussians(n, 13).map((v) => v * v);
    a[3] = 0; // singular S1
    const m1 = gaussians(n, 14), m2 = gaussians(n, 15);
    const want = m1.reduce((s, v, i) => s + (v - m2[i]) ** 2, 0) + sqrtDiagFd(a, b);
    for (const method of ['cholesky', 'sqrtm'] as const) {
      expect(frechetDistance(m1, flat(withSpectrum(q, a)), m2, flat(withSpectrum(q, b)), { method })).to.be.closeTo(want, 1e-11);
    }
  });

  it('1-D: (m1 - m2)^2 + (s1 - s2)^2 with standard deviations s', () => {
    expect(frechetDistance([1], Float64Array.of(4), [-2], Float64Array.of(9))).to.be.closeTo(9 + 1, 1e-14);
    expect(frechetDistance([0], Float64Array.of(0), [0], Float64Array.of(2.25))).to.be.closeTo(2.25, 1e-14);
  });

  it('a random full-rank PSD pair matches tr sqrtm(S1 S2) by Denman–Beavers', () => {
    const n = 8;
    const s1 = randomPsd(n, 12, 21), s2 = randomPsd(n, 30, 22);
    const want = tr(sqrtmDenmanBeavers(mul(s1, s2)));
    expect(traceSqrtProduct(flat(s1), flat(s2), n)).to.be.closeTo(want, 1e-11 * want);
    expect(traceSqrtProduct(flat(s1), flat(s2), n, 'sqrtm')).to.be.closeTo(want, 1e-11 * want);
    const m1 = gaussians(n, 23), m2 = gaussians(n, 24);
    const fd = m1.reduce((s, v, i) => s + (v - m2[i]) ** 2, 0) + tr(s1) + tr(s2) - 2 * want;
    expect(frechetDistance(m1, flat(s1), m2, flat(s2))).to.be.closeTo(fd, 1e-10);
  });

  it('rank-deficient covariances: exact for S1 = S2, methods agree to the sqrt(eps) noise of zero eigenvalues', () => {
    const n = 20;
    const s1 = flat(randomPsd(n, 5, 31)), s2 = flat(randomPsd(n, 40, 32)); // rank 5 and full rank
    const m = zeros(n);
    expect(pivotedCholesky(s1, n).rank).to.equal(5);
    // the pivoted Cholesky factor has exactly rank 5, so no rounding-level eigenvalue is square-rooted
    expect(Math.abs(frechetDistance(m, s1, m, s1))).to.be.below(1e-12);
    // A rounding-level eigenvalue ~1e-16 contributes ~1e-8 after the square root (as in any sqrtm-based FID):
    // the literal S1^{1/2} S2 S1^{1/2} route and the swapped order carry such terms, hence the 1e-6 tolerance.
    const a = frechetDistance(m, s1, m, s2), b = frechetDistance(m, s1, m, s2, { method: 'sqrtm' });
    expect(a).to.be.closeTo(b, 1e-6 * a);
    expect(frechetDistance(m, s2, m, s1)).to.be.closeTo(a, 1e-6 * a);
  });

  it('rejects mismatched dimensions and non-finite entries', () => {
    expect(() => frechetDistance([0, 0], Float64Array.of(1, 0, 0, 1), [0], Float64Array.of(1))).to.throw(/dimensions/);
    expect(() => frechetDistance([0, 0], Float64Array.of(1, 0, 0), [0, 0], Float64Array.of(1, 0, 0, 1))).to.throw(/expected 2×2/);
    expect(() => frechetDistance([0], Float64Array.of(NaN), [0], Float64Array.of(1))).to.throw(/non-finite/);
  });
});

describe('fid/gaussianStats', () => {
  it('matches a two-pass computation and does not depend on how rows are batched', () => {
    const n = 37, d = 5;
    const x = Float64Array.from(gaussians(n * d, 41), (v, i) => 1e6 + v * (1 + (i % d))); // large offset: no cancellation
    const mu = Array.from({ length: d }, (_, j) => { let s = 0; for (let r = 0; r < n; r++) s += x[r * d + j]; return s / n; });
    const acc = new GaussianAccumulator(d);
    for (const [a, b] of [[0, 3], [3, 4], [4, 20], [20, 37]]) acc.add(x.subarray(a * d, b * d));
    const st = acc.stats(), whole = gaussianStats(x, d);
    expect(st.n).to.equal(n);
    for (let i = 0; i < d; i++) {
      expect(st.mu[i]).to.be.closeTo(mu[i], 1e-9);
      for (let j = 0; j < d; j++) {
        let c = 0;
        for (let r = 0; r < n; r++) c += (x[r * d + i] - mu[i]) * (x[r * d + j] - mu[j]);
        expect(st.sigma[i * d + j]).to.be.closeTo(c / (n - 1), 1e-9);
        expect(st.sigma[i * d + j]).to.be.closeTo(whole.sigma[i * d + j], 1e-9);
        expect(st.sigma[i * d + j]).to.equal(st.sigma[j * d + i]);
      }
    }
    expect(() => new GaussianAccumulator(3).add(Float64Array.of(1, 2, 3)).stats()).to.throw(/at least 2/);
    expect(() => new GaussianAccumulator(3).add(Float64Array.of(1, 2))).to.throw(/multiple of d/);
  });

  /**
   * n samples of N(mu, S), S = Qᵀ diag(l) Q. To second order the FD between the fitted and the true Gaussian has
   * expectation E = tr(S)/n + (1/2n) Σ_ij l_i l_j (1 + δ_ij) / (l_i + l_j): the mean term, plus the Bures metric
   * ½ Σ |dS_ij|^2 / (l_i + l_j) of the covariance error, whose entries have variance l_i l_j (1 + δ_ij) / n.
   * Over 200 seeds (d = 8, n = 20000) FD/E had mean 1.04, sd 0.34, range [0.37, 2.23].
   */
  it('statistics of 20000 samples from a known Gaussian converge at the predicted rate', () => {
    const d = 8, n = 20000;
    const l = Array.from({ length: d }, (_, i) => 0.25 * 2 ** (i / 2));
    const q = rotation(d, 99);
    const s = flat(withSpectrum(q, l));
    const mu = Float64Array.from({ length: d }, (_, i) => i - 3);
    let expected = l.reduce((a, b) => a + b, 0) / n;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expected += (l[i] * l[j] * (1 + +(i === j))) / (l[i] + l[j]) / (2 * n);
    const ratios: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const z = new Float32Array(n * d);
      fillNormal(z, 0, n * d, seed);
      const acc = new GaussianAccumulator(d);
      const x = new Float64Array(1000 * d);
      for (let b = 0; b < n; b += 1000) { // streamed in batches of 1000
        for (let r = 0; r < 1000; r++) {
          for (let i = 0; i < d; i++) {
            let v = mu[i];
            for (let k = 0; k < d; k++) v += q[k][i] * Math.sqrt(l[k]) * z[(b + r) * d + k];
            x[r * d + i] = v;
          }
        }
        acc.add(x);
      }
      const st = acc.stats();
      ratios.push(frechetDistance(st.mu, st.sigma, mu, s) / expected);
    }
    // one draw: [0.2, 3] covers the 200-seed range with margin; the mean of 20: sd ~ 0.34/sqrt(20) = 0.076, ±3.5 sd.
    expect(ratios[0]).to.be.within(0.2, 3);
    expect(ratios.reduce((a, b) => a + b, 0) / ratios.length).to.be.within(0.77, 1.3);
    // and the distance is small on the scale of the distribution: E/tr(S) ~ 1e-4
    expect(expected / l.reduce((a, b) => a + b, 0)).to.be.below(2e-4);
  });
});
