/**
 * The variance-head losses of Extended-Analytic-DPM (§3.2 of ../shared/reference/extended-analytic-dpm.md; official
 * core/criterions/ddpm.py, two-stage recipe): with x_t = sqrt(abar_t) x0 + sqrt(bbar_t) eps and the frozen
 * backbone's eps_hat = eps_theta(x_t, t),
 *   SN  head h:  || eps^2 - h(x_t) ||^2                 (h -> E[eps^2 | x_t])
 *   NPR head g:  || (eps - eps_hat)^2 - g(x_t) ||^2     (g -> E[(eps - eps_hat)^2 | x_t]; eps_hat carries no gradient)
 * Each is a mean over the batch and the dimensions (the official `sos` sums over dimensions: a constant factor d,
 * which Adam's step does not see), and the loss of several heads is their sum. The backbone runs outside the
 * gradient tape, in training mode when `backboneDropout` (as the official code), so only the heads get gradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadKind } from '../model.js';
import type { HeadedNet } from '../nn/headedNet.js';
import type { BatchInputs } from './trainer.js';
import { namedGrads } from './namedGrads.js';

/** The regression target of a head kind, from the true noise and the backbone's prediction. */
export function headTarget(kind: HeadKind, eps: tf.Tensor, epsHat: tf.Tensor): tf.Tensor {
  return tf.tidy(() => (kind === 'sn' ? tf.square(eps) : tf.square(tf.sub(eps, epsHat))));
}

/** Summed head loss and gradients of the heads' parameters by name (the backbone's weights are not variables here). */
export function headLossAndGrads(net: HeadedNet, b: BatchInputs): { loss: number; grads: Record<string, tf.Tensor> } {
  const opts = { training: net.config.backboneDropout, dropoutSeed: b.dropoutSeed, labels: b.labels };
  const f = net.backboneForward(b.xt, b.ts, opts);
  const targets = net.headKinds.map((k) => headTarget(k, b.eps, f.eps));
  try {
    return namedGrads(net.params, () => {
      const losses = net.headKinds.map((k, i) => tf.mean(tf.square(tf.sub(targets[i], net.applyHead(k, f, { training: true, dropoutSeed: b.dropoutSeed })))));
      return tf.addN(losses) as tf.Scalar;
    });
  } finally {
    tf.dispose([f.eps, f.features, ...(f.embAct ? [f.embAct] : []), ...targets]);
  }
}
