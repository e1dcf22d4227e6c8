/**
 * Held-out accuracy of a noise-aware MNIST classifier p(y | x_t, t) on the 2,000 test digits at a grid of t
 * (x_t = sqrt(abar_t) x0 + sqrt(bbar_t) eps, fresh eps per digit): how much class information guidance can use.
 *   npx tsx scripts/noisy-classifier-eval.ts <classifier checkpoint or run dir>
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { loadMnist } from '../src/core/data/mnist.js';
import { loadNetwork } from '../src/core/train/checkpoint.js';
import { makeSchedule } from '../src/core/schedule.js';
import { NoiseSource } from '../src/core/rng.js';
import { qSample } from '../src/core/forward.js';
import { NoisyClassifierNet } from '../src/core/nn/noisyClassifier.js';

const path = process.argv[2];
if (!path) throw new Error('usage: npx tsx scripts/noisy-classifier-eval.ts <classifier checkpoint or run dir>');
await initBackend('auto', () => {});
const { net, manifest } = loadNetwork(path);
if (!(net instanceof NoisyClassifierNet)) throw new Error(`${path}: arch kind "${manifest.arch.kind}" is not "noisy-classifier"`);
const sch = makeSchedule(manifest.schedule.name, manifest.schedule.N);
const test = loadMnist('test');
const noise = new NoiseSource(11);
console.log(`${path} (step ${manifest.step}): accuracy on ${test.size} test digits`);
for (const t of [1, 100, 250, 500, 600, 700, 800, 900, 1000]) {
  let correct = 0;
  for (let b0 = 0; b0 < test.size; b0 += 500) {
    const ids = Array.from({ length: Math.min(500, test.size - b0) }, (_, j) => b0 + j);
    const pred = tf.tidy(() => tf.argMax(net.logits(qSample(sch, test.rows(ids), t, noise.normal(`eval:${t}`, ids, test.shape)), t), 1));
    const p = pred.dataSync();
    pred.dispose();
    ids.forEach((i, j) => (correct += p[j] === test.labels[i] ? 1 : 0));
  }
  console.log(`t = ${t}: ${(correct / test.size).toFixed(4)}`);
}
