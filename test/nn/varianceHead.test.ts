import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createUNet, HeadedNet } from '../../src/core/nn/index.js';
import { NoiseSource } from '../../src/core/rng.js';
import { expectNoLeak } from '../helpers.js';

const config = { imageSize: 8, inChannels: 1, baseChannels: 8, channelMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0.1 };
const ref = { path: '(in memory)', weightsSha256: '-' };
const schedule = { name: 'linear', N: 1000 };

describe('variance heads on a frozen UNet (Extended-Analytic-DPM)', () => {
  it('start at exactly 0, read the last decoder features, and leave eps_hat bit-identical to the backbone', () => {
    const unet = createUNet(config, 3);
    const net = new HeadedNet(unet, { backbone: '-', heads: ['npr', 'sn'], mode: 'simple', backboneDropout: true }, ref, schedule, 4);
    const x = new NoiseSource(1).normal('x', [0, 1, 2], unet.shape);
    const { eps, heads } = net.predictWithHeads(x, [5, 50, 500]);
    const want = unet.predictEps(x, [5, 50, 500]);
    const { features, embAct } = unet.applyWithFeatures(x, [5, 50, 500], { training: false });
    expect(features.shape).to.deep.equal([3, 8, 8, unet.featureChannels]);
    expect(embAct.shape).to.deep.equal([3, 32]);
    expect(unet.featureChannels).to.equal(8);
    for (const k of ['sn', 'npr'] as const) {
      expect(heads[k]!.shape).to.deep.equal([3, 8, 8, 1]);
      expect([...heads[k]!.dataSync()].every((v) => v === 0)).to.equal(true);
    }
    expect(Buffer.from(eps.dataSync().buffer).equals(Buffer.from(want.dataSync().buffer))).to.equal(true);
    expect(net.paramCount()).to.equal(2 * (8 + 8 + 3 * 3 * 8 * 1 + 1)); // GroupNorm scale + shift, conv weight + bias, per head
    expect(net.name).to.match(/^unet\(.*\)\+heads\(npr\+sn,simple\)$/);
    tf.dispose([x, eps, heads.sn!, heads.npr!, want, features, embAct]);
    net.dispose();
  });

  it('a gradient step on a head changes that head only: the backbone eps stays bit-identical; no tensors leak', async () => {
    const unet = createUNet(config, 3);
    const net = new HeadedNet(unet, { backbone: '-', heads: ['sn'], mode: 'complex', backboneDropout: true }, ref, schedule, 4);
    const noise = new NoiseSource(2);
    const x = noise.normal('x', [0, 1], unet.shape);
    const target = noise.normal('y', [0, 1], unet.shape);
    const before = unet.predictEps(x, [10, 900]);
    const opt = tf.train.adam(1e-2);
    const step = () => opt.minimize(() => tf.tidy(() => {
      const { eps, heads } = net.predictWithHeads(x, [10, 900]);
      eps.dispose();
      return tf.mean(tf.square(tf.sub(heads.sn!, tf.square(target)))) as tf.Scalar;
    }), false, [...net.params.values()]);
    step(); // creates Adam's moment variables
    await expectNoLeak(step);
    const after = net.predictWithHeads(x, [10, 900]);
    expect(Buffer.from(after.eps.dataSync().buffer).equals(Buffer.from(before.dataSync().buffer))).to.equal(true);
    expect(Math.max(...after.heads.sn!.dataSync().map(Math.abs))).to.be.above(1e-3);
    tf.dispose([x, target, before, after.eps, after.heads.sn!]);
    opt.dispose();
    net.dispose();
  });
});
