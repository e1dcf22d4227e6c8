/**
 * Parameters of the imported networks, named by their PyTorch state-dict keys and stored in NHWC-friendly layouts:
 * Conv2d OIHW -> HWIO, Conv1d (kernel 1) OIK -> [1,1,I,O], Linear [out,in] -> [in,out], vectors as they are.
 * Each variable remembers its layout, so the state-dict shape it expects and the conversion follow from it.
 */
import type * as tf from '@tensorflow/tfjs';
import { ParamStore } from '../params.js';

export type TorchLayout = 'conv2d' | 'conv1d' | 'linear' | 'vector';

export class TorchParams {
  readonly store = new ParamStore(0);
  readonly layouts = new Map<string, TorchLayout>();

  /** A variable initialised to `fill` (imported networks are meant to be loaded, not trained from scratch). */
  add(key: string, layout: TorchLayout, shape: number[], fill = 0): tf.Variable {
    this.layouts.set(key, layout);
    return this.store.constant(key, shape, fill);
  }

  get params(): Map<string, tf.Variable> {
    return this.store.params;
  }
}

/** The shape PyTorch stores for a parameter of `layout` whose shape here is `shape`. */
export function torchShape(layout: TorchLayout, shape: readonly number[]): number[] {
  if (layout === 'conv2d') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'conv1d') return [shape[3], shape[2], 1];
  if (layout === 'linear') return [shape[1], shape[0]];
  return [...shape];
}

/** Rearrange row-major PyTorch values of `layout` (shape `tshape`) into this project's layout. */
export function fromTorchLayout(layout: TorchLayout, values: Float32Array, tshape: readonly number[]): Float32Array {
  if (layout === 'vector') return values;
  if (layout === 'linear' || layout === 'conv1d') {
    const [o, i] = tshape;
    const out = new Float32Array(values.length);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = values[r * i + c];
    return out;
  }
  const [o, i, kh, kw] = tshape;
  const out = new Float32Array(values.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = values[((a * i + b) * kh + y) * kw + x];
      }
    }
  }
  return out;
}
