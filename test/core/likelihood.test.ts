import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { varianceRule } from '../../src/core/variances.js';
import { gaussianDataset, rademacherDataset } from '../../src/core/data/toy.js';
import { computeNllStats } from '../../src/core/likelihood/termStats.js';
import { nelboFromStats, toBitsPerDim } from '../../src/core/likelihood/nelbo.js';
import { normalKL, scalarVarianceKL } from '../../src/core/likelihood/gaussianKL.js';
import { discretizedGaussianLogLik } from '../../src/core/likelihood/decoder.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { RademacherOracle } from '../../src/estimators/oracles/rademacherOracle.js';
import { rademacherMsEps } from '../../src/estimators/rademacherReference.js';
import { exactNelbo, gaussianExactInputs, rademacherExactInputs } from '../../src/estimators/exactNelbo.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';

describe('Gaussian KL and the discretised decoder', () => {
  it('KL of equal Gaussians is 0, and matches the closed form otherwise', () => {
    const m = tf.tensor1d([0.3, -1, 2]);
    const kl = normalKL(m, 0.5, m, 0.5);
    expect(Math.max(...kl.dataSync().map(Math.abs))).to.be.below(1e-7);
    const kl2 = normalKL(tf.tensor1d([0]), 1, tf.tensor1d([1]), 2).dataSync()[0];
    expect(kl2).to.be.closeTo(0.5 * (0.5 + 0.5 + Math.log(2) - 1), 1e-6);
    tf.dispose([m, kl]);
    expect(scalarVarianceKL(100, 0.3, 0.3, 0)).to.equal(0);
    expect(scalarVarianceKL(10, 0.1, 0.2, 3)).to.be.closeTo(0.5 * (10 * (0.5 - 1 + Math.log(2)) + 15), 1e-12);
    expect(scalarVarianceKL(10, 0, 0.2, 3)).to.equal(Infinity);
  });

  it('discretised Gaussian: the 256 bins of a level grid sum to probability 1', () => {
    const levels = tf.linspace(-1, 1, 256);
    const ll = discretizedGaussianLogLik(levels, tf.fill([256], 0.1234), 0.01);
    const total = tf.sum(tf.exp(ll)).dataSync()[0];
    expect(total).to.be.closeTo(1, 1e-4);
    tf.dispose([levels, ll]);
  });
});

describe('negative ELBO (bits/dim) against closed forms', () => {
  const sch = makeSchedule('linear', 1000);

  it('Gaussian data: every variance rule and both mean forms match the exact expected NELBO', () => {
    const [mu, std, shape] = [0.1, 0.5, [16]];
    const oracle = new GaussianOracle(shape, sch, mu, std);
    const data = gaussianDataset(1200, shape, mu, std, 21);
    const msEps = Float64Array.from({ length: 1001 }, (_, t) => (t === 0 ? 0 : oracle.msEps(t)));
    const traj = evenTrajectory(1000, 10);
    const stats = computeNllStats({
      model: oracle, schedule: sch, data, ids: Array.from({ length: 1200 }, (_, i) => i),
      timesteps: traj, noise: new NoiseSource(8),
    });
    const exactIn = gaussianExactInputs(sch, mu, std);
    for (const [process, variance, eta] of [['ddpm', 'small', 0], ['ddpm', 'large', 0], ['ddpm', 'analytic', 0], ['ddim', 'analytic', 0.5], ['ddim', 'small', 0.7]] as const) {
      const rule = varianceRule(variance, { msEps, range: null });
      const bpd = toBitsPerDim(nelboFromStats(stats, { process, eta, variance: rule, trajectory: traj }), 16);
      const exact = exactNelbo({ sch, trajectory: traj, process, eta, variance: rule, ...exactIn });
      expectWithinSE(bpd.total.mean, exact.total, bpd.total.stderr, 4, `${process}/${variance} total`);
      expectWithinSE(bpd.prior.mean, exact.prior, bpd.prior.stderr, 4, `${process}/${variance} prior`);
      expectWithinSE(bpd.decoder.mean, exact.decoder, bpd.decoder.stderr, 4, `${process}/${variance} decoder`);
    }
  });

  it('Rademacher pixels: NELBO matches the quadrature reference, and Analytic-DDPM is the lowest', () => {
    const shape = [8, 8, 3];
    const oracle = new RademacherOracle(shape, sch);
    const data = rademacherDataset(300, shape, 5);
    const msEps = rademacherMsEps(sch);
    const exactIn = rademacherExactInputs(sch);
    const ids = Array.from({ length: 300 }, (_, i) => i);
    for (const K of [10, 100]) {
      const traj = evenTrajectory(1000, K);
      const stats = computeNllStats({ model: oracle, schedule: sch, data, ids, timesteps: traj, noise: new NoiseSource(2) });
      const totals: Record<string, number> = {};
      for (const variance of ['small', 'large', 'analytic']) {
        const rule = varianceRule(variance, { msEps, range: [-1, 1] });
        const bpd = toBitsPerDim(nelboFromStats(stats, { process: 'ddpm', variance: rule, trajectory: traj }), 192);
        const exact = exactNelbo({ sch, trajectory: traj, process: 'ddpm', variance: rule, ...exactIn });
        expectWithinSE(bpd.total.mean, exact.total, bpd.total.stderr, 4, `K=${K} ${variance}`);
        // the decoder is almost constant here (SE ~1e-6): allow float32 round-off of the tensor computation
        expect(bpd.decoder.mean).to.be.closeTo(exact.decoder, 4 * bpd.decoder.stderr + 5e-5);
        totals[variance] = bpd.total.mean;
      }
      expect(totals.analytic).to.be.below(Math.min(totals.small, totals.large));
    }
  });

  it('rejects trajectories that do not start at 1 or lack statistics', () => {
    const oracle = new GaussianOracle([2], sch, 0, 1);
    const data = gaussianDataset(4, [2], 0, 1, 1);
    const stats = computeNllStats({ model: oracle, schedule: sch, data, ids: [0, 1], timesteps: [500, 1000], noise: new NoiseSource(1) });
    const rule = varianceRule('small', { range: null });
    expect(() => nelboFromStats(stats, { process: 'ddpm', variance: rule, trajectory: [2, 500, 1000] })).to.throw(/must start at timestep 1/);
    expect(() => nelboFromStats(stats, { process: 'ddpm', variance: rule, trajectory: [1, 400, 1000] })).to.throw(/no statistics for timestep 400/);
  });

  it('does not leak tensors', async () => {
    const oracle = new RademacherOracle([4], sch);
    const data = rademacherDataset(6, [4], 1);
    await expectNoLeak(() => computeNllStats({ model: oracle, schedule: sch, data, ids: [0, 1, 2], timesteps: [2, 50, 1000], noise: new NoiseSource(1) }));
  });
});
