/**
 * Micro benchmark of the UNet, mirroring shared/peer/torch_unet_bench.py: a train step is the eps-MSE loss
 * (against x, like the torch script), its gradient (tf.variableGrads) and an Adam(2e-4) update; forward is
 * predictEps in inference mode. 2 warm-up steps (1 for forward), then the mean over `iters`.
 *
 * Kernel profile of one reference-config train step on wasm, batch 32 (tf.profile, ~5 s of kernel time):
 * conv dw (batch-contracted conv) 26%, attention products (depthwise-conv bmm) 17%, forward convs 16%,
 * conv dx (forward conv of dy) 15%, 2-D matMuls (1×1 dw, bias sums, concat split) 6%, transposes 6%,
 * elementwise ops of GroupNorm/SiLU/dropout/softmax ~9%.
 */
import * as tf from '@tensorflow/tfjs';
import { NoiseSource } from '../core/rng.js';
import { type UNetConfig, createUNet } from '../core/nn/unet.js';

export interface UNetBenchResult {
  forwardImgPerSec: number;
  trainImgPerSec: number;
  params: number;
  /** The same per second of this process's CPU time: wasm runs on one thread, so on a machine shared with other
   * jobs this approximates the wall-clock rate on an idle core. */
  forwardImgPerCpuSec: number;
  trainImgPerCpuSec: number;
}

/** Mean wall-clock and CPU seconds per call of f. */
async function timeIt(iters: number, f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / iters / 1000, cpu: (c.user + c.system) / 1e6 / iters };
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
    const tr = await timeIt(iters, train);
    await forward();
    const fw = await timeIt(iters, forward);
    return {
      forwardImgPerSec: batch / fw.wall,
      trainImgPerSec: batch / tr.wall,
      params: net.paramCount(),
      forwardImgPerCpuSec: batch / fw.cpu,
      trainImgPerCpuSec: batch / tr.cpu,
    };
  } finally {
    x.dispose();
    opt.dispose();
    net.dispose();
  }
}
