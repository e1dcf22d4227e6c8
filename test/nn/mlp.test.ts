import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { createMlp } from '../../src/core/nn/mlp.js';

describe('nn/mlp eps-net', () => {
  const config = { dim: 2, hidden: 16, depth: 3, timeEmbDim: 8 };

  it('has the hand-computed parameter count and EpsModel fields', () => {
    const net = createMlp(config, 0);
    // (2+8)·16+16 + 2·(16·16+16) + 16·2+2 = 176 + 544 + 34 = 754
    expect(net.paramCount()).to.equal(754);
    expect(net.shape).to.deep.equal([2]);
    expect(net.timestepInput).to.equal('n');
    expect([...net.params.keys()]).to.deep.equal(['hidden.0.w', 'hidden.0.b', 'hidden.1.w', 'hidden.1.b', 'hidden.2.w', 'hidden.2.b', 'out.w', 'out.b']);
    net.dispose();
  });

  it('maps [B, d] to [B, d], depends on t, trains with finite gradients and leaks nothing', () => {
    const net = createMlp(config, 1);
    const x = tf.randomNormal([5, 2]);
    const before = tf.memory().numTensors;
    const a = net.predictEps(x, 10), b = net.predictEps(x, [10, 10, 10, 10, 10]), c = net.predictEps(x, 700);
    expect(a.shape).to.deep.equal([5, 2]);
    expect(Array.from(a.dataSync())).to.deep.equal(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).to.not.deep.equal(Array.from(c.dataSync()));
    tf.dispose([a, b, c]);
    expect(tf.memory().numTensors).to.equal(before);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(net.apply(x, 3), x))) as tf.Scalar);
    for (const v of net.params.values()) expect(grads[v.name].dataSync().every(Number.isFinite)).to.equal(true);
    tf.dispose([x, value, ...Object.values(grads)]);
    expect(() => net.predictEps(tf.zeros([1, 3]), 1)).to.throw(/input shape/);
    expect(() => createMlp({ ...config, timeEmbDim: 3 }, 0)).to.throw(/timeEmbDim/);
    net.dispose();
  });
});
