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

/** What a variance head predicts per pixel (Extended-Analytic-DPM §2.2-2.3): SN = E[eps^2 | x_t], NPR = E[(eps - eps_hat)^2 | x_t]. */
export type HeadKind = 'sn' | 'npr';

/** An eps-model with a per-pixel variance head: one forward gives eps_hat and the head output, both shaped like x. */
export interface HeadModel extends EpsModel {
  readonly headKind: HeadKind;
  predictWithHead(x: tf.Tensor, t: Timesteps): { eps: tf.Tensor; head: tf.Tensor };
}

/** Data range [a, b] used to clamp x0 predictions and to bound cov0 by ((b-a)/2)^2; null = unbounded. */
export type DataRange = readonly [number, number] | null;

/** Number of dimensions d of one sample. */
export function sampleDim(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The model as a head model of the given kind(s), or an error naming what the variance rule needs. */
export function requireHeadModel(model: EpsModel, kinds: readonly HeadKind[], what = 'variance'): HeadModel {
  const m = model as Partial<HeadModel>;
  const names = kinds.map((k) => k.toUpperCase()).join('/');
  if (typeof m.predictWithHead !== 'function') {
    throw new Error(`${what} "${kinds.join('", "')}" needs a model with a ${names} head; ${model.name} has none (train one with a head config)`);
  }
  if (kinds.some((k) => k !== m.headKind)) {
    throw new Error(`${what} "${kinds.join('", "')}" needs a ${names} head; ${model.name} has a ${String(m.headKind).toUpperCase()} head`);
  }
  return model as HeadModel;
}
