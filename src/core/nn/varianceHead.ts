/**
 * Extended-Analytic-DPM's variance heads on a frozen eps-network (Bao et al. ICML 2022, §3.1 of
 * ../shared/reference/extended-analytic-dpm.md; official UNetModel4Pretrained). A head reads the feature map the
 * backbone's own output layer reads and predicts, per pixel, E[eps^2 | x_t] (SN) or E[(eps - eps_hat)^2 | x_t] (NPR).
 *   UNet backbone, mode "simple":  GroupNorm -> SiLU -> 3x3 conv to the image channels
 *   UNet backbone, mode "complex": ResBlock(time embedding, dropout) -> GroupNorm -> SiLU -> 3x3 conv
 *   MLP backbone (toy data):       Linear -> SiLU -> Linear to d
 * The last layer is zero-initialised (official iDDPM heads), so a new head outputs exactly 0. Several heads can share
 * one backbone forward (HeadedNet); only the heads' parameters are trainable.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadKind } from '../model.js';
import type { ParamStore } from './params.js';
import { GroupNorm } from './groupNorm.js';
import { Conv2d } from './conv2d.js';
import { Linear } from './linear.js';
import { ResBlock, type ForwardContext } from './resBlock.js';
import { silu } from './silu.js';

export type HeadMode = 'simple' | 'complex';
export const HEAD_MODES: readonly HeadMode[] = ['simple', 'complex'];

/** What a head reads from one backbone forward: the features of its output layer and silu(time embedding). */
export interface HeadInputs {
  features: tf.Tensor;
  embAct?: tf.Tensor2D;
}

export interface VarianceHead {
  apply(inputs: HeadInputs, ctx: ForwardContext): tf.Tensor;
}

function zeroInit(...vars: tf.Variable[]): void {
  tf.tidy(() => vars.forEach((v) => v.assign(tf.zerosLike(v))));
}

/** The head of a UNet backbone: [B,H,W,channels] features -> [B,H,W,outChannels]. */
export class ConvVarianceHead implements VarianceHead {
  private readonly res: ResBlock | null;
  private readonly norm: GroupNorm;
  private readonly conv: Conv2d;

  constructor(store: ParamStore, name: string, channels: number, outChannels: number, mode: HeadMode, tembDim: number, dropout: number) {
    this.res = mode === 'complex' ? new ResBlock(store, `${name}.res`, channels, channels, tembDim, dropout) : null;
    this.norm = new GroupNorm(store, `${name}.norm`, channels);
    this.conv = new Conv2d(store, `${name}.conv`, channels, outChannels, 3);
    zeroInit(this.conv.w, this.conv.b);
  }

  apply({ features, embAct }: HeadInputs, ctx: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      let h = features as tf.Tensor4D;
      if (this.res) {
        if (!embAct) throw new Error('a "complex" variance head needs the backbone\'s time embedding');
        h = this.res.apply(h, embAct, ctx);
      }
      return this.conv.apply(silu(this.norm.apply(h)));
    });
  }
}

/** The head of an MLP backbone: [B,hidden] features -> [B,d]. */
export class DenseVarianceHead implements VarianceHead {
  private readonly hidden: Linear;
  private readonly out: Linear;

  constructor(store: ParamStore, name: string, width: number, dim: number) {
    this.hidden = new Linear(store, `${name}.hidden`, width, width);
    this.out = new Linear(store, `${name}.out`, width, dim);
    zeroInit(this.out.w, this.out.b);
  }

  apply({ features }: HeadInputs): tf.Tensor2D {
    return tf.tidy(() => this.out.apply(silu(this.hidden.apply(features as tf.Tensor2D))));
  }
}

/** Parameter-name prefix of a head: "head.sn", "head.npr". */
export function headPrefix(kind: HeadKind): string {
  return `head.${kind}`;
}
