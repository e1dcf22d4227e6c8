/**
 * Data-parallel training over worker processes (wasm runs on one thread, so more cores need more processes).
 *
 * Each step the main process draws the whole batch exactly as the in-process trainer does (data rows, t, eps,
 * labels keyed per example), splits it into W contiguous shards of sizes differing by at most one, and sends
 * every worker the current parameters (one flat Float32Array) and its shard. Worker k holds a replica of the
 * network and returns the mean loss of its n_k examples and the gradient of that mean (one flat Float32Array).
 * The main process combines them in worker order, g = sum_k (n_k / B) g_k and loss = sum_k (n_k / B) loss_k
 * (float64 accumulation, rounded once to float32), which is the gradient and loss of the batch mean, and then
 * applies ONE update (clip, Adam, EMA) to its own parameters; checkpoints, resume and logs are unchanged.
 * The same config and worker count give the same numbers; a different worker count gives the same step up to
 * float32 summation order, except for dropout masks (see shardDropoutSeed).
 */
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { WorkerPool } from '../parallel/workerPool.js';
import { deriveSeed } from '../rng.js';
import type { ArchSpec, TrainableNet } from '../nn/network.js';
import type { BatchInputs } from './trainer.js';

export const REPLICA_MODULE = join(dirname(fileURLToPath(import.meta.url)), 'replica.ts');

/** Names and shapes of a network's parameters, in the order of its parameter map (the flat-array order). */
export interface ParamLayout {
  names: string[];
  shapes: number[][];
}

export interface ReplicaInit {
  arch: ArchSpec;
  seed: number;
}

/** A shard: rows [offset, offset + n) of the batch; xt and eps are row-major [n, ...rowShape]. */
export interface ShardArgs {
  params: Float32Array;
  xt: Float32Array;
  eps: Float32Array;
  rowShape: number[];
  ts: number[];
  labels?: number[];
  dropoutSeed: number;
}

export interface ShardResult {
  /** mean loss over the shard's examples */
  loss: number;
  /** gradient of that mean, flat in layout order (zeros where absent) */
  grads: Float32Array;
  /** 1 where the loss reaches the parameter */
  present: Uint8Array;
}

export function paramLayout(params: Map<string, tf.Variable>): ParamLayout {
  return { names: [...params.keys()], shapes: [...params.values()].map((v) => [...v.shape]) };
}

export const layoutSizes = (l: ParamLayout): number[] => l.shapes.map((s) => s.reduce((a, b) => a * b, 1));

export function flattenParams(params: Map<string, tf.Variable>, layout: ParamLayout): Float32Array {
  const sizes = layoutSizes(layout);
  const out = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  layout.names.forEach((name, i) => {
    out.set(params.get(name)!.dataSync() as Float32Array, off);
    off += sizes[i];
  });
  return out;
}

/** Sizes of W contiguous shards of a batch of B: the first B mod W shards get one row more. */
export function shardSizes(B: number, W: number): number[] {
  if (!(Number.isInteger(W) && W >= 1 && W <= B)) throw new Error(`data parallel: workers must be an integer in 1..${B} (batch size), got ${W}`);
  return Array.from({ length: W }, (_, k) => Math.floor(B / W) + (k < B % W ? 1 : 0));
}

/**
 * Dropout seed of the shard starting at batch row `offset`. The in-process trainer draws each dropout mask as
 * one sfc32 stream over the whole [B, ...] activation, row-major, so the first shard (offset 0) reproduces the
 * masks of its rows exactly; later shards would have to skip offset*rowSize draws inside src/core/nn/dropout.ts,
 * so they use an independent stream keyed by their offset instead (same distribution, different masks).
 */
export function shardDropoutSeed(dropoutSeed: number, offset: number): number {
  return offset === 0 ? dropoutSeed : deriveSeed(dropoutSeed, 'rows', offset);
}

