/**
 * `AttentionBlock` of openai/improved-diffusion unet.py: qkv = Conv1d(C, 3C, 1)(GroupNorm32(x)) over the H·W
 * positions, reshaped to [B·heads, 3·C/heads, T] so that each head's channel block holds its q, k, v in that order
 * (`QKVAttention`: softmax((q·s)ᵀ(k·s)) with s = (C/heads)^(-1/4)), then x + proj_out(heads concatenated).
 */
import * as tf from '@tensorflow/tfjs';
import { attend } from '../attention.js';
import { IDDPM_NORM_EPS } from './iddpmResBlock.js';
import { TorchConv, TorchGroupNorm } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

export class IddpmAttention {
  readonly norm: TorchGroupNorm;
  readonly qkv: TorchConv;
  readonly projOut: TorchConv;

  constructor(p: TorchParams, readonly key: string, readonly channels: number, readonly heads: number) {
    if (!Number.isInteger(heads) || heads < 1 || channels % heads !== 0) {
      throw new Error(`${key}: ${channels} channels cannot be split into ${heads} attention heads`);
    }
    this.norm = new TorchGroupNorm(p, `${key}.norm`, channels, IDDPM_NORM_EPS);
    this.qkv = new TorchConv(p, `${key}.qkv`, channels, 3 * channels, 1, 1, true);
    this.projOut = new TorchConv(p, `${key}.proj_out`, channels, channels, 1, 1, true);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W, C] = x.shape;
    const n = this.heads, ch = C / n, T = H * W;
    // [B, T, 3C] -> [3 (q,k,v), B, heads, T, ch]: channel o = head·3ch + part·ch + c
    const qkv = this.qkv.apply(this.norm.apply(x)).reshape([B, T, n, 3, ch]).transpose([3, 0, 2, 1, 4]);
    const part = (i: number) => tf.squeeze(tf.slice(qkv, [i, 0, 0, 0, 0], [1, B, n, T, ch]), [0]).reshape([B * n, T, ch]) as tf.Tensor3D;
    const o = attend(part(0), part(1), part(2)); // [B·heads, T, ch]
    const merged = o.reshape([B, n, T, ch]).transpose([0, 2, 1, 3]).reshape([B, H, W, C]) as tf.Tensor4D;
    return tf.add(x, this.projOut.apply(merged));
  }
}
