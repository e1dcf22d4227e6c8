/**
 * Import a published PyTorch checkpoint into this project's checkpoint format (src/core/train/checkpoint.ts):
 * read the torch.save file, pick its state dict, map it onto the matching imported UNet (NHWC layouts) and write
 * `manifest.json` + `weights.bin`, with `arch` = {kind, config, timestep} and `timestepInput` recording the
 * network's timestep convention. The source file's name, sha256 and state-dict path go into `training.source`.
 */
import { basename } from 'node:path';
import { createImportedNetwork, type ImportedArchSpec } from '../nn/imported/importedArch.js';
import { assignWeights, mapStateDict } from '../nn/imported/loadStateDict.js';
import type { TimestepConvention } from '../nn/imported/timestepInput.js';
import type { ArchSpec } from '../nn/network.js';
import { writeCheckpoint } from '../train/checkpoint.js';
import { CLI_ARCHS, CLI_TIMESTEP_INPUTS, type CliArch, type CliTimestepInput, DEFAULT_PRESET, PRESET_NAMES, PRESETS, type PresetName } from './presets.js';
import { selectStateDict, stateDictEntries } from './stateDict.js';
import { readTorchFile } from './torchFile.js';

export const SCHEDULE_CHOICES = ['linear', 'cosine'] as const;

export interface ImportOptions {
  /** the torch.save file */
  file: string;
  /** the checkpoint directory to write */
  out: string;
  arch?: CliArch;
  preset?: PresetName;
  /** architecture hyper-parameters, merged over the preset's */
  config?: Record<string, unknown>;
  schedule?: (typeof SCHEDULE_CHOICES)[number];
  N?: number;
  timestepInput?: CliTimestepInput;
  /** where the state dict sits in the checkpoint (stateDict.ts) */
  key?: string;
  log?: (msg: string) => void;
}

export interface ImportPlan {
  arch: ImportedArchSpec;
  schedule: { name: string; N: number };
  preset: PresetName;
}

export interface ImportResult extends ImportPlan {
  dir: string;
  stateDictPath: string;
  params: number;
}

export function toConvention(input: CliTimestepInput, N: number): TimestepConvention {
  if (input === 'rescaled') return { input: 'rescaled', N, shift1: true };
  if (input === 'rescaled-n') return { input: 'rescaled', N, shift1: false };
  return { input, N };
}

/** Architecture, schedule and timestep convention from the preset and the flags that override it. */
export function planImport(o: Omit<ImportOptions, 'file' | 'out'>): ImportPlan {
  if (o.preset !== undefined && !PRESET_NAMES.includes(o.preset)) throw new Error(`--preset "${o.preset}" is unknown; allowed: ${PRESET_NAMES.join(', ')}`);
  if (o.arch !== undefined && !CLI_ARCHS.includes(o.arch)) throw new Error(`--arch "${o.arch}" is unknown; allowed: ${CLI_ARCHS.join(', ')}`);
  if (o.preset === undefined && o.arch === undefined) throw new Error(`give --arch (${CLI_ARCHS.join(' or ')}) or --preset (${PRESET_NAMES.join(', ')})`);
  const name = o.preset ?? DEFAULT_PRESET[o.arch!];
  const preset = PRESETS[name];
  if (o.arch !== undefined && o.arch !== preset.arch) throw new Error(`--arch ${o.arch} does not match --preset ${name}, which is an --arch ${preset.arch} model`);
  const base = preset.config as unknown as Record<string, unknown>;
  const unknownKeys = Object.keys(o.config ?? {}).filter((k) => !(k in base) && k !== 'resampWithConv' && k !== 'convResample');
  if (unknownKeys.length) {
    throw new Error(`--config: unknown field(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')} for --arch ${preset.arch}; allowed: ${Object.keys(base).join(', ')}`);
  }
  const config = { ...base, ...(o.config ?? {}) };
  const schedule = { name: o.schedule ?? preset.schedule.name, N: o.N ?? preset.schedule.N };
  if (!SCHEDULE_CHOICES.includes(schedule.name as never)) throw new Error(`--schedule "${schedule.name}" is unknown; allowed: ${SCHEDULE_CHOICES.join(', ')}`);
  if (!Number.isInteger(schedule.N) || schedule.N < 2) throw new Error(`--N must be an integer >= 2, got ${o.N}`);
  const input = o.timestepInput ?? preset.timestepInput;
  if (!CLI_TIMESTEP_INPUTS.includes(input)) throw new Error(`--timestep-input "${input}" is unknown; allowed: ${CLI_TIMESTEP_INPUTS.join(', ')}`);
  const timestep = toConvention(input, schedule.N);
  const arch = { kind: preset.arch === 'ddpm' ? 'ddpm-unet' : 'iddpm-unet', config, timestep } as unknown as ImportedArchSpec;
  return { arch, schedule, preset: name };
}

export function importTorchCheckpoint(o: ImportOptions): ImportResult {
  const log = o.log ?? (() => {});
  const plan = planImport(o);
  const net = createImportedNetwork(plan.arch);
  try {
    const ck = readTorchFile(o.file);
    const sd = selectStateDict(ck, o.key);
    const dtypes = [...new Set([...sd.tensors.values()].map((t) => t.storage.dtype.name))].join('/');
    log(`${o.file}: state dict ${sd.path ? `"${sd.path}"` : '(top level)'} with ${sd.tensors.size} tensors (${dtypes})`);
    assignWeights(net, mapStateDict(net, stateDictEntries(sd), `${o.file} (${plan.arch.kind})`));
    writeCheckpoint(o.out, {
      arch: plan.arch as unknown as ArchSpec,
      schedule: plan.schedule,
      timestepInput: plan.arch.timestep.input,
      step: 0,
      seed: 0,
      data: null,
      ema: null,
      adam: null,
      training: { source: { file: basename(o.file), sha256: ck.sha256(), stateDict: sd.path, preset: plan.preset, format: 'torch.save (zip)' } },
    }, { params: net.params });
    log(`${net.name}: ${net.paramCount()} parameters -> ${o.out}`);
    return { ...plan, dir: o.out, stateDictPath: sd.path, params: net.paramCount() };
  } finally {
    net.dispose();
  }
}
