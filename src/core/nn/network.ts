/** Trainable eps-networks by architecture name, with a JSON-serialisable description for checkpoints. */
import type * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../model.js';
import { createUNet, type UNetConfig } from './unet.js';
import { createMlp, type MlpConfig } from './mlp.js';
import { createHeadedNet, type HeadsConfig } from './headedNet.js';
import { createImportedNetwork, IMPORTED_ARCH_KINDS, type ImportedArchSpec } from './imported/importedArch.js';
import type { TimestepInput } from './imported/timestepInput.js';
import { createNoisyClassifier, type NoisyClassifierConfig } from './noisyClassifier.js';

export interface ApplyOptions {
  training: boolean;
  dropoutSeed?: number;
  labels?: readonly number[];
}

/** An eps-model with named variables that the trainer can optimise. */
export interface TrainableNet extends EpsModel {
  readonly params: Map<string, tf.Variable>;
  /** what the network's timestep input means (imported checkpoints may see n-1 or a rescaled n; it converts itself) */
  readonly timestepInput: TimestepInput;
  apply(x: tf.Tensor, t: Timesteps, opts: ApplyOptions): tf.Tensor;
  paramCount(): number;
  dispose(): void;
}

/**
 * unet / mlp: eps-networks; heads: variance heads on a frozen eps-network checkpoint (Extended-Analytic-DPM);
 * ddpm-unet / iddpm-unet: published PyTorch layouts imported with `npm run import` (inference only);
 * noisy-classifier: p(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021), its apply gives logits
 */
export type ArchSpec = { kind: 'unet'; config: UNetConfig } | { kind: 'mlp'; config: MlpConfig } | { kind: 'heads'; config: HeadsConfig } | ImportedArchSpec
  | { kind: 'noisy-classifier'; config: NoisyClassifierConfig };
export const ARCH_KINDS = ['unet', 'mlp', 'heads', ...IMPORTED_ARCH_KINDS, 'noisy-classifier'] as const;

export function createNetwork(arch: ArchSpec, seed: number): TrainableNet {
  if (arch.kind === 'unet') return createUNet(arch.config, seed);
  if (arch.kind === 'mlp') return createMlp(arch.config, seed) as unknown as TrainableNet;
  if (arch.kind === 'heads') return createHeadedNet(arch.config, seed);
  if (arch.kind === 'ddpm-unet' || arch.kind === 'iddpm-unet') return createImportedNetwork(arch);
  if (arch.kind === 'noisy-classifier') return createNoisyClassifier(arch.config, seed);
  throw new Error(`unknown architecture "${(arch as { kind: string }).kind}"; allowed: ${ARCH_KINDS.join(', ')}`);
}
