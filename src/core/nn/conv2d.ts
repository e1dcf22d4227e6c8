/**
 * k×k convolution (k odd; PyTorch padding (k-1)/2, stride 1 or 2) whose gradients use only forward kernels,
 * because the wasm backend has no Conv2DBackpropFilter and a slow Conv2DBackpropInput (ecosystem.md B.3).
 *
 *   dx = conv(dilate_s(dy), flip(w)ᵀ)                     a forward conv of dy with the flipped, in/out-swapped kernel
 *   dw = conv(xpᵀ [Cin,Hp,Wp,B], dyᵀ [Ho,Wo,B,Cout], dilation s)   the batch becomes the contracted channel axis
 *   db = Σ_{b,y,x} dy
 *
 * Measured on wasm (XNNPACK SIMD, 1 thread), 3×3 conv, batch 32, 32×32, 32→32 channels (64→64 in brackets):
 * forward 18 ms (68); dx as above 18 ms (68) vs tf.conv2dTranspose 202 ms (763); dw as above 37-55 ms (137-167)
 * vs im2col + matMul 220-340 ms (480-1170), because wasm's matMul is only fast for plain 2-D operands without
 * transposes. Splitting dw into batch or row chunks, or moving the kw shift into the channel axis, was slower.
 * For 1×1 kernels dw is xᵀ dy as an explicit transpose then a plain 2-D matMul.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp.js';
import { type ParamStore, torchBound } from './params.js';
import { isReferenceMode } from './referenceMode.js';

export type Stride = 1 | 2;
export interface ConvOptions {
  stride?: Stride;
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
const pad4 = (t: number, b: number, l: number, r: number): Pad4 => [[0, 0], [t, b], [l, r], [0, 0]];

/** Output size of a PyTorch conv with padding p: floor((n + 2p - k) / s) + 1. */
export function convOutSize(n: number, k: number, stride: Stride): number {
  return Math.floor((n + 2 * ((k - 1) / 2) - k) / stride) + 1;
}

function forward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined, s: Stride): tf.Tensor4D {
  const p = (w.shape[0] - 1) / 2;
  return tf.fused.conv2d({ x, filter: w, strides: s, pad: p === 0 ? 'valid' : pad4(p, p, p, p), bias: b });
}

/** Zero-insertion: [B,h,w,C] -> [B,s*h,s*w,C] with dy at positions (s*i, s*j). */
function dilate(dy: tf.Tensor4D, s: Stride): tf.Tensor4D {
  if (s === 1) return dy;
  const [B, h, w, C] = dy.shape;
  const z = tf.pad(dy.reshape([B, h, 1, w, 1, C]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
  return z.reshape([B, s * h, s * w, C]);
}

/** Pad top/left; pad or (if negative) crop bottom/right, on the spatial axes. */
function padOrCrop(t: tf.Tensor4D, top: number, left: number, bottom: number, right: number): tf.Tensor4D {
  const [B, H, W, C] = t.shape;
  let r = t;
  if (bottom < 0 || right < 0) {
    r = tf.slice(r, [0, 0, 0, 0], [B, H + Math.min(bottom, 0), W + Math.min(right, 0), C]);
  }
  const pb = Math.max(bottom, 0), pr = Math.max(right, 0);
  return top || left || pb || pr ? tf.pad(r, pad4(top, pb, left, pr)) : r;
}

/**
 * w flipped in both spatial axes: reversing the k·k taps of w as a [k·k, Cin·Cout] matrix, done as a product with
 * the anti-identity (exact; ~8× faster on wasm than tf.reverse, whose kernel is slow even on 37K floats).
 */
function flipTaps(w: tf.Tensor4D): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  if (k === 1) return w;
  const antiIdentity = tf.reverse(tf.eye(k * k), 0);
  return tf.matMul(antiIdentity, w.reshape([k * k, cin * cout])).reshape(w.shape);
}

function gradX(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: number[], s: Stride): tf.Tensor4D {
  const k = w.shape[0], p = (k - 1) / 2;
  const wt = flipTaps(w).transpose([0, 1, 3, 2]) as tf.Tensor4D;
  if (s === 1) return tf.conv2d(dy, wt, 1, p === 0 ? 'valid' : pad4(p, p, p, p));
  const d = dilate(dy, s);
  const [, H, W] = xShape, top = k - 1 - p;
  const padded = padOrCrop(d, top, top, H + k - 1 - top - d.shape[1], W + k - 1 - top - d.shape[2]);
  return tf.conv2d(padded, wt, 1, 'valid');
}

/** Σ_{b,y,x} dy: a global average pool (XNNPACK; tf.sum over axes [0,1,2] transposes first on wasm), then Σ_b. */
function gradB(dy: tf.Tensor4D): tf.Tensor1D {
  const [B, H, W, C] = dy.shape;
  return tf.mul(tf.sum(tf.avgPool(dy, [H, W], 1, 'valid').reshape([B, C]), 0), H * W);
}

function gradW(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: Stride): tf.Tensor4D {
  const [B, H, W, Cin] = x.shape;
  const [, Ho, Wo, Cout] = dy.shape;
  if (k === 1 && s === 1) {
    // dw = xᵀ dy as [Cin, BHW] @ [BHW, Cout]: an explicit transpose then a plain matMul is the fastest form on wasm
    // (and the 4-D transpose [3,0,1,2] runs ~4× faster there than the equivalent 2-D one).
    const xt = x.transpose([3, 0, 1, 2]).reshape([Cin, B * H * W]);
    return tf.matMul(xt, dy.reshape([B * H * W, Cout])).reshape([1, 1, Cin, Cout]);
  }
  const p = (k - 1) / 2;
  // Rows the kernel actually reads: k + s*(Ho-1) of the padded input (crop the unread tail for stride 2).
  const xp = padOrCrop(x, p, p, k + s * (Ho - 1) - p - x.shape[1], k + s * (Wo - 1) - p - x.shape[2]);
  const xt = xp.transpose([3, 1, 2, 0]) as tf.Tensor4D; // [Cin, Hp, Wp, B]
  const dyt = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Cout]
  const g = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', s); // [Cin, k, k, Cout]
  return (k === 1 ? g.reshape([1, 1, g.shape[0], g.shape[3]]) : g.transpose([1, 2, 0, 3])) as tf.Tensor4D;
}

