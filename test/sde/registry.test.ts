import { expect } from 'chai';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { samplerByName, sampleRows } from '../../src/core/sampler.js';
import { varianceRule } from '../../src/core/variances.js';
import { CONTINUOUS_SAMPLER_NAMES, type ContinuousSampleArgs } from '../../src/core/sde/registry.js';
import { vpSdeForSchedule } from '../../src/core/sde/vp.js';
import { GaussianScoreOracle } from '../../src/core/sde/oracles/gaussianScoreOracle.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';
import { columnMoments, range } from './sdeHelpers.js';

describe('continuous samplers selectable by name through samplerByName', () => {
  const sch = makeSchedule('linear', 1000);
  const base = () => ({
    schedule: sch, trajectory: evenTrajectory(1000, 20), variance: varianceRule('small', { range: null }),
    range: [-1, 1] as const, noise: new NoiseSource(9),
  });

  it('every name resolves; unknown names list discrete and continuous samplers', () => {
    for (const name of CONTINUOUS_SAMPLER_NAMES) expect(samplerByName(name)).to.be.a('function');
    expect(samplerByName('ddpm')).to.be.a('function');
    expect(() => samplerByName('sde-heun')).to.throw(/unknown sampler "sde-heun"; allowed: ddpm, ddim, sde-em, sde-pc, ode-heun, ode-rk45, sde-lambda/);
  });

  for (const name of CONTINUOUS_SAMPLER_NAMES) {
    it(`${name}: shape, clamp to args.range, batch-split invariance, no leaks, NFE reported`, async () => {
      const model = new GaussianScoreOracle([3], vpSdeForSchedule(sch), 1000, 0.8, 0.5);
      let nfe = 0;
      const args: Omit<ContinuousSampleArgs, 'ids'> = { ...base(), model, eta: 0.5, onNfe: (n: number) => { nfe = n; } };
      const ids = range(7);
      const whole = sampleRows(samplerByName(name), args, ids, 7);
      const split = sampleRows(samplerByName(name), args, ids, 3);
      expect(whole.length).to.equal(21);
      for (let i = 0; i < whole.length; i++) {
        expect(whole[i]).to.be.within(-1, 1);
        // keyed noise and per-row RK45 control: a row does not depend on its batch (float32 round-off only)
        expect(whole[i]).to.be.closeTo(split[i], 1e-5);
      }
      expect(whole.some((v) => v === 1), 'some values clamped at 1 (mean 0.8, std 0.5)').to.equal(true);
      const K = 20;
      const expected: Record<string, number> = { 'sde-em': K + 1, 'sde-lambda': K + 1, 'sde-pc': 2 * K + 1, 'ode-heun': 2 * K + 1 };
      if (name in expected) expect(nfe).to.equal(expected[name]);
      else expect(nfe).to.be.within(20, 400);
      await expectNoLeak(() => samplerByName(name)({ ...args, ids: [0, 1] }));
    });
  }

  it('sde-em with the repo discrete Gaussian oracle (rounded timesteps) reproduces the data moments at K = 200', () => {
    const o = new GaussianOracle([4], sch, 0.3, 0.5);
    const B = 1000;
    const x = samplerByName('sde-em')({ ...base(), model: o, range: null, trajectory: evenTrajectory(1000, 200), ids: range(B) });
    const m = columnMoments(x);
    x.dispose();
    const target = 0.25 - o.posteriorVariance(1);
    for (let i = 0; i < 4; i++) {
      // MC se; the EM bias at K = 200 is ~1% of the variance (exact recursion in reverse.test.ts) < 0.5 se
      expectWithinSE(m.mean[i], 0.3, Math.sqrt(target / B), 4, `mean ${i}`);
      expectWithinSE(m.variance[i], target, target * Math.sqrt(2 / (B - 1)), 4, `variance ${i}`);
    }
    expect(() => samplerByName('ode-heun')({ ...base(), model: o, schedule: makeSchedule('cosine', 1000), ids: [0] })).to.throw(/allowed schedules: linear/);
  });
});
