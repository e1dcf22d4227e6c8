/**
 * The improved-diffusion UNet exactly as openai/improved-diffusion unet.py `UNetModel` (Nichol & Dhariwal 2021;
 * also Analytic-DPM's `core/modules/unet.py`), key for key: time_embed.{0,2}, input_blocks.{k}.{l},
 * middle_block.{0,1,2}, output_blocks.{k}.{l} (TimestepEmbedSequential children), out.{0,2}. NHWC. With
 * learn_sigma the output has 2C channels [eps, variance]; predictEps returns eps.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../resBlock.js';
import { concatChannels } from '../resample.js';
import { silu } from '../silu.js';
import { IddpmAttention } from './iddpmAttention.js';
import { IddpmDownsample, IddpmUpsample } from './iddpmResample.js';
import { IDDPM_NORM_EPS, IddpmResBlock } from './iddpmResBlock.js';
import { ImportedUNet } from './importedUNet.js';
import { iddpmTimestepEmbedding } from './timestepEmbeddings.js';
import type { TimestepConvention } from './timestepInput.js';
import { TorchConv, TorchGroupNorm, TorchLinear } from './torchLayers.js';
import { TorchParams } from './torchParams.js';

/** The constructor arguments of `UNetModel` (camelCase), with attention given as resolutions in pixels. */
export interface IddpmUNetConfig {
  inChannels: number;
  modelChannels: number;
  /** 2·inChannels for learn_sigma models */
  outChannels: number;
  numResBlocks: number;
  /** feature-map side lengths with attention, e.g. [16, 8] (script_util's "16,8"; UNetModel takes imageSize / r) */
  attentionResolutions: number[];
  dropout: number;
  channelMult: number[];
  numHeads: number;
  /** -1 = numHeads */
  numHeadsUpsample: number;
  useScaleShiftNorm: boolean;
  imageSize: number;
  /** learned conv resampling (true in every published model) */
  convResample?: boolean;
}

type SeqLayer = TorchConv | IddpmResBlock | IddpmAttention | IddpmDownsample | IddpmUpsample;

export function validateIddpmConfig(c: IddpmUNetConfig): void {
  const ok = (cond: boolean, msg: string) => {
    if (!cond) throw new Error(`iddpm-unet config: ${msg}`);
  };
  const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  for (const k of ['inChannels', 'modelChannels', 'outChannels', 'numResBlocks', 'numHeads', 'imageSize'] as const) {
    ok(posInt(c[k]), `"${k}" must be a positive integer, got ${JSON.stringify(c[k])}`);
  }
  ok(c.numHeadsUpsample === -1 || posInt(c.numHeadsUpsample), `"numHeadsUpsample" must be -1 or a positive integer, got ${JSON.stringify(c.numHeadsUpsample)}`);
  ok(Array.isArray(c.channelMult) && c.channelMult.length > 0 && c.channelMult.every(posInt), `"channelMult" must be a non-empty list of positive integers, got ${JSON.stringify(c.channelMult)}`);
  ok(Array.isArray(c.attentionResolutions) && c.attentionResolutions.every((r) => posInt(r) && c.imageSize % r === 0),
    `"attentionResolutions" must be a list of side lengths dividing imageSize ${c.imageSize}, got ${JSON.stringify(c.attentionResolutions)}`);
  ok(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1, `"dropout" must be in [0, 1), got ${JSON.stringify(c.dropout)}`);
  ok(typeof c.useScaleShiftNorm === 'boolean', `"useScaleShiftNorm" must be true or false`);
  ok(c.imageSize % 2 ** (c.channelMult.length - 1) === 0, `"imageSize" ${c.imageSize} must be divisible by 2^${c.channelMult.length - 1}`);
  for (const m of [1, ...c.channelMult]) ok((c.modelChannels * m) % 32 === 0, `GroupNorm32 needs modelChannels·mult divisible by 32, got ${c.modelChannels}·${m}`);
}

export class IddpmUNet extends ImportedUNet {
  readonly name: string;
  private readonly timeEmbed: [TorchLinear, TorchLinear];
  private readonly inputBlocks: SeqLayer[][] = [];
  private readonly middleBlock: [IddpmResBlock, IddpmAttention, IddpmResBlock];
  private readonly outputBlocks: SeqLayer[][] = [];
  private readonly outNorm: TorchGroupNorm;
  private readonly outConv: TorchConv;

