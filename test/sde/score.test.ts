import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { vpSde, vpSdeForSchedule } from '../../src/core/sde/vp.js';
import { veSde } from '../../src/core/sde/ve.js';
import { scoreFromEpsModel, tweedieDenoise, networkTimestep, resolveTimestepMode } from '../../src/core/sde/score.js';
import { GaussianScoreOracle } from '../../src/core/sde/oracles/gaussianScoreOracle.js';
import { GmmScoreOracle } from '../../src/core/sde/oracles/gmmScoreOracle.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { expectNoLeak } from '../helpers.js';
import { gaussianData, maxAbsDiff } from './sdeHelpers.js';

describe('score models: eps -> score conversion and continuous-time oracles', () => {
  const sch = makeSchedule('linear', 1000);
  const mu = [0.3, -0.2, 0.0];
  const s = [0.5, 1.0, 0.2];

  it('the eps view of a continuous oracle converts back to its score exactly (real timesteps n = t N)', () => {
    const sde = vpSdeForSchedule(sch);
    const oracle = new GaussianScoreOracle([3], sde, 1000, mu, s);
    const score = scoreFromEpsModel(oracle, sde, { schedule: sch });
    const x = gaussianData([0, 0, 0], [1, 1, 1], 16, 1);
    for (const t of [0.0123, 0.5, 1]) {
      const a = score.score(x, t);
      const b = oracle.score(x, t);
      expect(maxAbsDiff(a, b)).to.be.at.most(1e-5 * 20); // float32 rounding of eps * (1/std) with |score| <= ~20
      a.dispose(); b.dispose();
    }
    x.dispose();
  });

  it('a discrete oracle is called at rounded timesteps and gives its exact discrete score -(x - sqrt(abar) mu)/(abar s^2 + bbar)', () => {
    const disc = new GaussianOracle([3], sch, mu, s);
    expect(resolveTimestepMode(disc, 'auto')).to.equal('round');
    expect(networkTimestep(0.1234, 1000, 'round')).to.equal(123);
    expect(networkTimestep(0.0001, 1000, 'round')).to.equal(1);
    const score = scoreFromEpsModel(disc, vpSdeForSchedule(sch), { schedule: sch });
    const x = gaussianData([0, 0, 0], [1, 1, 1], 8, 2);
    const t = 0.2504; // n = 250
    const got = score.score(x, t);
    const xv = x.dataSync();
    const gv = got.dataSync();
    const a = sch.abar[250];
    for (let i = 0; i < xv.length; i++) {
      const j = i % 3;
      const expected = -(xv[i] - Math.sqrt(a) * mu[j]) / (a * s[j] ** 2 + 1 - a);
      expect(gv[i]).to.be.closeTo(expected, 2e-5 * Math.max(1, Math.abs(expected)));
    }
    got.dispose(); x.dispose();
    expect(() => resolveTimestepMode(disc, 'floor' as never)).to.throw(/unknown mode "floor"; allowed: real, round, auto/);
  });

  it("Tweedie's formula gives the exact posterior mean of Gaussian data (VE and VP)", () => {
    for (const sde of [vpSde(), veSde()]) {
      const oracle = new GaussianScoreOracle([3], sde, 1000, mu, s);
      const x = gaussianData([0, 0, 0], [2, 2, 2], 8, 3);
      const t = 0.3;
      const m = sde.meanCoef(t);
      const sd = sde.std(t);
      const got = tweedieDenoise(sde, oracle, x, t);
      const xv = x.dataSync();
      const gv = got.dataSync();
      for (let i = 0; i < xv.length; i++) {
        const j = i % 3;
        const expected = mu[j] + (m * s[j] ** 2) / (m * m * s[j] ** 2 + sd * sd) * (xv[i] - m * mu[j]);
        expect(gv[i]).to.be.closeTo(expected, 1e-4 * Math.max(1, Math.abs(expected)));
      }
      got.dispose(); x.dispose();
    }
  });

  it('the GMM oracle score is the gradient of its closed-form log p_t', async () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, { weights: [0.5, 0.3, 0.2], means: [[1, 1], [-1, 0.5], [0, -1]], stds: [0.3, 0.2, 0.4] });
    const x = gaussianData([0, 0], [1, 1], 6, 4);
    const t = 0.05;
    const sc = gmm.score(x, t).dataSync();
    const xv = Array.from(x.dataSync());
    const h = 1e-2;
    for (let b = 0; b < 6; b++) {
      for (let i = 0; i < 2; i++) {
        const shifted = (delta: number) => { const v = xv.slice(b * 2, b * 2 + 2); v[i] += delta; return tf.tensor2d(v, [1, 2]); };
        const [p, m] = [shifted(h), shifted(-h)];
        const fd = (gmm.logProb(p, t)[0] - gmm.logProb(m, t)[0]) / (2 * h);
        p.dispose(); m.dispose();
        // central difference: truncation h^2 |d3 log p| / 6 ~ 1e-4 |d3| with |d3| <= ~1/v^1.5 ~ 40 here, float32 round-off
        // ~ 2e-7 |log p| / h ~ 1e-4: 1e-2 absolute covers both and is far below |score| ~ 1-10.
        expect(sc[b * 2 + i]).to.be.closeTo(fd, 1e-2);
      }
    }
    x.dispose();
    await expectNoLeak(() => { const y = gaussianData([0, 0], [1, 1], 4, 5); const r = gmm.score(y, [0.1, 0.2, 0.3, 0.4]); y.dispose(); return r; });
  });
});
