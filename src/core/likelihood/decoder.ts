/**
 * The decoder term -log p(x0 | x_1). Image data: the discretised Gaussian of DDPM/iDDPM with 256 bins of
 * half-width 1/255 on [-1,1], edge bins open, the tanh approximation of Phi and a 1e-12 log floor
 * (analytic-dpm.md §5.1). Continuous data: the Gaussian log density.
 */
import * as tf from '@tensorflow/tfjs';

/** Phi(x) ≈ 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function approxStandardNormalCdf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(0.5, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
  );
}

/** Elementwise log-likelihood of 8-bit data x in [-1,1] under the discretised N(mean, variance). */
export function discretizedGaussianLogLik(x: tf.Tensor, mean: tf.Tensor, variance: number): tf.Tensor {
  return tf.tidy(() => {
    const invStd = 1 / Math.sqrt(variance);
    const centered = tf.sub(x, mean);
    const cdfPlus = approxStandardNormalCdf(tf.mul(tf.add(centered, 1 / 255), invStd));
    const cdfMin = approxStandardNormalCdf(tf.mul(tf.sub(centered, 1 / 255), invStd));
    const logCdfPlus = tf.log(tf.maximum(cdfPlus, 1e-12));
    const logOneMinusCdfMin = tf.log(tf.maximum(tf.sub(1, cdfMin), 1e-12));
    const logDelta = tf.log(tf.maximum(tf.sub(cdfPlus, cdfMin), 1e-12));
    return tf.where(tf.less(x, -0.999), logCdfPlus, tf.where(tf.greater(x, 0.999), logOneMinusCdfMin, logDelta));
  });
}

/** Elementwise Gaussian log density log N(x; mean, variance). */
export function gaussianLogDensity(x: tf.Tensor, mean: tf.Tensor, variance: number): tf.Tensor {
  return tf.tidy(() =>
    tf.sub(-0.5 * Math.log(2 * Math.PI * variance), tf.div(tf.square(tf.sub(x, mean)), 2 * variance)),
  );
}
