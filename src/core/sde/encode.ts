/**
 * Deterministic encoding and decoding with the probability-flow ODE (Song et al. ICLR 2021, Sec. 4.3 "uniquely
 * identifiable encoding"; Su part 6): encode x_eps -> x_1 by integrating Eq. 13 forward in time, decode x_1 -> x_eps
 * backward. Decode(encode(x)) = x up to the solver error, reported by reconstructionError.
 */
import * as tf from '@tensorflow/tfjs';
import type { Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { solveProbabilityFlow, type OdeSolveOptions } from './odeSample.js';
import { LIKELIHOOD_EPS, checkEps } from './timeGrid.js';

export interface EncodeOptions extends OdeSolveOptions {
  /** the data time (default 1e-5) */
  eps?: number;
}

export function odeEncode(sde: Sde, score: ScoreModel, x0: tf.Tensor, opts: EncodeOptions = {}): { y: tf.Tensor; nfe: number } {
  const eps = opts.eps ?? LIKELIHOOD_EPS;
  checkEps(eps);
  return solveProbabilityFlow(sde, score, x0, eps, 1, opts);
}

export function odeDecode(sde: Sde, score: ScoreModel, xT: tf.Tensor, opts: EncodeOptions = {}): { y: tf.Tensor; nfe: number } {
  const eps = opts.eps ?? LIKELIHOOD_EPS;
  checkEps(eps);
  return solveProbabilityFlow(sde, score, xT, 1, eps, opts);
}

/** Max and root-mean-square of |x - decode(encode(x))| over all entries, with the evaluations used. */
export function reconstructionError(sde: Sde, score: ScoreModel, x0: tf.Tensor, opts: EncodeOptions = {}): { maxAbs: number; rms: number; nfe: number } {
  const enc = odeEncode(sde, score, x0, opts);
  const dec = odeDecode(sde, score, enc.y, opts);
  const [maxAbs, rms] = tf.tidy(() => {
    const diff = tf.sub(dec.y, x0);
    return [tf.max(tf.abs(diff)), tf.sqrt(tf.mean(tf.square(diff)))].map((v) => v.dataSync()[0]);
  });
  enc.y.dispose();
  dec.y.dispose();
  return { maxAbs, rms, nfe: enc.nfe + dec.nfe };
}
