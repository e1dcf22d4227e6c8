/**
 * Resolution changes of pesser/pytorch_diffusion model.py: `Downsample` = zero pad (0,1,0,1) (right and bottom
 * only; "no asymmetric padding in torch conv") then a 3×3 stride-2 conv without padding (avg-pool 2×2 when
 * resamp_with_conv is false); `Upsample` = nearest 2× then a 3×3 conv (no conv when resamp_with_conv is false).
 */
import * as tf from '@tensorflow/tfjs';
import { upsampleNearest2x } from '../resample.js';
import { TorchConv } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

/** 3×3 stride-2 conv on x zero-padded by one row at the bottom and one column at the right (forward only). */
function conv3x3Stride2PadBottomRight(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  const padded = tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]);
  return tf.fused.conv2d({ x: padded, filter: w, strides: 2, pad: 'valid', bias: b });
}

export class DdpmDownsample {
  readonly conv: TorchConv | null;

  constructor(p: TorchParams, readonly key: string, channels: number, withConv: boolean) {
    // The padding is applied here, so the conv's own padding is unused (stride 2 is applied here too).
    this.conv = withConv ? new TorchConv(p, `${key}.conv`, channels, channels, 3, 2) : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.conv) return tf.avgPool(x, 2, 2, 'valid');
    return conv3x3Stride2PadBottomRight(x, this.conv.w as tf.Tensor4D, this.conv.b as tf.Tensor1D);
  }
}

export class DdpmUpsample {
  readonly conv: TorchConv | null;

  constructor(p: TorchParams, readonly key: string, channels: number, withConv: boolean) {
    this.conv = withConv ? new TorchConv(p, `${key}.conv`, channels, channels, 3) : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const up = upsampleNearest2x(x);
    return this.conv ? this.conv.apply(up) : up;
  }
}
