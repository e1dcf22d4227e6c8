/** SiLU x·σ(x) with a hand-written gradient σ(x)(1 + x(1 - σ(x))) (fewer kernels than autodiff of x·sigmoid(x)). */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp.js';
import { isReferenceMode } from './referenceMode.js';

const siluOp = customOp(([x], save) => {
  const s = tf.sigmoid(x);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, [xs, ss]: tf.Tensor[]) => tf.mul(dy, tf.mul(ss, tf.add(1, tf.mul(xs, tf.sub(1, ss))))),
  };
});

export function silu<T extends tf.Tensor>(x: T): T {
  return (isReferenceMode() ? tf.mul(x, tf.sigmoid(x)) : siluOp(x)) as T;
}
