/**
 * Map a PyTorch state dict onto an imported network: every network key must be present with the PyTorch shape
 * its layout implies, and the state dict must hold no other key. Values are converted to NHWC layouts
 * (torchParams.ts) and returned by key, ready to assign or to write into a checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImportedUNet } from './importedUNet.js';
import { fromTorchLayout, torchShape } from './torchParams.js';

/** One state-dict entry: shape and row-major values (as read from the file). */
export interface TorchEntry {
  shape: number[];
  values(): Float32Array;
}

const listKeys = (keys: string[], n = 6) => keys.slice(0, n).map((k) => `"${k}"`).join(', ') + (keys.length > n ? `, ... (${keys.length} in all)` : '');

/** Converted values for each network parameter; `what` (e.g. "model.pt (ddpm-unet)") prefixes the errors. */
export function mapStateDict(net: ImportedUNet, entries: ReadonlyMap<string, TorchEntry>, what: string): Map<string, { shape: number[]; values: Float32Array }> {
  const missing = [...net.params.keys()].filter((k) => !entries.has(k));
  const unexpected = [...entries.keys()].filter((k) => !net.params.has(k));
  if (missing.length || unexpected.length) {
    const parts = [
      missing.length ? `missing keys ${listKeys(missing)}` : '',
      unexpected.length ? `unexpected keys ${listKeys(unexpected)}` : '',
    ].filter(Boolean);
    throw new Error(`${what}: the state dict does not match the architecture: ${parts.join('; ')} (check --arch, --config and --key)`);
  }
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [key, v] of net.params) {
    const layout = net.layouts.get(key)!;
    const expected = torchShape(layout, v.shape);
    const e = entries.get(key)!;
    if (e.shape.join() !== expected.join()) {
      throw new Error(`${what}: key "${key}" has shape [${e.shape}] in the checkpoint, the architecture expects [${expected}] (check --config)`);
    }
    out.set(key, { shape: [...v.shape], values: fromTorchLayout(layout, e.values(), e.shape) });
  }
  return out;
}

/** Assign converted values (from mapStateDict or a saved checkpoint) to the network's variables. */
export function assignWeights(net: ImportedUNet, weights: ReadonlyMap<string, { shape: number[]; values: Float32Array }>): void {
  for (const [key, v] of net.params) {
    const w = weights.get(key);
    if (!w) throw new Error(`${net.name}: no weights for "${key}"`);
    const t = tf.tensor(w.values, w.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
}
