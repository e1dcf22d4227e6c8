/**
 * Train the MNIST feature classifier for FID (src/core/nn/classifier.ts) on the MNIST train split, evaluate it on
 * the test split and write the checkpoint (+ README.md) to the configured directory:
 *   npx tsx scripts/train-mnist-classifier.ts [configs/mnist-classifier.json] [--epochs N] [--out DIR] [--backend wasm]
 * Softmax cross-entropy against one-hot labels, the project's Adam, linear warmup then cosine decay of the learning
 * rate to 0, and random translations by up to `augmentShift` pixels (background -1). Every random choice
 * (initialisation, data order, shifts) is keyed by the config seed.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/core/backend.js';
import { loadMnist } from '../src/core/data/mnist.js';
import { Classifier, type ClassifierConfig } from '../src/core/nn/classifier.js';
import { Adam } from '../src/core/train/adam.js';
import { deriveSeed, permutation, sfc32 } from '../src/core/rng.js';
import { classifierAccuracy, saveClassifier } from '../src/estimators/fid/mnistClassifier.js';

interface Config {
  name: string;
  seed: number;
  arch: ClassifierConfig;
  train: { epochs: number; batchSize: number; lr: number; warmupSteps: number; augmentShift: number };
  out: string;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const configPath = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--'))) ?? 'configs/mnist-classifier.json';
const config = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
if (opt('epochs')) config.train.epochs = Number(opt('epochs'));
if (opt('out')) config.out = opt('out')!;
const { epochs, batchSize: B, lr, warmupSteps, augmentShift } = config.train;
if (!(Number.isInteger(epochs) && epochs > 0 && Number.isInteger(B) && B > 0 && lr > 0 && augmentShift >= 0)) {
  throw new Error(`${configPath}: train needs positive integer epochs and batchSize, lr > 0, augmentShift >= 0`);
}

/** Rows idx as [B,28,28,1], each shifted by (dy, dx) ∈ [-s, s]^2 drawn from `u`, filling with the background -1. */
function shiftedBatch(data: ReturnType<typeof loadMnist>, idx: number[], s: number, u: () => number): tf.Tensor4D {
  const S = data.shape[0], d = S * S;
  const out = new Float32Array(idx.length * d).fill(-1);
  idx.forEach((i, r) => {
    const src = data.row(i);
    const dy = Math.floor(u() * (2 * s + 1)) - s, dx = Math.floor(u() * (2 * s + 1)) - s;
    for (let y = Math.max(0, dy); y < Math.min(S, S + dy); y++) {
      const so = (y - dy) * S - dx, o = r * d + y * S;
      for (let x = Math.max(0, dx); x < Math.min(S, S + dx); x++) out[o + x] = src[so + x];
    }
  });
  return tf.tensor4d(out, [idx.length, S, S, 1]);
}

