/** msEps artifacts on disk: JSON `{N, M, seed, schedule, model, data, msEps[N+1], stderr[N+1]}`, validated on load. */
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { readJsonFile } from '../core/jsonFile.js';
import { dirname } from 'node:path';
import type { MsEpsArtifact } from './msEps.js';

/** Write atomically (temp file + rename). */
export function saveMsEps(path: string, a: MsEpsArtifact): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(a, null, 1) + '\n');
  renameSync(tmp, path);
}

/** Check an msEps vector for a schedule with N steps: length N+1, finite, index 0 = 0. */
export function validateMsEps(msEps: ArrayLike<number>, N: number, where: string): void {
  if (msEps.length !== N + 1) {
    throw new Error(`${where}: msEps has ${msEps.length} entries, expected N+1 = ${N + 1} (index 0 = 0, then t = 1..${N})`);
  }
  for (let t = 0; t <= N; t++) {
    if (!Number.isFinite(msEps[t])) throw new Error(`${where}: msEps[${t}] = ${msEps[t]} is not a finite number`);
  }
  if (msEps[0] !== 0) throw new Error(`${where}: msEps[0] must be 0 (index 0 is data), got ${msEps[0]}`);
}

/** Load and validate an artifact; `expect` fields that are given must match. */
export function loadMsEps(path: string, expect: Partial<Pick<MsEpsArtifact, 'N' | 'M' | 'seed' | 'schedule' | 'model' | 'estimator'>> = {}): MsEpsArtifact {
  const a = readJsonFile(path, 'msEps file') as MsEpsArtifact;
  if (typeof a !== 'object' || a === null || !Array.isArray(a.msEps)) {
    throw new Error(`msEps file ${path}: field "msEps" (array of N+1 numbers) is missing`);
  }
  const N = expect.N ?? a.N;
  validateMsEps(a.msEps, N, `msEps file ${path}`);
  if (!Array.isArray(a.stderr) || a.stderr.length !== a.msEps.length) {
    throw new Error(`msEps file ${path}: field "stderr" must be an array of the same length as msEps (${a.msEps.length})`);
  }
  for (const key of ['N', 'M', 'seed', 'schedule', 'model', 'estimator'] as const) {
    if (expect[key] !== undefined && a[key] !== expect[key]) {
      throw new Error(`msEps file ${path}: field "${key}" is ${JSON.stringify(a[key])}, expected ${JSON.stringify(expect[key])}`);
    }
  }
  a.estimator ??= 'eps2';
  return a;
}
