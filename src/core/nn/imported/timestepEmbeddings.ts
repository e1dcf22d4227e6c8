/**
 * The sinusoidal timestep embeddings of the two published codes, with the float32 roundings of their torch ops
 * (a float scalar times a float32 tensor is computed in float32):
 *   DDPM (pesser/pytorch_diffusion `get_timestep_embedding`): f_i = exp(i · -(ln 10000 / (half - 1))), [sin, cos]
 *   iDDPM (improved-diffusion nn.py `timestep_embedding`, max_period 10000): f_i = exp(-ln(10000) · i / half), [cos, sin]
 * Odd dims get a zero last column in both. Timesteps may be fractional (rescaled conventions).
 */
import * as tf from '@tensorflow/tfjs';

const f32 = Math.fround;

function embed(t: readonly number[], dim: number, freqs: number[], first: (a: number) => number, second: (a: number) => number): tf.Tensor2D {
  const half = freqs.length;
  const out = new Float32Array(t.length * dim);
  t.forEach((ti, b) => {
    const tt = f32(ti);
    for (let i = 0; i < half; i++) {
      const a = f32(tt * freqs[i]);
      out[b * dim + i] = first(a);
      out[b * dim + half + i] = second(a);
    }
  });
  return tf.tensor2d(out, [t.length, dim]);
}

/** pytorch_diffusion / DDIM `get_timestep_embedding(t, dim)`. */
export function ddpmTimestepEmbedding(t: readonly number[], dim: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  if (half < 2) throw new Error(`ddpmTimestepEmbedding: dim must be >= 4, got ${dim}`);
  const step = f32(-(Math.log(10000) / (half - 1)));
  const freqs = Array.from({ length: half }, (_, i) => f32(Math.exp(f32(i * step))));
  return embed(t, dim, freqs, Math.sin, Math.cos);
}

/** improved-diffusion `timestep_embedding(t, dim, max_period)`. */
export function iddpmTimestepEmbedding(t: readonly number[], dim: number, maxPeriod = 10000): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  if (half < 1) throw new Error(`iddpmTimestepEmbedding: dim must be >= 2, got ${dim}`);
  const c = f32(-Math.log(maxPeriod));
  const freqs = Array.from({ length: half }, (_, i) => f32(Math.exp(f32(f32(c * i) / half))));
  return embed(t, dim, freqs, Math.cos, Math.sin);
}
