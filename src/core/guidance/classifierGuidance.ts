/**
 * Classifier guidance in the eps-substitution form (Dhariwal & Nichol 2021 Algorithm 2; Su part 9; score form of
 * Song et al. 2021: grad log p_t(x | y) = grad log p_t(x) + grad log p_t(y | x), with grad log p_t(x) = -eps / sqrt(bbar_t)):
 *   eps'(x_t, t) = eps(x_t, t) - gamma sqrt(bbar_t) grad_x log p(y | x_t, t).
 * An EpsModel bound to one label per batch row, so every sampler that consumes an EpsModel (DDPM ancestral, DDIM,
 * probability-flow ODE or reverse SDE through s = -eps'/sqrt(bbar_t)) samples from the guided model unchanged.
 * gamma = 0 returns the base model's eps itself (bit-identical to unguided sampling). Real-valued timesteps (the
 * continuous-time samplers' n = tN) use bbar interpolated linearly between the neighbouring integer steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../model.js';
import type { Schedule } from '../schedule.js';
import { perSample } from '../coefficients.js';
import { logProbGradient } from './logProbGradient.js';
import type { NoiseAwareClassifier } from './noiseAwareClassifier.js';

export class ClassifierGuidedModel implements EpsModel {
  readonly name: string;
  readonly shape: readonly number[];

  constructor(readonly base: EpsModel, readonly classifier: NoiseAwareClassifier, readonly schedule: Schedule, readonly gamma: number, readonly labels: readonly number[]) {
    if (!(Number.isFinite(gamma) && gamma >= 0)) throw new Error(`classifier guidance: scale gamma must be a finite number >= 0, got ${gamma}`);
    if (base.shape.join() !== classifier.shape.join()) {
      throw new Error(`classifier guidance: the classifier ${classifier.name} takes samples of shape [${classifier.shape}], the model ${base.name} [${base.shape}]`);
    }
    this.shape = base.shape;
    this.name = `${base.name}+classifier-guidance(gamma=${gamma},${classifier.name})`;
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    if (x.shape[0] !== this.labels.length) throw new Error(`classifier guidance: ${this.labels.length} labels bound for a batch of ${x.shape[0]}`);
    if (this.gamma === 0) return this.base.predictEps(x, t);
    return tf.tidy(() => {
      const g = logProbGradient(this.classifier, x, t, this.labels);
      const scale = perSample(t, (n) => this.gamma * Math.sqrt(bbarAt(this.schedule, n)), x.rank); // gamma sqrt(bbar_t), float64 -> float32
      return tf.sub(this.base.predictEps(x, t), tf.mul(g, scale));
    });
  }
}

/** bbar at timestep n in [0, N]: the schedule's value at integers, linear interpolation in between. */
export function bbarAt(sch: Schedule, n: number): number {
  if (!(n >= 0 && n <= sch.N)) throw new Error(`classifier guidance: timestep ${n} outside [0, ${sch.N}]`);
  const lo = Math.floor(n);
  if (lo === n) return sch.bbar[n];
  return sch.bbar[lo] + (n - lo) * (sch.bbar[lo + 1] - sch.bbar[lo]);
}
