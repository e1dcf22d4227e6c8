/** In-memory data sets: rows of floats in the model's space (images: integers 0..255 mapped to [-1, 1]). */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { DataRange } from '../model.js';
import { sampleDim } from '../model.js';

export interface Dataset {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** Range of the data, used for clamping and the cov0 bound; null for unbounded (continuous) data. */
  readonly range: DataRange;
  /** True when values are 8-bit levels mapped to [-1, 1] (the discretised decoder applies). */
  readonly discrete: boolean;
  /** sha256 of the stored values, for provenance and msEps cache keys. */
  readonly hash: string;
  /** Rows at the given indices as a float32 tensor [B, ...shape]. */
  rows(indices: readonly number[]): tf.Tensor;
  /** One row as a float32 array (a view or copy). */
  row(i: number): Float32Array;
}

/** A data set held as one Float32Array of size * d values. */
export class ArrayDataset implements Dataset {
  readonly size: number;
  readonly hash: string;
  private readonly d: number;

  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    private readonly values: Float32Array,
    readonly range: DataRange,
    readonly discrete: boolean,
  ) {
    this.d = sampleDim(shape);
    if (values.length % this.d !== 0) {
      throw new Error(`dataset ${name}: ${values.length} values is not a multiple of d = ${this.d}`);
    }
    this.size = values.length / this.d;
    this.hash = createHash('sha256').update(Buffer.from(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
  }

  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new Error(`dataset ${this.name}: index ${i} out of range [0, ${this.size})`);
    }
    return this.values.subarray(i * this.d, (i + 1) * this.d);
  }

  rows(indices: readonly number[]): tf.Tensor {
    const out = new Float32Array(indices.length * this.d);
    indices.forEach((i, r) => out.set(this.row(i), r * this.d));
    return tf.tensor(out, [indices.length, ...this.shape], 'float32');
  }
}

/** LEVEL_TO_UNIT[L] = L / 127.5 - 1 as float32, for the 8-bit levels L = 0..255. */
export const LEVEL_TO_UNIT: Float32Array = Float32Array.from({ length: 256 }, (_, L) => L / 127.5 - 1);

/** Map 8-bit levels 0..255 to [-1, 1]: v / 127.5 - 1 (by table lookup; other values by the formula). */
export function levelsToUnit(levels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const v = levels[i];
    out[i] = Number.isInteger(v) && v >= 0 && v <= 255 ? LEVEL_TO_UNIT[v] : v / 127.5 - 1;
  }
  return out;
}
