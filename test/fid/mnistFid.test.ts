import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { loadMnist } from '../../src/core/data/mnist.js';
import { Classifier, MNIST_CLASSIFIER_CONFIG } from '../../src/core/nn/classifier.js';
import { fillNormal } from '../../src/core/rng.js';
import { readCheckpoint } from '../../src/core/train/checkpoint.js';
import { DEFAULT_MNIST_CLASSIFIER_DIR, classifierAccuracy, loadClassifier } from '../../src/estimators/fid/mnistClassifier.js';
import { defaultMnistClassifier, fid, mnistFeatureStats, mnistReferenceStats } from '../../src/estimators/fid/mnistFid.js';
import { expectNoLeak } from '../helpers.js';

/** Test images with N(0, sigma^2) pixel noise added, clipped to [-1, 1]. */
function noisyTest(n: number, sigma: number, seed: number): tf.Tensor4D {
  const x = loadMnist('test').rows(Array.from({ length: n }, (_, i) => i));
  const z = new Float32Array(n * 784);
  fillNormal(z, 0, z.length, seed);
  const out = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(tf.tensor4d(z, [n, 28, 28, 1]), sigma)), -1, 1)) as tf.Tensor4D;
  x.dispose();
  return out;
}

describe('fid/classifier network', () => {
  it('has seeded initialisation, the documented shapes and checks its input', () => {
    const a = new Classifier(MNIST_CLASSIFIER_CONFIG, 3), b = new Classifier(MNIST_CLASSIFIER_CONFIG, 3);
    const x = tf.zeros([2, 28, 28, 1]);
    const f = a.features(x), l = a.logits(x);
    expect(f.shape).to.deep.equal([2, 128]);
    expect(l.shape).to.deep.equal([2, 10]);
    for (const [name, v] of a.params) expect(Array.from(v.dataSync())).to.deep.equal(Array.from(b.params.get(name)!.dataSync()));
    expect(() => a.features(tf.zeros([2, 28, 28, 3]))).to.throw(/not \[B,28,28,1\]/);
    tf.dispose([x, f, l]);
    a.dispose();
    b.dispose();
  });
});

describe('fid/MNIST classifier checkpoint and FID', function () {
  this.timeout(300000);
  let clf: Classifier;
  before(() => {
    clf = defaultMnistClassifier();
  });

  it('loads from models/mnist-classifier and classifies >= 98% of the first 500 test images', () => {
    const { manifest } = readCheckpoint(DEFAULT_MNIST_CLASSIFIER_DIR);
    expect((manifest.arch as unknown as { kind: string }).kind).to.equal('classifier');
    expect(manifest.data?.name).to.equal('mnist-train');
    expect(manifest.training?.testAccuracy as number).to.be.at.least(0.98);
    const acc = classifierAccuracy(clf, loadMnist('test'), { limit: 500 });
    expect(acc.n).to.equal(500);
    expect(acc.accuracy, `${acc.errors} errors`).to.be.at.least(0.98);
    // a fresh load gives identical predictions
    const { net } = loadClassifier(DEFAULT_MNIST_CLASSIFIER_DIR);
    const x = loadMnist('test').rows([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(net.predict(x))).to.deep.equal(Array.from(clf.predict(x)));
    x.dispose();
    net.dispose();
  });

  it('orders FIDs: test vs train << noisy test vs train << noise images vs train', () => {
    const train = mnistReferenceStats('train', clf);
    expect(mnistReferenceStats('train', clf)).to.equal(train); // cached
    const test = mnistFeatureStats(loadMnist('test'), clf);
    const noisy = noisyTest(1000, 0.5, 1);
    const u = new Float32Array(1000 * 784);
    fillNormal(u, 0, u.length, 2);
    const noise = tf.tidy(() => tf.clipByValue(tf.tensor4d(u, [1000, 28, 28, 1]), -1, 1));
    const fTest = fid(test, train), fNoisy = fid(mnistFeatureStats(noisy, clf), train), fNoise = fid(mnistFeatureStats(noise, clf), train);
    tf.dispose([noisy, noise]);
    expect(fTest).to.be.above(0);
    expect(fTest, `FID test ${fTest}, noisy ${fNoisy}`).to.be.below(0.2 * fNoisy);
    expect(fNoisy, `FID noisy ${fNoisy}, noise ${fNoise}`).to.be.below(fNoise);
    expect(fTest, `FID test ${fTest}, noise ${fNoise}`).to.be.below(0.02 * fNoise);
  });

  it('gives the same statistics for a Dataset, one tensor and a list of tensors, without leaking tensors', async () => {
    const ds = loadMnist('test');
    const idx = Array.from({ length: 300 }, (_, i) => i);
    const all = ds.rows(idx);
    const parts = [ds.rows(idx.slice(0, 120)), ds.rows(idx.slice(120))];
    const a = mnistFeatureStats(all, clf, 64), b = mnistFeatureStats(parts, clf, 500);
    for (let i = 0; i < a.mu.length; i++) expect(a.mu[i]).to.be.closeTo(b.mu[i], 1e-5 * (1 + Math.abs(b.mu[i])));
    for (let i = 0; i < a.sigma.length; i += 97) expect(a.sigma[i]).to.be.closeTo(b.sigma[i], 1e-5 * (1 + Math.abs(b.sigma[i])));
    expect(fid(a, b)).to.be.below(1e-6);
    await expectNoLeak(() => mnistFeatureStats(all, clf, 64));
    await expectNoLeak(() => mnistFeatureStats(parts, clf, 50));
    await expectNoLeak(() => mnistFeatureStats(ds, clf, 1000));
    await expectNoLeak(() => clf.features(all));
    tf.dispose([all, ...parts]);
  });
});
