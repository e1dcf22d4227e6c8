/**
 * The DDPM UNet (Ho et al. 2020), module for module the layout of shared/peer/torch_unet_bench.py `UNet`, so the
 * parameter counts agree (reference config: 1,624,323). NHWC; implements EpsModel. Optional class conditioning adds
 * a learned embedding (with a null class for classifier-free guidance) to the timestep embedding after its MLP.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../model.js';
import { Attention } from './attention.js';
import { ClassEmbedding } from './classEmbedding.js';
import { Conv2d } from './conv2d.js';
import { GroupNorm } from './groupNorm.js';
import { Linear } from './linear.js';
import { ParamStore } from './params.js';
import { Downsample, Upsample, concatChannels } from './resample.js';
import { type ForwardContext, ResBlock } from './resBlock.js';
import { silu } from './silu.js';
import { timestepEmbedding, timestepList } from './timestepEmbedding.js';
import { installZeroCopyClone } from './wasmClone.js';

/** JSON-serialisable UNet hyper-parameters (the torch script's --res --cin --ch --mult --blocks --attn, dropout). */
export interface UNetConfig {
  imageSize: number;
  inChannels: number;
  baseChannels: number;
  channelMult: number[];
  numResBlocks: number;
  /** Resolutions (feature-map side lengths) that get a self-attention block after each res block. */
  attnResolutions: number[];
  dropout: number;
  /** Class-conditional when set: labels 0..numClasses-1, and numClasses is the null (unconditional) class. */
  numClasses?: number | null;
}

/** The reference configuration of the torch benchmark (32×32×3, 1,624,323 parameters). */
export const REFERENCE_UNET_CONFIG: UNetConfig = {
  imageSize: 32,
  inChannels: 3,
  baseChannels: 32,
  channelMult: [1, 2, 2],
  numResBlocks: 2,
  attnResolutions: [16],
  dropout: 0.1,
};

export interface UNetApplyOptions {
  training: boolean;
  /** Seed of the dropout masks (required when training with dropout > 0). */
  dropoutSeed?: number;
  /** One label per sample (class-conditional nets only); defaults to the null class. */
  labels?: readonly number[];
}

type Block = { res: ResBlock; attn: Attention | null };
type Stage = Block | Downsample | Upsample;

export function validateUNetConfig(c: UNetConfig): void {
  const ok = (cond: boolean, msg: string) => {
    if (!cond) throw new Error(`UNetConfig: ${msg}`);
  };
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  ok(posInt(c.imageSize) && posInt(c.inChannels) && posInt(c.baseChannels), 'imageSize, inChannels, baseChannels must be positive integers');
  ok(c.channelMult.length > 0 && c.channelMult.every(posInt), 'channelMult must be a non-empty list of positive integers');
  ok(Number.isInteger(c.numResBlocks) && c.numResBlocks >= 1, 'numResBlocks must be >= 1');
  ok(c.imageSize % 2 ** (c.channelMult.length - 1) === 0, `imageSize ${c.imageSize} must be divisible by 2^${c.channelMult.length - 1}`);
  ok(c.dropout >= 0 && c.dropout < 1, 'dropout must be in [0, 1)');
  ok(c.numClasses == null || posInt(c.numClasses), 'numClasses must be a positive integer or null');
  for (const m of [1, ...c.channelMult]) {
    const ch = c.baseChannels * m;
    ok(ch % Math.min(32, ch) === 0, `GroupNorm needs ${ch} channels divisible by min(32, ${ch})`);
  }
}

export class UNet implements EpsModel {
  readonly name: string;
  readonly shape: readonly number[];
  /** The embedding is fed the integer timestep n the caller passes (not n/N or a continuous time). */
  readonly timestepInput = 'n' as const;
  readonly params: Map<string, tf.Variable>;
  private readonly temb: [Linear, Linear];
  private readonly classEmb: ClassEmbedding | null;
  private readonly inc: Conv2d;
  private readonly down: Stage[] = [];
  private readonly mid: [ResBlock, Attention, ResBlock];
  private readonly up: Stage[] = [];
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv2d;

