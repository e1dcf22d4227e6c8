/**
 * Guided class accuracy: the fraction of samples that a judge classifier assigns to their target class
 * (sample id i targets i mod numClasses), with its binomial standard error sqrt(p (1 - p) / n).
 */
import type * as tf from '@tensorflow/tfjs';
import { targetLabel } from './guidedSampler.js';

export function targetAccuracy(predict: (x: tf.Tensor) => Int32Array, rows: (ids: readonly number[]) => tf.Tensor, ids: readonly number[], numClasses: number, batch = 250): { accuracy: number; stderr: number; n: number } {
  let hits = 0;
  for (let s = 0; s < ids.length; s += batch) {
    const part = ids.slice(s, s + batch);
    const x = rows(part.map((_, j) => s + j));
    const pred = predict(x);
    x.dispose();
    part.forEach((id, j) => { if (pred[j] === targetLabel(id, numClasses)) hits++; });
  }
  const n = ids.length;
  const p = hits / n;
  return { accuracy: p, stderr: Math.sqrt((p * (1 - p)) / n), n };
}
