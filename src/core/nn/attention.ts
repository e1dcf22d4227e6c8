/**
 * Self-attention block, exactly `Attn` of the torch reference (Ho et al. 2020 DDPM UNet):
 * x + out(softmax(qᵀk / sqrt(C)) v) with q, k, v = 1×1 conv of GroupNorm(x) (one [C, 3C] kernel, q first).
 * The batched products run as depthwise convs (bmm.ts) in layouts chosen to need few transposes, with a
 * hand-written gradient: P = softmax(S), dS = P ∘ (dP - Σ_j P dP) / sqrt(C).
 */
import * as tf from '@tensorflow/tfjs';
import { contract } from './bmm.js';
import { Conv2d, conv2d } from './conv2d.js';
import { customOp } from './customOp.js';
import { GroupNorm } from './groupNorm.js';
import type { ParamStore } from './params.js';
import { isReferenceMode } from './referenceMode.js';

type T3 = tf.Tensor3D;
const tr = (t: tf.Tensor, perm: number[]) => t.transpose(perm) as T3;

/** softmax(q kᵀ / sqrt(C)) v for q, k, v [B,L,C]. Scores are kept as [i, b, j] (query, batch, key). */
const attentionCore = customOp(([q, k, v], save) => {
  const scale = 1 / Math.sqrt(q.shape[2]!);
  const p = tf.softmax(tf.mul(contract(tr(q, [1, 2, 0]), tr(k, [2, 0, 1])), scale)) as T3; // [i,b,j]
  save([q, k, v, p]);
  return {
    value: tr(contract(tr(p, [0, 2, 1]), tr(v, [1, 0, 2])), [1, 0, 2]), // [b,i,c]
    gradFunc: (dO: tf.Tensor, [qs, ks, vs, ps]: tf.Tensor[]) => {
      const dP = contract(tr(dO, [1, 2, 0]), tr(vs, [2, 0, 1])); // [i,b,j] = Σ_c dO[b,i,c] v[b,j,c]
      const dV = contract(tr(ps, [2, 0, 1]), tr(dO, [1, 0, 2])); // [j,b,c] = Σ_i P[b,i,j] dO[b,i,c]
      const dS = tf.mul(tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(ps, dP), 2, true))), scale) as T3; // [i,b,j]
      const dQ = contract(tr(dS, [0, 2, 1]), tr(ks, [1, 0, 2])); // [i,b,c] = Σ_j dS[b,i,j] k[b,j,c]
      const dK = contract(tr(dS, [2, 0, 1]), tr(qs, [1, 0, 2])); // [j,b,c] = Σ_i dS[b,i,j] q[b,i,c]
      return [tr(dQ, [1, 0, 2]), tr(dK, [1, 0, 2]), tr(dV, [1, 0, 2])];
    },
  };
});

/** softmax(q kᵀ / sqrt(C)) v for q, k, v [B, L, C] (the products of `Attn`, in NHWC token layout). */
export function attend(q: T3, k: T3, v: T3): T3 {
  if (isReferenceMode()) {
    const w = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(q.shape[2])));
    return tf.matMul(w, v) as T3;
  }
  return attentionCore(q, k, v) as T3;
}

export class Attention {
  readonly norm: GroupNorm;
  readonly qkv: Conv2d;
  readonly out: Conv2d;

  constructor(store: ParamStore, name: string, readonly channels: number) {
    this.norm = new GroupNorm(store, `${name}.norm`, channels);
    this.qkv = new Conv2d(store, `${name}.qkv`, channels, 3 * channels, 1);
    this.out = new Conv2d(store, `${name}.out`, channels, channels, 1);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W, C] = x.shape;
    const h = this.norm.apply(x);
    // Three 1×1 convs with column blocks of the qkv kernel: slicing the small kernel, not the activation.
    const part = (i: number) =>
      conv2d(
        h,
        tf.slice(this.qkv.w, [0, 0, 0, i * C], [1, 1, C, C]) as tf.Tensor4D,
        tf.slice(this.qkv.b, [i * C], [C]) as tf.Tensor1D,
      ).reshape([B, H * W, C]) as T3;
    const o = attend(part(0), part(1), part(2)).reshape([B, H, W, C]) as tf.Tensor4D;
    return tf.add(x, this.out.apply(o));
  }
}
