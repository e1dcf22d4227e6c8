/**
 * One share of a case's per-timestep work, runnable in a worker process: the case is rebuilt from its
 * declarative spec and the root seed (data, model and noise are deterministic), and every (t, sample) draw is
 * keyed by its own noise stream, so the result does not depend on how the timesteps are split.
 */
import { fileURLToPath } from 'node:url';
import { NoiseSource } from '../core/rng.js';
import { computeNllStats, type PixelJump, type TermStats } from '../core/likelihood/termStats.js';
import { estimateMsEps, type MsEpsArtifact } from '../estimators/msEps.js';
import { buildCase, type CaseSetup } from './caseSetup.js';
import type { CaseSpec, MethodSpec } from './schema.js';
import { anyVarianceRule } from '../core/variances.js';
import { sampleRows, samplerByName } from '../core/sampler.js';
import { epsNetworkOf } from '../core/nn/headedNet.js';

export const CASE_TASKS_MODULE = fileURLToPath(import.meta.url);

export interface CaseShare {
  case: CaseSpec;
  rootSeed: number;
  trainHash: string;
  testHash: string;
  timesteps: number[];
  ids?: number[];
  includeDecoder?: boolean;
  /** per-pixel jumps (sn / npr) whose KLs this share evaluates (their t must be in `timesteps`) */
  pixelJumps?: PixelJump[];
}

async function rebuild(share: CaseShare): Promise<CaseSetup> {
  const setup = await buildCase(share.case, share.rootSeed);
  if (setup.train.hash !== share.trainHash || setup.test.hash !== share.testHash) {
    throw new Error(`worker rebuilt different data for case ${share.case.id} (hash mismatch)`);
  }
  return setup;
}

/** The msEps artifact of the case with estimates at share.timesteps only (zeros elsewhere). */
export async function msEpsShare(share: CaseShare, progress: (done: number) => void): Promise<MsEpsArtifact> {
  const setup = await rebuild(share);
  const c = share.case;
  return estimateMsEps({
    model: epsNetworkOf(setup.model), schedule: setup.schedule, data: setup.train, M: c.msEps.M, seed: setup.seeds.msEps,
    batchSize: c.msEps.batchSize, estimator: c.msEps.estimator, timesteps: share.timesteps, onProgress: progress,
  });
}

export async function nllStatsShare(share: CaseShare, progress: (done: number) => void): Promise<{ prior: Float64Array; decoder: Float64Array; terms: Map<number, TermStats>; pixelTerms: Map<string, Float64Array> }> {
  const setup = await rebuild(share);
  const stats = computeNllStats({
    model: setup.model, schedule: setup.schedule, data: setup.test, ids: share.ids!, timesteps: share.timesteps, pixelJumps: share.pixelJumps,
    noise: new NoiseSource(setup.seeds.nll), batchSize: share.case.nll.batchSize, includeDecoder: share.includeDecoder, onProgress: progress,
  });
  return { prior: stats.prior, decoder: stats.decoder, terms: stats.terms, pixelTerms: stats.pixelTerms ?? new Map() };
}

export interface CaseSampleShare extends CaseShare {
  method: MethodSpec;
  steps: number[];
  msEps: number[];
  batchSize: number;
}

/** Samples of one method on a trajectory for the given sample ids: [ids.length, ...shape] as float32 rows. */
export async function caseSampleShare(share: CaseSampleShare, progress: (done: number) => void = () => {}): Promise<{ shape: number[]; values: Float32Array }> {
  return sampleCase(await rebuild(share), share, progress);
}

export function sampleCase(setup: CaseSetup, share: Omit<CaseSampleShare, 'case' | 'rootSeed' | 'trainHash' | 'testHash' | 'timesteps'>, progress: (done: number) => void = () => {}): { shape: number[]; values: Float32Array } {
  const m = share.method;
  const ids = share.ids!;
  const values = sampleRows(samplerByName(m.sampler), {
    model: setup.model, schedule: setup.schedule, trajectory: share.steps, variance: anyVarianceRule(m.variance, { msEps: share.msEps, range: setup.range }),
    range: setup.range, noise: new NoiseSource(setup.seeds.sample), eta: m.eta, clipPixel: m.clipPixel ?? 0,
  }, ids, share.batchSize, progress);
  return { shape: [ids.length, ...setup.train.shape], values };
}
