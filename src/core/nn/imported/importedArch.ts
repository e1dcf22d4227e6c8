/**
 * JSON-serialisable descriptions of the imported published networks (recorded as `arch` in a checkpoint manifest)
 * and the factory that builds one. The timestep convention is part of the description, so a network built from
 * `arch` alone feeds itself the right input.
 */
import { DdpmUNet, type DdpmUNetConfig } from './ddpmUNet.js';
import { IddpmUNet, type IddpmUNetConfig } from './iddpmUNet.js';
import type { ImportedUNet } from './importedUNet.js';
import type { TimestepConvention } from './timestepInput.js';

export type ImportedArchSpec =
  | { kind: 'ddpm-unet'; config: DdpmUNetConfig; timestep: TimestepConvention }
  | { kind: 'iddpm-unet'; config: IddpmUNetConfig; timestep: TimestepConvention };

export const IMPORTED_ARCH_KINDS = ['ddpm-unet', 'iddpm-unet'] as const;
export type ImportedArchKind = (typeof IMPORTED_ARCH_KINDS)[number];

export function isImportedArch(arch: { kind: string }): arch is ImportedArchSpec {
  return (IMPORTED_ARCH_KINDS as readonly string[]).includes(arch.kind);
}

/** The network of an imported architecture, with placeholder weights (load them with assignWeights). */
export function createImportedNetwork(arch: ImportedArchSpec): ImportedUNet {
  if (!arch.timestep) throw new Error(`architecture "${arch.kind}": field "timestep" (the timestep input convention) is missing`);
  if (arch.kind === 'ddpm-unet') return new DdpmUNet(arch.config, arch.timestep);
  if (arch.kind === 'iddpm-unet') return new IddpmUNet(arch.config, arch.timestep);
  throw new Error(`unknown imported architecture "${(arch as { kind: string }).kind}"; allowed: ${IMPORTED_ARCH_KINDS.join(', ')}`);
}
