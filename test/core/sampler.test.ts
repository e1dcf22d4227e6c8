import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { samplerByName, type StepInfo } from '../../src/core/sampler.js';
import { varianceRule } from '../../src/core/variances.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { RademacherOracle } from '../../src/estimators/oracles/rademacherOracle.js';
import { rademacherMsEps } from '../../src/estimators/rademacherReference.js';
import { clipPixelThreshold } from '../../src/estimators/analyticVariance.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';

/** Pooled mean and variance of all values (dimensions are i.i.d. for isotropic Gaussian data). */
function moments(x: tf.Tensor): { mean: number; variance: number; n: number } {
  const v = x.dataSync();
  let m = 0;
  for (const a of v) m += a;
  m /= v.length;
  let q = 0;
  for (const a of v) q += (a - m) ** 2;
  return { mean: m, variance: q / (v.length - 1), n: v.length };
}

describe('samplers on exact oracles', () => {
  const sch = makeSchedule('linear', 1000);
  const mu = 0.3;
  const std = 0.5;
  const shape = [32];
  const oracle = new GaussianOracle(shape, sch, mu, std);
  const msEps = Float64Array.from({ length: 1001 }, (_, t) => (t === 0 ? 0 : oracle.msEps(t)));
  const ids = Array.from({ length: 1500 }, (_, i) => i);
  const traj = evenTrajectory(1000, 10);
  // The last step returns E[x0 | x_1], whose variance is s^2 - Var[x0 | x_1].
  const target = std * std - oracle.posteriorVariance(1);

  function run(sampler: string, variance: string, eta = 0) {
    const x = samplerByName(sampler)({
      model: oracle, schedule: sch, trajectory: traj, variance: varianceRule(variance, { msEps, range: null }),
      range: null, noise: new NoiseSource(17), ids, eta,
    });
    const m = moments(x);
    x.dispose();
    return m;
  }

  for (const [sampler, eta] of [['ddpm', 0], ['ddim', 0], ['ddim', 0.5]] as const) {
    it(`Analytic-${sampler.toUpperCase()}${sampler === 'ddim' ? ` (eta=${eta})` : ''} at K=10 reproduces the Gaussian data moments`, () => {
      const m = run(sampler, 'analytic', eta);
      expectWithinSE(m.mean, mu, Math.sqrt(target / m.n), 4, 'mean');
      expectWithinSE(m.variance, target, target * Math.sqrt(2 / m.n), 4, 'variance');
    });
  }

  it('DDPM with sigma^2 = tildeBeta at K=10 does not (a control: the moment test can fail)', () => {
    const m = run('ddpm', 'small');
    expect(Math.abs(m.variance - target)).to.be.greaterThan(10 * target * Math.sqrt(2 / m.n));
  });

  it('Rademacher oracle: samples end in the data range and, at K = N, on the two pixel levels', () => {
    const shp = [4, 4, 3];
    const rad = new RademacherOracle(shp, sch);
    const x = samplerByName('ddpm')({
      model: rad, schedule: sch, trajectory: evenTrajectory(1000, 1000),
      variance: varianceRule('analytic', { msEps: rademacherMsEps(sch), range: [-1, 1] }),
      range: [-1, 1], noise: new NoiseSource(3), ids: Array.from({ length: 20 }, (_, i) => i),
    });
    const v = x.dataSync();
    x.dispose();
    for (const a of v) expect(Math.abs(Math.abs(a) - 1)).to.be.below(1e-3);
  });

  it('clipPixel clips only the tau_2 -> tau_1 jump, and the last jump adds no noise', () => {
    const steps: StepInfo[] = [];
    const x = samplerByName('ddpm')({
      model: oracle, schedule: sch, trajectory: traj, variance: varianceRule('large', { range: null }),
      range: null, noise: new NoiseSource(1), ids: [0, 1], clipPixel: 2, onStep: (i) => steps.push(i),
    });
    x.dispose();
    expect(steps.map((s) => s.s)).to.deep.equal([889, 778, 667, 556, 445, 334, 223, 112, 1]);
    const last = steps[steps.length - 1];
    expect(last.sigma2Unclipped).to.be.greaterThan(clipPixelThreshold(2));
    expect(last.sigma2).to.equal(clipPixelThreshold(2));
    steps.slice(0, -1).forEach((s) => expect(s.sigma2).to.equal(s.sigma2Unclipped));
  });

  it('is reproducible: the same seed and ids give the same samples whatever the batch split', () => {
    const args = {
      model: oracle, schedule: sch, trajectory: traj, variance: varianceRule('analytic', { msEps, range: null }),
      range: null, noise: new NoiseSource(5),
    } as const;
    const all = samplerByName('ddpm')({ ...args, ids: [0, 1, 2, 3] });
    const part = samplerByName('ddpm')({ ...args, ids: [2, 3] });
    const a = all.dataSync().slice(64);
    const b = part.dataSync();
    all.dispose();
    part.dispose();
    for (let i = 0; i < b.length; i++) expect(a[i]).to.be.closeTo(b[i], 1e-6);
  });

  it('does not leak tensors', async () => {
    await expectNoLeak(() => samplerByName('ddim')({
      model: oracle, schedule: sch, trajectory: evenTrajectory(1000, 5), variance: varianceRule('analytic', { msEps, range: null }),
      range: [-1, 1], noise: new NoiseSource(5), ids: [0, 1, 2], clipPixel: 1,
    }));
  });

  it('unknown sampler names give a clear error', () => {
    expect(() => samplerByName('euler')).to.throw(/unknown sampler "euler"; allowed: ddpm, ddim/);
  });
});
