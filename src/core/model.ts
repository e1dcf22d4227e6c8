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

/** What one forward pass of a head model gives: eps_hat and the output of each of its heads, all shaped like x. */
export interface HeadOutputs {
  eps: tf.Tensor;
  heads: Partial<Record<HeadKind, tf.Tensor>>;
}

/** An eps-model with per-pixel variance heads (SN and/or NPR) sharing one forward pass of the backbone. */
export interface HeadModel extends EpsModel {
  readonly headKinds: readonly HeadKind[];
  predictWithHeads(x: tf.Tensor, t: Timesteps): HeadOutputs;
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
  const names = kinds.map((k) => k.toUpperCase()).join(' and ');
  if (typeof m.predictWithHeads !== 'function') {
    throw new Error(`${what} "${kinds.join('", "')}" needs a model with ${names} head(s); ${model.name} has none ` +
      '(train heads with a config of arch kind "heads", e.g. configs/mnist-heads.json)');
  }
  const missing = kinds.filter((k) => !m.headKinds!.includes(k));
  if (missing.length > 0) {
    throw new Error(`${what} "${missing.join('", "')}" needs ${missing.map((k) => k.toUpperCase()).join(' and ')} head(s); ` +
      `${model.name} has ${m.headKinds!.map((k) => k.toUpperCase()).join(' and ') || 'no'} head(s)`);
  }
  return model as HeadModel;
}
