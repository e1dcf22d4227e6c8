/**
 * Sinusoidal timestep embedding, exactly `temb` of the torch reference (shared/peer/torch_unet_bench.py;
 * Ho et al. 2020, from Vaswani et al. 2017): half = dim // 2, f_i = exp(-ln(10000) i / (half - 1)),
 * out = [sin(t f), cos(t f)]. The intermediate roundings to float32 follow torch's float32 arithmetic.
 */
import * as tf from '@tensorflow/tfjs';

export function timestepEmbedding(t: readonly number[], dim: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  if (half < 2) throw new Error(`timestepEmbedding: dim must be >= 4, got ${dim}`);
  const f32 = Math.fround;
  const c = f32(-Math.log(10000));
  const freqs = Array.from({ length: half }, (_, i) => f32(Math.exp(f32(f32(c * i) / (half - 1)))));
  const out = new Float32Array(t.length * 2 * half);
  t.forEach((ti, b) => {
    const tf32 = f32(ti);
    for (let i = 0; i < half; i++) {
      const a = f32(tf32 * freqs[i]);
      out[b * 2 * half + i] = Math.sin(a);
      out[b * 2 * half + half + i] = Math.cos(a);
    }
  });
  return tf.tensor2d(out, [t.length, 2 * half]);
}

/** Expand a scalar timestep to a batch, or check the per-sample list. */
export function timestepList(t: number | readonly number[], batch: number): readonly number[] {
  if (typeof t === 'number') return new Array<number>(batch).fill(t);
  if (t.length !== batch) throw new Error(`timesteps: got ${t.length} for a batch of ${batch}`);
  return t;
}
