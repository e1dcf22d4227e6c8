/**
 * A Sampler for per-sample target labels: the guided EpsModel depends on the labels of the batch's rows, which
 * only the sampler's `ids` tell, so each call binds the labels of args.ids and runs the plain sampler (DDPM, DDIM,
 * or any function with the Sampler signature) with that model. Rows still depend only on their ids.
 */
import type { EpsModel } from '../model.js';
import type { Sampler } from '../sampler.js';

/** The target label of sample `id` with `numClasses` classes: id mod numClasses (balanced over consecutive ids). */
export function targetLabel(id: number, numClasses: number): number {
  return id % numClasses;
}

/** `sampler` run with the model `bind(labels of args.ids)`. */
export function guidedSampler(sampler: Sampler, bind: (labels: readonly number[]) => EpsModel, labelOf: (id: number) => number): Sampler {
  return (args) => sampler({ ...args, model: bind(args.ids.map(labelOf)) });
}
