import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { attend } from '../../src/core/nn/attention.js';
import { bmm } from '../../src/core/nn/bmm.js';
import { ClassEmbedding } from '../../src/core/nn/classEmbedding.js';
import { dropout } from '../../src/core/nn/dropout.js';
import { GroupNorm, groupNorm } from '../../src/core/nn/groupNorm.js';
import { Linear } from '../../src/core/nn/linear.js';
import { ParamStore } from '../../src/core/nn/params.js';
import { withReferenceOps } from '../../src/core/nn/referenceMode.js';
import { concatChannels, upsampleNearest2x } from '../../src/core/nn/resample.js';
import { silu } from '../../src/core/nn/silu.js';
import { timestepEmbedding } from '../../src/core/nn/timestepEmbedding.js';
import { expectClose, normals, onCpu } from './gradcheck.js';

/** Value and gradients of sum(f(inputs) * r) for a fixed random r, as arrays. */
function valueAndGrads(shapes: number[][], f: (...a: tf.Tensor[]) => tf.Tensor, seed = 1): Float32Array[] {
  return tf.tidy(() => {
    const inputs = shapes.map((s, i) => tf.tensor(normals(s.reduce((a, b) => a * b, 1), seed + i), s));
    const y = f(...inputs);
    const r = tf.tensor(normals(y.size, seed + 99), y.shape);
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(inputs);
    return [y, ...g].map((t) => t.dataSync() as Float32Array);
  });
}

/** Ours on the current backend vs the reference ops (built-in autodiff) on cpu. */
async function compareToReference(shapes: number[][], f: (...a: tf.Tensor[]) => tf.Tensor, rel: number): Promise<void> {
  const ours = valueAndGrads(shapes, f);
  const ref = await onCpu(() => withReferenceOps(() => valueAndGrads(shapes, f)));
  ours.forEach((a, i) => expectClose(a, ref[i], rel, i === 0 ? 'value' : `grad ${i - 1}`));
}