  constructor(readonly config: UNetConfig, readonly seed: number, private readonly store = new ParamStore(seed)) {
    validateUNetConfig(config);
    const { baseChannels: ch, channelMult: mult, numResBlocks: blocks, dropout: drop } = config;
    const td = 4 * ch;
    const s = store;
    this.temb = [new Linear(s, 'temb.0', ch, td), new Linear(s, 'temb.1', td, td)];
    this.inc = new Conv2d(s, 'inc', config.inChannels, ch, 3);
    const block = (name: string, cin: number, cout: number, r: number): Block => ({
      res: new ResBlock(s, `${name}.res`, cin, cout, td, drop),
      attn: config.attnResolutions.includes(r) ? new Attention(s, `${name}.attn`, cout) : null,
    });
    const chans = [ch];
    let c = ch;
    let r = config.imageSize;
    mult.forEach((m, i) => {
      for (let b = 0; b < blocks; b++) {
        this.down.push(block(`down.${this.down.length}`, c, ch * m, r));
        c = ch * m;
        chans.push(c);
      }
      if (i !== mult.length - 1) {
        this.down.push(new Downsample(s, `down.${this.down.length}`, c));
        chans.push(c);
        r /= 2;
      }
    });
    this.mid = [new ResBlock(s, 'mid.0', c, c, td, drop), new Attention(s, 'mid.1', c), new ResBlock(s, 'mid.2', c, c, td, drop)];
    for (let i = mult.length - 1; i >= 0; i--) {
      for (let b = 0; b < blocks + 1; b++) {
        this.up.push(block(`up.${this.up.length}`, c + chans.pop()!, ch * mult[i], r));
        c = ch * mult[i];
      }
      if (i !== 0) {
        this.up.push(new Upsample(s, `up.${this.up.length}`, c));
        r *= 2;
      }
    }
    this.outNorm = new GroupNorm(s, 'out.norm', c);
    this.outConv = new Conv2d(s, 'out.conv', c, config.inChannels, 3);
    this.classEmb = config.numClasses ? new ClassEmbedding(s, 'classEmb', config.numClasses, td) : null;
    this.params = store.params;
    this.shape = [config.imageSize, config.imageSize, config.inChannels];
    const cls = config.numClasses ? `,classes=${config.numClasses}` : '';
    this.name = `unet(ch=${ch},mult=${mult.join('-')},blocks=${blocks},attn=${config.attnResolutions.join('-')},drop=${drop}${cls},seed=${seed})`;
  }

  /** Number of scalar parameters. */
  paramCount(): number {
    return this.store.count();
  }

  /** eps_theta(x_t, t) in inference mode (no dropout; class-conditional nets use the null class). */
  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.apply(x, t, { training: false });
  }

  /** The network on x [B,H,W,C] and integer timesteps t; returns a new tensor of x's shape. */
  apply(x: tf.Tensor, t: Timesteps, opts: UNetApplyOptions): tf.Tensor4D {
    const { eps, features, embAct } = this.applyWithFeatures(x, t, opts);
    tf.dispose([features, embAct]);
    return eps;
  }

  /**
   * The output, the last decoder feature map [B,H,W,baseChannels*channelMult[0]] that the output head reads and
   * silu(timestep embedding) [B,4*baseChannels] (the inputs of Extended-Analytic-DPM's variance heads).
   */
  applyWithFeatures(x: tf.Tensor, t: Timesteps, opts: UNetApplyOptions): { eps: tf.Tensor4D; features: tf.Tensor4D; embAct: tf.Tensor2D } {
    const [B, ...rest] = x.shape;
    if (rest.join() !== this.shape.join()) throw new Error(`UNet: input shape [${x.shape}] is not [B,${this.shape}]`);
    if (opts.training && this.config.dropout > 0 && opts.dropoutSeed === undefined) {
      throw new Error('UNet.apply: training with dropout needs a dropoutSeed');
    }
    if (opts.labels && !this.classEmb) throw new Error('UNet.apply: labels given to a network without numClasses');
    const ctx: ForwardContext = { training: opts.training, dropoutSeed: opts.dropoutSeed ?? 0 };
    return tf.tidy(() => {
      let e = this.temb[1].apply(silu(this.temb[0].apply(timestepEmbedding(timestepList(t, B), this.config.baseChannels))));
      if (this.classEmb) {
        const labels = opts.labels ?? new Array<number>(B).fill(this.classEmb.nullClass);
        if (labels.length !== B) throw new Error(`UNet.apply: ${labels.length} labels for a batch of ${B}`);
        e = tf.add(e, this.classEmb.apply(labels));
      }
      const ea = silu(e);
      const runBlock = (b: Block, h: tf.Tensor4D) => {
        const y = b.res.apply(h, ea, ctx);
        return b.attn ? b.attn.apply(y) : y;
      };
      let h = this.inc.apply(x as tf.Tensor4D);
      const hs = [h];
      for (const m of this.down) {
        h = m instanceof Downsample ? m.apply(h) : runBlock(m as Block, h);
        hs.push(h);
      }
      h = this.mid[2].apply(this.mid[1].apply(this.mid[0].apply(h, ea, ctx)), ea, ctx);
      for (const m of this.up) {
        h = m instanceof Upsample ? m.apply(h) : runBlock(m as Block, concatChannels(h, hs.pop()!));
      }
      return { eps: this.outConv.apply(silu(this.outNorm.apply(h))), features: h, embAct: ea };
    });
  }

  /** Channels of the feature map returned by applyWithFeatures. */
  get featureChannels(): number {
    return this.config.baseChannels * this.config.channelMult[0];
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * A UNet with deterministic PyTorch-default initialisation from `seed`. Also installs the zero-copy clone for the
 * wasm backend (wasmClone.ts), without which training needs twice the memory.
 */
export function createUNet(config: UNetConfig, seed: number): UNet {
  installZeroCopyClone();
  return new UNet(config, seed);
}
