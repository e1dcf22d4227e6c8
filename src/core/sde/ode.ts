/** An ODE right-hand side dy/dt = F(y, t) on batched states y [B, ...]; t is one time or one per row. */
import type * as tf from '@tensorflow/tfjs';
import type { ContinuousTime, Sde } from './sde.js';
import type { ScoreModel } from './score.js';
import { probabilityFlowDrift } from './drift.js';

export type OdeFn = (y: tf.Tensor, t: ContinuousTime) => tf.Tensor;

/** The probability-flow ODE of Song et al. Eq. 13 as an OdeFn. */
export function probabilityFlowOde(sde: Sde, score: ScoreModel): OdeFn {
  return (x, t) => probabilityFlowDrift(sde, score, x, t);
}
