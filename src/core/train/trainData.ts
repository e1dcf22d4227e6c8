/** The data set a training config names. */
import type { Dataset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import { loadCifar10 } from '../data/cifar10.js';
import { gmmDataset, rademacherDataset, randomGmm } from '../data/toy.js';
import { deriveSeed } from '../rng.js';
import type { TrainConfig } from './config.js';

export async function trainingData(c: TrainConfig): Promise<Dataset> {
  const d = c.data;
  if (d.kind === 'mnist') return loadMnist(d.split);
  if (d.kind === 'cifar10') return loadCifar10(d.split, { path: d.path });
  if (d.kind === 'rademacher') return rademacherDataset(d.n, d.shape, deriveSeed(c.seed, 'data'), 'rademacher-train');
  const dim = d.shape.reduce((a, b) => a * b, 1);
  return gmmDataset(d.n, d.shape, randomGmm(d.components, dim, d.spread, d.std, deriveSeed(c.seed, 'gmm')), deriveSeed(c.seed, 'data'), 'gmm-train');
}
