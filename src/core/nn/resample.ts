/**
 * Resolution changes of the DDPM UNet (Ho et al. 2020; torch reference `UNet`): nearest 2× upsampling followed by
 * a 3×3 conv, a 3×3 stride-2 conv (padding 1) for downsampling, and skip concatenation on the channel axis.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp.js';
import { Conv2d } from './conv2d.js';
import type { ParamStore } from './params.js';
import { isReferenceMode } from './referenceMode.js';

/**
 * Nearest-neighbour 2× upsampling (F.interpolate(scale_factor=2, mode='nearest')). The gradient sums each 2×2
 * block with avgPool·4, much faster on wasm than the built-in ResizeNearestNeighborGrad.
 */
const upsampleOp = customOp(([x]) => {
  const [, H, W] = x.shape;
  return {
    value: tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * H, 2 * W]),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4),
  };
});

export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  if (isReferenceMode()) {
    // Not resizeNearestNeighbor: its built-in gradient (ResizeNearestNeighborGrad, cpu, tfjs 4.22) is wrong for batch > 1.
    const [B, H, W, C] = x.shape;
    return tf.mul(x.reshape([B, H, 1, W, 1, C]), tf.ones([1, 1, 2, 1, 2, 1])).reshape([B, 2 * H, 2 * W, C]);
  }
  return upsampleOp(x) as tf.Tensor4D;
}

/** Columns [from, from + n) of a [rows, C] matrix as a product with a 0/1 selection matrix (exact). */
function selectColumns(m: tf.Tensor2D, from: number, n: number): tf.Tensor2D {
  const C = m.shape[1];
  return tf.matMul(m, tf.pad(tf.eye(n), [[from, C - from - n], [0, 0]]));
}

/**
 * Channel concat with a custom gradient: dy is split by matMul with 0/1 selection matrices (XNNPACK), because
 * channel-axis slices run as per-row JS copies on wasm and the built-in SplitV gradient is slower still.
 */
const concatOp = customOp(([a, b]) => ({
  value: tf.concat([a, b], 3),
  gradFunc: (dy: tf.Tensor) => {
    const [B, H, W, C] = dy.shape as number[];
    const ca = a.shape[3]!, cb = b.shape[3]!;
    const d2 = dy.reshape([B * H * W, C]) as tf.Tensor2D;
    return [selectColumns(d2, 0, ca).reshape(a.shape), selectColumns(d2, ca, cb).reshape(b.shape)];
  },
}));

/** Skip connection: concatenate on the channel axis (torch.cat([h, skip], 1) in NCHW). */
export function concatChannels(h: tf.Tensor4D, skip: tf.Tensor4D): tf.Tensor4D {
  return (isReferenceMode() ? tf.concat([h, skip], 3) : concatOp(h, skip)) as tf.Tensor4D;
}

/** nn.Conv2d(c, c, 3, stride=2, padding=1). */
export class Downsample {
  readonly conv: Conv2d;
  constructor(store: ParamStore, name: string, channels: number) {
    this.conv = new Conv2d(store, `${name}.conv`, channels, channels, 3, 2);
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(x);
  }
}

/** F.interpolate(scale_factor=2, mode='nearest') then nn.Conv2d(c, c, 3, padding=1). */
export class Upsample {
  readonly conv: Conv2d;
  constructor(store: ParamStore, name: string, channels: number) {
    this.conv = new Conv2d(store, `${name}.conv`, channels, channels, 3, 1);
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(upsampleNearest2x(x));
  }
}
