/** Experiment files by name: src/experiments/defs/<name>.json, with --set overrides and --quick reductions. */
import { readdirSync, existsSync } from 'node:fs';
import { readJsonFile } from '../core/jsonFile.js';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment, type ExperimentSpec } from './schema.js';

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

/** The --quick version: fewer K, fewer images, smaller M (the same experiment otherwise). */
export function quickVersion(e: ExperimentSpec): ExperimentSpec {
  const q = e.quick;
  return {
    ...e,
    cases: e.cases.map((c) => ({
      ...c,
      data: c.data.kind === 'mnist' ? c.data : { ...c.data, train: Math.min(c.data.train, Math.max(q.M, 2)), test: Math.min(c.data.test, q.images) },
      msEps: { ...c.msEps, M: Math.min(c.msEps.M, q.M) },
      nll: { ...c.nll, images: Math.min(c.nll.images, q.images) },
      fid: c.fid && { ...c.fid, samples: Math.max(2, Math.min(c.fid.samples, q.images)) },
      sweep: { ...c.sweep, K: q.K.filter((K) => K <= c.schedule.N) },
    })),
  };
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
