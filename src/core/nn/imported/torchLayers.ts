/**
 * The PyTorch primitives of the published UNets on NHWC tensors, with parameters under their state-dict keys:
 * nn.Conv2d(k, stride, padding=(k-1)/2) and 1×1 nn.Conv1d (both through this project's conv2d kernel),
 * nn.Linear, and nn.GroupNorm(32, C, eps) (always 32 groups, as both codes use).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, type Stride } from '../conv2d.js';
import { groupNorm } from '../groupNorm.js';
import type { TorchParams } from './torchParams.js';

export class TorchConv {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  /** `conv1d` = an nn.Conv1d with kernel 1 over the flattened spatial axis (improved-diffusion attention). */
  constructor(p: TorchParams, readonly key: string, cin: number, cout: number, readonly k: 1 | 3, readonly stride: Stride = 1, conv1d = false) {
    this.w = p.add(`${key}.weight`, conv1d ? 'conv1d' : 'conv2d', [k, k, cin, cout]);
    this.b = p.add(`${key}.bias`, 'vector', [cout]);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.w as tf.Tensor4D, this.b as tf.Tensor1D, { stride: this.stride });
  }
}

export class TorchLinear {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(p: TorchParams, readonly key: string, cin: number, cout: number) {
    this.w = p.add(`${key}.weight`, 'linear', [cin, cout]);
    this.b = p.add(`${key}.bias`, 'vector', [cout]);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.w), this.b);
  }
}

export class TorchGroupNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(p: TorchParams, readonly key: string, readonly channels: number, readonly eps: number) {
    if (channels % 32 !== 0) throw new Error(`${key}: GroupNorm(32 groups) needs a channel count divisible by 32, got ${channels}`);
    this.gamma = p.add(`${key}.weight`, 'vector', [channels], 1);
    this.beta = p.add(`${key}.bias`, 'vector', [channels], 0);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return groupNorm(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, 32, this.eps);
  }
}
