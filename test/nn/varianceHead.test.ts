import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createUNet, HeadedUNet } from '../../src/core/nn/index.js';
import { NoiseSource } from '../../src/core/rng.js';
import { expectNoLeak } from '../helpers.js';

const config = { imageSize: 8, inChannels: 1, baseChannels: 8, channelMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0.1 };

describe('variance head on a frozen UNet (Extended-Analytic-DPM)', () => {
  it('starts at exactly 0, reads the last decoder features, and leaves eps_hat bit-identical to the backbone', () => {
    const unet = createUNet(config, 3);
    const net = new HeadedUNet(unet, 'npr', 4);
    const x = new NoiseSource(1).normal('x', [0, 1, 2], unet.shape);
    const { eps, head } = net.predictWithHead(x, [5, 50, 500]);
    const ref = unet.predictEps(x, [5, 50, 500]);
    const { features } = unet.applyWithFeatures(x, [5, 50, 500], { training: false });
    expect(features.shape).to.deep.equal([3, 8, 8, unet.featureChannels]);
    expect(unet.featureChannels).to.equal(8);
    expect(head.shape).to.deep.equal([3, 8, 8, 1]);
    expect([...head.dataSync()].every((v) => v === 0)).to.equal(true);
    expect(Buffer.from(eps.dataSync().buffer).equals(Buffer.from(ref.dataSync().buffer))).to.equal(true);
    expect(net.head.paramCount()).to.equal(8 + 8 + 3 * 3 * 8 * 1 + 1);
    expect(net.name).to.match(/^unet\(.*\)\+npr-head\(seed=4\)$/);
    tf.dispose([x, eps, head, ref, features]);
    net.dispose();
    unet.dispose();
  });

  it('a gradient step on the head changes the head only: the backbone eps stays bit-identical; no tensors leak', async () => {
    const unet = createUNet(config, 3);
    const net = new HeadedUNet(unet, 'sn', 4);
    const noise = new NoiseSource(2);
    const x = noise.normal('x', [0, 1], unet.shape);
    const target = noise.normal('y', [0, 1], unet.shape);
    const before = unet.predictEps(x, [10, 900]);
    const opt = tf.train.adam(1e-2);
    const step = () => opt.minimize(() => tf.tidy(() => {
      const { eps, head } = net.predictWithHead(x, [10, 900]);
      eps.dispose();
      return tf.mean(tf.square(tf.sub(head, tf.square(target)))) as tf.Scalar;
    }), false, [...net.head.params.values()]);
    step(); // creates Adam's moment variables
    await expectNoLeak(step);
    const after = net.predictWithHead(x, [10, 900]);
    expect(Buffer.from(after.eps.dataSync().buffer).equals(Buffer.from(before.dataSync().buffer))).to.equal(true);
    expect(Math.max(...after.head.dataSync().map(Math.abs))).to.be.above(1e-3);
    tf.dispose([x, target, before, after.eps, after.head]);
    opt.dispose();
    net.dispose();
    unet.dispose();
  });
});
