/** A scalar loss and its gradients by parameter name, as every training loss of the trainer returns them. */
import * as tf from '@tensorflow/tfjs';

/** The value of `loss` and the gradients of `params` by name (parameters the loss does not reach have no entry). */
export function namedGrads(params: Map<string, tf.Variable>, loss: () => tf.Scalar): { loss: number; grads: Record<string, tf.Tensor> } {
  const { value, grads } = tf.variableGrads(() => tf.tidy(loss), [...params.values()]);
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of params) if (grads[v.name]) byName[name] = grads[v.name];
  const out = value.dataSync()[0];
  value.dispose();
  return { loss: out, grads: byName };
}
