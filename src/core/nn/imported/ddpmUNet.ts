/**
 * The DDPM UNet exactly as pesser/pytorch_diffusion model.py `Model` (= ermongroup/ddim models/diffusion.py, the
 * PyTorch port of Ho et al. 2020's TF code), module for module and key for key: temb.dense.{0,1}, conv_in,
 * down.{i}.block.{j} / .attn.{j} / .downsample, mid.block_1 / attn_1 / block_2, up.{i}.block.{j} / .attn.{j} /
 * .upsample, norm_out, conv_out. NHWC; the published CelebA, LSUN and CIFAR-10 checkpoints see n - 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../resBlock.js';
import { concatChannels } from '../resample.js';
import { silu } from '../silu.js';
import { DdpmAttnBlock } from './ddpmAttnBlock.js';
import { DdpmDownsample, DdpmUpsample } from './ddpmResample.js';
import { DDPM_NORM_EPS, DdpmResnetBlock } from './ddpmResnetBlock.js';
import { ImportedUNet } from './importedUNet.js';
import { ddpmTimestepEmbedding } from './timestepEmbeddings.js';
import type { TimestepConvention } from './timestepInput.js';
import { TorchConv, TorchGroupNorm, TorchLinear } from './torchLayers.js';
import { TorchParams } from './torchParams.js';

/** The constructor arguments of `Model` (camelCase). */
export interface DdpmUNetConfig {
  ch: number;
  outCh: number;
  chMult: number[];
  numResBlocks: number;
  /** feature-map side lengths with attention after each res block, e.g. [16] */
  attnResolutions: number[];
  dropout: number;
  inChannels: number;
  /** image side length */
  resolution: number;
  /** learned conv resampling (true in every published model) */
  resampWithConv?: boolean;
}

interface Level {
  block: DdpmResnetBlock[];
  attn: DdpmAttnBlock[];
  downsample?: DdpmDownsample;
  upsample?: DdpmUpsample;
}

export function validateDdpmConfig(c: DdpmUNetConfig): void {
  const ok = (cond: boolean, msg: string) => {
    if (!cond) throw new Error(`ddpm-unet config: ${msg}`);
  };
  const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  for (const k of ['ch', 'outCh', 'numResBlocks', 'inChannels', 'resolution'] as const) ok(posInt(c[k]), `"${k}" must be a positive integer, got ${JSON.stringify(c[k])}`);
  ok(Array.isArray(c.chMult) && c.chMult.length > 0 && c.chMult.every(posInt), `"chMult" must be a non-empty list of positive integers, got ${JSON.stringify(c.chMult)}`);
  ok(Array.isArray(c.attnResolutions) && c.attnResolutions.every(posInt), `"attnResolutions" must be a list of positive integers, got ${JSON.stringify(c.attnResolutions)}`);
  ok(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1, `"dropout" must be in [0, 1), got ${JSON.stringify(c.dropout)}`);
  ok(c.resolution % 2 ** (c.chMult.length - 1) === 0, `"resolution" ${c.resolution} must be divisible by 2^${c.chMult.length - 1}`);
  for (const m of [1, ...c.chMult]) ok((c.ch * m) % 32 === 0, `GroupNorm(32) needs ch·mult divisible by 32, got ${c.ch}·${m}`);
}

export class DdpmUNet extends ImportedUNet {
  readonly name: string;
  private readonly tembDense: [TorchLinear, TorchLinear];
  private readonly convIn: TorchConv;
  private readonly down: Level[] = [];
  private readonly mid: [DdpmResnetBlock, DdpmAttnBlock, DdpmResnetBlock];
  /** indexed like the PyTorch ModuleList: up[0] is the highest resolution */
  private readonly up: Level[] = [];
  private readonly normOut: TorchGroupNorm;
  private readonly convOut: TorchConv;

