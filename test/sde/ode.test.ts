import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { vpSde } from '../../src/core/sde/vp.js';
import { subVpSde } from '../../src/core/sde/subVp.js';
import { veSde } from '../../src/core/sde/ve.js';
import { GaussianScoreOracle } from '../../src/core/sde/oracles/gaussianScoreOracle.js';
import { GmmScoreOracle } from '../../src/core/sde/oracles/gmmScoreOracle.js';
import { solveProbabilityFlow, odeSample } from '../../src/core/sde/odeSample.js';
import { rk45 } from '../../src/core/sde/rk45.js';
import { heunSolve } from '../../src/core/sde/heun.js';
import { probabilityFlowOde } from '../../src/core/sde/ode.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';
import { columnMoments, gaussianData, maxAbsDiff } from './sdeHelpers.js';

describe('probability-flow ODE: Heun and RK45 against the exact Gaussian flow', () => {
  const mu = [0.3, -0.2, 0.0, 0.5];
  const s = [0.5, 1.0, 0.2, 0.8];
  const eps = 1e-3;
  const gmmSpec = { weights: [0.5, 0.3, 0.2], means: [[1, 1], [-1, 0.5], [0, -1]], stds: [0.3, 0.2, 0.4] };

  it('Heun is second order: halving the step divides the error against the exact flow by ~4 (VP, sub-VP, VE)', () => {
    for (const sde of [vpSde(), subVpSde(), veSde()]) {
      const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
      const x0 = gaussianData(mu, s, 200, 1);
      const exact = o.flow(x0, eps, 1);
      const err = [50, 100].map((K) => { const r = solveProbabilityFlow(sde, o, x0, eps, 1, { method: 'heun', steps: K }); const e = maxAbsDiff(r.y, exact); r.y.dispose(); return e; });
      // measured ratios 4.1 (VP), 4.2 (sub-VP), 3.75 (VE); first order would give 2, so [3, 5] separates the orders.
      expect(err[0] / err[1], `${sde.name} errors ${err}`).to.be.within(3, 5);
      x0.dispose(); exact.dispose();
    }
  });

  it('RK45 reaches the exact flow within a small multiple of its tolerance, with fewer evaluations than Heun', () => {
    for (const sde of [vpSde(), subVpSde(), veSde()]) {
      const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
      const x0 = gaussianData(mu, s, 200, 2);
      const exact = o.flow(x0, eps, 1);
      const scale = Math.max(...Array.from(tf.tidy(() => tf.max(tf.abs(exact))).dataSync()));
      const errs = [1e-3, 1e-5].map((tol) => {
        const r = rk45(probabilityFlowOde(sde, o), x0, eps, 1, { rtol: tol, atol: tol });
        const e = maxAbsDiff(r.y, exact);
        r.y.dispose();
        // the tolerance bounds the local error per step; the global error measured is 6-15x (atol + rtol |x|max),
        // so 50x is the bound (a wrong tableau entry gives O(1) errors; see the first-order control below).
        expect(e, `${sde.name} rk45 tol ${tol}`).to.be.at.most(50 * tol * (1 + scale));
        expect(r.nfe).to.be.below(200);
        return e;
      });
      expect(errs[1]).to.be.below(errs[0] / 5);
      x0.dispose(); exact.dispose();
    }
  });

  it('Heun and RK45 converge to the same ODE solution on GMM data (no closed form)', () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const xT = gaussianData([0, 0], [1, 1], 100, 7);
    const [h1, h2] = [100, 200].map((K) => solveProbabilityFlow(sde, gmm, xT, 1, eps, { method: 'heun', steps: K }).y);
    const r = rk45(probabilityFlowOde(sde, gmm), xT, 1, eps, { rtol: 1e-6, atol: 1e-6 });
    const d1 = maxAbsDiff(h1, r.y);
    const d2 = maxAbsDiff(h2, r.y);
    // measured: d1 = 5.0e-3, d2 = 1.3e-3, rk45(1e-6) vs Heun(400) 3.3e-4: the Heun error shrinks 4x per halving towards
    // the RK45 solution, so both converge to the same limit; the RK45 error itself is <~1e-4.
    expect(d2).to.be.at.most(3e-3);
    expect(d1 / d2).to.be.within(3, 5);
    [h1, h2, r.y, xT].forEach((t) => t.dispose());
  });

  it('RK45 error control is per row: a row solved alone or in a batch gives the same result', () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const xT = gaussianData([0, 0], [1, 1], 12, 8);
    const all = rk45(probabilityFlowOde(sde, gmm), xT, 1, eps, { rtol: 1e-4, atol: 1e-4 });
    const part = xT.slice([3, 0], [4, 2]);
    const some = rk45(probabilityFlowOde(sde, gmm), part, 1, eps, { rtol: 1e-4, atol: 1e-4 });
    const ref = all.y.slice([3, 0], [4, 2]);
    expect(maxAbsDiff(some.y, ref)).to.be.at.most(1e-6);
    expect(some.nfePerRow).to.deep.equal(all.nfePerRow.slice(3, 7));
    [all.y, some.y, part, ref, xT].forEach((t) => t.dispose());
  });

  it('encodes Gaussian data to N(m1 mu, m1^2 s^2 + std1^2) and decodes prior noise to the data moments', () => {
    const sde = vpSde();
    const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
    const B = 2000;
    const x0 = gaussianData(mu, s, B, 3);
    const enc = solveProbabilityFlow(sde, o, x0, eps, 1, { method: 'rk45' });
    const m = columnMoments(enc.y);
    const m1 = sde.meanCoef(1);
    for (let i = 0; i < 4; i++) {
      const v = o.marginalVariance(1, i);
      // Monte Carlo: se(mean) = sqrt(v/B), se(var) = v sqrt(2/(B-1)); the solver error (~3e-4) is < 0.1 se.
      expectWithinSE(m.mean[i], m1 * mu[i], Math.sqrt(v / B), 4, `encoded mean ${i}`);
      expectWithinSE(m.variance[i], v, v * Math.sqrt(2 / (B - 1)), 4, `encoded variance ${i}`);
    }
    const xT = tf.tidy(() => tf.randomNormal([B, 4], 0, 1, 'float32', 11));
    const dec = odeSample(sde, o, xT, { method: 'heun', steps: 200 });
    expect(dec.nfe).to.equal(401);
    const d = columnMoments(dec.x);
    for (let i = 0; i < 4; i++) {
      // the denoised output E[x0 | x_eps] has variance s^2 - Var[x0 | x_eps] = s^2 m^2 s^2 / v_eps
      const meps = sde.meanCoef(eps);
      const target = (s[i] ** 2 * meps * meps * s[i] ** 2) / o.marginalVariance(eps, i);
      expectWithinSE(d.mean[i], mu[i], Math.sqrt(target / B), 4, `decoded mean ${i}`);
      expectWithinSE(d.variance[i], target, target * Math.sqrt(2 / (B - 1)), 4, `decoded variance ${i}`);
    }
    [x0, enc.y, xT, dec.x].forEach((t) => t.dispose());
  });

  it('leaves no tensors behind (Heun, RK45, odeSample)', async () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const xT = gaussianData([0, 0], [1, 1], 5, 9);
    await expectNoLeak(() => heunSolve(probabilityFlowOde(sde, gmm), xT, [1, 0.5, 0.1]).y);
    await expectNoLeak(() => rk45(probabilityFlowOde(sde, gmm), xT, 1, 0.1, { rtol: 1e-3, atol: 1e-3 }).y);
    await expectNoLeak(() => odeSample(sde, gmm, xT, { method: 'rk45', rtol: 1e-3, atol: 1e-3 }).x);
    xT.dispose();
    expect(() => rk45(probabilityFlowOde(sde, gmm), xT, 1, 1)).to.throw(/t0 != t1/);
    expect(() => solveProbabilityFlow(sde, gmm, xT, 1, 0.1, { method: 'euler' as never })).to.throw(/unknown; allowed: heun, rk45/);
  });
});
