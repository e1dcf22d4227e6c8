/**
 * Architecture, schedule and timestep convention of the published checkpoints the paper evaluates (Analytic-DPM
 * App. F.1 and its reference §1; Extended-Analytic-DPM `configs/<dataset>/models.py`; pesser/pytorch_diffusion
 * `Diffusion.from_pretrained`; DDIM configs/celeba.yml; improved-diffusion script_util defaults). `npm run import`
 * starts from a preset (by default the first one of the chosen --arch) and lets flags override each field.
 */
import type { DdpmUNetConfig } from '../nn/imported/ddpmUNet.js';
import type { IddpmUNetConfig } from '../nn/imported/iddpmUNet.js';

/** The CLI's timestep choices: the manifest's three conventions, with 'rescaled' split by its shift. */
export const CLI_TIMESTEP_INPUTS = ['n', 'n-1', 'rescaled', 'rescaled-n'] as const;
export type CliTimestepInput = (typeof CLI_TIMESTEP_INPUTS)[number];
export const CLI_ARCHS = ['ddpm', 'iddpm'] as const;
export type CliArch = (typeof CLI_ARCHS)[number];

export type ImportPreset = {
  description: string;
  schedule: { name: 'linear' | 'cosine'; N: number };
  timestepInput: CliTimestepInput;
} & ({ arch: 'ddpm'; config: DdpmUNetConfig } | { arch: 'iddpm'; config: IddpmUNetConfig });

const ADPM_CIFAR10: IddpmUNetConfig = {
  inChannels: 3, modelChannels: 128, outChannels: 3, numResBlocks: 3, attentionResolutions: [16, 8], dropout: 0.3,
  channelMult: [1, 2, 2, 2], numHeads: 4, numHeadsUpsample: -1, useScaleShiftNorm: true, imageSize: 32,
};

const PESSER_LSUN: DdpmUNetConfig = {
  ch: 128, outCh: 3, chMult: [1, 1, 2, 2, 4, 4], numResBlocks: 2, attnResolutions: [16], dropout: 0, inChannels: 3, resolution: 256,
};

export const PRESETS = {
  'ddim-celeba': {
    description: "DDIM's CelebA 64×64 EMA model (ermongroup/ddim configs/celeba.yml); the network sees n-1",
    arch: 'ddpm',
    config: { ch: 128, outCh: 3, chMult: [1, 2, 2, 2, 4], numResBlocks: 2, attnResolutions: [16], dropout: 0.1, inChannels: 3, resolution: 64 },
    schedule: { name: 'linear', N: 1000 },
    timestepInput: 'n-1',
  },
  'ddpm-lsun-bedroom': {
    description: "Ho et al.'s LSUN Bedroom 256×256 model as converted by pesser/pytorch_diffusion (ema_lsun_bedroom); sees n-1",
    arch: 'ddpm', config: PESSER_LSUN, schedule: { name: 'linear', N: 1000 }, timestepInput: 'n-1',
  },
  'ddpm-cifar10': {
    description: "Ho et al.'s CIFAR-10 model as converted by pesser/pytorch_diffusion (ema_cifar10); sees n-1",
    arch: 'ddpm',
    config: { ch: 128, outCh: 3, chMult: [1, 2, 2, 2], numResBlocks: 2, attnResolutions: [16], dropout: 0.1, inChannels: 3, resolution: 32 },
    schedule: { name: 'linear', N: 1000 },
    timestepInput: 'n-1',
  },
  'adpm-cifar10-ls': {
    description: "Analytic-DPM's own CIFAR-10 (LS) iDDPM model (400000.ckpt.pth, EMA weights); sees n (= n·1000/N at N = 1000)",
    arch: 'iddpm', config: ADPM_CIFAR10, schedule: { name: 'linear', N: 1000 }, timestepInput: 'n',
  },
  'adpm-cifar10-cs': {
    description: "Analytic-DPM's own CIFAR-10 (CS) iDDPM model (160000.ckpt.pth, EMA weights); sees n",
    arch: 'iddpm', config: ADPM_CIFAR10, schedule: { name: 'cosine', N: 1000 }, timestepInput: 'n',
  },
  'iddpm-imagenet64': {
    description: "improved-diffusion's ImageNet 64×64 L_hybrid model (imagenet64_uncond_100M_1500K.pt, 6 outputs); sees (n-1)·1000/4000",
    arch: 'iddpm',
    config: { ...ADPM_CIFAR10, outChannels: 6, attentionResolutions: [16, 8], dropout: 0, channelMult: [1, 2, 3, 4], imageSize: 64 },
    schedule: { name: 'cosine', N: 4000 },
    timestepInput: 'rescaled',
  },
} satisfies Record<string, ImportPreset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset used when only --arch is given. */
export const DEFAULT_PRESET: Record<CliArch, PresetName> = { ddpm: 'ddim-celeba', iddpm: 'adpm-cifar10-ls' };
