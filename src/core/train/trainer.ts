/**
 * The simple eps loss of DDPM (Ho et al. 2020, Algorithm 1): t ~ U{1..N}, eps ~ N(0, I),
 * L = ||eps - eps_theta(sqrt(abar_t) x0 + sqrt(bbar_t) eps, t)||^2 / d (or, for arch kind "heads", the variance-head
 * losses of Extended-Analytic-DPM on a frozen backbone: headLoss.ts), minimised by Adam with linear warmup,
 * global-norm gradient clipping and an EMA of the weights. Every random choice (data order, t, eps, dropout,
 * label dropout) is keyed by (seed, step), so a run resumed from a checkpoint continues exactly as if it had
 * never stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { LabeledDataset } from '../data/labeled.js';
import { makeSchedule, type Schedule } from '../schedule.js';
import { NoiseSource, deriveSeed, permutation, sfc32 } from '../rng.js';
import { qSample } from '../forward.js';
import { createNetwork, type TrainableNet } from '../nn/network.js';
import { Adam } from './adam.js';
import { Ema } from './ema.js';
import { clipByGlobalNorm } from './gradClip.js';
import { assignGroup, markLatest, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { DataParallel, shardSizes } from './dataParallel.js';
import { HeadedNet, checkBackbone } from '../nn/headedNet.js';
import { headLossAndGrads } from './headLoss.js';
import { namedGrads } from './namedGrads.js';
import { NoisyClassifierNet } from '../nn/noisyClassifier.js';
import { classifierLabels, classifierLossAndGrads } from './classifierLoss.js';

export interface TrainState {
  net: TrainableNet;
  adam: Adam;
  ema: Ema;
  step: number;
}

export interface TrainOptions {
  /** stop after this many steps in this call (for tests and time-boxed runs); default: run to config.train.steps */
  maxSteps?: number;
  log?: (m: string) => void;
  /** called once the data-parallel workers run (config.train.workers > 1), with their process ids */
  onWorkers?: (pids: number[]) => void;
  /**
   * data-parallel workers started by the caller (DataParallel.start(train.workers)), e.g. to reuse them over
   * several runs; train() rebuilds their replicas for this config and leaves them running. Default: train()
   * starts its own when train.workers > 1 and ends them when it returns or fails.
   */
  dataParallel?: DataParallel;
}

/** Data indices of the batch at `step`: the k-th sample overall comes from epoch floor(k/n) of seeded permutations. */
export class BatchOrder {
  private epoch = -1;
  private perm: number[] = [];
  constructor(private readonly n: number, private readonly seed: number) {}

  indices(step: number, B: number): number[] {
    return Array.from({ length: B }, (_, j) => {
      const k = step * B + j;
      const e = Math.floor(k / this.n);
      if (e !== this.epoch) {
        this.epoch = e;
        this.perm = permutation(this.n, sfc32(deriveSeed(this.seed, 'order', e)));
      }
      return this.perm[k % this.n];
    });
  }
}

/** Learning rate at a step: linear warmup to lr over `warmup` steps, then constant. */
export function learningRate(c: TrainConfig, step: number): number {
  return c.train.warmup > 0 ? c.train.lr * Math.min(1, (step + 1) / c.train.warmup) : c.train.lr;
}

/** The per-example inputs of the step's batch: x_t, its noise eps, timesteps, labels and the dropout seed. */
export interface BatchInputs {
  xt: tf.Tensor;
  eps: tf.Tensor;
  ts: number[];
  labels?: number[];
  dropoutSeed: number;
}

/**
 * The batch of `step`: data rows, t, eps and labels are keyed per example (row j of step s); the dropout masks
 * are one stream per step (seed `dropoutSeed`) drawn over the whole activation tensors in row-major order.
 */
export function batchInputs(step: number, c: TrainConfig, sch: Schedule, data: Dataset, order: BatchOrder): BatchInputs {
  const B = c.train.batchSize;
  const idx = order.indices(step, B);
  const u = sfc32(deriveSeed(c.seed, 't', step));
  const ts = idx.map(() => 1 + Math.floor(u() * sch.N));
  const labels = trainingLabels(data, idx, c, step);
  const dropoutSeed = deriveSeed(c.seed, 'dropout', step);
  const noise = new NoiseSource(c.seed);
  const x0 = data.rows(idx);
  const eps = noise.normal(`train:${step}`, idx.map((_, j) => j), data.shape);
  const xt = qSample(sch, x0, ts, eps);
  x0.dispose();
  return { xt, eps, ts, labels, dropoutSeed };
}

