/**
 * The worker side of data-parallel training (run by src/core/parallel/poolWorker.ts): one network replica per
 * process; each call loads the parameters the main process sends and returns the loss and gradients of a shard,
 * computed by the same lossAndGrads as the in-process trainer.
 */
import * as tf from '@tensorflow/tfjs';
import { createNetwork, type TrainableNet } from '../nn/network.js';
import { lossAndGrads } from './trainer.js';
import { layoutSizes, paramLayout, type ParamLayout, type ReplicaInit, type ShardArgs, type ShardResult } from './dataParallel.js';

let replica: { net: TrainableNet; layout: ParamLayout } | null = null;

/** Build the replica (its initial values are overwritten by every call) and return its parameter layout. */
export function initReplica(a: ReplicaInit): ParamLayout {
  replica?.net.dispose();
  const net = createNetwork(a.arch, a.seed);
  replica = { net, layout: paramLayout(net.params) };
  return replica.layout;
}

function loadParams(net: TrainableNet, layout: ParamLayout, flat: Float32Array): void {
  const sizes = layoutSizes(layout);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (flat.length !== total) throw new Error(`expected ${total} parameter values, got ${flat.length}`);
  let off = 0;
  layout.names.forEach((name, i) => {
    tf.tidy(() => net.params.get(name)!.assign(tf.tensor(flat.slice(off, off + sizes[i]), layout.shapes[i], 'float32')));
    off += sizes[i];
  });
}

export function shardLossAndGrads(a: ShardArgs): ShardResult {
  if (!replica) throw new Error('initReplica was not called');
  const { net, layout } = replica;
  loadParams(net, layout, a.params);
  const n = a.ts.length;
  const xt = tf.tensor(a.xt, [n, ...a.rowShape], 'float32');
  const eps = tf.tensor(a.eps, [n, ...a.rowShape], 'float32');
  try {
    const { loss, grads } = lossAndGrads(net, { xt, eps, ts: a.ts, labels: a.labels, dropoutSeed: a.dropoutSeed });
    const sizes = layoutSizes(layout);
    const flat = new Float32Array(sizes.reduce((p, q) => p + q, 0));
    const present = new Uint8Array(sizes.length);
    let off = 0;
    layout.names.forEach((name, i) => {
      const g = grads[name];
      if (g) {
        flat.set(g.dataSync() as Float32Array, off);
        present[i] = 1;
      }
      off += sizes[i];
    });
    tf.dispose(Object.values(grads));
    return { loss, grads: flat, present };
  } finally {
    tf.dispose([xt, eps]);
  }
}
