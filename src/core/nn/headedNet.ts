/**
 * A frozen pretrained eps-network (a checkpoint) with SN and/or NPR variance heads (Extended-Analytic-DPM's
 * two-stage recipe, §3.1-3.2 of ../shared/reference/extended-analytic-dpm.md). One forward of the backbone serves
 * eps_hat and every head (HeadModel); `params` holds the heads' parameters only, so the trainer's Adam, EMA and
 * checkpoints never touch the backbone. A heads checkpoint stores the backbone's path and the sha256 of its weights,
 * and loading it with another backbone is an error.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, HeadKind, HeadModel, HeadOutputs, Timesteps } from '../model.js';
import { ParamStore } from './params.js';
import { ConvVarianceHead, DenseVarianceHead, headPrefix, type HeadInputs, type HeadMode, type VarianceHead } from './varianceHead.js';
import type { ApplyOptions, TrainableNet } from './network.js';
import { UNet } from './unet.js';
import { MlpEpsNet } from './mlp.js';
import { loadNetwork } from '../train/checkpoint.js';
import { installZeroCopyClone } from './wasmClone.js';

export interface HeadsConfig {
  /** the pretrained eps-network: a checkpoint directory or a training run directory (its EMA weights) */
  backbone: string;
  /** the heads to train: "sn" (E[eps^2 | x_t]) and/or "npr" (E[(eps - eps_hat)^2 | x_t]) */
  heads: HeadKind[];
  /** "simple" (GroupNorm, SiLU, conv) or "complex" (a residual block first; UNet backbones only) */
  mode: HeadMode;
  /** keep the backbone's dropout active while training the heads (the official code does: models.train()) */
  backboneDropout: boolean;
}

/** The backbone checkpoint a set of heads was trained on. */
export interface BackboneRef {
  path: string;
  weightsSha256: string;
}

/** The features one backbone forward gives the heads, with eps_hat. */
interface BackboneForward extends HeadInputs {
  eps: tf.Tensor;
}

export class HeadedNet implements HeadModel, TrainableNet {
  readonly name: string;
  readonly shape: readonly number[];
  readonly timestepInput = 'n' as const;
  readonly params: Map<string, tf.Variable>;
  readonly headKinds: readonly HeadKind[];
  private readonly heads: Map<HeadKind, VarianceHead> = new Map();

  /**
   * `backboneSchedule`: the schedule the backbone was trained with (the heads must use it). `seed` seeds the heads'
   * parameters (their last layers start at 0 whatever the seed).
   */
  constructor(readonly backbone: UNet | MlpEpsNet, readonly config: HeadsConfig, readonly backboneRef: BackboneRef,
    readonly backboneSchedule: { name: string; N: number }, seed: number, private readonly store = new ParamStore(seed)) {
    if (config.heads.length === 0 || new Set(config.heads).size !== config.heads.length) {
      throw new Error(`heads: expected a non-empty list of distinct kinds (sn, npr), got [${config.heads.join(', ')}]`);
    }
    for (const kind of config.heads) this.heads.set(kind, makeHead(store, kind, backbone, config.mode));
    this.headKinds = [...config.heads];
    this.params = store.params;
    this.shape = backbone.shape;
    this.name = `${backbone.name}+heads(${config.heads.join('+')},${config.mode})`;
  }

  paramCount(): number {
    return this.store.count();
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.backbone.predictEps(x, t);
  }

  /** eps_hat of the backbone (the heads do not change it). */
  apply(x: tf.Tensor, t: Timesteps, opts: ApplyOptions): tf.Tensor {
    return this.backbone.apply(x, t, opts);
  }

  /** The backbone's features for the heads; `training` switches the backbone's dropout on (mask stream dropoutSeed). */
  backboneForward(x: tf.Tensor, t: Timesteps, opts: ApplyOptions): BackboneForward {
    return this.backbone instanceof UNet ? this.backbone.applyWithFeatures(x, t, opts) : this.backbone.applyWithFeatures(x, t);
  }

  /** One head on precomputed backbone features. */
  applyHead(kind: HeadKind, f: HeadInputs, opts: ApplyOptions): tf.Tensor {
    const head = this.heads.get(kind);
    if (!head) throw new Error(`${this.name} has no ${kind.toUpperCase()} head`);
    return head.apply(f, { training: opts.training, dropoutSeed: opts.dropoutSeed ?? 0 });
  }

  predictWithHeads(x: tf.Tensor, t: Timesteps): HeadOutputs {
    return tf.tidy(() => {
      const f = this.backboneForward(x, t, { training: false });
      const heads = Object.fromEntries(this.headKinds.map((k) => [k, this.applyHead(k, f, { training: false })]));
      return { eps: f.eps, heads };
    });
  }

  dispose(): void {
    this.store.dispose();
    this.backbone.dispose();
  }
}

function makeHead(store: ParamStore, kind: HeadKind, backbone: UNet | MlpEpsNet, mode: HeadMode): VarianceHead {
  const name = headPrefix(kind);
  if (backbone instanceof UNet) {
    const c = backbone.config;
    return new ConvVarianceHead(store, name, backbone.featureChannels, c.inChannels, mode, 4 * c.baseChannels, c.dropout);
  }
  if (mode !== 'simple') throw new Error(`heads: mode "${mode}" needs a UNet backbone; an MLP backbone allows mode "simple" only`);
  return new DenseVarianceHead(store, name, backbone.featureChannels, backbone.config.dim);
}

/** Load the backbone checkpoint and put fresh heads on it (head parameters seeded by `seed`). */
export function createHeadedNet(config: HeadsConfig, seed: number): HeadedNet {
  installZeroCopyClone();
  const { net, manifest } = loadNetwork(config.backbone);
  if (!(net instanceof UNet || net instanceof MlpEpsNet)) {
    net.dispose();
    throw new Error(`heads: backbone ${config.backbone} is a "${manifest.arch.kind}" network; variance heads need a UNet or MLP eps-network`);
  }
  return new HeadedNet(net, config, { path: config.backbone, weightsSha256: manifest.weightsSha256 }, manifest.schedule, seed);
}

/** Error if a heads checkpoint was trained on other backbone weights than the ones at its backbone path. */
export function checkBackbone(net: TrainableNet, saved: BackboneRef | undefined, where: string): void {
  if (!(net instanceof HeadedNet) || !saved) return;
  if (saved.weightsSha256 !== net.backboneRef.weightsSha256) {
    throw new Error(`${where}: the heads were trained on backbone weights with sha256 ${saved.weightsSha256}, but ${net.backboneRef.path} ` +
      `holds weights with sha256 ${net.backboneRef.weightsSha256}; point arch.config.backbone at the original checkpoint`);
  }
}

/** The eps-network behind a model: a heads network's backbone (msEps and eps_hat belong to it), else the model. */
export function epsNetworkOf(model: EpsModel): EpsModel {
  return model instanceof HeadedNet ? model.backbone : model;
}
