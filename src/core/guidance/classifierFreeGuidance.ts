/**
 * Classifier-free guidance (Ho & Salimans 2022 Eq. 6; Su part 9 with w = gamma - 1):
 *   eps'(x_t, t, y) = (1 + w) eps(x_t, t, y) - w eps(x_t, t, null).
 * An EpsModel bound to one label per batch row. Both terms come from one forward of the doubled batch [x; x] with
 * labels [y; null]. w = 0 returns the conditional eps itself (no unconditional forward).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../model.js';
import { timestepArray } from '../coefficients.js';
import type { ConditionalEpsModel } from './conditionalModel.js';
import { checkLabels } from './noiseAwareClassifier.js';

export class ClassifierFreeGuidedModel implements EpsModel {
  readonly name: string;
  readonly shape: readonly number[];

  constructor(readonly conditional: ConditionalEpsModel, readonly w: number, readonly labels: readonly number[]) {
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`classifier-free guidance: weight w must be a finite number >= 0, got ${w}`);
    checkLabels(labels, conditional.numClasses, `classifier-free guidance (${conditional.name})`);
    this.shape = conditional.shape;
    this.name = `${conditional.name}+cfg(w=${w})`;
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    const B = x.shape[0];
    if (B !== this.labels.length) throw new Error(`classifier-free guidance: ${this.labels.length} labels bound for a batch of ${B}`);
    if (this.w === 0) return this.conditional.predictEpsConditional(x, t, this.labels);
    return tf.tidy(() => {
      const ts = typeof t === 'number' ? t : [...timestepArray(t, B), ...timestepArray(t, B)];
      const both = this.conditional.predictEpsConditional(tf.concat([x, x], 0), ts, [...this.labels, ...nullLabels(this.conditional, B)]);
      const [cond, uncond] = tf.split(both, 2, 0);
      return tf.sub(tf.mul(cond, 1 + this.w), tf.mul(uncond, this.w));
    });
  }
}

/** The null label of each row: numClasses (a UNet's learned null class; the GMM oracle reads it as "no label"). */
function nullLabels(m: ConditionalEpsModel, B: number): number[] {
  return new Array<number>(B).fill(m.numClasses);
}