async function main(): Promise<void> {
  const backend = await initBackend(opt('backend') ?? 'wasm');
  const train = loadMnist('train'), test = loadMnist('test');
  const net = new Classifier(config.arch, config.seed);
  const adam = new Adam(net.params);
  const vars = [...net.params.values()];
  const stepsPerEpoch = Math.ceil(train.size / B), total = epochs * stepsPerEpoch;
  const lrAt = (k: number) => (k < warmupSteps ? (lr * (k + 1)) / warmupSteps : 0.5 * lr * (1 + Math.cos((Math.PI * (k - warmupSteps)) / Math.max(1, total - warmupSteps))));
  console.log(`backend ${backend}; ${net.paramCount()} parameters; ${train.size} train / ${test.size} test images; ${epochs} epochs × ${stepsPerEpoch} steps`);
  const t0 = performance.now(), cpu0 = process.cpuUsage();
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const perm = permutation(train.size, sfc32(deriveSeed(config.seed, 'order', epoch)));
    const u = sfc32(deriveSeed(config.seed, 'shift', epoch));
    let lossSum = 0, correct = 0;
    for (let s = 0; s < train.size; s += B) {
      const idx = perm.slice(s, s + B);
      const x = shiftedBatch(train, idx, augmentShift, u);
      const labels = tf.tensor1d(Array.from(idx, (i) => train.labels[i]), 'int32');
      const y = tf.oneHot(labels, config.arch.numClasses).toFloat();
      let hits = 0;
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
        const logits = net.logits(x);
        hits = tf.equal(tf.argMax(logits, 1), labels).sum().dataSync()[0];
        return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      }), vars);
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, v] of net.params) byName[name] = grads[v.name];
      adam.update(net.params, byName, lrAt(step));
      lossSum += value.dataSync()[0] * idx.length;
      correct += hits;
      tf.dispose([x, labels, y, value, ...Object.values(grads)]);
      step++;
    }
    const acc = classifierAccuracy(net, test);
    console.log(`epoch ${epoch + 1}/${epochs}: train loss ${(lossSum / train.size).toFixed(4)}, train acc ${(correct / train.size).toFixed(4)} (augmented), test acc ${acc.accuracy.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0), cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const evalTest = classifierAccuracy(net, test);
  const evalTrain = classifierAccuracy(net, train);
  const training = {
    config, configPath, backend, steps: step, trainSeconds: Math.round(trainSeconds), cpuSeconds: Math.round(cpuSeconds),
    testAccuracy: evalTest.accuracy, testErrors: evalTest.errors, testSize: evalTest.n,
    trainAccuracy: evalTrain.accuracy, trainSplit: train.name, trainHash: train.hash, testSplit: test.name, testHash: test.hash,
  };
  saveClassifier(config.out, net, { data: { name: train.name, hash: train.hash }, step, training });
  writeFileSync(join(config.out, 'README.md'), readme(config, training, net.paramCount()));
  console.log(`test accuracy ${evalTest.accuracy} (${evalTest.errors} errors / ${evalTest.n}); train accuracy ${evalTrain.accuracy}; ${trainSeconds.toFixed(0)} s wall, ${cpuSeconds.toFixed(0)} s cpu; wrote ${config.out}`);
  net.dispose();
  adam.dispose();
}

function readme(c: Config, t: { testAccuracy: number; testErrors: number; testSize: number; trainAccuracy: number; trainSeconds: number; cpuSeconds: number; backend: string; steps: number }, params: number): string {
  return `# MNIST feature classifier (for FID)

A small CNN (\`src/core/nn/classifier.ts\`, channels [${c.arch.channels}], ${params} parameters) whose
${c.arch.channels[c.arch.channels.length - 1]}-d penultimate features (global average pool) are the feature space of the
MNIST FID (\`src/estimators/fid/mnistFid.ts\`). Load it with \`loadMnistClassifier()\`
(\`src/estimators/fid/mnistClassifier.ts\`).

- Trained by \`npx tsx scripts/train-mnist-classifier.ts ${'configs/mnist-classifier.json'}\` on the MNIST **train** split
  (8,000 images, \`src/core/data/mnist.ts\`), seed ${c.seed}, ${c.train.epochs} epochs, batch ${c.train.batchSize}, Adam lr ${c.train.lr}
  (warmup ${c.train.warmupSteps} steps, cosine decay), random shifts of up to ${c.train.augmentShift} px; ${t.steps} steps,
  ${t.trainSeconds} s wall clock (${t.cpuSeconds} s of CPU time) on the ${t.backend} backend.
- **Test accuracy: ${(100 * t.testAccuracy).toFixed(2)}%** (${t.testErrors} errors on the ${t.testSize} test-split images);
  train accuracy ${(100 * t.trainAccuracy).toFixed(2)}% (unaugmented).
- Files: \`manifest.json\` (adpm-ts-checkpoint, arch \`{kind: 'classifier', config}\`, the full training record in
  \`training\`) and \`weights.bin\` (float32, sha256 in the manifest).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
