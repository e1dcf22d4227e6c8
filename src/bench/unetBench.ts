/**
 * Micro benchmark of the UNet, mirroring shared/peer/torch_unet_bench.py: a train step is the eps-MSE loss
 * (against x, like the torch script), its gradient (tf.variableGrads) and an Adam(2e-4) update; forward is
 * predictEps in inference mode. 2 warm-up steps (1 for forward), then the mean over `iters`.
 *
 * Measured on this machine (wasm, 1 thread, reference config, batch 32; PyTorch on 2 threads: ~51 img/s forward,
 * ~16 img/s train): see the report of issue #3. Kernel profile of one train step (tf.profile):
 * conv gradients (dx by a forward conv of dy with the flipped kernel, dw by a conv with the batch as the contracted
 * channel axis) ~45%, forward convs ~15%, attention products (depthwise-conv bmm) ~15%, transposes ~8%, the rest
 * elementwise ops, GroupNorm and copies.
 */
import * as tf from '@tensorflow/tfjs';
import { NoiseSource } from '../core/rng.js';
import { type UNetConfig, createUNet } from '../core/nn/unet.js';

export interface UNetBenchResult {
  forwardImgPerSec: number;
  trainImgPerSec: number;
  params: number;
}

async function timeIt(iters: number, f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await f();
  return (performance.now() - t0) / iters / 1000;
}

export async function benchUNet(config: UNetConfig, batch: number, iters: number): Promise<UNetBenchResult> {
  const net = createUNet(config, 0);
  const opt = tf.train.adam(2e-4);
  const noise = new NoiseSource(0);
  const ids = Array.from({ length: batch }, (_, i) => i);
  const x = noise.normal('bench:x', ids, net.shape);
  const u = noise.uniform('bench:t');
  const t = ids.map(() => Math.floor(u() * 1000));
  let step = 0;
  const train = async () => {
    const { value, grads } = tf.variableGrads(() =>
      tf.mean(tf.square(tf.sub(net.apply(x, t, { training: true, dropoutSeed: step++ }), x))) as tf.Scalar,
    );
    opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const forward = async () => {
    const y = net.predictEps(x, t);
    await y.data();
    y.dispose();
  };
  try {
    for (let i = 0; i < 2; i++) await train();
    const trainS = await timeIt(iters, train);
    await forward();
    const fwdS = await timeIt(iters, forward);
    return { forwardImgPerSec: batch / fwdS, trainImgPerSec: batch / trainS, params: net.paramCount() };
  } finally {
    x.dispose();
    opt.dispose();
    net.dispose();
  }
}
