/** max |a - b| of a tensor against reference values (reads and keeps the tensor). */
import type * as tf from '@tensorflow/tfjs';

export function maxAbsDiff(t: tf.Tensor, ref: readonly number[]): number {
  const a = t.dataSync();
  if (a.length !== ref.length) throw new Error(`maxAbsDiff: ${a.length} values vs ${ref.length} reference values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - ref[i]));
  return m;
}
