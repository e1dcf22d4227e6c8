/** Class-labelled image data sets (MNIST, CIFAR-10): an ArrayDataset plus one class label per row. */
import { ArrayDataset, type Dataset } from './dataset.js';
import type { DataRange } from '../model.js';

export interface LabeledDataset extends Dataset {
  /** labels[i] is the class (0..numClasses-1) of row i */
  readonly labels: Uint8Array;
  readonly numClasses: number;
}

/** An ArrayDataset of float rows with a label per row (labels are not part of `hash`, which covers the values only). */
export class LabeledArrayDataset extends ArrayDataset implements LabeledDataset {
  constructor(
    name: string,
    shape: readonly number[],
    values: Float32Array,
    range: DataRange,
    discrete: boolean,
    readonly labels: Uint8Array,
    readonly numClasses: number,
  ) {
    super(name, shape, values, range, discrete);
    if (labels.length !== this.size) {
      throw new Error(`dataset ${name}: ${labels.length} labels for ${this.size} rows`);
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] >= numClasses) throw new Error(`dataset ${name}: label ${labels[i]} of row ${i} is not in 0..${numClasses - 1}`);
    }
  }
}
