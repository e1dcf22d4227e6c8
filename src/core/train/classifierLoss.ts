/**
 * The training loss of a noise-aware classifier (Dhariwal & Nichol 2021 §4.1): with t ~ U{1..N}, eps ~ N(0, I) and
 * x_t = sqrt(abar_t) x0 + sqrt(bbar_t) eps (the trainer's batch), the cross-entropy -log p(y | x_t, t) averaged over
 * the batch. Labels are the data set's, never dropped (label dropout is for classifier-free guidance only).
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import type { LabeledDataset } from '../data/labeled.js';
import type { NoisyClassifierNet } from '../nn/noisyClassifier.js';
import type { BatchInputs } from './trainer.js';
import { namedGrads } from './namedGrads.js';

/** Mean cross-entropy of the batch and the gradients of the classifier's parameters by name. */
export function classifierLossAndGrads(net: NoisyClassifierNet, b: BatchInputs): { loss: number; grads: Record<string, tf.Tensor> } {
  if (!b.labels) throw new Error(`${net.name}: the training batch has no labels (a noise-aware classifier needs a labelled data set)`);
  const labels = b.labels;
  return namedGrads(net.params, () => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), net.numClasses).toFloat();
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(net.logits(b.xt, b.ts), 1)), 1))) as tf.Scalar;
  });
}

/** The labels of the batch rows for a classifier run, or an error naming the config and the data. */
export function classifierLabels(data: Dataset, idx: readonly number[], numClasses: number, configName: string): number[] {
  const ld = data as Partial<LabeledDataset>;
  if (!ld.labels) throw new Error(`training config ${configName}: arch kind "noisy-classifier" needs a labelled data set (e.g. data kind "mnist"); ${data.name} has no labels`);
  if ((ld.numClasses ?? numClasses) > numClasses) {
    throw new Error(`training config ${configName}: arch.config.numClasses is ${numClasses} but data ${data.name} has ${ld.numClasses} classes`);
  }
  return idx.map((i) => ld.labels![i]);
}
