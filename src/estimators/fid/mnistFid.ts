/**
 * FID for MNIST (Heusel et al. 2017) in the feature space of the project's MNIST classifier (the 128-d
 * penultimate layer of src/core/nn/classifier.ts) instead of InceptionV3: the Fréchet distance between Gaussians
 * fitted to the features of two image sets. Values are comparable only with FIDs computed with the same
 * classifier checkpoint (models/mnist-classifier), not with Inception-based FIDs.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../core/data/dataset.js';
import { loadMnist, type MnistSplit } from '../../core/data/mnist.js';
import type { Classifier } from '../../core/nn/classifier.js';
import { frechetDistanceStats, type TraceSqrtMethod } from './frechet.js';
import { GaussianAccumulator, type GaussianStats } from './gaussianStats.js';
import { loadMnistClassifier } from './mnistClassifier.js';

export type MnistImages = tf.Tensor | readonly tf.Tensor[] | Dataset;

let defaultClassifier: Classifier | null = null;
const referenceCache = new WeakMap<Classifier, Map<MnistSplit, GaussianStats>>();

/** The shipped classifier (models/mnist-classifier), loaded once per process and kept (do not dispose it). */
export function defaultMnistClassifier(): Classifier {
  defaultClassifier ??= loadMnistClassifier();
  return defaultClassifier;
}

/**
 * Gaussian statistics (mean, unbiased covariance, float64) of classifier features of images [B,28,28,1] in
 * [-1,1]: one tensor, a list of tensors (e.g. sampler batches) or a Dataset. Input tensors are not disposed.
 */
export function mnistFeatureStats(images: MnistImages, classifier: Classifier = defaultMnistClassifier(), batchSize = 500): GaussianStats {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`mnistFeatureStats: batchSize must be a positive integer, got ${batchSize}`);
  const acc = new GaussianAccumulator(classifier.featureDim);
  const addBatch = (make: () => tf.Tensor) => {
    const f = tf.tidy(() => classifier.features(make()));
    acc.add(f.dataSync() as Float32Array);
    f.dispose();
  };
  const addTensor = (t: tf.Tensor) => {
    for (let s = 0; s < t.shape[0]; s += batchSize) addBatch(() => tf.slice(t, s, Math.min(batchSize, t.shape[0] - s)));
  };
  if (images instanceof tf.Tensor) addTensor(images);
  else if (Array.isArray(images)) (images as readonly tf.Tensor[]).forEach(addTensor);
  else {
    const ds = images as Dataset;
    for (let s = 0; s < ds.size; s += batchSize) {
      addBatch(() => ds.rows(Array.from({ length: Math.min(batchSize, ds.size - s) }, (_, j) => s + j)));
    }
  }
  return acc.stats();
}

/** Feature statistics of an MNIST split (train by default), cached in-process per classifier. */
export function mnistReferenceStats(split: MnistSplit = 'train', classifier: Classifier = defaultMnistClassifier()): GaussianStats {
  let bySplit = referenceCache.get(classifier);
  if (!bySplit) referenceCache.set(classifier, (bySplit = new Map()));
  let stats = bySplit.get(split);
  if (!stats) bySplit.set(split, (stats = mnistFeatureStats(loadMnist(split), classifier)));
  return stats;
}

/** FID between two sets of feature statistics (Heusel et al. 2017; Fréchet distance of Dowson & Landau 1982). */
export function fid(a: GaussianStats, b: GaussianStats, opts: { method?: TraceSqrtMethod } = {}): number {
  return frechetDistanceStats(a, b, opts);
}

/** FID of MNIST-like images against the feature statistics of an MNIST split (train by default). */
export function mnistFid(images: MnistImages, opts: { split?: MnistSplit; classifier?: Classifier; batchSize?: number } = {}): number {
  const classifier = opts.classifier ?? defaultMnistClassifier();
  return fid(mnistFeatureStats(images, classifier, opts.batchSize), mnistReferenceStats(opts.split ?? 'train', classifier));
}
