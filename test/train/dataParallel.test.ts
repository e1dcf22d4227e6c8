/**
 * Data-parallel training (train.workers > 1) against the in-process trainer.
 *
 * Tolerances. With W workers the batch gradient is sum_k (n_k/B) g_k instead of one reduction over the B rows,
 * so every gradient element is the same sum of float32 terms in another order: a relative difference of a few
 * float32 ulps (2^-24 ~ 6e-8 each). The loss and the gradient norm before clipping (both logged per step) are
 * compared with a relative tolerance of 1e-5 (observed ~2e-7): sharding mistakes such as an unweighted mean of
 * the shard means with shards of 4 and 3 rows (off by (L1 - L2)/14), a lost shard or a sum instead of a mean
 * change them by percents. Adam maps a relative gradient change d into a step change of at most about lr * d,
 * so 12 steps at lr = 3e-3 move weights of magnitude <= 0.3 (ulp 3e-8) by ~1e-7 (observed 1.2e-7); the
 * weights are compared with an absolute tolerance of 1e-6, which is still 3000 times below one Adam step.
 * The tiny MLP is used because every parameter has a genuine gradient: in the tiny UNet, GroupNorm over
 * 8 channels in 8 groups cancels conv biases and the timestep projections and the key bias cancels in the
 * softmax, so those gradients are pure rounding noise that Adam normalises to steps of +-lr whose sign depends on
 * the summation order (any change of batch split, backend or kernel does that, with or without workers).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withWorkers } from '../../src/core/train/config.js';
import { tinyConfig } from './tinyConfig.js';
import { trainingData } from '../../src/core/train/trainData.js';
import { train, disposeState } from '../../src/core/train/trainer.js';
import { loadNetwork } from '../../src/core/train/checkpoint.js';
import { DataParallel, combineShards, shardSizes, type ShardResult } from '../../src/core/train/dataParallel.js';
import type { Dataset } from '../../src/core/data/dataset.js';


const tmp = () => mkdtempSync(join(tmpdir(), 'dp-'));

function rawWeights(runDir: string): Float32Array[] {
  const { net } = loadNetwork(runDir, { raw: true });
  const w = [...net.params.values()].map((v) => v.dataSync() as Float32Array);
  net.dispose();
  return w;
}

/** Columns of loss.csv (step, loss, grad_norm, lr, seconds) as numbers. */
function lossLog(runDir: string): number[][] {
  return readFileSync(join(runDir, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live worker-pool processes that are children of this process (Linux /proc; empty elsewhere). */
function poolChildren(): number[] {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  return dirs.filter((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(ppid) === process.pid && state !== 'Z' && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('poolWorker');
    } catch {
      return false;
    }
  }).map(Number);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

describe('data-parallel training', function () {
  this.timeout(120000);
  let mlpData: Dataset;
  let childrenBefore: number[];
  before(async () => {
    mlpData = await trainingData(tinyConfig('/unused'));
    childrenBefore = poolChildren();
  });
  after(() => {
    expect(poolChildren().filter((p) => !childrenBefore.includes(p)), 'leaked child processes').to.deep.equal([]);
  });

  it('splits a batch into contiguous shards and weights their means by shard size', () => {
    expect(shardSizes(8, 3)).to.deep.equal([3, 3, 2]);
    expect(shardSizes(32, 2)).to.deep.equal([16, 16]);
    expect(() => shardSizes(4, 5)).to.throw(/workers must be an integer in 1..4/);
    const shard = (loss: number, g: number[]): ShardResult => ({ loss, grads: Float32Array.from(g), present: Uint8Array.from([1, 1]) });
    const layout = { names: ['a', 'b'], shapes: [[1], [1]] };
    const c = combineShards([shard(1, [3, 0]), shard(4, [0, 6])], [3, 1], layout);
    expect(c.loss).to.equal(1.75); // (3*1 + 1*4) / 4
    expect(Array.from(c.grads.a)).to.deep.equal([2.25]);
    expect(Array.from(c.grads.b)).to.deep.equal([1.5]);
  });

  it('validates train.workers and --workers with errors naming the field or flag', () => {
    expect(tinyConfig('/x').train.workers).to.equal(1);
    expect(() => tinyConfig('/x', { workers: 9 })).to.throw(/tiny.json: field "train.workers": must be an integer in 1..8 \(train.batchSize\), got 9/);
    expect(() => tinyConfig('/x', { workers: 0 })).to.throw(/field "train.workers"/);
    expect(() => tinyConfig('/x', { workers: 1.5 })).to.throw(/field "train.workers"/);
    expect(() => withWorkers(tinyConfig('/x'), 9)).to.throw(/--workers: must be an integer in 1..8 \(train.batchSize\), got 9/);
    expect(withWorkers(tinyConfig('/x'), 2).train.workers).to.equal(2);
  });

  it('with 2 workers (uneven shards of 4+3 rows), losses, gradient norms and weights match the in-process run to float32 rounding', async () => {
    const one = tmp();
    const two = tmp();
    disposeState(await train(tinyConfig(one, { batchSize: 7 }), mlpData, { log: () => {} }));
    let pids: number[] = [];
    disposeState(await train(tinyConfig(two, { batchSize: 7, workers: 2 }), mlpData, { log: () => {}, onWorkers: (p) => { pids = p; } }));
    expect(pids).to.have.length(2);
    expect(pids.filter(alive), 'workers still running after train()').to.deep.equal([]);
    const [l1, l2] = [lossLog(one), lossLog(two)];
    expect(l2.map((r) => r[0])).to.deep.equal(l1.map((r) => r[0]));
    l1.forEach((r, i) => {
      expect(relDiff(l2[i][1], r[1]), `loss at step ${r[0]}`).to.be.below(1e-5);
      expect(relDiff(l2[i][2], r[2]), `grad norm at step ${r[0]}`).to.be.below(1e-5);
    });
    const [w1, w2] = [rawWeights(one), rawWeights(two)];
    // tolerances: see the comment at the top of this file
    w1.forEach((w, i) => expect(maxAbsDiff(w, w2[i]), `tensor ${i}`).to.be.below(1e-6));
  });

  it('an interrupted and resumed 2-worker run ends with exactly the weights of an uninterrupted one (UNet with dropout)', async () => {
    const a = tmp();
    const b = tmp();
    const ca = tinyConfig(a, { workers: 2, steps: 8, checkpointEvery: 2 }, 'unet');
    const cb = tinyConfig(b, { workers: 2, steps: 8, checkpointEvery: 2 }, 'unet');
    const d = await trainingData(ca);
    const dp = await DataParallel.start(2); // shared by the three runs (saves two worker start-ups)
    try {
      disposeState(await train(ca, d, { log: () => {}, dataParallel: dp }));
      disposeState(await train(cb, d, { maxSteps: 4, log: () => {}, dataParallel: dp }));
      writeFileSync(join(b, 'latest.json'), JSON.stringify({ dir: 'step-0000002' })); // as if killed after the step-2 checkpoint
      disposeState(await train(cb, d, { log: () => {}, dataParallel: dp }));
    } finally {
      await dp.close();
    }
    expect(dp.pids.filter(alive)).to.deep.equal([]);
    const [wa, wb] = [rawWeights(a), rawWeights(b)];
    wa.forEach((w, i) => expect(Buffer.from(wb[i].buffer).equals(Buffer.from(w.buffer)), `tensor ${i}`).to.equal(true));
    expect(lossLog(b).map((r) => r.slice(0, 4))).to.deep.equal(lossLog(a).map((r) => r.slice(0, 4)));
  });

  it('ends its workers when training fails in the main process', async () => {
    let pids: number[] = [];
    const c = tinyConfig(tmp(), { workers: 2, logEvery: 2 });
    const err = await rejection(train(c, mlpData, {
      onWorkers: (p) => { pids = p; },
      log: (m) => {
        if (m.startsWith('step 2/')) throw new Error('log failed');
      },
    }));
    expect(err.message).to.equal('log failed');
    expect(pids).to.have.length(2);
    expect(pids.filter(alive)).to.deep.equal([]);
  });

  it('fails with a clear error and ends the other workers when a worker dies', async () => {
    let pids: number[] = [];
    const c = tinyConfig(tmp(), { workers: 2, steps: 100000 });
    const err = await rejection(train(c, mlpData, {
      log: () => {},
      onWorkers: (p) => {
        pids = p;
        setTimeout(() => process.kill(p[1], 'SIGKILL'), 300);
      },
    }));
    expect(err.message).to.match(/training worker 1 \(pid \d+\) exited unexpectedly \(signal SIGKILL\)/);
    expect(pids.filter(alive)).to.deep.equal([]);
  });
});
