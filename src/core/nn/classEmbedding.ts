/**
 * Learned class embedding (torch.nn.Embedding(numClasses + 1, dim), N(0, 1) init) with an extra "null" class at
 * index numClasses for classifier-free guidance. Looked up as oneHot(ids) @ table, because tf.gather's gradient
 * needs UnsortedSegmentSum, which the wasm backend lacks (ecosystem.md B.3).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './params.js';

export class ClassEmbedding {
  readonly table: tf.Variable;

  constructor(store: ParamStore, name: string, readonly numClasses: number, readonly dim: number) {
    this.table = store.normal(`${name}.table`, [numClasses + 1, dim]);
  }

  /** The index of the unconditional ("null") class. */
  get nullClass(): number {
    return this.numClasses;
  }

  /** labels in 0..numClasses (numClasses = null class) -> [B, dim]. */
  apply(labels: readonly number[]): tf.Tensor2D {
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l > this.numClasses) {
        throw new Error(`class label ${l} outside 0..${this.numClasses} (${this.numClasses} = null class)`);
      }
    }
    const oh = tf.oneHot(tf.tensor1d(labels as number[], 'int32'), this.numClasses + 1).toFloat();
    return tf.matMul(oh, this.table);
  }
}
