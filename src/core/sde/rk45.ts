/**
 * Adaptive Runge-Kutta 5(4) of Dormand and Prince (1980; the RK45 of scipy's solve_ivp used by Song et al. App. D.1-D.2),
 * with FSAL and error control per sample: each row b of the state has its own time t_b and step h_b, accepted when
 * rms_i(err_i / (atol + rtol max(|y_i|, |y5_i|))) <= 1 (Hairer, Norsett & Wanner, Solving ODEs I, II.4), and
 * h <- h min(10, max(0.2, 0.9 err^(-1/5))). Per-row control makes a row's solution independent of the batch it is
 * solved in. F receives per-row times. Reports the number of batched F-evaluations and per-row counts.
 */
import * as tf from '@tensorflow/tfjs';
import type { OdeFn } from './ode.js';

/** Dormand-Prince tableau. */
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const A: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** 5th-order weights (= the last row of A, FSAL) and 4th-order embedded weights. */
const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const B4 = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];
const E = B5.map((b, i) => b - B4[i]);

export interface Rk45Options {
  /** relative tolerance (default 1e-5, Song et al. App. D.2) */
  rtol?: number;
  /** absolute tolerance (default 1e-5) */
  atol?: number;
  /** first step size |h0|; default: Hairer's estimate 0.01 ||y0|| / ||F(y0)|| in the error norm */
  h0?: number;
  /** maximum number of step attempts (default 10000) */
  maxSteps?: number;
}
export const RK45_DEFAULTS = { rtol: 1e-5, atol: 1e-5, maxSteps: 10000 };

export interface Rk45Result {
  y: tf.Tensor;
  /** batched F-evaluations */
  nfe: number;
  /** F-evaluations each row needed until it reached t1 */
  nfePerRow: number[];
  accepted: number[];
  rejected: number[];
}

/** Integrate dy/dt = F(y, t) from t0 to t1 (either direction) for y0 of shape [B, ...]. */
export function rk45(fn: OdeFn, y0: tf.Tensor, t0: number, t1: number, opts: Rk45Options = {}): Rk45Result {
  const rtol = opts.rtol ?? RK45_DEFAULTS.rtol;
  const atol = opts.atol ?? RK45_DEFAULTS.atol;
  const maxSteps = opts.maxSteps ?? RK45_DEFAULTS.maxSteps;
  if (!(rtol > 0) || !(atol > 0)) throw new Error(`rk45: rtol and atol must be > 0, got rtol = ${rtol}, atol = ${atol}`);
  if (!(t0 !== t1 && Number.isFinite(t0) && Number.isFinite(t1))) throw new Error(`rk45: need finite t0 != t1, got t0 = ${t0}, t1 = ${t1}`);
  if (opts.h0 !== undefined && !(opts.h0 > 0)) throw new Error(`rk45: h0 must be > 0, got ${opts.h0}`);
  const Bn = y0.shape[0];
  const rowShape = [Bn, ...Array(y0.rank - 1).fill(1)];
  const dir = Math.sign(t1 - t0);
  const span = Math.abs(t1 - t0);
  const t = new Float64Array(Bn).fill(t0);
  const done = new Array<boolean>(Bn).fill(false);
  const nfePerRow = new Array<number>(Bn).fill(1);
  const accepted = new Array<number>(Bn).fill(0);
  const rejected = new Array<number>(Bn).fill(0);
  const rowRms = (v: tf.Tensor) => tf.sqrt(tf.mean(tf.square(v.reshape([Bn, -1])), 1));

  let y = y0.clone();
  let k1 = tf.tidy(() => fn(y, Array.from(t)));
  let nfe = 1;
  const h = new Float64Array(Bn);
  if (opts.h0 !== undefined) h.fill(Math.min(opts.h0, span));
  else {
    const [d0, d1] = tf.tidy(() => {
      const sc = tf.add(tf.mul(tf.abs(y), rtol), atol);
      return [rowRms(tf.div(y, sc)), rowRms(tf.div(k1, sc))];
    }).map((v) => { const a = v.dataSync().slice(); v.dispose(); return a; });
    for (let b = 0; b < Bn; b++) h[b] = Math.min(span, d0[b] < 1e-5 || d1[b] < 1e-5 ? 1e-6 : (0.01 * d0[b]) / d1[b]);
  }

  for (let step = 0; done.some((v) => !v); step++) {
    if (step >= maxSteps) throw new Error(`rk45: not converged after maxSteps = ${maxSteps} step attempts; raise maxSteps or loosen rtol/atol`);
    const hEff = Array.from(h, (hb, b) => (done[b] ? 0 : dir * Math.min(hb, Math.abs(t1 - t[b]))));
    const { y5, k7, errNorm } = tf.tidy(() => {
      const hT = tf.tensor(Float32Array.from(hEff), rowShape);
      const k: tf.Tensor[] = [k1];
      let y5: tf.Tensor = y;
      for (let s = 1; s < 7; s++) {
        const inc = A[s].reduce((acc: tf.Tensor, a, j) => (a !== 0 ? tf.add(acc, tf.mul(k[j], a)) : acc), tf.zerosLike(y));
        const ys = tf.add(y, tf.mul(inc, hT));
        if (s === 6) y5 = ys; // FSAL: the last stage is evaluated at the 5th-order solution
        k.push(fn(ys, hEff.map((hb, b) => t[b] + C[s] * hb)));
      }
      const err = tf.mul(E.reduce((acc: tf.Tensor, e, j) => (e !== 0 ? tf.add(acc, tf.mul(k[j], e)) : acc), tf.zerosLike(y)), hT);
      const sc = tf.add(tf.mul(tf.maximum(tf.abs(y), tf.abs(y5)), rtol), atol);
      return { y5, k7: k[6], errNorm: rowRms(tf.div(err, sc)) };
    });
    nfe += 6;
    const en = errNorm.dataSync().slice();
    errNorm.dispose();
    const accept = new Float32Array(Bn);
    for (let b = 0; b < Bn; b++) {
      if (done[b]) { accept[b] = 1; continue; }
      nfePerRow[b] += 6;
      const ok = en[b] <= 1;
      const factor = en[b] === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * en[b] ** -0.2));
      if (ok) {
        accepted[b]++;
        accept[b] = 1;
        t[b] += hEff[b];
        if (Math.abs(t1 - t[b]) <= 1e-12 * span) { t[b] = t1; done[b] = true; }
        h[b] = Math.abs(hEff[b]) * factor;
      } else {
        rejected[b]++;
        h[b] = Math.abs(hEff[b]) * Math.min(1, factor);
      }
    }
    const next = tf.tidy(() => {
      const mask = tf.tensor(accept, rowShape).greater(0.5); // broadcast over each row
      return { y: tf.where(mask, y5, y), k1: tf.where(mask, k7, k1) };
    });
    y5.dispose(); k7.dispose(); y.dispose(); k1.dispose();
    y = next.y;
    k1 = next.k1;
  }
  k1.dispose();
  return { y, nfe, nfePerRow, accepted, rejected };
}
