/** The eps-model interface shared by trained networks and exact oracle models. */
import type * as tf from '@tensorflow/tfjs';

/** Timesteps: one for the whole batch, or one per sample (1..N). */
export type Timesteps = number | readonly number[];

export interface EpsModel {
  /** Human-readable identity, recorded in results and msEps artifacts. */
  readonly name: string;
  /** Shape of one sample, e.g. [32, 32, 3] (NHWC without the batch axis). */
  readonly shape: readonly number[];
  /** eps_theta(x_t, t) for x of shape [B, ...shape]; returns a new tensor of the same shape. */
  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor;
}

/** Data range [a, b] used to clamp x0 predictions and to bound cov0 by ((b-a)/2)^2; null = unbounded. */
export type DataRange = readonly [number, number] | null;

/** Number of dimensions d of one sample. */
export function sampleDim(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
