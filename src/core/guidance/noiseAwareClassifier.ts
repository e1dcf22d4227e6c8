/**
 * The interface of a noise-aware classifier p(y | x_t, t) (Dhariwal & Nichol 2021 §4.1): class logits of a noisy
 * sample x_t at integer timesteps t in 1..N, shared by trained networks (src/core/nn/noisyClassifier.ts) and the
 * exact classifier of a Gaussian mixture (gmmClassifier.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Timesteps } from '../model.js';

export interface NoiseAwareClassifier {
  readonly name: string;
  /** classes 0..numClasses-1 */
  readonly numClasses: number;
  /** shape of one sample (without the batch axis) */
  readonly shape: readonly number[];
  /** logits [B, numClasses] of p(y | x_t, t) for x of shape [B, ...shape]; log-softmax gives log p. */
  logits(x: tf.Tensor, t: Timesteps): tf.Tensor2D;
}

/** Error naming `where` unless every label is an integer class of the classifier. */
export function checkLabels(labels: readonly number[], numClasses: number, where: string): void {
  for (const y of labels) {
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new Error(`${where}: label ${y} is not a class in 0..${numClasses - 1}`);
  }
}
