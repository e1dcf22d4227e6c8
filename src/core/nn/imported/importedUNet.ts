/**
 * What the imported published UNets share: the EpsModel interface on the paper's timesteps n = 1..N (converted to
 * the network's own input by the recorded convention), eps = the first C output channels (improved-diffusion's
 * learn_sigma models output [eps, variance] with 2C channels; Analytic-DPM uses only the first C), NHWC tensors,
 * and named variables under their PyTorch state-dict keys.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../../model.js';
import { deriveSeed } from '../../rng.js';
import { dropout } from '../dropout.js';
import type { ForwardContext } from '../resBlock.js';
import { timestepList } from '../timestepEmbedding.js';
import { networkTimesteps, type TimestepConvention, type TimestepInput, validateConvention } from './timestepInput.js';
import type { TorchLayout, TorchParams } from './torchParams.js';

export interface ImportedApplyOptions {
  training: boolean;
  /** seed of the dropout masks (needed when training with dropout > 0) */
  dropoutSeed?: number;
}

/** Dropout of a named layer, active only when training (masks keyed by the seed and the layer's key). */
export function layerDropout(h: tf.Tensor4D, p: number, key: string, ctx: ForwardContext): tf.Tensor4D {
  return ctx.training && p > 0 ? dropout(h, p, deriveSeed(ctx.dropoutSeed, 'dropout', key)) : h;
}

export abstract class ImportedUNet implements EpsModel {
  abstract readonly name: string;
  readonly shape: readonly number[];
  readonly params: Map<string, tf.Variable>;
  readonly timestepInput: TimestepInput;

  constructor(
    protected readonly torchParams: TorchParams,
    readonly timestep: TimestepConvention,
    imageSize: number,
    readonly inChannels: number,
    readonly outChannels: number,
    protected readonly dropoutRate: number,
  ) {
    validateConvention(timestep, 'imported network');
    if (outChannels < inChannels) throw new Error(`imported network: ${outChannels} output channels cannot hold eps of ${inChannels} channels`);
    this.shape = [imageSize, imageSize, inChannels];
    this.params = torchParams.params;
    this.timestepInput = timestep.input;
  }

  /** The PyTorch layout of each parameter (for mapping a state dict onto the network). */
  get layouts(): ReadonlyMap<string, TorchLayout> {
    return this.torchParams.layouts;
  }

  /** The published network's forward pass on its own timestep inputs; all output channels. */
  protected abstract forward(x: tf.Tensor4D, tNet: readonly number[], ctx: ForwardContext): tf.Tensor4D;

  /** The raw network on x [B,H,W,C] and its own timestep inputs (as the PyTorch module takes them). */
  applyNetwork(x: tf.Tensor, tNet: readonly number[], opts: ImportedApplyOptions = { training: false }): tf.Tensor4D {
    const [B, ...rest] = x.shape;
    if (rest.join() !== this.shape.join()) throw new Error(`${this.name}: input shape [${x.shape}] is not [B,${this.shape}]`);
    if (tNet.length !== B) throw new Error(`${this.name}: ${tNet.length} timesteps for a batch of ${B}`);
    if (opts.training && this.dropoutRate > 0 && opts.dropoutSeed === undefined) throw new Error(`${this.name}: training with dropout needs a dropoutSeed`);
    const ctx: ForwardContext = { training: opts.training, dropoutSeed: opts.dropoutSeed ?? 0 };
    return tf.tidy(() => this.forward(x as tf.Tensor4D, tNet, ctx));
  }

  /** eps_theta(x, n) for the paper's timesteps n = 1..N: the first C output channels. */
  apply(x: tf.Tensor, t: Timesteps, opts: ImportedApplyOptions): tf.Tensor4D {
    const tNet = networkTimesteps(timestepList(t, x.shape[0]), this.timestep);
    const out = this.applyNetwork(x, tNet, opts);
    if (this.outChannels === this.inChannels) return out;
    const [B, H, W] = out.shape;
    const eps = tf.slice(out, [0, 0, 0, 0], [B, H, W, this.inChannels]);
    out.dispose();
    return eps;
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.apply(x, t, { training: false });
  }

  paramCount(): number {
    return this.torchParams.store.count();
  }

  dispose(): void {
    this.torchParams.store.dispose();
  }
}
