/**
 * `ResBlock` of openai/improved-diffusion unet.py: in_layers = GroupNorm32 -> SiLU -> conv3×3; emb_layers =
 * SiLU -> Linear(emb, 2·out if use_scale_shift_norm else out); out_layers = GroupNorm32 -> SiLU -> Dropout ->
 * conv3×3. With scale-shift norm h = out_rest(norm(h)·(1 + scale) + shift) ([scale, shift] = chunk of the
 * embedding); without, h = out_layers(h + emb). skip_connection is a 1×1 conv when the channel count changes.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../resBlock.js';
import { silu } from '../silu.js';
import { layerDropout } from './importedUNet.js';
import { TorchConv, TorchGroupNorm, TorchLinear } from './torchLayers.js';
import type { TorchParams } from './torchParams.js';

/** improved-diffusion nn.py GroupNorm32: 32 groups, torch's default eps, computed in float32. */
export const IDDPM_NORM_EPS = 1e-5;

export class IddpmResBlock {
  readonly inNorm: TorchGroupNorm;
  readonly inConv: TorchConv;
  readonly emb: TorchLinear;
  readonly outNorm: TorchGroupNorm;
  readonly outConv: TorchConv;
  readonly skip: TorchConv | null;

  constructor(p: TorchParams, readonly key: string, cin: number, readonly cout: number, embCh: number, readonly dropout: number, readonly scaleShift: boolean) {
    this.inNorm = new TorchGroupNorm(p, `${key}.in_layers.0`, cin, IDDPM_NORM_EPS);
    this.inConv = new TorchConv(p, `${key}.in_layers.2`, cin, cout, 3);
    this.emb = new TorchLinear(p, `${key}.emb_layers.1`, embCh, scaleShift ? 2 * cout : cout);
    this.outNorm = new TorchGroupNorm(p, `${key}.out_layers.0`, cout, IDDPM_NORM_EPS);
    this.outConv = new TorchConv(p, `${key}.out_layers.3`, cout, cout, 3);
    this.skip = cin !== cout ? new TorchConv(p, `${key}.skip_connection`, cin, cout, 1) : null;
  }

  /** x [B,H,W,cin]; embAct = silu(emb) [B,embCh], shared by all blocks. */
  apply(x: tf.Tensor4D, embAct: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    const B = x.shape[0], C = this.cout;
    let h = this.inConv.apply(silu(this.inNorm.apply(x)));
    const e = this.emb.apply(embAct);
    if (this.scaleShift) {
      const scale = tf.slice(e, [0, 0], [B, C]).reshape([B, 1, 1, C]);
      const shift = tf.slice(e, [0, C], [B, C]).reshape([B, 1, 1, C]);
      h = tf.add(tf.mul(this.outNorm.apply(h), tf.add(scale, 1)), shift);
    } else {
      h = this.outNorm.apply(tf.add(h, e.reshape([B, 1, 1, C])));
    }
    h = this.outConv.apply(layerDropout(silu(h), this.dropout, `${this.key}.out_layers.2`, ctx));
    return tf.add(this.skip ? this.skip.apply(x) : x, h);
  }
}