describe('nn building blocks', () => {
  describe('ParamStore', () => {
    it('initialises from (seed, name) only, with PyTorch bounds', () => {
      const a = new ParamStore(7), b = new ParamStore(7), c = new ParamStore(8);
      b.uniform('other', [3], 1);
      const wa = a.uniform('conv.w', [3, 3, 4, 5], 1 / 6), wb = b.uniform('conv.w', [3, 3, 4, 5], 1 / 6);
      const wc = c.uniform('conv.w', [3, 3, 4, 5], 1 / 6);
      expect(Array.from(wa.dataSync())).to.deep.equal(Array.from(wb.dataSync()));
      expect(Array.from(wa.dataSync())).to.not.deep.equal(Array.from(wc.dataSync()));
      const v = wa.dataSync();
      expect(Math.max(...v.map(Math.abs))).to.be.at.most(1 / 6);
      expect(Math.max(...v.map(Math.abs))).to.be.above(0.9 / 6);
      expect(() => a.uniform('conv.w', [1], 1)).to.throw(/twice/);
      expect(a.count()).to.equal(180);
      [a, b, c].forEach((s) => s.dispose());
    });

    it('Linear and GroupNorm use the torch defaults (U(±1/sqrt(fan_in)); gamma 1, beta 0)', () => {
      const s = new ParamStore(1);
      const lin = new Linear(s, 'lin', 16, 4);
      const gn = new GroupNorm(s, 'gn', 64);
      expect(Math.max(...lin.w.dataSync().map(Math.abs))).to.be.at.most(0.25);
      expect(Math.max(...lin.b.dataSync().map(Math.abs))).to.be.at.most(0.25);
      expect(Array.from(gn.gamma.dataSync()).every((g) => g === 1)).to.equal(true);
      expect(Array.from(gn.beta.dataSync()).every((g) => g === 0)).to.equal(true);
      expect(gn.groups).to.equal(32);
      expect([...s.params.keys()]).to.deep.equal(['lin.w', 'lin.b', 'gn.g', 'gn.b']);
      s.dispose();
    });
  });

  // All comparisons: float32 forward/backward through a few reductions of <= 1e3 terms; 1e-4 of the scale.
  it('GroupNorm forward and gradients match tf.moments + autodiff on cpu', async () => {
    for (const [C, G] of [[8, 4], [6, 6], [64, 32]]) {
      await compareToReference([[2, 5, 4, C], [C], [C]], (x, g, b) => groupNorm(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, G), 1e-4);
    }
  });

  it('SiLU forward and gradient match x·sigmoid(x) with autodiff', async () => {
    await compareToReference([[3, 7]], (x) => silu(x), 1e-5);
  });

  it('bmm (depthwise-conv batched product) matches tf.matMul, values and gradients', async () => {
    await compareToReference([[3, 5, 4], [3, 4, 6]], (a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D), 1e-5);
  });

  it('attention core matches softmax(q kᵀ/sqrt(C)) v with tf.matMul, values and gradients', async () => {
    await compareToReference([[2, 16, 8], [2, 16, 8], [2, 16, 8]], (q, k, v) => attend(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D), 1e-4);
  });

  it('nearest 2× upsampling (= resizeNearestNeighbor) and channel concat: values and gradients match built-in autodiff', async () => {
    await compareToReference([[2, 3, 5, 4]], (x) => upsampleNearest2x(x as tf.Tensor4D), 1e-6);
    await compareToReference([[2, 3, 3, 4], [2, 3, 3, 2]], (a, b) => concatChannels(a as tf.Tensor4D, b as tf.Tensor4D), 0);
    const u = tf.tidy(() => upsampleNearest2x(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1])).dataSync());
    expect(Array.from(u)).to.deep.equal([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const [x, y] = tf.tidy(() => {
      const x = tf.tensor4d(normals(2 * 3 * 5 * 4, 9), [2, 3, 5, 4]);
      return [upsampleNearest2x(x).dataSync(), tf.image.resizeNearestNeighbor(x, [6, 10]).dataSync()];
    });
    expect(Array.from(x)).to.deep.equal(Array.from(y));
  });

  it('timestep embedding is temb of the torch file: [sin(t f), cos(t f)], f_i = 10000^(-i/(half-1))', () => {
    const e = timestepEmbedding([0, 1, 999], 8);
    expect(e.shape).to.deep.equal([3, 8]);
    const v = e.arraySync();
    e.dispose();
    const f = [0, 1, 2, 3].map((i) => Math.exp((-Math.log(10000) * i) / 3));
    for (const [row, t] of [[0, 0], [1, 1], [2, 999]]) {
      for (let i = 0; i < 4; i++) {
        expect(v[row][i]).to.be.closeTo(Math.sin(t * f[i]), 1e-4);
        expect(v[row][4 + i]).to.be.closeTo(Math.cos(t * f[i]), 1e-4);
      }
    }
    expect(v[1][0]).to.be.closeTo(Math.sin(1), 1e-7); // f_0 = 1
  });

  it('dropout: seeded, drops about p of the entries, rescales the rest by 1/(1-p), identity at p = 0', () => {
    const x = tf.ones([100, 100]);
    const a = dropout(x, 0.1, 5).dataSync(), b = dropout(x, 0.1, 5).dataSync(), c = dropout(x, 0.1, 6).dataSync();
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(Array.from(a)).to.not.deep.equal(Array.from(c));
    const dropped = a.filter((v) => v === 0).length / a.length;
    expect(dropped).to.be.closeTo(0.1, 4 * Math.sqrt(0.09 / 1e4));
    expect(a.every((v) => v === 0 || Math.abs(v - 1 / 0.9) < 1e-6)).to.equal(true);
    expect(dropout(x, 0, 5)).to.equal(x);
    expect(() => dropout(x, 1, 5)).to.throw(/\[0, 1\)/);
    x.dispose();
  });

  it('class embedding: oneHot @ table picks rows, has a null class, and trains on this backend', () => {
    const s = new ParamStore(3);
    const emb = new ClassEmbedding(s, 'cls', 4, 6);
    expect(emb.table.shape).to.deep.equal([5, 6]);
    expect(emb.nullClass).to.equal(4);
    const rows = emb.table.arraySync() as number[][];
    const out = tf.tidy(() => emb.apply([2, 4, 2]).arraySync());
    expect(out[0]).to.deep.equal(rows[2]);
    expect(out[1]).to.deep.equal(rows[4]);
    const { grads, value } = tf.variableGrads(() => tf.sum(emb.apply([2, 4, 2])), [emb.table]);
    const g = grads[emb.table.name].arraySync() as number[][];
    expect(g[2].every((v) => v === 2) && g[4].every((v) => v === 1) && g[0].every((v) => v === 0)).to.equal(true);
    tf.dispose([value, ...Object.values(grads)]);
    expect(() => emb.apply([5])).to.throw(/outside 0..4/);
    s.dispose();
  });
});
