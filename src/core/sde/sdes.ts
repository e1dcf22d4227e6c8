/** Build an SDE by name: 'vp' | 'subvp' (params betaMin, betaMax) or 've' (params sigmaMin, sigmaMax). */
import { SDE_NAMES, type Sde } from './sde.js';
import { vpSde } from './vp.js';
import { subVpSde } from './subVp.js';
import { veSde } from './ve.js';

export function sdeByName(name: string, params: Record<string, number> = {}): Sde {
  const allowed: Record<string, readonly string[]> = { vp: ['betaMin', 'betaMax'], subvp: ['betaMin', 'betaMax'], ve: ['sigmaMin', 'sigmaMax'] };
  if (!(SDE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown SDE "${name}"; allowed: ${SDE_NAMES.join(', ')}`);
  }
  for (const k of Object.keys(params)) {
    if (!allowed[name].includes(k)) throw new Error(`SDE "${name}": unknown parameter "${k}"; allowed: ${allowed[name].join(', ')}`);
  }
  if (name === 'vp') return vpSde(params);
  if (name === 'subvp') return subVpSde(params);
  return veSde(params);
}