  constructor(readonly config: IddpmUNetConfig, timestep: TimestepConvention, p = new TorchParams()) {
    validateIddpmConfig(config);
    super(p, timestep, config.imageSize, config.inChannels, config.outChannels, config.dropout);
    const { modelChannels: mc, channelMult, numResBlocks: nb, dropout, useScaleShiftNorm: ss, numHeads } = config;
    const headsUp = config.numHeadsUpsample === -1 ? numHeads : config.numHeadsUpsample;
    const withConv = config.convResample !== false;
    const attnDs = config.attentionResolutions.map((r) => config.imageSize / r);
    const ed = 4 * mc;
    this.timeEmbed = [new TorchLinear(p, 'time_embed.0', mc, ed), new TorchLinear(p, 'time_embed.2', ed, ed)];
    this.inputBlocks.push([new TorchConv(p, 'input_blocks.0.0', config.inChannels, mc, 3)]);
    const chans = [mc];
    let ch = mc, ds = 1;
    channelMult.forEach((mult, level) => {
      for (let i = 0; i < nb; i++) {
        const key = `input_blocks.${this.inputBlocks.length}`;
        const layers: SeqLayer[] = [new IddpmResBlock(p, `${key}.0`, ch, mult * mc, ed, dropout, ss)];
        ch = mult * mc;
        if (attnDs.includes(ds)) layers.push(new IddpmAttention(p, `${key}.1`, ch, numHeads));
        this.inputBlocks.push(layers);
        chans.push(ch);
      }
      if (level !== channelMult.length - 1) {
        this.inputBlocks.push([new IddpmDownsample(p, `input_blocks.${this.inputBlocks.length}.0`, ch, withConv)]);
        chans.push(ch);
        ds *= 2;
      }
    });
    this.middleBlock = [
      new IddpmResBlock(p, 'middle_block.0', ch, ch, ed, dropout, ss),
      new IddpmAttention(p, 'middle_block.1', ch, numHeads),
      new IddpmResBlock(p, 'middle_block.2', ch, ch, ed, dropout, ss),
    ];
    for (let level = channelMult.length - 1; level >= 0; level--) {
      for (let i = 0; i <= nb; i++) {
        const key = `output_blocks.${this.outputBlocks.length}`;
        const layers: SeqLayer[] = [new IddpmResBlock(p, `${key}.0`, ch + chans.pop()!, mc * channelMult[level], ed, dropout, ss)];
        ch = mc * channelMult[level];
        if (attnDs.includes(ds)) layers.push(new IddpmAttention(p, `${key}.${layers.length}`, ch, headsUp));
        if (level > 0 && i === nb) {
          layers.push(new IddpmUpsample(p, `${key}.${layers.length}`, ch, withConv));
          ds /= 2;
        }
        this.outputBlocks.push(layers);
      }
    }
    this.outNorm = new TorchGroupNorm(p, 'out.0', ch, IDDPM_NORM_EPS);
    this.outConv = new TorchConv(p, 'out.2', mc, config.outChannels, 3);
    this.name = `iddpm-unet(ch=${mc},mult=${channelMult.join('-')},blocks=${nb},attn=${config.attentionResolutions.join('-')},heads=${numHeads},` +
      `scaleShift=${ss},out=${config.outChannels},size=${config.imageSize},t=${timestep.input})`;
  }

  private static runSeq(layers: SeqLayer[], h: tf.Tensor4D, embAct: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    for (const l of layers) h = l instanceof IddpmResBlock ? l.apply(h, embAct, ctx) : l.apply(h);
    return h;
  }

  protected forward(x: tf.Tensor4D, tNet: readonly number[], ctx: ForwardContext): tf.Tensor4D {
    const emb = this.timeEmbed[1].apply(silu(this.timeEmbed[0].apply(iddpmTimestepEmbedding(tNet, this.config.modelChannels))));
    const embAct = silu(emb);
    const hs: tf.Tensor4D[] = [];
    let h = x;
    for (const seq of this.inputBlocks) {
      h = IddpmUNet.runSeq(seq, h, embAct, ctx);
      hs.push(h);
    }
    h = IddpmUNet.runSeq(this.middleBlock, h, embAct, ctx);
    for (const seq of this.outputBlocks) h = IddpmUNet.runSeq(seq, concatChannels(h, hs.pop()!), embAct, ctx);
    return this.outConv.apply(silu(this.outNorm.apply(h)));
  }
}
