/**
 * Residual block, exactly `Res` of the torch reference (Ho et al. 2020 DDPM UNet):
 * h = conv1(silu(norm1(x))) + Linear(silu(e)); h = conv2(dropout(silu(norm2(h)))); return skip(x) + h,
 * with a 1×1 skip conv when the channel count changes.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../rng.js';
import { Conv2d } from './conv2d.js';
import { dropout } from './dropout.js';
import { GroupNorm } from './groupNorm.js';
import { Linear } from './linear.js';
import type { ParamStore } from './params.js';
import { silu } from './silu.js';

/** Forward-pass mode: dropout is active only when training, with masks keyed by (dropoutSeed, layer name). */
export interface ForwardContext {
  training: boolean;
  dropoutSeed: number;
}

export class ResBlock {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly temb: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | null;

  constructor(store: ParamStore, readonly name: string, cin: number, readonly cout: number, tembDim: number, readonly dropout: number) {
    this.norm1 = new GroupNorm(store, `${name}.norm1`, cin);
    this.conv1 = new Conv2d(store, `${name}.conv1`, cin, cout, 3);
    this.temb = new Linear(store, `${name}.temb`, tembDim, cout);
    this.norm2 = new GroupNorm(store, `${name}.norm2`, cout);
    this.conv2 = new Conv2d(store, `${name}.conv2`, cout, cout, 3);
    this.skip = cin !== cout ? new Conv2d(store, `${name}.skip`, cin, cout, 1) : null;
  }

  /** x [B,H,W,cin], embAct = silu(e) [B,tembDim] (shared by all blocks). */
  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    const B = x.shape[0];
    let h = this.conv1.apply(silu(this.norm1.apply(x)));
    h = tf.add(h, this.temb.apply(embAct).reshape([B, 1, 1, this.cout]));
    h = silu(this.norm2.apply(h));
    if (ctx.training && this.dropout > 0) h = dropout(h, this.dropout, deriveSeed(ctx.dropoutSeed, 'dropout', this.name));
    h = this.conv2.apply(h);
    return tf.add(this.skip ? this.skip.apply(x) : x, h);
  }
}