/**
 * The eps loss (mean over the batch and dimensions) and its gradients by parameter name; parameters the loss
 * does not reach have no entry. Used in-process and, on shards, by the data-parallel replicas.
 */
export function lossAndGrads(net: TrainableNet, b: BatchInputs): { loss: number; grads: Record<string, tf.Tensor> } {
  if (net instanceof HeadedNet) return headLossAndGrads(net, b);
  if (net instanceof NoisyClassifierNet) return classifierLossAndGrads(net, b);
  return namedGrads(net.params, () => {
    const out = net.apply(b.xt, b.ts, { training: true, dropoutSeed: b.dropoutSeed, labels: b.labels });
    return tf.mean(tf.square(tf.sub(b.eps, out))) as tf.Scalar;
  });
}

/** Clip, Adam, EMA and step += 1 (disposes `grads`); returns the gradient norm before clipping. */
export function applyUpdate(state: TrainState, c: TrainConfig, grads: Record<string, tf.Tensor>): number {
  const clipped = clipByGlobalNorm(grads, c.train.gradClip);
  state.adam.update(state.net.params, clipped.grads, learningRate(c, state.step));
  state.ema.update(state.net.params);
  tf.dispose(Object.values(clipped.grads));
  state.step += 1;
  return clipped.norm;
}

/** One optimisation step in this process; returns the loss and the gradient norm before clipping. */
export function trainStep(state: TrainState, c: TrainConfig, sch: Schedule, data: Dataset, order: BatchOrder): { loss: number; gradNorm: number } {
  const b = batchInputs(state.step, c, sch, data, order);
  const { loss, grads } = lossAndGrads(state.net, b);
  tf.dispose([b.xt, b.eps]);
  return { loss, gradNorm: applyUpdate(state, c, grads) };
}

/** One optimisation step with the batch split over the replicas of `dp` (same result up to float32 summation order). */
export async function trainStepParallel(state: TrainState, c: TrainConfig, sch: Schedule, data: Dataset, order: BatchOrder, dp: DataParallel): Promise<{ loss: number; gradNorm: number }> {
  const b = batchInputs(state.step, c, sch, data, order);
  let r: Awaited<ReturnType<DataParallel['lossAndGrads']>>;
  try {
    r = await dp.lossAndGrads(state.net, b);
  } finally {
    tf.dispose([b.xt, b.eps]);
  }
  return { loss: r.loss, gradNorm: applyUpdate(state, c, r.grads) };
}

/** Labels for class-conditional nets, with the null class substituted with probability classDropout. */
function trainingLabels(data: Dataset, idx: number[], c: TrainConfig, step: number): number[] | undefined {
  if (c.arch.kind === 'noisy-classifier') return classifierLabels(data, idx, c.arch.config.numClasses, c.name);
  const classes = c.arch.kind === 'unet' ? c.arch.config.numClasses : null;
  if (!classes) return undefined;
  const labels = (data as LabeledDataset).labels;
  if (!labels) throw new Error(`training config ${c.name}: arch.config.numClasses is set but data ${data.name} has no labels`);
  const u = sfc32(deriveSeed(c.seed, 'label-dropout', step));
  return idx.map((i) => (u() < c.train.classDropout ? classes : labels[i]));
}

export function runDir(c: TrainConfig): string {
  return c.out ?? join('runs', c.name);
}

