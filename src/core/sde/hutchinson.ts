/**
 * Hutchinson's trace estimator (Hutchinson 1989; FFJORD, Grathwohl et al. 2019; Song et al. ICLR 2021 App. D.2,
 * Eq. 40): div F(x) = tr(dF/dx) = E_v[v^T (dF/dx) v] for probes with E[v v^T] = I (Rademacher: entries +-1, the
 * lower-variance choice, Var = 2 sum_{i != j} J_ij^2; Gaussian: Var = 2 ||sym J||_F^2).
 * v^T J v is computed either
 *  - 'vjp' (default): one reverse-mode pass, v^T J = grad_x <F(x), v> (tf.valueAndGrad with dy = v), exact up to
 *    float32 round-off, cost ~ 2-3 forward passes; needs a differentiable F (oracles, UNets on every backend);
 *  - 'fd': central finite differences v . (F(x + delta v) - F(x - delta v)) / (2 delta), for models without gradients;
 *    truncation error O(delta^2 |F'''|), round-off O(u_f32 |F| ||v||^2 / delta) with u_f32 = 6e-8, so delta ~ 1e-3 balances
 *    them for O(1)-scaled F; biased at that level, which is why 'vjp' is the default.
 * M probes are evaluated in one batched call of F on M tiled copies of the batch (rows do not interact).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSource } from '../rng.js';
import type { ContinuousTime } from './sde.js';
import type { OdeFn } from './ode.js';

export type ProbeKind = 'rademacher' | 'gaussian';
export const PROBE_KINDS: readonly ProbeKind[] = ['rademacher', 'gaussian'];
export type DivergenceMethod = 'vjp' | 'fd';
export const DIVERGENCE_METHODS: readonly DivergenceMethod[] = ['vjp', 'fd'];
export const FD_STEP = 1e-3;

/** M probes [M, B, ...shape] from the keyed streams "hutchinson:<m>" (fixed along the whole ODE path). */
export function hutchinsonProbes(noise: NoiseSource, ids: readonly number[], shape: readonly number[], M: number, kind: ProbeKind): tf.Tensor {
  if (!PROBE_KINDS.includes(kind)) throw new Error(`probe: unknown kind "${kind}"; allowed: ${PROBE_KINDS.join(', ')}`);
  if (!Number.isInteger(M) || M < 1) throw new Error(`probes: number of Hutchinson probes must be an integer >= 1, got ${M}`);
  return tf.tidy(() => {
    const z = tf.stack(Array.from({ length: M }, (_, m) => noise.normal(`hutchinson:${m}`, ids, shape)));
    return kind === 'gaussian' ? z : tf.where(tf.greaterEqual(z, 0), tf.onesLike(z), tf.onesLike(z).neg());
  });
}

/**
 * F(x, t) and M Hutchinson estimates of div_x F(x, t): { value [B, ...], div [B, M] } (Song et al. Eq. 40).
 * probes: [M, B, ...x.shape.slice(1)].
 */
export function hutchinsonDivergence(fn: OdeFn, x: tf.Tensor, t: ContinuousTime, probes: tf.Tensor, method: DivergenceMethod = 'vjp', fdStep = FD_STEP): { value: tf.Tensor; div: tf.Tensor2D } {
  if (!DIVERGENCE_METHODS.includes(method)) throw new Error(`divergence: unknown method "${method}"; allowed: ${DIVERGENCE_METHODS.join(', ')}`);
  if (!(fdStep > 0)) throw new Error(`fdStep must be > 0, got ${fdStep}`);
  const B = x.shape[0];
  const M = probes.shape[0];
  if (probes.shape[1] !== B) throw new Error(`hutchinson: probes have batch ${probes.shape[1]}, x has ${B}`);
  const tiledT = (copies: number): ContinuousTime => (typeof t === 'number' ? t : Array.from({ length: copies * B }, (_, i) => t[i % B]));
  return tf.tidy(() => {
    const V = probes.reshape([M * B, ...x.shape.slice(1)]);
    const X = tf.concat(Array(M).fill(x), 0);
    const rowDot = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(a, b).reshape([a.shape[0], -1]), 1);
    if (method === 'vjp') {
      const tM = tiledT(M);
      const { value, grad } = tf.valueAndGrad((xx: tf.Tensor) => fn(xx, tM))(X, V);
      const div = rowDot(grad, V).reshape([M, B]).transpose() as tf.Tensor2D;
      return { value: value.slice(0, B), div };
    }
    const all = fn(tf.concat([x, tf.add(X, tf.mul(V, fdStep)), tf.sub(X, tf.mul(V, fdStep))], 0), tiledT(2 * M + 1));
    const plus = all.slice(B, M * B);
    const minus = all.slice((M + 1) * B, M * B);
    const div = tf.div(rowDot(tf.sub(plus, minus), V), 2 * fdStep).reshape([M, B]).transpose() as tf.Tensor2D;
    return { value: all.slice(0, B), div };
  });
}
