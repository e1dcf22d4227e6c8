/**
 * The UNet benchmark with the batch split over W worker processes (wasm runs one thread per process).
 * Forward: each worker holds a replica and runs predictEps on its contiguous share of the batch, as sampling
 * does; the timing includes sending the inputs and returning the outputs. Training: the real data-parallel
 * trainer step (trainStepParallel: parameters out, shard gradients back, combination, clip, Adam and EMA in
 * the main process) on a synthetic data set of the configuration's image shape. Worker start-up and warm-up
 * iterations (2 forwards, 2 training steps) are not timed. The functions initForward/forwardShare run in the
 * workers.
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { WorkerPool } from '../core/parallel/workerPool.js';
import { createUNet, type UNet, type UNetConfig } from '../core/nn/unet.js';
import { NoiseSource } from '../core/rng.js';
import { parseTrainConfig } from '../core/train/config.js';
import { trainingData } from '../core/train/trainData.js';
import { BatchOrder, disposeState, initState, trainStepParallel } from '../core/train/trainer.js';
import { DataParallel, shardSizes } from '../core/train/dataParallel.js';
import { makeSchedule } from '../core/schedule.js';

const MODULE = fileURLToPath(import.meta.url);

// ---- worker side ----

let replica: UNet | null = null;

export function initForward(a: { config: UNetConfig }): number {
  replica?.dispose();
  replica = createUNet(a.config, 0);
  return replica.paramCount();
}

export function forwardShare(a: { x: Float32Array; shape: number[]; t: number[] }): Float32Array {
  if (!replica) throw new Error('initForward was not called');
  const net = replica;
  return tf.tidy(() => net.predictEps(tf.tensor(a.x, a.shape, 'float32'), a.t).dataSync() as Float32Array);
}

// ---- main process ----

export interface ParallelBenchResult {
  forwardImgPerSec: number;
  trainImgPerSec: number;
  /**
   * Images/s on an otherwise idle machine, estimated from CPU time: the main process and the workers take
   * turns (workers compute while the main process waits, then it combines and updates while they wait), so a
   * step lasts about mainCpu + max_k workerCpu_k. Null where /proc is unavailable.
   */
  forwardImgPerSecIdleEstimate: number | null;
  trainImgPerSecIdleEstimate: number | null;
}

interface Timing {
  /** mean wall-clock seconds per call */
  wall: number;
  /** mean critical-path CPU seconds per call (main process + busiest worker), or null */
  cpu: number | null;
}

/** CPU seconds (user + system) of processes from /proc/<pid>/stat (USER_HZ = 100), or null off Linux. */
function processCpuSeconds(pids: number[]): number[] | null {
  try {
    return pids.map((pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15 (utime, stime) of proc(5)
    });
  } catch {
    return null;
  }
}

async function timeCalls(iters: number, pids: number[], f: () => Promise<unknown>): Promise<Timing> {
  const w0 = processCpuSeconds(pids);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await f();
  const wall = (performance.now() - t0) / iters / 1000;
  const c = process.cpuUsage(c0);
  const w1 = processCpuSeconds(pids);
  if (!w0 || !w1) return { wall, cpu: null };
  const busiest = Math.max(...w1.map((x, k) => x - w0[k]));
  return { wall, cpu: ((c.user + c.system) / 1e6 + busiest) / iters };
}

/** Timing of predictEps on a batch split over `workers` replicas. */
export async function benchForwardParallel(config: UNetConfig, batch: number, iters: number, workers: number): Promise<Timing> {
  const pool = await WorkerPool.start({ size: workers, module: MODULE, backend: tf.getBackend(), name: 'bench worker' });
  let ok = false;
  try {
    await pool.all('initForward', Array(workers).fill({ config }));
    const noise = new NoiseSource(0);
    const ids = Array.from({ length: batch }, (_, i) => i);
    const shape = [config.imageSize, config.imageSize, config.inChannels];
    const x = noise.normal('bench:x', ids, shape);
    const xs = x.dataSync() as Float32Array;
    x.dispose();
    const u = noise.uniform('bench:t');
    const t = ids.map(() => Math.floor(u() * 1000));
    const d = shape.reduce((p, q) => p * q, 1);
    let off = 0;
    const shares = shardSizes(batch, workers).map((n) => {
      const share = { x: xs.slice(off * d, (off + n) * d), shape: [n, ...shape], t: t.slice(off, off + n) };
      off += n;
      return share;
    });
    const forward = () => pool.all<Float32Array>('forwardShare', shares);
    for (let i = 0; i < 2; i++) await forward(); // fresh processes: first calls set up wasm memory and kernels
    const timing = await timeCalls(iters, pool.pids, forward);
    ok = true;
    return timing;
  } finally {
    await pool.close({ force: !ok });
  }
}

/** Timing of the data-parallel trainer step (lr 2e-4, clip 1, EMA) on random +-1 images. */
export async function benchTrainParallel(config: UNetConfig, batch: number, iters: number, workers: number): Promise<Timing> {
  const c = parseTrainConfig({
    name: 'bench', seed: 1,
    data: { kind: 'rademacher', shape: [config.imageSize, config.imageSize, config.inChannels], n: Math.max(batch, 64) },
    arch: { kind: 'unet', config },
    schedule: { name: 'linear', N: 1000 },
    train: { steps: 1e9, batchSize: batch, lr: 2e-4, workers },
    out: '/nonexistent/bench-run',
  }, 'benchmark config');
  const data = await trainingData(c);
  const state = initState(c, data, () => {});
  const sch = makeSchedule(c.schedule.name, c.schedule.N);
  const order = new BatchOrder(data.size, c.seed);
  const dp = await DataParallel.start(workers);
  let ok = false;
  try {
    await dp.setNetwork(c.arch, c.seed, state.net);
    const step = () => trainStepParallel(state, c, sch, data, order, dp);
    for (let i = 0; i < 2; i++) await step();
    const timing = await timeCalls(iters, dp.pids, step);
    ok = true;
    return timing;
  } finally {
    await dp.close({ force: !ok });
    disposeState(state);
  }
}

export async function benchUNetParallel(config: UNetConfig, batch: number, iters: number, workers: number): Promise<ParallelBenchResult> {
  const fw = await benchForwardParallel(config, batch, iters, workers);
  const tr = await benchTrainParallel(config, batch, iters, workers);
  return {
    forwardImgPerSec: batch / fw.wall,
    trainImgPerSec: batch / tr.wall,
    forwardImgPerSecIdleEstimate: fw.cpu === null ? null : batch / fw.cpu,
    trainImgPerSecIdleEstimate: tr.cpu === null ? null : batch / tr.cpu,
  };
}
