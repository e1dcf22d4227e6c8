import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { samplerByName } from '../../src/core/sampler.js';
import { varianceRule } from '../../src/core/variances.js';
import { vpSde, vpSdeForSchedule } from '../../src/core/sde/vp.js';
import { veSde } from '../../src/core/sde/ve.js';
import type { Sde } from '../../src/core/sde/sde.js';
import { priorSample } from '../../src/core/sde/sde.js';
import { reverseTimeGrid } from '../../src/core/sde/timeGrid.js';
import { reverseSdeSample } from '../../src/core/sde/eulerMaruyama.js';
import { pcSample } from '../../src/core/sde/predictorCorrector.js';
import { GaussianScoreOracle } from '../../src/core/sde/oracles/gaussianScoreOracle.js';
import { GmmOracle } from '../../src/estimators/oracles/gmmOracle.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';
import { columnMoments, range } from './sdeHelpers.js';

/**
 * Exact output moments of Euler-Maruyama (+ Tweedie) on Gaussian data, per dimension: with s(x) = -(x - m mu)/v each
 * step is affine, x' = a x + b + c z with a = 1 - h (f + k/v), b = h k m mu / v, c = lambda g sqrt(h),
 * k = (1 + lambda^2) g^2 / 2 (all at the step's start time t); Tweedie x0 = x (1 - std^2/v)/m + std^2 mu / v.
 */
function emMoments(sde: Sde, o: GaussianScoreOracle, grid: number[], lambda: number, i: number, start: 'prior' | 'exact' = 'prior'): { mean: number; variance: number } {
  let mean = start === 'prior' ? 0 : sde.meanCoef(1) * o.mean[i];
  let variance = start === 'prior' ? sde.priorStd ** 2 : o.marginalVariance(1, i);
  for (let j = 0; j + 1 < grid.length; j++) {
    const t = grid[j];
    const h = t - grid[j + 1];
    const m = sde.meanCoef(t);
    const v = o.marginalVariance(t, i);
    const g2 = sde.diffusion(t) ** 2;
    const k = ((1 + lambda * lambda) * g2) / 2;
    const a = 1 - h * (sde.driftCoef(t) + k / v);
    mean = a * mean + (h * k * m * o.mean[i]) / v;
    variance = a * a * variance + lambda * lambda * g2 * h;
  }
  const te = grid[grid.length - 1];
  const v = o.marginalVariance(te, i);
  const sd2 = sde.std(te) ** 2;
  const A = (1 - sd2 / v) / sde.meanCoef(te);
  return { mean: A * mean + (sd2 * o.mean[i]) / v, variance: A * A * variance };
}

