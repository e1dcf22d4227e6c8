/** Fully connected layer y = x W + b (PyTorch nn.Linear; W stored as [in, out]). */
import * as tf from '@tensorflow/tfjs';
import { type ParamStore, torchBound } from './params.js';

export class Linear {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(store: ParamStore, name: string, readonly inFeatures: number, readonly outFeatures: number) {
    const bound = torchBound(inFeatures);
    this.w = store.uniform(`${name}.w`, [inFeatures, outFeatures], bound);
    this.b = store.uniform(`${name}.b`, [outFeatures], bound);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.w), this.b);
  }
}
