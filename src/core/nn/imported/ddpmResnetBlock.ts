/**
 * `ResnetBlock` of pesser/pytorch_diffusion model.py (= ermongroup/ddim models/diffusion.py; Ho et al. 2020):
 * h = conv1(swish(norm1(x))) + temb_proj(swish(temb)); h = conv2(dropout(swish(norm2(h)))); x' = nin_shortcut(x)
 * (1×1 conv, only when the channel count changes); return x' + h. GroupNorm(32, eps 1e-6).
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../resBlock.js';
import { silu } from '../silu.js';
import { layerDropout } from './importedUNet.js';
import { TorchConv, TorchGroupNorm, TorchLinear } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

export const DDPM_NORM_EPS = 1e-6;

export class DdpmResnetBlock {
  readonly norm1: TorchGroupNorm;
  readonly conv1: TorchConv;
  readonly tembProj: TorchLinear;
  readonly norm2: TorchGroupNorm;
  readonly conv2: TorchConv;
  readonly ninShortcut: TorchConv | null;

  constructor(p: TorchParams, readonly key: string, cin: number, readonly cout: number, tembCh: number, readonly dropout: number) {
    this.norm1 = new TorchGroupNorm(p, `${key}.norm1`, cin, DDPM_NORM_EPS);
    this.conv1 = new TorchConv(p, `${key}.conv1`, cin, cout, 3);
    this.tembProj = new TorchLinear(p, `${key}.temb_proj`, tembCh, cout);
    this.norm2 = new TorchGroupNorm(p, `${key}.norm2`, cout, DDPM_NORM_EPS);
    this.conv2 = new TorchConv(p, `${key}.conv2`, cout, cout, 3);
    this.ninShortcut = cin !== cout ? new TorchConv(p, `${key}.nin_shortcut`, cin, cout, 1) : null;
  }

  /** x [B,H,W,cin]; tembAct = swish(temb) [B,tembCh], shared by all blocks. */
  apply(x: tf.Tensor4D, tembAct: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    let h = this.conv1.apply(silu(this.norm1.apply(x)));
    h = tf.add(h, this.tembProj.apply(tembAct).reshape([x.shape[0], 1, 1, this.cout]));
    h = this.conv2.apply(layerDropout(silu(this.norm2.apply(h)), this.dropout, `${this.key}.dropout`, ctx));
    return tf.add(this.ninShortcut ? this.ninShortcut.apply(x) : x, h);
  }
}
