/**
 * Sampling with the probability-flow ODE (Song et al. ICLR 2021, Eq. 13, Sec. 4.3): integrate from x_1 ~ prior down
 * to t = eps with fixed-step Heun on the grid reverseTimeGrid(K, eps) (2K F-evaluations) or adaptive RK45 (rtol, atol),
 * then denoise with Tweedie's formula at eps (1 more evaluation).
 */
import * as tf from '@tensorflow/tfjs';
import type { Sde } from './sde.js';
import { tweedieDenoise, type ScoreModel } from './score.js';
import { probabilityFlowOde } from './ode.js';
import { heunSolve } from './heun.js';
import { rk45, type Rk45Options } from './rk45.js';
import { SAMPLING_EPS, checkEps } from './timeGrid.js';

export type OdeMethod = 'heun' | 'rk45';
export const ODE_METHODS: readonly OdeMethod[] = ['heun', 'rk45'];

export interface OdeSolveOptions extends Rk45Options {
  /** 'heun' (fixed steps) or 'rk45' (adaptive); default 'rk45' */
  method?: OdeMethod;
  /** number of Heun steps (default 100) */
  steps?: number;
}

/** Solve the PF-ODE from t0 to t1 (either direction) with the chosen method. */
export function solveProbabilityFlow(sde: Sde, score: ScoreModel, y0: tf.Tensor, t0: number, t1: number, opts: OdeSolveOptions = {}): { y: tf.Tensor; nfe: number } {
  const method = opts.method ?? 'rk45';
  const fn = probabilityFlowOde(sde, score);
  if (method === 'heun') {
    const K = opts.steps ?? 100;
    if (!Number.isInteger(K) || K < 1) throw new Error(`heun: steps must be an integer >= 1, got ${K}`);
    const grid = Array.from({ length: K + 1 }, (_, i) => (i === K ? t1 : t0 + ((t1 - t0) * i) / K));
    return heunSolve(fn, y0, grid);
  }
  if (method === 'rk45') {
    const r = rk45(fn, y0, t0, t1, opts);
    return { y: r.y, nfe: r.nfe };
  }
  throw new Error(`ODE method "${method}" unknown; allowed: ${ODE_METHODS.join(', ')}`);
}

export interface OdeSampleOptions extends OdeSolveOptions {
  /** smallest time (default 1e-3) */
  eps?: number;
  /** end with Tweedie's E[x_0 | x_eps] (default true) */
  denoise?: boolean;
}

/** x_1 -> x_eps by the PF-ODE, then the denoised x_0 (Song et al. Sec. 4.3, App. D.1). */
export function odeSample(sde: Sde, score: ScoreModel, xT: tf.Tensor, opts: OdeSampleOptions = {}): { x: tf.Tensor; nfe: number } {
  const eps = opts.eps ?? SAMPLING_EPS;
  checkEps(eps);
  // Heun runs on t_i = 1 - i (1 - eps) / K, the grid of reverseTimeGrid(K, eps)
  const { y, nfe } = solveProbabilityFlow(sde, score, xT, 1, eps, opts);
  if (opts.denoise === false) return { x: y, nfe };
  const x0 = tweedieDenoise(sde, score, y, eps);
  y.dispose();
  return { x: x0, nfe: nfe + 1 };
}

