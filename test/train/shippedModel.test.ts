import { expect } from 'chai';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork } from '../../src/core/train/checkpoint.js';
import { makeSchedule } from '../../src/core/schedule.js';
import { loadMnist } from '../../src/core/data/mnist.js';
import { estimateMsEps } from '../../src/estimators/msEps.js';
import { computeNllStats } from '../../src/core/likelihood/termStats.js';
import { nelboFromStats, toBitsPerDim } from '../../src/core/likelihood/nelbo.js';
import { varianceRule } from '../../src/core/variances.js';
import { NoiseSource } from '../../src/core/rng.js';
import { qSample } from '../../src/core/forward.js';

const MODEL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'mnist-unet');

describe('the shipped MNIST model', () => {
  it('loads, predicts noise far better than chance, and plugs into the msEps estimator and the NLL', function () {
    this.timeout(120000);
    const { net, manifest } = loadNetwork(MODEL);
    const sch = makeSchedule(manifest.schedule.name, manifest.schedule.N);
    const test = loadMnist('test');
    // eps-prediction error on held-out digits at t = 300: a trained model is far below the chance level of 1
    const ids = Array.from({ length: 32 }, (_, i) => i);
    const mse = tf.tidy(() => {
      const x0 = test.rows(ids);
      const eps = new NoiseSource(1).normal('check', ids, test.shape);
      const xt = qSample(sch, x0, 300, eps);
      return tf.mean(tf.square(tf.sub(eps, net.predictEps(xt, 300)))).dataSync()[0];
    });
    expect(mse).to.be.below(0.2);
    const ts = [1, 100, 500, 1000];
    const ms = estimateMsEps({ model: net, schedule: sch, data: loadMnist('train'), M: 8, seed: 1, batchSize: 64, timesteps: ts });
    for (const t of ts) expect(ms.msEps[t], `msEps[${t}]`).to.be.within(0.05, 1.2);
    const traj = [1, 500, 1000];
    const stats = computeNllStats({ model: net, schedule: sch, data: test, ids: [0, 1, 2, 3], timesteps: traj, noise: new NoiseSource(2) });
    const bpd = toBitsPerDim(nelboFromStats(stats, { process: 'ddpm', variance: varianceRule('large', { range: [-1, 1] }), trajectory: traj }), 784);
    expect(bpd.total.mean).to.be.within(0.5, 20);
    net.dispose();
  });
});