function check(x: tf.Tensor4D, w: tf.Tensor4D): void {
  const k = w.shape[0];
  if (k !== w.shape[1] || k % 2 !== 1) throw new Error(`conv2d: kernel must be k×k with k odd, got ${w.shape}`);
  if (x.shape[3] !== w.shape[2]) throw new Error(`conv2d: input channels ${x.shape[3]} != kernel ${w.shape[2]}`);
}

function makeConvOp(s: Stride, withBias: boolean) {
  return customOp(([x, w, b], save) => {
    save([x, w]);
    return {
      value: forward(x as tf.Tensor4D, w as tf.Tensor4D, withBias ? (b as tf.Tensor1D) : undefined, s),
      gradFunc: (dy: tf.Tensor, [xs, ws]: tf.Tensor[]) => {
        const dx = gradX(dy as tf.Tensor4D, ws as tf.Tensor4D, xs.shape, s);
        const dw = gradW(xs as tf.Tensor4D, dy as tf.Tensor4D, ws.shape[0], s);
        return withBias ? [dx, dw, gradB(dy as tf.Tensor4D)] : [dx, dw];
      },
    };
  });
}

const convOps = { 1: [makeConvOp(1, false), makeConvOp(1, true)], 2: [makeConvOp(2, false), makeConvOp(2, true)] };

/** PyTorch-style Conv2d(cin, cout, k, stride, padding=(k-1)/2) on NHWC x [B,H,W,Cin], w [k,k,Cin,Cout], b [Cout]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D, opts: ConvOptions = {}): tf.Tensor4D {
  check(x, w);
  if (isReferenceMode()) return conv2dReference(x, w, b, opts);
  const [noBias, withBias] = convOps[opts.stride ?? 1];
  return (b ? withBias(x, w, b) : noBias(x, w)) as tf.Tensor4D;
}

/** The same convolution with tfjs' built-in ops and gradients (a reference for tests; cpu backend only). */
export function conv2dReference(x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D, opts: ConvOptions = {}): tf.Tensor4D {
  const p = (w.shape[0] - 1) / 2;
  const y = tf.conv2d(tf.pad(x, pad4(p, p, p, p)), w, opts.stride ?? 1, 'valid');
  return b ? tf.add(y, b) : y;
}

/** PyTorch nn.Conv2d(cin, cout, k, stride, padding=(k-1)/2) with default init; w [k,k,cin,cout], b [cout]. */
export class Conv2d {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(store: ParamStore, name: string, cin: number, cout: number, k: 1 | 3, readonly stride: Stride = 1) {
    const bound = torchBound(cin * k * k);
    this.w = store.uniform(`${name}.w`, [k, k, cin, cout], bound);
    this.b = store.uniform(`${name}.b`, [cout], bound);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.w as tf.Tensor4D, this.b as tf.Tensor1D, { stride: this.stride });
  }
}
