/**
 * Sampling a checkpoint, as a function of the sample ids so that it can be split over worker processes: each
 * sample's x_T and step noise come from its own keyed streams, so the images do not depend on the split.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork } from '../core/train/checkpoint.js';
import { makeSchedule } from '../core/schedule.js';
import { evenTrajectory, quadTrajectory } from '../core/trajectory.js';
import { sampleRows, samplerByName } from '../core/sampler.js';
import { anyVarianceRule } from '../core/variances.js';
import { NoiseSource } from '../core/rng.js';
import { deal, forkTasks, undealRows } from '../core/parallel/forkTask.js';

export const SAMPLE_TASKS_MODULE = fileURLToPath(import.meta.url);

export interface SampleJob {
  checkpoint: string;
  raw?: boolean;
  sampler: string;
  variance: string;
  K: number;
  trajectory: 'even' | 'quad';
  eta: number;
  clipPixel: number;
  seed: number;
  msEps?: number[];
  batch: number;
  ids: number[];
}

/** Samples for the job's ids as one float32 array [ids.length, ...shape] (row-major). */
export function sampleShare(job: SampleJob, progress: (done: number) => void = () => {}): { shape: number[]; values: Float32Array } {
  const { net, manifest } = loadNetwork(job.checkpoint, { raw: job.raw });
  try {
    const sch = makeSchedule(manifest.schedule.name, manifest.schedule.N);
    const trajectory = job.trajectory === 'quad' ? quadTrajectory(sch.N, job.K) : evenTrajectory(sch.N, job.K);
    const variance = anyVarianceRule(job.variance, { msEps: job.msEps, range: [-1, 1] });
    const values = sampleRows(samplerByName(job.sampler), {
      model: net, schedule: sch, trajectory, variance, range: [-1, 1], noise: new NoiseSource(job.seed), eta: job.eta, clipPixel: job.clipPixel,
    }, job.ids, job.batch, progress);
    return { shape: [job.ids.length, ...net.shape], values };
  } finally {
    net.dispose();
  }
}

/** Sample all ids, in this process (workers <= 1) or split over worker processes. */
export async function sampleParallel(job: SampleJob, workers: number, backend: string, progress: (done: number) => void = () => {}): Promise<tf.Tensor> {
  if (workers <= 1) {
    const r = sampleShare(job, progress);
    return tf.tensor(r.values, r.shape);
  }
  const shares = deal(job.ids, workers);
  const parts = await forkTasks<{ shape: number[]; values: Float32Array }>(
    shares.map((ids) => ({ module: SAMPLE_TASKS_MODULE, fn: 'sampleShare', args: { ...job, ids }, backend })), progress);
  const d = parts[0].values.length / parts[0].shape[0];
  return tf.tensor(undealRows(job.ids, shares, parts.map((p) => p.values), d), [job.ids.length, ...parts[0].shape.slice(1)]);
}
