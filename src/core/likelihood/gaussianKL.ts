/** KL divergences between Gaussians (closed form). */
import * as tf from '@tensorflow/tfjs';

/** Elementwise KL(N(m0, v0) || N(m1, v1)) = 0.5 (v0/v1 + (m0-m1)^2/v1 + log v1 - log v0 - 1). */
export function normalKL(m0: tf.Tensor, v0: tf.Tensor | number, m1: tf.Tensor, v1: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const ratio = tf.div(v0, v1);
    const mahal = tf.div(tf.square(tf.sub(m0, m1)), v1);
    return tf.mul(0.5, tf.sub(tf.add(ratio, mahal), tf.add(tf.log(ratio), 1)));
  });
}

/**
 * KL(N(mu_q, lam2 I) || N(mu_p, sigma2 I)) in d dims with scalar variances, from ||mu_q - mu_p||^2:
 * 0.5 [d (lam2/sigma2 - 1 + log(sigma2/lam2)) + ||mu_q - mu_p||^2 / sigma2]. Infinite if lam2 = 0 (a Dirac q).
 */
export function scalarVarianceKL(d: number, lam2: number, sigma2: number, meanSqDiff: number): number {
  if (!(lam2 > 0) || !(sigma2 > 0)) return Infinity;
  const r = lam2 / sigma2;
  return 0.5 * (d * (r - 1 - Math.log(r)) + meanSqDiff / sigma2);
}

/** Prior term KL(N(sqrt(abar_N) x0, bbar_N I) || N(0, I)) from ||x0||^2 (d dims). */
export function priorKL(d: number, abarN: number, bbarN: number, x0SqNorm: number): number {
  return 0.5 * (d * (bbarN - 1 - Math.log(bbarN)) + abarN * x0SqNorm);
}
