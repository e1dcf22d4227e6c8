import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { GmmOracle } from '../../src/estimators/oracles/gmmOracle.js';
import { RademacherOracle } from '../../src/estimators/oracles/rademacherOracle.js';
import { ArrayDataset } from '../../src/core/data/dataset.js';
import { randomGmm } from '../../src/core/data/toy.js';
import { expectNoLeak } from '../helpers.js';

/** E[x0 | x_t] of a GMM in float64, by brute force. */
function gmmPosteriorMean(x: number[], a: number, b: number, w: number[], mus: number[][], stds: number[]): number[] {
  const d = x.length;
  const logs = mus.map((mu, k) => {
    const v = a * stds[k] ** 2 + b;
    let q = 0;
    for (let i = 0; i < d; i++) q += (x[i] - Math.sqrt(a) * mu[i]) ** 2;
    return Math.log(w[k]) - (d / 2) * Math.log(v) - q / (2 * v);
  });
  const mx = Math.max(...logs);
  const r = logs.map((l) => Math.exp(l - mx));
  const z = r.reduce((p, q) => p + q, 0);
  return x.map((xi, i) => mus.reduce((acc, mu, k) => {
    const v = a * stds[k] ** 2 + b;
    return acc + (r[k] / z) * (mu[i] + ((Math.sqrt(a) * stds[k] ** 2) / v) * (xi - Math.sqrt(a) * mu[i]));
  }, 0));
}

describe('oracle models', () => {
  const sch = makeSchedule('linear', 1000);

  it('a one-component GMM equals the Gaussian oracle', () => {
    const mu = [0.1, -0.2, 0.3, 0.0];
    const g = new GaussianOracle([4], sch, mu, 0.4);
    const m = new GmmOracle('g1', [4], sch, { weights: [1], means: [mu], stds: [0.4] });
    const x = tf.tensor2d([[0.5, -1, 2, 0], [0.1, 0.2, -0.3, 1]]);
    for (const t of [1, 300, 1000]) {
      const a = g.predictEps(x, t).dataSync();
      const b = m.predictEps(x, t).dataSync();
      for (let i = 0; i < a.length; i++) expect(b[i]).to.be.closeTo(a[i], 2e-4 * Math.max(1, Math.abs(a[i])));
    }
    m.dispose();
    x.dispose();
  });

  it('the GMM posterior mean matches a float64 brute force, with per-sample timesteps', () => {
    const spec = randomGmm(5, 6, 0.8, 0.2, 3);
    const m = new GmmOracle('g5', [6], sch, spec);
    const xs = [[0.3, -0.1, 0.9, 0.2, -0.5, 0.1], [1.2, 0.3, -0.7, 0.0, 0.4, -0.2], [0, 0, 0, 0, 0, 0]];
    const ts = [20, 400, 900];
    const x = tf.tensor2d(xs);
    const got = m.posteriorMean(x, ts).arraySync() as number[][];
    xs.forEach((row, k) => {
      const exp = gmmPosteriorMean(row, sch.abar[ts[k]], sch.bbar[ts[k]], spec.weights, spec.means, spec.stds);
      exp.forEach((v, i) => expect(got[k][i]).to.be.closeTo(v, 1e-4));
    });
    m.dispose();
    x.dispose();
  });

  it('the empirical oracle recovers the nearest training point at small t and the data mean at t = N', () => {
    const rows = [[1, -1, 1], [-1, -1, 1], [0.5, 0.5, -0.5]];
    const data = new ArrayDataset('three', [3], Float32Array.from(rows.flat()), [-1, 1], false);
    const m = GmmOracle.empirical(data, sch);
    const near = tf.tensor2d([[0.98, -1.01, 1.0]]);
    const pm = m.posteriorMean(near, 1).dataSync();
    [1, -1, 1].forEach((v, i) => expect(pm[i]).to.be.closeTo(v, 1e-5));
    const far = tf.tensor2d([[0.3, -0.2, 0.1]]);
    const pmN = m.posteriorMean(far, 1000).dataSync();
    [1 / 6, -1 / 2, 1 / 2].forEach((v, i) => expect(pmN[i]).to.be.closeTo(v, 0.02));
    tf.dispose([near, far]);
    m.dispose();
  });

  it('the Rademacher oracle is the tanh posterior mean, and oracles do not leak tensors', async () => {
    const r = new RademacherOracle([2], sch);
    const x = tf.tensor2d([[0.3, -0.7]]);
    const pm = r.posteriorMean(x, 500).dataSync();
    const k = Math.sqrt(sch.abar[500]) / sch.bbar[500];
    expect(pm[0]).to.be.closeTo(Math.tanh(0.3 * k), 1e-6);
    expect(pm[1]).to.be.closeTo(Math.tanh(-0.7 * k), 1e-6);
    await expectNoLeak(() => r.predictEps(x, [3]));
    const g = new GmmOracle('g', [2], sch, randomGmm(3, 2, 1, 0.1, 1));
    await expectNoLeak(() => g.predictEps(x, 10));
    g.dispose();
    x.dispose();
  });
});
