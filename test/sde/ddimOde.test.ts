import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { samplerByName } from '../../src/core/sampler.js';
import { varianceRule } from '../../src/core/variances.js';
import { vpSde } from '../../src/core/sde/vp.js';
import { subVpSde } from '../../src/core/sde/subVp.js';
import { veSde } from '../../src/core/sde/ve.js';
import { ddimOdeEuler, ddimSigma, ddimVariablesDrift } from '../../src/core/sde/ddimOde.js';
import { GmmScoreOracle } from '../../src/core/sde/oracles/gmmScoreOracle.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { expectNoLeak } from '../helpers.js';
import { gaussianData, maxAbsDiff, range } from './sdeHelpers.js';

describe('DDIM (eta = 0) is Euler on the probability-flow ODE in y = x/sqrt(abar), sigma = sqrt(bbar/abar)', () => {
  const sch = makeSchedule('linear', 1000);
  const mu = 0.3;
  const s = 0.5;

  it('the repo DDIM sampler equals Euler steps y_s = y_t + (sigma_s - sigma_t) eps on every trajectory tried', () => {
    const o = new GaussianOracle([4], sch, mu, s);
    const ids = range(64);
    for (const K of [2, 10, 100]) {
      const traj = evenTrajectory(1000, K);
      const xT = new NoiseSource(3).normal('xT', ids, [4]);
      const ddim = samplerByName('ddim')({ model: o, schedule: sch, trajectory: traj, variance: varianceRule('small', { range: null }), range: null, noise: new NoiseSource(3), ids, eta: 0, xT });
      const euler = ddimOdeEuler(sch, o, xT, traj);
      // float32 rounding of two algebraically equal expressions through y = x / sqrt(abar_T), |y| <= ~3 / 0.0064 = 470:
      // ~470 * 6e-8 per operation, measured 4.2e-5 at K = 2; an algebra slip would give O(0.1)
      expect(maxAbsDiff(ddim, euler), `K = ${K}`).to.be.at.most(2e-4);
      [xT, ddim, euler].forEach((t) => t.dispose());
    }
  });

  it('DDIM converges at first order to the exact ODE solution y_0 = mu + s (y_T - mu) / sqrt(s^2 + sigma_T^2)', () => {
    const o = new GaussianOracle([1], sch, mu, s);
    const ids = range(32);
    const xT = new NoiseSource(4).normal('xT', ids, [1]);
    const sigT = ddimSigma(sch, 1000);
    const exact = tf.tidy(() => tf.add(tf.mul(tf.sub(tf.div(xT, Math.sqrt(sch.abar[1000])), mu), s / Math.sqrt(s * s + sigT * sigT)), mu));
    const errs = [50, 100, 200, 400].map((K) => { const x = ddimOdeEuler(sch, o, xT, evenTrajectory(1000, K)); const e = maxAbsDiff(x, exact); x.dispose(); return e; });
    // Euler is first order: doubling K halves the error (ratios 1.6-2.4 accepted; second order would give ~4)
    for (let i = 0; i + 1 < errs.length; i++) expect(errs[i] / errs[i + 1], `errors ${errs}`).to.be.within(1.6, 2.4);
    [xT, exact].forEach((t) => t.dispose());
  });

  it('continuous time: the PF-ODE drift in DDIM variables equals eps dsigma/dt for VP, sub-VP and VE', async () => {
    for (const sde of [vpSde(), subVpSde(), veSde()]) {
      const gmm = new GmmScoreOracle([2], sde, 1000, { weights: [0.5, 0.5], means: [[1, 0], [-1, 0.5]], stds: [0.3, 0.2] });
      const x = gaussianData([0, 0], [1, 1], 8, 5);
      for (const t of [0.01, 0.3, 0.9]) {
        const { dydt, epsDsigma } = ddimVariablesDrift(sde, gmm, x, t);
        const scale = tf.tidy(() => tf.max(tf.abs(dydt))).dataSync()[0];
        expect(maxAbsDiff(dydt, epsDsigma), `${sde.name} t = ${t}`).to.be.at.most(1e-5 * Math.max(1, scale));
        [dydt, epsDsigma].forEach((v) => v.dispose());
      }
      x.dispose();
    }
    const o = new GaussianOracle([4], sch, mu, s);
    const xT = new NoiseSource(1).normal('xT', [0, 1], [4]);
    await expectNoLeak(() => ddimOdeEuler(sch, o, xT, evenTrajectory(1000, 5)));
    xT.dispose();
  });
});
