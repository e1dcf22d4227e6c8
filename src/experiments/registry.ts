/** Experiment files by name: src/experiments/defs/<name>.json, with --set overrides and --quick reductions. */
import { readdirSync, existsSync } from 'node:fs';
import { readJsonFile } from '../core/jsonFile.js';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFileData, parseExperiment, type CaseSpec, type ExperimentSpec } from './schema.js';

export const DEFS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'defs');

export function experimentNames(): string[] {
  return readdirSync(DEFS_DIR).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort();
}

/** Resolve a name (or a path to a .json file) to a file path; unknown names list the known ones. */
export function experimentFile(nameOrPath: string): string {
  if (nameOrPath.endsWith('.json')) {
    if (!existsSync(nameOrPath)) throw new Error(`experiment file ${nameOrPath} does not exist`);
    return nameOrPath;
  }
  const file = join(DEFS_DIR, `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new Error(`unknown experiment "${nameOrPath}"; known experiments: ${experimentNames().join(', ')} (or pass a path to a .json file)`);
  }
  return file;
}

/** Apply "a.b.0.c=value" overrides; the value is parsed as JSON when possible, else kept as a string. */
export function applySets(raw: Record<string, unknown>, sets: readonly string[]): void {
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set: expected key=value, got "${s}"`);
    const path = s.slice(0, eq).split('.');
    const text = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    let obj = raw as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      if (typeof obj[key] !== 'object' || obj[key] === null) throw new Error(`--set ${s}: "${key}" is not an object or array in the experiment file`);
      obj = obj[key] as Record<string, unknown>;
    }
    obj[path[path.length - 1]] = value;
  }
}

/**
 * The --quick version: fewer K, fewer images, smaller M (the same experiment otherwise). Toy data sets shrink;
 * file data (MNIST, CIFAR-10) keep their splits and use only the first quick.images test images (nll.images).
 */
export function quickVersion(e: ExperimentSpec): ExperimentSpec {
  const q = e.quick;
  return {
    ...e,
    cases: e.cases.map((c) => ({
      ...c,
      data: isFileData(c.data) ? c.data : { ...c.data, train: Math.min(c.data.train, Math.max(q.M, 2)), test: Math.min(c.data.test, q.images) },
      msEps: { ...c.msEps, M: Math.min(c.msEps.M, q.M) },
      nll: { ...c.nll, images: Math.min(c.nll.images, q.images) },
      fid: c.fid && quickFid(c, c.fid, q),
      sweep: { ...c.sweep, K: q.K.filter((K) => K <= c.schedule.N) },
    })),
  };
}

/**
 * fid under --quick: quick.images samples at the quick K. CIFAR-10 also takes only the first quick.images reference
 * images: Inception features of the 50,000 train images alone would take hours on a CPU.
 */
function quickFid(c: CaseSpec, fid: NonNullable<CaseSpec['fid']>, q: ExperimentSpec['quick']): NonNullable<CaseSpec['fid']> {
  const samples = Math.max(2, Math.min(fid.samples, q.images));
  const out = { ...fid, samples, K: quickFidK(fid.K, q.K) };
  if (c.data.kind === 'cifar10') out.referenceImages = Math.max(2, Math.min(fid.referenceImages ?? Infinity, q.images));
  return out;
}

/** fid.K under --quick: its members among the quick K, else the smallest quick K (absent stays absent = all). */
function quickFidK(fidK: number[] | undefined, quickK: number[]): number[] | undefined {
  if (!fidK) return undefined;
  const kept = quickK.filter((K) => fidK.includes(K));
  return kept.length > 0 ? kept : [Math.min(...quickK)];
}

export interface LoadOptions {
  set?: readonly string[];
  quick?: boolean;
}

/** Read, override, validate and (optionally) reduce an experiment. */
export function loadExperiment(nameOrPath: string, opts: LoadOptions = {}): { spec: ExperimentSpec; file: string } {
  const file = experimentFile(nameOrPath);
  const raw = readJsonFile(file, 'experiment file') as Record<string, unknown>;
  applySets(raw, opts.set ?? []);
  const spec = parseExperiment(raw, file);
  return { spec: opts.quick ? quickVersion(spec) : spec, file };
}
