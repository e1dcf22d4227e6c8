/**
 * Mean and unbiased covariance of feature rows, accumulated batch by batch in float64.
 * Batches are merged with the pairwise update of Chan, Golub & LeVeque (1979): each batch is centred on its own
 * mean, so no large sum of squares is ever differenced (no catastrophic cancellation).
 */

export interface GaussianStats {
  /** number of samples */
  n: number;
  /** feature dimension */
  d: number;
  mu: Float64Array;
  /** d×d row-major, unbiased (divided by n - 1) */
  sigma: Float64Array;
}

export class GaussianAccumulator {
  private count = 0;
  private readonly mean: Float64Array;
  /** Σ (x - mean)(x - mean)ᵀ, lower triangle (j <= i) only */
  private readonly m2: Float64Array;

  constructor(readonly d: number) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`GaussianAccumulator: d must be a positive integer, got ${d}`);
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(d * d);
  }

  get n(): number {
    return this.count;
  }

  /** Add rows (row-major, length a multiple of d). */
  add(rows: Float64Array | Float32Array): this {
    const d = this.d;
    if (rows.length % d !== 0) throw new Error(`GaussianAccumulator.add: ${rows.length} values is not a multiple of d = ${d}`);
    const nb = rows.length / d;
    if (nb === 0) return this;
    const mb = new Float64Array(d);
    for (let r = 0; r < nb; r++) for (let j = 0; j < d; j++) mb[j] += rows[r * d + j];
    for (let j = 0; j < d; j++) {
      mb[j] /= nb;
      if (!Number.isFinite(mb[j])) throw new Error(`GaussianAccumulator.add: non-finite value in feature ${j}`);
    }
    const x = new Float64Array(nb * d);
    for (let r = 0; r < nb; r++) for (let j = 0; j < d; j++) x[r * d + j] = rows[r * d + j] - mb[j];
    // Chan et al.: M2 += C_b + δδᵀ n n_b / (n + n_b), mean += δ n_b / (n + n_b), δ = mean_b - mean
    const n = this.count, nt = n + nb;
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++) delta[j] = mb[j] - this.mean[j];
    const w = (n * nb) / nt;
    const m2 = this.m2;
    for (let i = 0; i < d; i++) {
      const ri = i * d, di = delta[i] * w;
      for (let j = 0; j <= i; j++) m2[ri + j] += di * delta[j];
    }
    addScatter(m2, x, nb, d);
    for (let j = 0; j < d; j++) this.mean[j] += (delta[j] * nb) / nt;
    this.count = nt;
    return this;
  }

  /** The current mean and unbiased covariance (needs n >= 2). */
  stats(): GaussianStats {
    const { d, count: n } = this;
    if (n < 2) throw new Error(`GaussianAccumulator: need at least 2 samples for a covariance, have ${n}`);
    const sigma = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.m2[i * d + j] / (n - 1);
        sigma[i * d + j] = v;
        sigma[j * d + i] = v;
      }
    }
    return { n, d, mu: Float64Array.from(this.mean), sigma };
  }
}

/** m2 (lower triangle) += Σ_r x_r x_rᵀ for centred rows x (nb×d); four rows per pass over m2. */
function addScatter(m2: Float64Array, x: Float64Array, nb: number, d: number): void {
  let r = 0;
  for (; r + 3 < nb; r += 4) {
    const r0 = r * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d;
    for (let i = 0; i < d; i++) {
      const a0 = x[r0 + i], a1 = x[r1 + i], a2 = x[r2 + i], a3 = x[r3 + i], ri = i * d;
      for (let j = 0; j <= i; j++) m2[ri + j] += a0 * x[r0 + j] + a1 * x[r1 + j] + a2 * x[r2 + j] + a3 * x[r3 + j];
    }
  }
  for (; r < nb; r++) {
    const r0 = r * d;
    for (let i = 0; i < d; i++) {
      const a0 = x[r0 + i], ri = i * d;
      for (let j = 0; j <= i; j++) m2[ri + j] += a0 * x[r0 + j];
    }
  }
}

/** Mean and unbiased covariance of n×d rows (row-major), in float64. */
export function gaussianStats(features: Float64Array | Float32Array, d: number): GaussianStats {
  return new GaussianAccumulator(d).add(features).stats();
}
