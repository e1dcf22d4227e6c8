/**
 * Exact log-likelihood by the probability-flow ODE (Song et al. ICLR 2021, App. D.2, Eq. 39; Chen et al. 2018
 * instantaneous change of variables): with dx/dt = F(x, t) (Eq. 13),
 *   log p_eps(x(eps)) = log p_1(x(1)) + int_eps^1 div F(x(t), t) dt,
 * solved jointly for [x, delta_1..delta_M] from t = eps (default 1e-5) to 1 by RK45 (rtol = atol = 1e-5 by default),
 * with M fixed Hutchinson probes (Eq. 40): each delta_m is an unbiased estimate of the integral (the path x(t) does not
 * depend on the probes), so the M estimates per sample are i.i.d. and their spread gives a standard error.
 * p_1 is the SDE's prior N(0, priorStd^2 I), an approximation of the true p_1 (for VP, KL ~ mean(1)^2 per dim ~ 4e-5).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSource } from '../rng.js';
import { priorLogProb, type Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { probabilityFlowOde } from './ode.js';
import { rk45, type Rk45Options } from './rk45.js';
import { hutchinsonDivergence, hutchinsonProbes, FD_STEP, type DivergenceMethod, type ProbeKind } from './hutchinson.js';
import { LIKELIHOOD_EPS, checkEps } from './timeGrid.js';

export interface OdeLikelihoodOptions extends Rk45Options {
  noise: NoiseSource;
  ids: readonly number[];
  /** Hutchinson probes per sample (default 1) */
  probes?: number;
  /** default 'rademacher' */
  probe?: ProbeKind;
  /** default 'vjp' */
  divergence?: DivergenceMethod;
  /** finite-difference step of 'fd' (default 1e-3) */
  fdStep?: number;
  /** starting time (default 1e-5) */
  eps?: number;
}

export interface OdeLikelihood {
  /** per-sample log p_eps(x0) in nats: the mean over probes */
  logp: Float64Array;
  /** per-sample standard error over probes (sd / sqrt(M); NaN for M = 1) */
  stderr: Float64Array;
  /** per-sample, per-probe estimates [B][M] */
  perProbe: Float64Array[];
  /** log p_1(x(1)) per sample */
  priorLogp: Float64Array;
  /** batched F-evaluations of the solver (each does M probes) */
  nfe: number;
  /** dimension d of one sample */
  d: number;
  /** the encoding x(1) of each sample, row-major [B, d] */
  latent: Float32Array;
}

export function odeLogLikelihood(sde: Sde, score: ScoreModel, x0: tf.Tensor, opts: OdeLikelihoodOptions): OdeLikelihood {
  const eps = opts.eps ?? LIKELIHOOD_EPS;
  checkEps(eps);
  const M = opts.probes ?? 1;
  const B = x0.shape[0];
  if (opts.ids.length !== B) throw new Error(`odeLogLikelihood: ids has ${opts.ids.length} entries for a batch of ${B}`);
  const shape = x0.shape.slice(1);
  const d = shape.reduce((a, b) => a * b, 1);
  const probes = hutchinsonProbes(opts.noise, opts.ids, shape, M, opts.probe ?? 'rademacher');
  const F = probabilityFlowOde(sde, score);
  const augmented = (y: tf.Tensor, t: number | readonly number[]) => tf.tidy(() => {
    const x = y.slice([0, 0], [B, d]).reshape([B, ...shape]);
    const { value, div } = hutchinsonDivergence(F, x, t, probes, opts.divergence ?? 'vjp', opts.fdStep ?? FD_STEP);
    return tf.concat([value.reshape([B, d]), div], 1);
  });
  const y0 = tf.tidy(() => tf.concat([x0.reshape([B, d]), tf.zeros([B, M])], 1));
  let res;
  try {
    res = rk45(augmented, y0, eps, 1, opts);
  } finally {
    y0.dispose();
    probes.dispose();
  }
  const xT = tf.tidy(() => res.y.slice([0, 0], [B, d]));
  const priorLogp = priorLogProb(sde, xT);
  const latent = Float32Array.from(xT.dataSync());
  xT.dispose();
  const deltas = tf.tidy(() => res.y.slice([0, d], [B, M]));
  const dv = deltas.dataSync();
  deltas.dispose();
  res.y.dispose();
  const perProbe = Array.from({ length: B }, (_, b) => Float64Array.from({ length: M }, (_, m) => priorLogp[b] + dv[b * M + m]));
  const logp = Float64Array.from(perProbe, (r) => r.reduce((a, v) => a + v, 0) / M);
  const stderr = Float64Array.from(perProbe, (r, b) => {
    if (M < 2) return NaN;
    const s2 = r.reduce((a, v) => a + (v - logp[b]) ** 2, 0) / (M - 1);
    return Math.sqrt(s2 / M);
  });
  return { logp, stderr, perProbe, priorLogp, nfe: res.nfe, d, latent };
}
