/**
 * The simple eps loss of DDPM (Ho et al. 2020, Algorithm 1): t ~ U{1..N}, eps ~ N(0, I),
 * L = ||eps - eps_theta(sqrt(abar_t) x0 + sqrt(bbar_t) eps, t)||^2 / d, minimised by Adam with linear warmup,
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

/** One optimisation step; returns the loss and the gradient norm before clipping. */
export function trainStep(state: TrainState, c: TrainConfig, sch: Schedule, data: Dataset, order: BatchOrder): { loss: number; gradNorm: number } {
  const { net, step } = state;
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
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
    const out = net.apply(xt, ts, { training: true, dropoutSeed, labels });
    return tf.mean(tf.square(tf.sub(eps, out))) as tf.Scalar;
  }), [...net.params.values()]);
  tf.dispose([x0, eps, xt]);
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of net.params) byName[name] = grads[v.name];
  const clipped = clipByGlobalNorm(byName, c.train.gradClip);
  state.adam.update(net.params, clipped.grads, learningRate(c, step));
  state.ema.update(net.params);
  tf.dispose(Object.values(clipped.grads));
  const loss = value.dataSync()[0];
  value.dispose();
  state.step += 1;
  return { loss, gradNorm: clipped.norm };
}

/** Labels for class-conditional nets, with the null class substituted with probability classDropout. */
function trainingLabels(data: Dataset, idx: number[], c: TrainConfig, step: number): number[] | undefined {
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
  const adam = new Adam(net.params);
  const ema = new Ema(net.params, c.train.emaDecay);
  const state: TrainState = { net, adam, ema, step: 0 };
  if (existsSync(join(dir, 'latest.json'))) {
    const ck = readCheckpoint(dir);
    const m = ck.manifest;
    const mismatch = JSON.stringify(m.arch) !== JSON.stringify(c.arch) ? 'arch' : m.seed !== c.seed ? 'seed'
      : m.data?.hash !== data.hash ? 'data' : JSON.stringify(m.schedule) !== JSON.stringify(c.schedule) ? 'schedule' : null;
    if (mismatch) throw new Error(`run directory ${dir} holds a checkpoint with a different ${mismatch}; use another "out" or delete it`);
    assignGroup(net.params, ck.groups.params, `checkpoint ${ck.dir} (params)`);
    assignGroup(ema.shadow, ck.groups.ema, `checkpoint ${ck.dir} (ema)`);
    assignGroup(adam.m, ck.groups['adam.m'], `checkpoint ${ck.dir} (adam.m)`);
    assignGroup(adam.v, ck.groups['adam.v'], `checkpoint ${ck.dir} (adam.v)`);
    adam.step = m.adam?.step ?? m.step;
    state.step = m.step;
    log(`resumed from ${ck.dir} at step ${m.step}`);
  }
  return state;
}

/** Write step-XXXXXXX/ with params, EMA and optimiser state, then point latest.json at it. */
export function saveState(state: TrainState, c: TrainConfig, data: Dataset): string {
  const dir = runDir(c);
  const name = `step-${String(state.step).padStart(7, '0')}`;
  writeCheckpoint(join(dir, name), {
    arch: c.arch, schedule: c.schedule, timestepInput: 'n', step: state.step, seed: c.seed,
    data: { name: data.name, hash: data.hash }, ema: { decay: c.train.emaDecay },
    adam: { step: state.adam.step, beta1: state.adam.beta1, beta2: state.adam.beta2, eps: state.adam.eps },
    training: c as unknown as Record<string, unknown>,
  }, { params: state.net.params, ema: state.ema.shadow, 'adam.m': state.adam.m, 'adam.v': state.adam.v });
  markLatest(dir, name, c.train.keep);
  return join(dir, name);
}

/** The shippable model: EMA weights only, as the `params` group of a checkpoint in <run>/model. */
export function exportEma(state: TrainState, c: TrainConfig, data: Dataset): string {
  const out = join(runDir(c), 'model');
  writeCheckpoint(out, {
    arch: c.arch, schedule: c.schedule, timestepInput: 'n', step: state.step, seed: c.seed,
    data: { name: data.name, hash: data.hash }, ema: null, adam: null,
    training: { ...c, exported: 'ema weights' } as unknown as Record<string, unknown>,
  }, { params: state.ema.shadow });
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
  try {
    while (state.step < end && !stop) {
      const { loss, gradNorm } = trainStep(state, c, sch, data, order);
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
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return state;
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
