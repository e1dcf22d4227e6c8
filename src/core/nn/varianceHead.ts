/**
 * Extended-Analytic-DPM's variance head on a frozen eps-UNet (Bao et al. ICML 2022; official
 * UNetModel4Pretrained, mode "simple"): GroupNorm -> SiLU -> 3x3 conv to the image channels, reading the last
 * decoder feature map (the tensor the eps output head reads). The conv is zero-initialised, so a new head outputs
 * exactly 0. One forward of the backbone serves eps_hat and the head (HeadModel).
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadKind, HeadModel, Timesteps } from '../model.js';
import { ParamStore } from './params.js';
import { GroupNorm } from './groupNorm.js';
import { Conv2d } from './conv2d.js';
import { silu } from './silu.js';
import type { UNet } from './unet.js';

export class VarianceHead {
  readonly params: Map<string, tf.Variable>;
  private readonly norm: GroupNorm;
  private readonly conv: Conv2d;

  constructor(channels: number, outChannels: number, seed: number, private readonly store = new ParamStore(seed)) {
    this.norm = new GroupNorm(store, 'head.norm', channels);
    this.conv = new Conv2d(store, 'head.conv', channels, outChannels, 3);
    tf.tidy(() => {
      this.conv.w.assign(tf.zerosLike(this.conv.w));
      this.conv.b.assign(tf.zerosLike(this.conv.b));
    });
    this.params = store.params;
  }

  apply(features: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.apply(silu(this.norm.apply(features))));
  }

  paramCount(): number {
    return this.store.count();
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** A frozen eps-UNet with an SN or NPR variance head: predictWithHead gives eps_hat and the head in one pass. */
export class HeadedUNet implements HeadModel {
  readonly name: string;
  readonly shape: readonly number[];
  readonly head: VarianceHead;

  constructor(readonly backbone: UNet, readonly headKind: HeadKind, seed: number) {
    this.head = new VarianceHead(backbone.featureChannels, backbone.config.inChannels, seed);
    this.shape = backbone.shape;
    this.name = `${backbone.name}+${headKind}-head(seed=${seed})`;
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.backbone.predictEps(x, t);
  }

  predictWithHead(x: tf.Tensor, t: Timesteps): { eps: tf.Tensor; head: tf.Tensor } {
    const { eps, features } = this.backbone.applyWithFeatures(x, t, { training: false });
    const head = this.head.apply(features);
    features.dispose();
    return { eps, head };
  }

  dispose(): void {
    this.head.dispose();
  }
}