  constructor(readonly config: DdpmUNetConfig, timestep: TimestepConvention, p = new TorchParams()) {
    validateDdpmConfig(config);
    super(p, timestep, config.resolution, config.inChannels, config.outCh, config.dropout);
    const { ch, chMult, numResBlocks: nb, attnResolutions: attnRes, dropout } = config;
    const withConv = config.resampWithConv !== false;
    const tembCh = 4 * ch;
    const inMult = [1, ...chMult];
    this.tembDense = [new TorchLinear(p, 'temb.dense.0', ch, tembCh), new TorchLinear(p, 'temb.dense.1', tembCh, tembCh)];
    this.convIn = new TorchConv(p, 'conv_in', config.inChannels, ch, 3);
    let res = config.resolution;
    let cin = ch;
    chMult.forEach((m, i) => {
      const level: Level = { block: [], attn: [] };
      cin = ch * inMult[i];
      for (let j = 0; j < nb; j++) {
        level.block.push(new DdpmResnetBlock(p, `down.${i}.block.${j}`, cin, ch * m, tembCh, dropout));
        cin = ch * m;
        if (attnRes.includes(res)) level.attn.push(new DdpmAttnBlock(p, `down.${i}.attn.${j}`, cin));
      }
      if (i !== chMult.length - 1) {
        level.downsample = new DdpmDownsample(p, `down.${i}.downsample`, cin, withConv);
        res /= 2;
      }
      this.down.push(level);
    });
    this.mid = [
      new DdpmResnetBlock(p, 'mid.block_1', cin, cin, tembCh, dropout),
      new DdpmAttnBlock(p, 'mid.attn_1', cin),
      new DdpmResnetBlock(p, 'mid.block_2', cin, cin, tembCh, dropout),
    ];
    for (let i = chMult.length - 1; i >= 0; i--) {
      const level: Level = { block: [], attn: [] };
      for (let j = 0; j <= nb; j++) {
        // the skip of the last block of a level is the level's input (pytorch_diffusion: skip_in = ch*in_ch_mult[i])
        const skip = ch * (j === nb ? inMult[i] : chMult[i]);
        level.block.push(new DdpmResnetBlock(p, `up.${i}.block.${j}`, cin + skip, ch * chMult[i], tembCh, dropout));
        cin = ch * chMult[i];
        if (attnRes.includes(res)) level.attn.push(new DdpmAttnBlock(p, `up.${i}.attn.${j}`, cin));
      }
      if (i !== 0) {
        level.upsample = new DdpmUpsample(p, `up.${i}.upsample`, cin, withConv);
        res *= 2;
      }
      this.up[i] = level;
    }
    this.normOut = new TorchGroupNorm(p, 'norm_out', cin, DDPM_NORM_EPS);
    this.convOut = new TorchConv(p, 'conv_out', cin, config.outCh, 3);
    this.name = `ddpm-unet(ch=${ch},mult=${chMult.join('-')},blocks=${nb},attn=${attnRes.join('-')},res=${config.resolution},t=${timestep.input})`;
  }

  protected forward(x: tf.Tensor4D, tNet: readonly number[], ctx: ForwardContext): tf.Tensor4D {
    const { numResBlocks: nb } = this.config;
    const temb = this.tembDense[1].apply(silu(this.tembDense[0].apply(ddpmTimestepEmbedding(tNet, this.config.ch))));
    const tembAct = silu(temb);
    const hs: tf.Tensor4D[] = [this.convIn.apply(x)];
    this.down.forEach((level) => {
      for (let j = 0; j < nb; j++) {
        let h = level.block[j].apply(hs[hs.length - 1], tembAct, ctx);
        if (level.attn.length > 0) h = level.attn[j].apply(h);
        hs.push(h);
      }
      if (level.downsample) hs.push(level.downsample.apply(hs[hs.length - 1]));
    });
    let h = this.mid[0].apply(hs[hs.length - 1], tembAct, ctx);
    h = this.mid[2].apply(this.mid[1].apply(h), tembAct, ctx);
    for (let i = this.up.length - 1; i >= 0; i--) {
      const level = this.up[i];
      for (let j = 0; j <= nb; j++) {
        h = level.block[j].apply(concatChannels(h, hs.pop()!), tembAct, ctx);
        if (level.attn.length > 0) h = level.attn[j].apply(h);
      }
      if (level.upsample) h = level.upsample.apply(h);
    }
    return this.convOut.apply(silu(this.normOut.apply(h)));
  }
}
