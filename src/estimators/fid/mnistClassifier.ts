/**
 * The MNIST feature classifier's checkpoint I/O and accuracy: a Classifier saved with writeCheckpoint under
 * arch {kind: 'classifier', config}; the default checkpoint ships in models/mnist-classifier/.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Classifier, type ClassifierConfig } from '../../core/nn/classifier.js';
import type { ArchSpec } from '../../core/nn/network.js';
import { assignGroup, readCheckpoint, writeCheckpoint, type CheckpointManifest } from '../../core/train/checkpoint.js';
import type { LabeledDataset } from '../../core/data/labeled.js';

/** models/mnist-classifier of this repository (independent of the working directory). */
export const DEFAULT_MNIST_CLASSIFIER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../models/mnist-classifier');

export interface ClassifierArch {
  kind: 'classifier';
  config: ClassifierConfig;
}

/** Write a classifier checkpoint (parameters only; no schedule, EMA or optimiser state). */
export function saveClassifier(dir: string, net: Classifier, meta: { data: CheckpointManifest['data']; step: number; training: Record<string, unknown> }): void {
  const arch: ClassifierArch = { kind: 'classifier', config: net.config };
  writeCheckpoint(dir, {
    arch: arch as unknown as ArchSpec,
    schedule: { name: 'none', N: 0 },
    timestepInput: 'n',
    step: meta.step,
    seed: net.seed,
    data: meta.data,
    ema: null,
    adam: null,
    training: meta.training,
  }, { params: net.params });
}

/** Load a classifier checkpoint; the caller disposes the returned network. */
export function loadClassifier(dir: string): { net: Classifier; manifest: CheckpointManifest } {
  const ck = readCheckpoint(dir);
  const arch = ck.manifest.arch as unknown as ClassifierArch;
  if (arch.kind !== 'classifier') throw new Error(`checkpoint ${ck.dir}: arch.kind is "${arch.kind}", expected "classifier"`);
  const net = new Classifier(arch.config, ck.manifest.seed);
  try {
    assignGroup(net.params, ck.groups.params, `checkpoint ${ck.dir} (params)`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, manifest: ck.manifest };
}

/** The trained MNIST classifier (FID feature network). */
export function loadMnistClassifier(dir: string = DEFAULT_MNIST_CLASSIFIER_DIR): Classifier {
  return loadClassifier(dir).net;
}

/** Top-1 accuracy on the first `limit` rows (all by default) of a labelled data set. */
export function classifierAccuracy(net: Classifier, data: LabeledDataset, opts: { limit?: number; batchSize?: number } = {}): { accuracy: number; errors: number; n: number } {
  const n = Math.min(opts.limit ?? data.size, data.size), B = opts.batchSize ?? 250;
  let errors = 0;
  for (let s = 0; s < n; s += B) {
    const idx = Array.from({ length: Math.min(B, n - s) }, (_, j) => s + j);
    const x = data.rows(idx);
    const pred = net.predict(x);
    x.dispose();
    idx.forEach((i, j) => { if (pred[j] !== data.labels[i]) errors++; });
  }
  return { accuracy: 1 - errors / n, errors, n };
}
