/**
 * The unconditional per-pixel variants (pixel-analytic from E[eps_theta^2], pixel-residual from E[(eps - eps_theta)^2])
 * on diagonal Gaussian data, where Var[x0_i | x_t] does not depend on x_t: both equal the exact per-pixel posterior
 * variance for the exact model; with a known mean bias b, pixel-residual adds bbar/abar b^2 (the imperfect-mean
 * correction) and pixel-analytic loses it. Tolerances: 4 standard errors of the Monte Carlo tables (times bbar/abar).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource, fillNormal } from '../../src/core/rng.js';
import { ArrayDataset } from '../../src/core/data/dataset.js';
import { samplerByName } from '../../src/core/sampler.js';
import { pixelTableRule } from '../../src/core/variances.js';
import { computeNllStats } from '../../src/core/likelihood/termStats.js';
import { estimatePixelMoments, tableCov0 } from '../../src/estimators/pixelMoments.js';
import { GaussianHeadOracle } from '../../src/estimators/oracles/gaussianHeadOracle.js';
import { expectWithinSE } from '../helpers.js';

const sch = makeSchedule('linear', 1000);
const mu = [0.3, -0.2, 0, 0.5];
const std = [0.05, 0.2, 0.5, 0.9];
const bias = [0.1, -0.3, 0.05, 0.2];

/** n draws of x0 ~ N(mu, diag(std^2)). */
function gaussianData(n: number, seed: number): ArrayDataset {
  const v = new Float32Array(n * 4);
  fillNormal(v, 0, v.length, seed);
  for (let j = 0; j < n; j++) for (let i = 0; i < 4; i++) v[j * 4 + i] = mu[i] + std[i] * v[j * 4 + i];
  return new ArrayDataset('diag-gaussian', [4], v, null, false);
}

describe('unconditional per-pixel variances (pixel-analytic, pixel-residual)', function () {
  this.timeout(120000);
  const ts = [10, 300, 800];

  it('the exact model: both tables give the exact Var[x0_i | x_t] per pixel (4 s.e.)', () => {
    const data = gaussianData(4000, 1);
    const exact = new GaussianHeadOracle('sn', [4], sch, mu, std);
    const m = estimatePixelMoments({ model: exact, schedule: sch, data, M: 4000, seed: 5, timesteps: ts });
    for (const t of ts) {
      const ratio = sch.bbar[t] / sch.abar[t];
      const post = exact.posteriorVariance(t);
      const a = tableCov0('pixel-analytic', sch, t, m, null);
      const r = tableCov0('pixel-residual', sch, t, m, null);
      for (let i = 0; i < 4; i++) {
        expectWithinSE(a[i], post[i], ratio * m.m2Stderr.get(t)![i], 4, `pixel-analytic t=${t} i=${i}`);
        expectWithinSE(r[i], post[i], ratio * m.r2Stderr.get(t)![i], 4, `pixel-residual t=${t} i=${i}`);
      }
    }
  });

  it('a biased mean: pixel-residual = Var[x0_i | x_t] + bbar/abar b_i^2, pixel-analytic = Var[x0_i | x_t] - bbar/abar b_i^2 (4 s.e.)', () => {
    const data = gaussianData(4000, 2);
    const biased = new GaussianHeadOracle('npr', [4], sch, mu, std, bias);
    const m = estimatePixelMoments({ model: biased, schedule: sch, data, M: 4000, seed: 6, timesteps: [50, 200] });
    for (const t of [50, 200]) {
      const ratio = sch.bbar[t] / sch.abar[t];
      const post = biased.posteriorVariance(t);
      const r = tableCov0('pixel-residual', sch, t, m, null);
      const a = tableCov0('pixel-analytic', sch, t, m, null);
      for (let i = 0; i < 4; i++) {
        expectWithinSE(r[i], post[i] + ratio * bias[i] ** 2, ratio * m.r2Stderr.get(t)![i], 4, `pixel-residual t=${t} i=${i}`);
        // clamped at 0 where the bias outweighs the variance
        expectWithinSE(a[i], Math.max(0, post[i] - ratio * bias[i] ** 2), ratio * m.m2Stderr.get(t)![i], 4, `pixel-analytic t=${t} i=${i}`);
      }
    }
  });

  it('the sampler and the NLL use a table rule without any head; a missing timestep is a clear error', () => {
    const data = gaussianData(500, 3);
    const exact = new GaussianHeadOracle('sn', [4], sch, mu, std);
    const steps = evenTrajectory(1000, 5);
    const m = estimatePixelMoments({ model: exact, schedule: sch, data, M: 500, seed: 7, timesteps: steps });
    // pixel-residual: its Monte Carlo error is proportional to Var[eps_i | x_t]; pixel-analytic's is about
    // sqrt(2/M) bbar/abar whatever the variance (as msEps's eps2 estimator), far too noisy at M = 500 for large t
    const rule = pixelTableRule('pixel-residual', m, null);
    const plain = { name: 'eps-only', shape: [4], predictEps: (x: tf.Tensor, t: number | readonly number[]) => exact.predictEps(x, t) };
    const n = 2000;
    const ids = Array.from({ length: n }, (_, i) => i);
    const x = samplerByName('ddpm')({ model: plain, schedule: sch, trajectory: steps, variance: rule, range: null, noise: new NoiseSource(11), ids });
    const v = x.dataSync();
    const post1 = exact.posteriorVariance(1);
    for (let i = 0; i < 4; i++) {
      let mean = 0;
      for (let j = 0; j < n; j++) mean += v[j * 4 + i] / n;
      let q = 0;
      for (let j = 0; j < n; j++) q += (v[j * 4 + i] - mean) ** 2;
      const target = std[i] ** 2 - post1[i];
      // table Monte Carlo error (M = 500) adds to the sampling error: 6 s.e. of the sample variance
      expectWithinSE(q / (n - 1), target, target * Math.sqrt(2 / n), 6, `pixel ${i} variance`);
    }
    x.dispose();
    const stats = computeNllStats({ model: plain, schedule: sch, data, ids: [0, 1, 2], timesteps: steps, noise: new NoiseSource(3), range: null, pixelJumps: [{ rule, s: steps[3], t: steps[4] }] });
    expect([...stats.pixelTerms!.values()][0].every(Number.isFinite)).to.equal(true);
    expect(() => samplerByName('ddpm')({ model: plain, schedule: sch, trajectory: evenTrajectory(1000, 4), variance: rule, range: null, noise: new NoiseSource(1), ids: [0] }))
      .to.throw(/pixel-residual: no per-pixel moments at t = \d+/);
    expect(() => pixelTableRule('pixel-foo', m, null)).to.throw(/allowed: pixel-analytic, pixel-residual/);
  });
});
