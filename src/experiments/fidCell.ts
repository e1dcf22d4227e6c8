/**
 * The fid metric of a cell: draw fid.samples samples with the cell's sampler, variance and trajectory (sample i
 * uses the noise streams of id i in every cell: common random numbers), fit a Gaussian to their features and
 * take the Frechet distance to the reference split (Heusel et al. 2017). Features: the shipped MNIST classifier
 * for MNIST, raw coordinates for toy data. Optionally writes a PNG grid of the first samples.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CaseSpec } from './schema.js';
import type { CaseSetup } from './caseSetup.js';
import type { Cell } from './cells.js';
import { CASE_TASKS_MODULE, sampleCase, type CaseSampleShare } from './caseTasks.js';
import { deal, forkTasks, type TaskRequest } from '../core/parallel/forkTask.js';
import { gaussianStats, type GaussianStats } from '../estimators/fid/gaussianStats.js';
import { frechetDistanceStats } from '../estimators/fid/frechet.js';
import { mnistFeatureStats, mnistReferenceStats } from '../estimators/fid/mnistFid.js';
import { writePngGrid } from '../core/image/pngGrid.js';
import type { Dataset } from '../core/data/dataset.js';

/** Largest dimension for which raw coordinates serve as features. */
const RAW_FEATURE_MAX_DIM = 512;

export interface FidContext {
  workers: number;
  shareBase: Omit<CaseSampleShare, 'method' | 'steps' | 'msEps' | 'batchSize' | 'timesteps' | 'ids'>;
  task: (fn: string, args: CaseSampleShare) => TaskRequest;
  outDir: string;
  progress: (done: number, total: number) => void;
}

function featureStats(c: CaseSpec, setup: CaseSetup, images: tf.Tensor | Dataset): GaussianStats {
  if (c.data.kind === 'mnist') return mnistFeatureStats(images);
  if (setup.d > RAW_FEATURE_MAX_DIM) throw new Error(`case ${c.id}: fid on raw coordinates needs d <= ${RAW_FEATURE_MAX_DIM} (d = ${setup.d})`);
  if (images instanceof tf.Tensor) return gaussianStats(images.dataSync() as Float32Array, setup.d);
  const all = images.rows(Array.from({ length: images.size }, (_, i) => i));
  const st = gaussianStats(all.dataSync() as Float32Array, setup.d);
  all.dispose();
  return st;
}

/** Gaussian statistics of the reference split (computed once per case and process). */
export function referenceStats(c: CaseSpec, setup: CaseSetup): GaussianStats {
  const split = c.fid?.reference ?? 'train';
  if (c.data.kind === 'mnist') return mnistReferenceStats(split);
  return featureStats(c, setup, split === 'train' ? setup.train : setup.test);
}

/** Sample the cell (in this process or over workers) and return its FID against `ref`. */
export async function fidOfCell(c: CaseSpec, setup: CaseSetup, cell: Cell, msEps: number[], ref: GaussianStats, ctx: FidContext): Promise<{ fid: number; n: number }> {
  const fid = c.fid!;
  const ids = Array.from({ length: fid.samples }, (_, i) => i);
  const job = { method: cell.method, steps: cell.steps, msEps, batchSize: fid.batchSize };
  let values: Float32Array;
  if (ctx.workers <= 1) {
    values = sampleCase(setup, { ...job, ids }, (d) => ctx.progress(d, ids.length)).values;
  } else {
    const shares = deal(ids, ctx.workers);
    const parts = await forkTasks<{ values: Float32Array }>(
      shares.map((sh) => ctx.task('caseSampleShare', { ...ctx.shareBase, ...job, timesteps: [], ids: sh })), (d) => ctx.progress(d, ids.length));
    values = new Float32Array(ids.length * setup.d);
    shares.forEach((sh, k) => sh.forEach((id, j) => values.set(parts[k].values.subarray(j * setup.d, (j + 1) * setup.d), id * setup.d)));
  }
  const images = tf.tensor(values, [ids.length, ...setup.train.shape]);
  try {
    if (c.grid && setup.train.shape.length === 3) {
      const slug = `${cell.method.label.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}-K${cell.K}`;
      const first = images.slice(0, Math.min(c.grid.n, ids.length));
      await writePngGrid(join(ctx.outDir, 'grids', c.id, `${slug}.png`), first);
      first.dispose();
    }
    return { fid: frechetDistanceStats(featureStats(c, setup, images), ref), n: ids.length };
  } finally {
    images.dispose();
  }
}
