import { expect } from 'chai';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { lambda2, gammaCoef } from '../../src/core/posterior.js';
import { pixelVarianceRule, varianceRule } from '../../src/core/variances.js';
import { ArrayDataset } from '../../src/core/data/dataset.js';
import { computeNllStats, pixelJumpKey } from '../../src/core/likelihood/termStats.js';
import { nelboFromStats, pixelJumpsOf, meanStderr } from '../../src/core/likelihood/nelbo.js';
import { GaussianHeadOracle } from '../../src/estimators/oracles/gaussianHeadOracle.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { expectWithinSE } from '../helpers.js';

// Diagonal Gaussian data x0 ~ N(mu, diag(s^2)), continuous (Gaussian decoder), unbounded (no clamps)
const sch = makeSchedule('linear', 1000);
const shape = [4];
const mu = [0.3, -0.2, 0, 0.5];
const std = [0.05, 0.2, 0.5, 0.9];
const n = 3000;

function data(): ArrayDataset {
  const z = new NoiseSource(77).normal('x0', Array.from({ length: n }, (_, i) => i), shape);
  const v = z.dataSync() as Float32Array;
  z.dispose();
  const x = new Float32Array(v.length);
  for (let j = 0; j < v.length; j++) x[j] = mu[j % 4] + std[j % 4] * v[j];
  return new ArrayDataset('gaussian-diag', shape, x, null, false);
}

describe('NLL with per-pixel variances (SN / NPR heads)', () => {
  let ds: ArrayDataset;
  before(() => {
    ds = data();
  });
  const ids = Array.from({ length: n }, (_, i) => i);
  const sn = new GaussianHeadOracle('sn', shape, sch, mu, std);
  const traj = evenTrajectory(1000, 10);
  const cell = { process: 'ddpm' as const, variance: pixelVarianceRule('sn', null), trajectory: traj };

  it('each jump KL matches its closed form E KL = sum_i 0.5 log(1 + gamma^2 Var[x0_i | x_t] / lambda^2) (4 s.e.)', () => {
    const jumps = pixelJumpsOf(cell);
    expect(jumps.map((j) => `${j.s}-${j.t}`)).to.deep.equal(['889-1000', '778-889', '667-778', '556-667', '445-556', '334-445', '223-334', '112-223', '1-112']);
    const stats = computeNllStats({ model: sn, schedule: sch, data: ds, ids, timesteps: traj, noise: new NoiseSource(5), pixelJumps: jumps, batchSize: 1000 });
    for (const j of jumps) {
      const lam2 = lambda2(sch, 'ddpm', j.s, j.t);
      const g2 = gammaCoef(sch, j.s, j.t, lam2) ** 2;
      const exact = [...sn.posteriorVariance(j.t)].reduce((acc, v) => acc + 0.5 * Math.log(1 + (g2 * v) / lam2), 0);
      const ms = meanStderr(stats.pixelTerms!.get(pixelJumpKey(j))!);
      expectWithinSE(ms.mean, exact, ms.stderr + 1e-6 * exact, 4, `KL of jump (${j.s},${j.t})`);
    }
  });

  it('SN-DDPM has a lower NELBO than Analytic-DDPM (one scalar variance) on data with unequal pixel variances', () => {
    const stats = computeNllStats({ model: sn, schedule: sch, data: ds, ids, timesteps: traj, noise: new NoiseSource(6), pixelJumps: pixelJumpsOf(cell), batchSize: 1000 });
    const scalar = new GaussianOracle(shape, sch, mu, std);
    const msEps = [0, ...Array.from({ length: 1000 }, (_, k) => scalar.msEps(k + 1))];
    const pixel = nelboFromStats(stats, cell).total;
    const analytic = nelboFromStats(stats, { process: 'ddpm', variance: varianceRule('analytic', { msEps, range: null }), trajectory: traj }).total;
    const diff = meanStderr(analytic.map((a, i) => a - pixel[i]));
    expect(diff.mean).to.be.above(10 * diff.stderr);
  });

  it('errors: ddim with a per-pixel rule, jumps not computed, a model without the right head', () => {
    const stats = computeNllStats({ model: sn, schedule: sch, data: ds, ids: [0, 1], timesteps: traj, noise: new NoiseSource(6) });
    expect(() => nelboFromStats(stats, cell)).to.throw(/no per-pixel statistics for the jump \(889, 1000\) of "sn"; pass pixelJumpsOf\(cell\)/);
    expect(() => nelboFromStats(stats, { ...cell, process: 'ddim' })).to.throw(/per-pixel variance "sn" is defined for the ddpm process only/);
    const plain = new GaussianOracle(shape, sch, mu, std);
    expect(() => computeNllStats({ model: plain, schedule: sch, data: ds, ids: [0], timesteps: traj, noise: new NoiseSource(6), pixelJumps: pixelJumpsOf(cell) }))
      .to.throw(/nll: variance "sn" needs a model with SN head\(s\); oracle:gaussian has none/);
  });
});