/** g = sum_k (n_k / B) g_k and the same for the loss, in worker order, accumulated in float64. */
export function combineShards(results: ShardResult[], sizes: number[], layout: ParamLayout): { loss: number; grads: Record<string, Float32Array> } {
  const B = sizes.reduce((a, b) => a + b, 0);
  const w = sizes.map((n) => n / B);
  const loss = results.reduce((acc, r, k) => acc + w[k] * r.loss, 0);
  const grads: Record<string, Float32Array> = {};
  const lens = layoutSizes(layout);
  let off = 0;
  layout.names.forEach((name, i) => {
    const n = lens[i];
    if (results.some((r) => r.present[i])) {
      const g = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let k = 0; k < results.length; k++) acc += w[k] * results[k].grads[off + j];
        g[j] = acc;
      }
      grads[name] = g;
    }
    off += n;
  });
  return { loss, grads };
}

function sameLayout(a: ParamLayout, b: ParamLayout): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** W worker processes holding replicas of one network; computes batch losses and gradients shard by shard. */
export class DataParallel {
  private layout: ParamLayout | null = null;

  private constructor(private readonly pool: WorkerPool) {}

  /** Start `workers` processes on the backend this process runs; setNetwork() then builds their replicas. */
  static async start(workers: number, backend = tf.getBackend()): Promise<DataParallel> {
    return new DataParallel(await WorkerPool.start({ size: workers, module: REPLICA_MODULE, backend, name: 'training worker' }));
  }

  /** (Re)build every worker's replica of `arch` and check that its parameters are laid out like `net`'s. */
  async setNetwork(arch: ArchSpec, seed: number, net: TrainableNet): Promise<void> {
    const layout = paramLayout(net.params);
    const got = await this.pool.all<ParamLayout>('initReplica', Array(this.workers).fill({ arch, seed } satisfies ReplicaInit));
    got.forEach((l, k) => {
      if (!sameLayout(l, layout)) throw new Error(`training worker ${k}: its replica's parameters differ from the main network's`);
    });
    this.layout = layout;
  }

  get workers(): number {
    return this.pool.size;
  }

  get pids(): number[] {
    return this.pool.pids;
  }

  /** Loss and gradients of the batch mean, as lossAndGrads would give in-process (up to summation order). */
  async lossAndGrads(net: TrainableNet, b: BatchInputs): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
    const layout = this.requireLayout();
    const results = await this.pool.all<ShardResult>('shardLossAndGrads', this.shardArgs(net, b));
    const c = combineShards(results, shardSizes(b.ts.length, this.workers), layout);
    const grads: Record<string, tf.Tensor> = {};
    layout.names.forEach((name, i) => {
      if (c.grads[name]) grads[name] = tf.tensor(c.grads[name], layout.shapes[i], 'float32');
    });
    return { loss: c.loss, grads };
  }

  /** One message per worker: the parameters and rows [offset, offset + n_k) of the batch. */
  shardArgs(net: TrainableNet, b: BatchInputs): ShardArgs[] {
    const params = flattenParams(net.params, this.requireLayout());
    const xt = b.xt.dataSync() as Float32Array;
    const eps = b.eps.dataSync() as Float32Array;
    const rowShape = b.xt.shape.slice(1);
    const d = rowShape.reduce((p, q) => p * q, 1);
    let offset = 0;
    return shardSizes(b.ts.length, this.workers).map((n) => {
      const rows = [offset, offset + n] as const;
      offset += n;
      return {
        params, rowShape,
        xt: xt.slice(rows[0] * d, rows[1] * d),
        eps: eps.slice(rows[0] * d, rows[1] * d),
        ts: b.ts.slice(...rows),
        labels: b.labels?.slice(...rows),
        dropoutSeed: shardDropoutSeed(b.dropoutSeed, rows[0]),
      };
    });
  }

  private requireLayout(): ParamLayout {
    if (!this.layout) throw new Error('data parallel: setNetwork() was not called');
    return this.layout;
  }

  /** Gracefully (or, on error paths, with force: SIGKILL) end the workers; resolves when they have exited. */
  close(opts: { force?: boolean } = {}): Promise<void> {
    return this.pool.close(opts);
  }
}
