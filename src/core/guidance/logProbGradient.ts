/**
 * grad_x log p(y | x_t, t) of a noise-aware classifier, per sample (Dhariwal & Nichol 2021 Algorithm 1-2; Su part 9):
 * the gradient of sum_b log softmax(logits(x_t))_b[y_b]. Rows of the logits depend only on their own sample, so the
 * gradient of the batch sum is the per-sample gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { Timesteps } from '../model.js';
import { checkLabels, type NoiseAwareClassifier } from './noiseAwareClassifier.js';

/** sum_b log p(y_b | x_b, t_b) as a scalar (the classifier's log-likelihood of the labels). */
export function sumLogProb(classifier: NoiseAwareClassifier, x: tf.Tensor, t: Timesteps, labels: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(classifier.logits(x, t), 1);
    const onehot = tf.oneHot(tf.tensor1d(labels as number[], 'int32'), classifier.numClasses).toFloat();
    return tf.sum(tf.mul(logp, onehot)) as tf.Scalar;
  });
}

/** grad_x log p(y | x_t, t) with the shape of x. */
export function logProbGradient(classifier: NoiseAwareClassifier, x: tf.Tensor, t: Timesteps, labels: readonly number[]): tf.Tensor {
  if (labels.length !== x.shape[0]) throw new Error(`classifier guidance: ${labels.length} labels for a batch of ${x.shape[0]}`);
  checkLabels(labels, classifier.numClasses, `classifier guidance (${classifier.name})`);
  return tf.tidy(() => tf.grad((xi: tf.Tensor) => sumLogProb(classifier, xi, t, labels))(x));
}