/** A fresh state, or the state of the latest checkpoint in the run directory. */
export function initState(c: TrainConfig, data: Dataset, log: (m: string) => void): TrainState {
  const dir = runDir(c);
  const net = createNetwork(c.arch, c.seed);
  try {
    checkHeadsRun(net, c, data);
  } catch (e) {
    net.dispose();
    throw e;
  }
  const adam = new Adam(net.params);
  const ema = new Ema(net.params, c.train.emaDecay);
  const state: TrainState = { net, adam, ema, step: 0 };
  if (existsSync(join(dir, 'latest.json'))) {
    const ck = readCheckpoint(dir);
    const m = ck.manifest;
    const mismatch = JSON.stringify(m.arch) !== JSON.stringify(c.arch) ? 'arch' : m.seed !== c.seed ? 'seed'
      : m.data?.hash !== data.hash ? 'data' : JSON.stringify(m.schedule) !== JSON.stringify(c.schedule) ? 'schedule' : null;
    if (mismatch) throw new Error(`run directory ${dir} holds a checkpoint with a different ${mismatch}; use another "out" or delete it`);
    checkBackbone(net, m.backbone, `run directory ${dir}`);
    assignGroup(net.params, ck.groups.params, `checkpoint ${ck.dir} (params)`);
    assignGroup(ema.shadow, ck.groups.ema, `checkpoint ${ck.dir} (ema)`);
    assignGroup(adam.m, ck.groups['adam.m'], `checkpoint ${ck.dir} (adam.m)`);
    assignGroup(adam.v, ck.groups['adam.v'], `checkpoint ${ck.dir} (adam.v)`);
    adam.step = m.adam?.step ?? m.step;
    state.step = m.step;
    log(`resumed from ${ck.dir} at step ${m.step}`);
    noteWorkerChange(m.training, c, log);
  }
  return state;
}

/** Resuming with another worker count is allowed, but the run is then not bit-identical to an uninterrupted one. */
function noteWorkerChange(training: unknown, c: TrainConfig, log: (m: string) => void): void {
  const before = (training as { train?: { workers?: number } } | undefined)?.train?.workers ?? 1;
  if (before === c.train.workers) return;
  log(`note: the checkpoint was written with ${before} training worker(s) and this run uses ${c.train.workers}: ` +
    'the continuation is equivalent, but not bit-identical to an uninterrupted run with either count');
}

/** The manifest's `backbone` field of a heads network (empty for eps-networks). */
function backboneOf(net: TrainableNet): { backbone?: HeadedNet['backboneRef'] } {
  return net instanceof HeadedNet ? { backbone: net.backboneRef } : {};
}

/** Heads must be trained with their backbone's schedule and data shape. */
function checkHeadsRun(net: TrainableNet, c: TrainConfig, data: Dataset): void {
  if (!(net instanceof HeadedNet)) return;
  const where = `training config ${c.name}: arch.config.backbone ${net.backboneRef.path}`;
  const bs = net.backboneSchedule;
  if (bs.name !== c.schedule.name || bs.N !== c.schedule.N) {
    throw new Error(`${where} was trained with schedule ${bs.name} N=${bs.N}, the config's "schedule" is ${c.schedule.name} N=${c.schedule.N}; use the backbone's`);
  }
  if (net.shape.join() !== data.shape.join()) throw new Error(`${where} takes samples of shape [${net.shape}], the data ${data.name} have [${data.shape}]`);
}

/** Write step-XXXXXXX/ with params, EMA and optimiser state, then point latest.json at it. */
export function saveState(state: TrainState, c: TrainConfig, data: Dataset): string {
  const dir = runDir(c);
  const name = `step-${String(state.step).padStart(7, '0')}`;
  writeCheckpoint(join(dir, name), {
    arch: c.arch, schedule: c.schedule, timestepInput: 'n', step: state.step, seed: c.seed, ...backboneOf(state.net),
    data: { name: data.name, hash: data.hash }, ema: { decay: c.train.emaDecay },
    adam: { step: state.adam.step, beta1: state.adam.beta1, beta2: state.adam.beta2, eps: state.adam.eps },
    training: c as unknown as Record<string, unknown>,
  }, { params: state.net.params, ema: state.ema.shadow, 'adam.m': state.adam.m, 'adam.v': state.adam.v });
  markLatest(dir, name, c.train.keep);
  return join(dir, name);
}

/**
 * The shippable model: the EMA weights (default) or the raw weights (`weights: 'raw'`, e.g. when a short run's EMA
 * still carries a visible share of the initial weights: decay^step), as the `params` group of <run>/model.
 */
export function exportEma(state: TrainState, c: TrainConfig, data: Dataset, weights: 'ema' | 'raw' = 'ema'): string {
  const out = join(runDir(c), 'model');
  writeCheckpoint(out, {
    arch: c.arch, schedule: c.schedule, timestepInput: 'n', step: state.step, seed: c.seed, ...backboneOf(state.net),
    data: { name: data.name, hash: data.hash }, ema: null, adam: null,
    training: { ...c, exported: `${weights} weights` } as unknown as Record<string, unknown>,
  }, { params: weights === 'ema' ? state.ema.shadow : state.net.params });
  return out;
}

