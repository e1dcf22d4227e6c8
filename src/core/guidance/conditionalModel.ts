/**
 * A class-conditional eps-model eps(x_t, t, y) with an unconditional "null" label (Ho & Salimans 2022): the
 * interface classifier-free guidance needs, implemented by class-conditional UNets (learned null class, trained
 * with label dropout) and by the exact Gaussian-mixture oracle (gmmConditional.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Timesteps } from '../model.js';
import { UNet } from '../nn/unet.js';

export interface ConditionalEpsModel {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numClasses: number;
  /**
   * eps(x_t, t, y) with one label per row in 0..numClasses, where numClasses is the null label (unconditional
   * eps(x_t, t, null) for that row); labels = null makes every row unconditional.
   */
  predictEpsConditional(x: tf.Tensor, t: Timesteps, labels: readonly number[] | null): tf.Tensor;
}

/** A class-conditional UNet as a ConditionalEpsModel (null = its learned null class), or an error naming `where`. */
export function conditionalUNet(net: unknown, where: string): ConditionalEpsModel {
  if (!(net instanceof UNet) || !net.config.numClasses) {
    const name = (net as { name?: string }).name ?? String(net);
    throw new Error(`${where}: classifier-free guidance needs a class-conditional UNet (arch.config.numClasses set, trained with ` +
      `train.classDropout > 0, e.g. configs/mnist-cfg-unet.json); ${name} is not one`);
  }
  const numClasses = net.config.numClasses;
  return {
    name: net.name, shape: net.shape, numClasses,
    predictEpsConditional: (x, t, labels) => net.apply(x, t, { training: false, labels: labels ?? undefined }),
  };
}
