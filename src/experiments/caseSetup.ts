/**
 * Build the schedule, data sets, model and closed-form references of one experiment case. Asynchronous because
 * file data may need reading or extracting (CIFAR-10); the result is deterministic given the spec and root seed.
 */
import { makeSchedule, type Schedule } from '../core/schedule.js';
import type { Dataset } from '../core/data/dataset.js';
import type { DataRange, EpsModel } from '../core/model.js';
import { isHeadVariance } from '../core/variances.js';
import { requireHeadModel, sampleDim } from '../core/model.js';
import { deriveSeed } from '../core/rng.js';
import { gaussianDataset, gmmDataset, rademacherDataset, randomGmm } from '../core/data/toy.js';
import { RademacherOracle } from '../estimators/oracles/rademacherOracle.js';
import { GaussianOracle } from '../estimators/oracles/gaussianOracle.js';
import { GmmOracle } from '../estimators/oracles/gmmOracle.js';
import { gaussianExactInputs, rademacherExactInputs } from '../estimators/exactNelbo.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CIFAR10_RECORDS_PER_FILE, type CaseSpec } from './schema.js';
import { loadMnist } from '../core/data/mnist.js';
import { loadCifar10 } from '../core/data/cifar10.js';
import { loadNetwork } from '../core/train/checkpoint.js';

export interface ExactReference {
  posteriorVariance: (t: number) => number;
  x0SecondMoment: number;
  decoder: number;
}

export interface CaseSetup {
  schedule: Schedule;
  train: Dataset;
  test: Dataset;
  model: EpsModel;
  range: DataRange;
  d: number;
  /** closed-form expected NELBO inputs when the model is the exact oracle of a distribution that has them */
  exact: ExactReference | null;
  /** seeds of this case, derived from the experiment's root seed */
  seeds: { train: number; test: number; msEps: number; nll: number; params: number; sample: number };
}

export function caseSeeds(root: number, c: CaseSpec): CaseSetup['seeds'] {
  const s = (k: string) => deriveSeed(root, c.id, k);
  return { train: s('train-data'), test: s('test-data'), msEps: s('mseps'), nll: s('nll'), params: s('params'), sample: s('sample') };
}

/** Why a checkpoint path cannot be used, with how to get a model; null when the directory exists. */
export function missingCheckpointMessage(c: CaseSpec, path: string): string | null {
  if (existsSync(path)) return null;
  const data = c.data.kind === 'cifar10' ? 'CIFAR-10 ' : '';
  return `case ${c.id}: field "model.path": checkpoint ${resolve(path)} does not exist. No ${data}model is shipped for this case: ` +
    `train one with \`npm run train -- <config.json>\` (data kind "${c.data.kind}", schedule ${c.schedule.name} N=${c.schedule.N}; ` +
    `\`--export\` writes runs/<name>/model with the EMA weights) or import one into this project's checkpoint format ` +
    `(manifest.json + weights.bin, src/core/train/checkpoint.ts), then point the experiment at it with ` +
    `--set cases.<i>.model.path=DIR${c.data.kind === 'cifar10' ? ' (see docs/analytic-dpm-cifar.md)' : ''}`;
}

export async function buildCase(c: CaseSpec, rootSeed: number): Promise<CaseSetup> {
  const seeds = caseSeeds(rootSeed, c);
  const schedule = makeSchedule(c.schedule.name, c.schedule.N);
  const dd = c.data;
  if (c.model.kind === 'checkpoint') {
    const missing = missingCheckpointMessage(c, c.model.path);
    if (missing) throw new Error(missing);
  }
  let train: Dataset;
  let test: Dataset;
  let oracle: EpsModel | null;
  let exact: ExactReference | null = null;
  if (dd.kind === 'rademacher') {
    train = rademacherDataset(dd.train, dd.shape, seeds.train, 'rademacher-train');
    test = rademacherDataset(dd.test, dd.shape, seeds.test, 'rademacher-test');
    oracle = new RademacherOracle(dd.shape, schedule);
    exact = rademacherExactInputs(schedule);
  } else if (dd.kind === 'gaussian') {
    train = gaussianDataset(dd.train, dd.shape, dd.mean, dd.std, seeds.train, 'gaussian-train');
    test = gaussianDataset(dd.test, dd.shape, dd.mean, dd.std, seeds.test, 'gaussian-test');
    oracle = new GaussianOracle(dd.shape, schedule, dd.mean, dd.std);
    exact = gaussianExactInputs(schedule, dd.mean, dd.std);
  } else if (dd.kind === 'mnist') {
    train = loadMnist('train');
    test = loadMnist('test');
    oracle = null;
  } else if (dd.kind === 'cifar10') {
    const records = dd.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
    train = await loadCifar10('train', { path: dd.path, recordsPerFile: records.train });
    test = await loadCifar10('test', { path: dd.path, recordsPerFile: records.test });
    oracle = null;
  } else {
    const d = sampleDim(dd.shape);
    const gmm = randomGmm(dd.components, d, dd.spread, dd.std, seeds.params);
    train = gmmDataset(dd.train, dd.shape, gmm, seeds.train, 'gmm-train');
    test = gmmDataset(dd.test, dd.shape, gmm, seeds.test, 'gmm-test');
    oracle = new GmmOracle(`oracle:gmm${dd.components}`, dd.shape, schedule, gmm);
  }
  let model: EpsModel;
  if (c.model.kind === 'checkpoint') {
    const loaded = loadNetwork(c.model.path);
    if (loaded.manifest.schedule.name !== c.schedule.name || loaded.manifest.schedule.N !== c.schedule.N) {
      throw new Error(`case ${c.id}: checkpoint ${c.model.path} was trained with schedule ${loaded.manifest.schedule.name} N=${loaded.manifest.schedule.N}, the case asks for ${c.schedule.name} N=${c.schedule.N}`);
    }
    if (loaded.net.shape.join() !== train.shape.join()) {
      throw new Error(`case ${c.id}: checkpoint ${c.model.path} takes samples of shape [${loaded.net.shape}], the data have [${train.shape}]`);
    }
    model = loaded.net;
    exact = null;
    const kinds = [...new Set(c.sweep.methods.map((m) => m.variance).filter(isHeadVariance))];
    if (kinds.length > 0) requireHeadModel(model, kinds, `case ${c.id}: field "model.path" (${c.model.path}): the sweep's variance`);
  } else if (c.model.kind === 'empirical') {
    model = GmmOracle.empirical(train, schedule);
    exact = null;
  } else {
    if (!oracle) throw new Error(`case ${c.id}: data kind "${dd.kind}" has no exact oracle`);
    model = oracle;
  }
  return { schedule, train, test, model, range: train.range, d: sampleDim(train.shape), exact, seeds };
}