describe('reverse-time SDE samplers: Euler-Maruyama, the lambda family, predictor-corrector', () => {
  const mu = [0.3, -0.2, 0.0, 0.5];
  const s = [0.5, 1.0, 0.2, 0.8];
  const B = 2000;
  const ids = range(B);

  for (const sde of [vpSde(), veSde()]) {
    for (const lambda of [1, 0.5, 0]) {
      it(`${sde.name}, lambda = ${lambda}: sample moments at K = 50 match the exact Euler-Maruyama moments`, () => {
        const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
        const noise = new NoiseSource(21);
        const grid = reverseTimeGrid(50);
        const xT = priorSample(sde, noise, ids, [4]);
        const x = reverseSdeSample(sde, o, xT, grid, { noise, ids, lambda });
        const m = columnMoments(x);
        [xT, x].forEach((t) => t.dispose());
        for (let i = 0; i < 4; i++) {
          const e = emMoments(sde, o, grid, lambda, i);
          // Monte Carlo only (the recursion is exact for this sampler): se(mean) = sqrt(var/B), se(var) = var sqrt(2/(B-1))
          expectWithinSE(m.mean[i], e.mean, Math.sqrt(e.variance / B), 4, `mean ${i}`);
          expectWithinSE(m.variance[i], e.variance, e.variance * Math.sqrt(2 / (B - 1)), 4, `variance ${i}`);
        }
      });
    }
  }

  it('every lambda is marginal-preserving: from the exact p_1, the EM output moments converge to the data moments as K grows', () => {
    for (const sde of [vpSde(), veSde()]) {
      const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
      for (const lambda of [0, 0.5, 1]) {
        const errs = [50, 500, 5000].map((K) => {
          const grid = reverseTimeGrid(K);
          let worst = 0;
          for (let i = 0; i < 4; i++) {
            const e = emMoments(sde, o, grid, lambda, i, 'exact');
            const te = grid[K];
            const target = (s[i] ** 2 * sde.meanCoef(te) ** 2 * s[i] ** 2) / o.marginalVariance(te, i);
            worst = Math.max(worst, Math.abs(e.variance - target) / target, Math.abs(e.mean - mu[i]));
          }
          return worst;
        });
        // Euler-Maruyama is weakly first order: 10x more steps, ~10x smaller moment error (measured ratios 7-70)
        expect(errs[1], `${sde.name} lambda=${lambda}: ${errs}`).to.be.below(errs[0] / 4);
        expect(errs[2], `${sde.name} lambda=${lambda}: ${errs}`).to.be.below(errs[1] / 4);
        expect(errs[2]).to.be.below(0.02);
      }
    }
  });

  it('the VP reverse SDE agrees with DDPM sampling at K = N = 1000 (GMM oracle, the same eps-model)', () => {
    const sch = makeSchedule('linear', 1000);
    const spec = { weights: [0.5, 0.3, 0.2], means: [[1, 1], [-1, 0.5], [0, -1]], stds: [0.3, 0.2, 0.4] };
    const gmm = new GmmOracle('gmm', [2], sch, spec);
    const n = 1000;
    const args = { model: gmm, schedule: sch, trajectory: evenTrajectory(1000, 1000), variance: varianceRule('large', { range: null }), range: null, noise: new NoiseSource(5), ids: range(n) };
    const em = samplerByName('sde-em')(args);
    const ddpm = samplerByName('ddpm')(args);
    const a = columnMoments(em);
    const b = columnMoments(ddpm);
    [em, ddpm].forEach((t) => t.dispose());
    gmm.dispose();
    for (let i = 0; i < 2; i++) {
      const mean = spec.weights.reduce((acc, w, k) => acc + w * spec.means[k][i], 0);
      const second = spec.weights.reduce((acc, w, k) => acc + w * (spec.stds[k] ** 2 + spec.means[k][i] ** 2), 0);
      const variance = second - mean * mean;
      const seMean = Math.sqrt(variance / n);
      // se of a sample variance of a non-Gaussian variable: sqrt((mu4 - var^2)/n); 0.7 var sqrt(2/n) <= it <= 1.2 var sqrt(2/n)
      // for this mixture, so 1.5 var sqrt(2/n) is a safe se.
      const seVar = 1.5 * variance * Math.sqrt(2 / n);
      for (const [name, m] of [['sde-em', a], ['ddpm', b]] as const) {
        expectWithinSE(m.mean[i], mean, seMean, 4, `${name} mean ${i}`);
        expectWithinSE(m.variance[i], variance, seVar, 4, `${name} variance ${i}`);
      }
      // the two samplers share x_T but not the step noise: the difference has se <= sqrt(2) se
      expectWithinSE(a.mean[i] - b.mean[i], 0, Math.SQRT2 * seMean, 4, `sde-em - ddpm mean ${i}`);
      expectWithinSE(a.variance[i] - b.variance[i], 0, Math.SQRT2 * seVar, 4, `sde-em - ddpm variance ${i}`);
    }
  });

  it('predictor-corrector (Langevin, snr 0.16) at K = 100 reproduces isotropic Gaussian data moments in d = 64', () => {
    // per-sample snr step sizes need concentrated norms ||z|| / ||s||: at d = 4 their heavy-tailed ratio gives rare
    // huge steps (measured variance 0.47 vs 0.25), so the corrector is tested in d = 64 (images have d >= 784).
    // Isotropic data: the Langevin step is e = 2 alpha r^2 ||z||^2/||s||^2 ~ 2 r^2 v, and one unadjusted Langevin step
    // inflates the variance v by ~e/(2v) = r^2 = 2.6% (for anisotropic data the smallest-variance dimension gets
    // r^2 d / (v sum_i 1/v_i), measured +11% for s = (0.5, 1, 0.2, 0.8)).
    const d = 64;
    const m0 = 0.3;
    const s0 = 0.5;
    const sde = vpSde();
    const o = new GaussianScoreOracle([d], sde, 1000, m0, s0);
    const noise = new NoiseSource(33);
    const n = 500;
    const xT = priorSample(sde, noise, range(n), [d]);
    const x = pcSample(sde, o, xT, reverseTimeGrid(100), { noise, ids: range(n) });
    const m = columnMoments(x);
    [xT, x].forEach((t) => t.dispose());
    const te = 1e-3;
    const target = (s0 ** 2 * sde.meanCoef(te) ** 2 * s0 ** 2) / o.marginalVariance(te, 0);
    const mean = m.mean.reduce((a, v) => a + v, 0) / d;
    const variance = m.variance.reduce((a, v) => a + v, 0) / d;
    const N = n * d;
    // MC se plus a 6% allowance for the bias: the snr rule fixes e/v, so the Langevin inflation (~r^2 = 2.6% per
    // corrector step, partly undone by the next predictor step) does not vanish as K grows; measured +4.9% at K = 100.
    // A missing sqrt(2) in the Langevin noise or a wrong predictor gives errors of 30% or more.
    expect(Math.abs(mean - m0), 'mean').to.be.at.most(4 * Math.sqrt(target / N) + 0.03 * s0);
    expect(Math.abs(variance - target) / target, `variance: ${variance} vs ${target}`).to.be.at.most(4 * Math.sqrt(2 / N) + 0.06);
  });

  it('leaves no tensors behind and rejects a bad lambda', async () => {
    const sde = vpSde();
    const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
    const noise = new NoiseSource(1);
    const xT = priorSample(sde, noise, [0, 1], [4]);
    await expectNoLeak(() => reverseSdeSample(sde, o, xT, reverseTimeGrid(5), { noise, ids: [0, 1] }));
    await expectNoLeak(() => pcSample(sde, o, xT, reverseTimeGrid(5), { noise, ids: [0, 1], steps: 2 }));
    expect(() => reverseSdeSample(sde, o, xT, reverseTimeGrid(5), { noise, ids: [0, 1], lambda: 1.5 })).to.throw(/lambda .* must be in \[0, 1\], got 1.5/);
    expect(() => pcSample(sde, o, xT, reverseTimeGrid(5), { noise, ids: [0, 1], snr: 0 })).to.throw(/snr .* must be > 0/);
    xT.dispose();
    expect(vpSdeForSchedule(makeSchedule('linear', 1000)).name).to.equal('vp');
    expect(tf.memory().numTensors).to.be.a('number');
  });
});
