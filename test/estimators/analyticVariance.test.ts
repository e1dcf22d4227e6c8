import { expect } from 'chai';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { lambda2, gammaCoef } from '../../src/core/posterior.js';
import { alphaTS, tildeBeta, betaTS } from '../../src/core/skip.js';
import { analyticSigma2, cov0, sigma2Bounds, clipPixelThreshold } from '../../src/estimators/analyticVariance.js';
import { varianceRule } from '../../src/core/variances.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { relClose } from '../helpers.js';

/** Table 7 of Analytic-DPM: bounds on sigma^2 of the tau_2 -> tau_1 jump, ET, N = 1000, data in [-1,1]. */
const TABLE7: Array<{ schedule: string; process: 'ddpm' | 'ddim'; K: number[]; lower: number[]; upper: number[] }> = [
  { schedule: 'linear', process: 'ddpm', K: [10, 25, 50, 100], lower: [9.99e-5, 9.96e-5, 9.84e-5, 9.55e-5], upper: [1.45e-1, 2.24e-2, 6.2e-3, 2.1e-3] },
  { schedule: 'linear', process: 'ddim', K: [10, 25, 50, 100], lower: [0, 0, 0, 0], upper: [1.37e-1, 1.96e-2, 4.82e-3, 1.36e-3] },
  { schedule: 'cosine', process: 'ddpm', K: [10, 25, 50, 100], lower: [4.12e-5, 4.1e-5, 4.04e-5, 3.89e-5], upper: [3.56e-2, 6.15e-3, 1.85e-3, 6.8e-4] },
  { schedule: 'cosine', process: 'ddim', K: [10, 25, 50, 100], lower: [0, 0, 0, 0], upper: [3.33e-2, 5.22e-3, 1.37e-3, 4.18e-4] },
];

describe('analytic variance and its bounds', () => {
  for (const row of TABLE7) {
    it(`reproduces Table 7 (${row.schedule}, ${row.process})`, () => {
      const sch = makeSchedule(row.schedule, 1000);
      row.K.forEach((K, i) => {
        const [s, t] = evenTrajectory(1000, K).slice(0, 2);
        const lam2 = lambda2(sch, row.process, s, t, 0);
        const b = sigma2Bounds(sch, s, t, lam2, [-1, 1]);
        if (row.lower[i] === 0) expect(b.lower).to.equal(0);
        else relClose(b.lower, row.lower[i], 0.006, `lower K=${K}`);
        relClose(b.upper, row.upper[i], 0.006, `upper K=${K}`);
      });
    });
  }

  it('clipPixel thresholds: 9.66e-5 (y=1) and 3.87e-4 (y=2)', () => {
    relClose(clipPixelThreshold(1), 9.66e-5, 0.001);
    relClose(clipPixelThreshold(2), 3.87e-4, 0.002); // the paper prints 3.8651e-4 as 3.87e-4
  });

  it('DDPM special case: sigma^2 = tildeBeta + beta^2/(alpha bbar) (1 - msEps) on single steps (Cor. 2)', () => {
    const sch = makeSchedule('linear', 1000);
    for (const [n, g] of [[2, 0.3], [100, 0.9], [999, 0.999]]) {
      const lam2 = tildeBeta(sch, n - 1, n);
      const expected = lam2 + (sch.betas[n] ** 2 / (sch.alphas[n] * sch.bbar[n])) * (1 - g);
      relClose(analyticSigma2(sch, n - 1, n, lam2, cov0(sch, n, g, null)), expected, 1e-10);
    }
  });

  it('cov0 is clipped to [0, ((b-a)/2)^2] and the analytic rule stays inside the Theorem 2 bounds', () => {
    const sch = makeSchedule('linear', 1000);
    expect(cov0(sch, 500, 1.3, [-1, 1])).to.equal(0);
    expect(cov0(sch, 999, 0.0, [-1, 1])).to.equal(1);
    for (const g of [0, 0.5, 0.99, 1.2]) {
      const msEps = new Float64Array(1001).fill(g);
      msEps[0] = 0;
      const rule = varianceRule('analytic', { msEps, range: [-1, 1] });
      for (const [s, t] of [[1, 112], [445, 556], [889, 1000]]) {
        const lam2 = lambda2(sch, 'ddpm', s, t);
        const b = sigma2Bounds(sch, s, t, lam2, [-1, 1]);
        const v = rule.sigma2({ sch, s, t, lam2 });
        expect(v).to.be.at.least(b.lower * (1 - 1e-12));
        expect(v).to.be.at.most(b.upper * (1 + 1e-12));
      }
    }
  });

  it('tildeBeta <= optimal sigma^2 <= beta(t|s) for DDPM before the data-range clip', () => {
    const sch = makeSchedule('cosine', 1000);
    const msEps = new Float64Array(1001).fill(0.5);
    const rule = varianceRule('analytic', { msEps, range: null });
    const [s, t] = [300, 420];
    const lam2 = lambda2(sch, 'ddpm', s, t);
    const v = rule.sigma2({ sch, s, t, lam2 });
    expect(v).to.be.within(tildeBeta(sch, s, t), betaTS(sch, s, t) / alphaTS(sch, s, t));
  });

  it('Gaussian oracle: the analytic variance with exact msEps equals the exact Var[x_s | x_t] (DDPM forward)', () => {
    const sch = makeSchedule('linear', 1000);
    const std = 0.4;
    const oracle = new GaussianOracle([3], sch, 0.2, std);
    for (const [s, t] of [[1, 2], [1, 112], [300, 700], [889, 1000]]) {
      const lam2 = lambda2(sch, 'ddpm', s, t);
      const sigma2 = analyticSigma2(sch, s, t, lam2, cov0(sch, t, oracle.msEps(t), null));
      // x_s, x_t jointly Gaussian: Var[x_s|x_t] = Var x_s - Cov(x_s,x_t)^2 / Var x_t with Cov = sqrt(alpha(t|s)) Var x_s.
      const vs = sch.abar[s] * std * std + sch.bbar[s];
      const vt = sch.abar[t] * std * std + sch.bbar[t];
      const exact = vs - (alphaTS(sch, s, t) * vs * vs) / vt;
      relClose(sigma2, exact, 1e-9, `(s,t)=(${s},${t})`);
      // and gamma^2 * Var[x0|x_t] is the part above lambda^2
      relClose(sigma2 - lam2, gammaCoef(sch, s, t, lam2) ** 2 * oracle.posteriorVariance(t), 1e-9);
    }
  });

  it('unknown variance names and a missing msEps give clear errors', () => {
    expect(() => varianceRule('optimal', { range: null })).to.throw(/unknown variance rule "optimal"; allowed: small, large, analytic/);
    expect(() => varianceRule('analytic', { range: null })).to.throw(/needs an msEps vector/);
  });
});
