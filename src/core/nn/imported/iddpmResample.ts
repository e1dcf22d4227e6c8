/**
 * Resolution changes of openai/improved-diffusion unet.py: `Downsample` = conv3×3 stride 2 padding 1 (key `op`;
 * avg-pool 2×2 when conv_resample is false), `Upsample` = nearest 2× then conv3×3 (key `conv`; no conv when
 * conv_resample is false).
 */
import * as tf from '@tensorflow/tfjs';
import { TorchConv } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

export class IddpmDownsample {
  readonly op: TorchConv | null;

  constructor(p: TorchParams, readonly key: string, channels: number, withConv: boolean) {
    this.op = withConv ? new TorchConv(p, `${key}.op`, channels, channels, 3, 2) : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.op ? this.op.apply(x) : tf.avgPool(x, 2, 2, 'valid');
  }
}

/** improved-diffusion's Upsample (nearest x2, then a 3x3 conv) is pesser's, key for key. */
export { DdpmUpsample as IddpmUpsample } from './ddpmResample.js';