/** Loss log rows after `step` are dropped on resume, so the CSV always matches the checkpoint. */
function prepareLossLog(path: string, step: number): void {
  if (!existsSync(path)) {
    writeFileSync(path, 'step,loss,grad_norm,lr,seconds\n');
    return;
  }
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const keep = [lines[0], ...lines.slice(1).filter((l) => Number(l.split(',')[0]) <= step)];
  writeFileSync(path, keep.join('\n') + '\n');
}

/** Train until config.train.steps (or maxSteps more), checkpointing periodically and on SIGINT/SIGTERM. */
export async function train(c: TrainConfig, data: Dataset, opts: TrainOptions = {}): Promise<TrainState> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const dir = runDir(c);
  mkdirSync(dir, { recursive: true });
  const sch = makeSchedule(c.schedule.name, c.schedule.N);
  const state = initState(c, data, log);
  const order = new BatchOrder(data.size, c.seed);
  const lossLog = join(dir, 'loss.csv');
  prepareLossLog(lossLog, state.step);
  const end = Math.min(c.train.steps, opts.maxSteps === undefined ? Infinity : state.step + opts.maxSteps);
  const dp = await workersFor(c, opts, log);
  const ownWorkers = dp !== null && dp !== opts.dataParallel;
  let stop = false;
  const onSignal = () => {
    stop = true;
    log('signal received: checkpointing after the current step');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  const startStep = state.step;
  let acc = 0;
  let accN = 0;
  let ok = false;
  try {
    if (dp) {
      await dp.setNetwork(c.arch, c.seed, state.net);
      opts.onWorkers?.(dp.pids);
    }
    while (state.step < end && !stop) {
      await yieldToEventLoop(); // lets a SIGINT/SIGTERM handler run between steps
      const { loss, gradNorm } = dp ? await trainStepParallel(state, c, sch, data, order, dp) : trainStep(state, c, sch, data, order);
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${state.step}: loss = ${loss}`);
      acc += loss;
      accN += 1;
      appendFileSync(lossLog, `${state.step},${loss},${gradNorm},${learningRate(c, state.step - 1)},${((Date.now() - t0) / 1000).toFixed(2)}\n`);
      if (state.step % c.train.logEvery === 0 || state.step === end) {
        const el = (Date.now() - t0) / 1000;
        const rate = (state.step - startStep) / el;
        const eta = (c.train.steps - state.step) / rate;
        log(`step ${state.step}/${c.train.steps} loss ${(acc / accN).toFixed(5)} ${rate.toFixed(2)} steps/s ${(rate * c.train.batchSize).toFixed(1)} img/s eta ${formatEta(eta)}`);
        acc = 0;
        accN = 0;
      }
      if (state.step % c.train.checkpointEvery === 0) saveState(state, c, data);
    }
    if (state.step % c.train.checkpointEvery !== 0) saveState(state, c, data);
    if (state.step >= c.train.steps) log(`done: EMA model written to ${exportEma(state, c, data)}`);
    else log(`stopped at step ${state.step}; run the same command again to resume`);
    ok = true;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ownWorkers) await dp.close({ force: !ok });
  }
  return state;
}

/** The caller's workers (checked against train.workers), new ones when train.workers > 1, else null. */
async function workersFor(c: TrainConfig, opts: TrainOptions, log: (m: string) => void): Promise<DataParallel | null> {
  const W = c.train.workers;
  if (opts.dataParallel) {
    if (opts.dataParallel.workers !== W) throw new Error(`train: options.dataParallel has ${opts.dataParallel.workers} workers but train.workers is ${W}`);
    return opts.dataParallel;
  }
  if (W === 1) return null;
  const t0 = Date.now();
  const dp = await DataParallel.start(W);
  log(`data parallel: ${W} worker processes (pids ${dp.pids.join(', ')}), shards of ${shardSizes(c.train.batchSize, W).join('+')} rows, started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dp;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function formatEta(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function disposeState(s: TrainState): void {
  s.net.dispose();
  s.adam.dispose();
  s.ema.dispose();
}
