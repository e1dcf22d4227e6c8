/**
 * The uniform reverse time grid of Song et al. (App. G: linspace(T, eps, N)): K steps from t = 1 down to t = eps,
 * t_i = 1 - i (1 - eps) / K, i = 0..K. Default eps = 1e-3 for sampling (Song et al. App. D.1 / G), 1e-5 for
 * the likelihood (App. D.2).
 */
export const SAMPLING_EPS = 1e-3;
export const LIKELIHOOD_EPS = 1e-5;

export function reverseTimeGrid(K: number, eps = SAMPLING_EPS): number[] {
  if (!Number.isInteger(K) || K < 1) throw new Error(`time grid: number of steps K must be an integer >= 1, got ${K}`);
  checkEps(eps);
  return Array.from({ length: K + 1 }, (_, i) => (i === K ? eps : 1 - (i * (1 - eps)) / K));
}

export function checkEps(eps: number): void {
  if (!(eps > 0 && eps < 1)) throw new Error(`eps (smallest time) must be in (0, 1), got ${eps}`);
}
