/**
 * `AttnBlock` of pesser/pytorch_diffusion model.py: x + proj_out(softmax(q kᵀ / sqrt(C)) v) with q, k, v separate
 * 1×1 convs of GroupNorm(32, eps 1e-6)(x), one head over all H·W positions.
 */
import * as tf from '@tensorflow/tfjs';
import { attend } from '../attention.js';
import { DDPM_NORM_EPS } from './ddpmResnetBlock.js';
import { TorchConv, TorchGroupNorm } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

export class DdpmAttnBlock {
  readonly norm: TorchGroupNorm;
  readonly q: TorchConv;
  readonly k: TorchConv;
  readonly v: TorchConv;
  readonly projOut: TorchConv;

  constructor(p: TorchParams, readonly key: string, channels: number) {
    this.norm = new TorchGroupNorm(p, `${key}.norm`, channels, DDPM_NORM_EPS);
    this.q = new TorchConv(p, `${key}.q`, channels, channels, 1);
    this.k = new TorchConv(p, `${key}.k`, channels, channels, 1);
    this.v = new TorchConv(p, `${key}.v`, channels, channels, 1);
    this.projOut = new TorchConv(p, `${key}.proj_out`, channels, channels, 1);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W, C] = x.shape;
    const h = this.norm.apply(x);
    const tokens = (c: TorchConv) => c.apply(h).reshape([B, H * W, C]) as tf.Tensor3D;
    const o = attend(tokens(this.q), tokens(this.k), tokens(this.v)).reshape([B, H, W, C]) as tf.Tensor4D;
    return tf.add(x, this.projOut.apply(o));
  }
}
