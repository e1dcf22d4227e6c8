import { expect } from 'chai';
import { makeSchedule } from '../../src/core/schedule.js';
import { vpSde, vpSdeForSchedule } from '../../src/core/sde/vp.js';
import { subVpSde } from '../../src/core/sde/subVp.js';
import { veSde } from '../../src/core/sde/ve.js';
import { sdeByName } from '../../src/core/sde/sdes.js';
import { marginal } from '../../src/core/sde/sde.js';
import { reverseTimeGrid } from '../../src/core/sde/timeGrid.js';

describe('SDE definitions (Song et al. Eq. 9-12, 29-31)', () => {
  const sdes = [vpSde(), subVpSde(), veSde()];
  const times = [0.01, 0.1, 0.5, 0.9];
  // Central differences with delta = 1e-5: truncation ~delta^2 |c'''| ~ 1e-10 |c| and round-off ~1e-16 |c| / delta
  // ~ 1e-11 |c|, so a relative tolerance of 1e-6 leaves a wide margin and still catches any wrong coefficient.
  const fd = (f: (t: number) => number, t: number) => (f(t + 1e-5) - f(t - 1e-5)) / 2e-5;
  for (const sde of sdes) {
    it(`${sde.name}: the marginals solve the moment ODEs m' = f m and (std^2)' = 2 f std^2 + g^2`, () => {
      for (const t of times) {
        const dm = fd((u) => sde.meanCoef(u), t);
        expect(Math.abs(dm - sde.driftCoef(t) * sde.meanCoef(t))).to.be.at.most(1e-6 * Math.max(1, Math.abs(dm)));
        const dv = fd((u) => sde.std(u) ** 2, t);
        const rhs = 2 * sde.driftCoef(t) * sde.std(t) ** 2 + sde.diffusion(t) ** 2;
        expect(Math.abs(dv - rhs) / Math.abs(rhs), `${sde.name} t=${t}`).to.be.at.most(1e-6);
      }
      expect(sde.std(0)).to.equal(0);
      expect(sde.meanCoef(0)).to.equal(1);
    });
  }

  it('VP: prior N(0, I) is the t = 1 marginal up to mean(1) = exp(-B(1)/2) = 6.6e-3', () => {
    const { mean, std } = marginal(vpSde(), 1);
    expect(mean).to.be.closeTo(Math.exp(-0.5 * (0.1 + 9.95)), 1e-12);
    expect(std).to.be.closeTo(1, 1e-4);
    expect(marginal(subVpSde(), 1).std).to.be.closeTo(1, 1e-4);
    expect(marginal(veSde(), 1).std).to.be.closeTo(50, 1e-3);
  });

  it('the VP SDE of the linear N = 1000 schedule is betaMin = 0.1, betaMax = 20 and matches abar_n ~ mean(n/N)^2', () => {
    const sch = makeSchedule('linear', 1000);
    const sde = vpSdeForSchedule(sch);
    expect(sde.params.betaMin).to.be.closeTo(0.1, 1e-12);
    expect(sde.params.betaMax).to.be.closeTo(20, 1e-12);
    // log abar_n = sum log(1 - beta_i) vs -B(n/N): the sum lags the integral by at most betaMax/N = 0.02 (grid offset)
    // and the second-order term sum beta_i^2 / 2 <= N (0.02)^2 / 6 ~ 0.067, so |difference| <= 0.1 for every n.
    let worst = 0;
    for (let n = 1; n <= 1000; n++) worst = Math.max(worst, Math.abs(Math.log(sch.abar[n]) - 2 * Math.log(sde.meanCoef(n / 1000))));
    expect(worst).to.be.at.most(0.1);
    expect(worst).to.be.greaterThan(0.01); // they are not identical: the mapping is the N -> infinity limit
    expect(() => vpSdeForSchedule(makeSchedule('cosine', 1000))).to.throw(/schedule "cosine".*allowed schedules: linear/);
  });

  it('bad names and parameters give errors naming them and the allowed values', () => {
    expect(() => sdeByName('vq')).to.throw(/unknown SDE "vq"; allowed: vp, subvp, ve/);
    expect(() => sdeByName('ve', { betaMin: 1 })).to.throw(/unknown parameter "betaMin"; allowed: sigmaMin, sigmaMax/);
    expect(sdeByName('subvp', { betaMax: 10 }).params.betaMax).to.equal(10);
    expect(() => veSde({ sigmaMin: 0 })).to.throw(/sigmaMin/);
    expect(() => vpSde({ betaMin: -1 })).to.throw(/betaMin/);
    expect(() => marginal(vpSde(), 1.5)).to.throw(/t must be in \[0, 1\]/);
    expect(() => reverseTimeGrid(0)).to.throw(/K must be an integer >= 1/);
    expect(() => reverseTimeGrid(10, 0)).to.throw(/eps/);
    expect(reverseTimeGrid(4, 0.2)).to.deep.equal([1, 0.8, 0.6, 0.4, 0.2].map((v, i) => (i === 4 ? 0.2 : 1 - (i * 0.8) / 4)));
  });
});
