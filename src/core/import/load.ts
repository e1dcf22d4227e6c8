/**
 * Load a checkpoint written by `npm run import` (readCheckpoint of src/core/train/checkpoint.ts) as a ready
 * EpsModel: the imported UNet its manifest's `arch` describes, with the stored weights.
 */
import { createImportedNetwork, IMPORTED_ARCH_KINDS, isImportedArch } from '../nn/imported/importedArch.js';
import type { ImportedUNet } from '../nn/imported/importedUNet.js';
import { assignGroup, type CheckpointManifest, readCheckpoint } from '../train/checkpoint.js';

export interface LoadedImported {
  net: ImportedUNet;
  manifest: CheckpointManifest;
  dir: string;
}

export function loadImportedNetwork(path: string): LoadedImported {
  const ck = readCheckpoint(path);
  const arch = ck.manifest.arch as { kind: string };
  if (!isImportedArch(arch)) {
    throw new Error(`checkpoint ${ck.dir}: arch kind "${arch.kind}" is not an imported network (${IMPORTED_ARCH_KINDS.join(', ')}); use loadNetwork`);
  }
  if (arch.timestep?.input !== ck.manifest.timestepInput) {
    throw new Error(`checkpoint ${ck.dir}: timestepInput "${ck.manifest.timestepInput}" disagrees with arch.timestep.input "${arch.timestep?.input}"`);
  }
  const net = createImportedNetwork(arch);
  const group = ck.groups.ema ? 'ema' : 'params';
  try {
    assignGroup(net.params, ck.groups[group], `checkpoint ${ck.dir} (${group})`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, manifest: ck.manifest, dir: ck.dir };
}
