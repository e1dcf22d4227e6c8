import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { conv2d, conv2dReference, convOutSize, type Stride } from '../../src/core/nn/conv2d.js';
import { expectClose, normals, onCpu } from './gradcheck.js';

interface Case { B: number; H: number; W: number; cin: number; cout: number; k: number; stride: Stride; bias: boolean }

/** Forward value and (dx, dw, db) of sum(conv(x, w, b) * dy), as plain arrays. */
function run(c: Case, conv: typeof conv2d): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(normals(c.B * c.H * c.W * c.cin, 1), [c.B, c.H, c.W, c.cin]);
    const w = tf.tensor4d(normals(c.k * c.k * c.cin * c.cout, 2), [c.k, c.k, c.cin, c.cout]);
    const b = tf.tensor1d(normals(c.cout, 3));
    const Ho = convOutSize(c.H, c.k, c.stride), Wo = convOutSize(c.W, c.k, c.stride);
    const dy = tf.tensor4d(normals(c.B * Ho * Wo * c.cout, 4), [c.B, Ho, Wo, c.cout]);
    const f = (...a: tf.Tensor[]) =>
      conv(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, c.bias ? (a[2] as tf.Tensor1D) : undefined, { stride: c.stride });
    const y = f(x, w, b);
    expect(y.shape).to.deep.equal([c.B, Ho, Wo, c.cout]);
    const args = c.bias ? [x, w, b] : [x, w];
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(args);
    return [y, ...g].map((t) => t.dataSync() as Float32Array);
  });
}

const cases: Case[] = [
  { B: 2, H: 8, W: 8, cin: 3, cout: 5, k: 3, stride: 1, bias: true },
  { B: 3, H: 7, W: 9, cin: 4, cout: 6, k: 3, stride: 1, bias: false },
  { B: 2, H: 6, W: 5, cin: 6, cout: 4, k: 1, stride: 1, bias: true },
  { B: 2, H: 8, W: 8, cin: 4, cout: 4, k: 3, stride: 2, bias: true },
  { B: 3, H: 9, W: 7, cin: 3, cout: 5, k: 3, stride: 2, bias: true },
  { B: 1, H: 2, W: 2, cin: 2, cout: 3, k: 3, stride: 2, bias: false },
  { B: 1, H: 5, W: 5, cin: 2, cout: 3, k: 3, stride: 1, bias: true },
  { B: 64, H: 6, W: 6, cin: 8, cout: 8, k: 3, stride: 1, bias: true },
  { B: 64, H: 5, W: 5, cin: 8, cout: 8, k: 3, stride: 2, bias: true },
];

describe(`nn/conv2d (backend ${process.env.TFJS_BACKEND ?? 'wasm'})`, () => {
  // float32 sums of up to B*Ho*Wo = 2304 products (dw) in a different order than the reference kernels:
  // rounding error grows like sqrt(n)*2^-24 ~ 3e-6 relative to the scale; 2e-5 leaves room for the worst case.
  const rel = 2e-5;
  for (const c of cases) {
    const label = `B${c.B} ${c.H}x${c.W} ${c.cin}->${c.cout} k${c.k} s${c.stride}${c.bias ? ' +b' : ''}`;
    it(`forward and dx, dw${c.bias ? ', db' : ''} match tf.conv2d on cpu: ${label}`, async () => {
      const ours = run(c, conv2d);
      const ref = await onCpu(() => run(c, conv2dReference));
      const names = ['y', 'dx', 'dw', 'db'];
      ours.forEach((a, i) => expectClose(a, ref[i], rel, names[i]));
    });
  }

  it('odd input sizes give the PyTorch output size (floor((n+2p-k)/s)+1)', () => {
    expect([convOutSize(32, 3, 2), convOutSize(33, 3, 2), convOutSize(7, 3, 1), convOutSize(7, 1, 2)]).to.deep.equal([16, 17, 7, 4]);
  });

  it('a gradient call leaves no tensors behind', () => {
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D, w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    for (const stride of [1, 2] as Stride[]) {
      const before = tf.memory().numTensors;
      const g = tf.grads((x, w, b) => tf.sum(conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, { stride })))([x, w, b]);
      tf.dispose(g);
      expect(tf.memory().numTensors).to.equal(before);
    }
    tf.dispose([x, w, b]);
  });

  it('rejects even or non-square kernels', () => {
    expect(() => conv2d(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D, tf.zeros([2, 2, 2, 2]) as tf.Tensor4D)).to.throw(/k odd/);
  });
});
