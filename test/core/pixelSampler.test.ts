import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource } from '../../src/core/rng.js';
import { samplerByName, type StepInfo } from '../../src/core/sampler.js';
import { pixelVarianceRule, varianceRule } from '../../src/core/variances.js';
import { GaussianHeadOracle } from '../../src/estimators/oracles/gaussianHeadOracle.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { clipPixelThreshold } from '../../src/estimators/analyticVariance.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';

// Diagonal Gaussian data with very different per-pixel stds: the per-pixel optimal variance makes every reverse
// jump the exact q(x_s | x_t), a single scalar variance cannot.
const sch = makeSchedule('linear', 1000);
const shape = [4];
const mu = [0.3, -0.2, 0, 0.5];
const std = [0.05, 0.2, 0.5, 0.9];
const n = 4000;
const ids = Array.from({ length: n }, (_, i) => i);

/** Per-pixel sample variances of [n, 4] samples. */
function pixelVariances(x: tf.Tensor): number[] {
  const v = x.dataSync();
  return [0, 1, 2, 3].map((i) => {
    let m = 0;
    for (let j = 0; j < n; j++) m += v[j * 4 + i];
    m /= n;
    let q = 0;
    for (let j = 0; j < n; j++) q += (v[j * 4 + i] - m) ** 2;
    return q / (n - 1);
  });
}

describe('per-pixel variance sampling (SN / NPR heads)', () => {
  const sn = new GaussianHeadOracle('sn', shape, sch, mu, std);
  // the last jump returns E[x0 | x_1] without noise: Var = s^2 - Var[x0 | x_1]
  const post1 = sn.posteriorVariance(1);
  const target = std.map((s, i) => s * s - post1[i]);

  for (const [sampler, eta] of [['ddpm', 0], ['ddim', 0]] as const) {
    it(`${sampler}: SN-${sampler.toUpperCase()} with the exact head samples the data's per-pixel variances at K = 5 (4 s.e.); the scalar analytic variance cannot`, () => {
      const x = samplerByName(sampler)({
        model: sn, schedule: sch, trajectory: evenTrajectory(1000, 5), variance: pixelVarianceRule('sn', null),
        range: null, noise: new NoiseSource(11), ids, eta,
      });
      const got = pixelVariances(x);
      x.dispose();
      got.forEach((v, i) => expectWithinSE(v, target[i], target[i] * Math.sqrt(2 / n), 4, `${sampler} pixel ${i} variance`));
      // control: Analytic-DPM's one scalar variance (exact msEps) over-disperses the concentrated pixel
      const scalar = new GaussianOracle(shape, sch, mu, std);
      const msEps = [0, ...Array.from({ length: 1000 }, (_, k) => scalar.msEps(k + 1))];
      const y = samplerByName(sampler)({
        model: scalar, schedule: sch, trajectory: evenTrajectory(1000, 5), variance: varianceRule('analytic', { msEps, range: null }),
        range: null, noise: new NoiseSource(11), ids, eta,
      });
      const bad = pixelVariances(y);
      y.dispose();
      expect(bad[0]).to.be.above(1.5 * target[0]);
    });
  }

  it('NPR with a biased mean adds gamma^2 bbar/abar bias^2 to the SN variance of every jump; clipPixel caps the tau_2 -> tau_1 mean sigma^2', () => {
    const bias = [0.1, -0.3, 0.05, 0.2];
    const npr = new GaussianHeadOracle('npr', shape, sch, mu, std, bias);
    // cov0 of Gaussian data does not depend on x_t, so with no clamp (range null) the difference is exact at every jump
    const run = (model: GaussianHeadOracle, name: 'sn' | 'npr', clipPixel = 0, range: [number, number] | null = null) => {
      const steps: StepInfo[] = [];
      samplerByName('ddpm')({
        model, schedule: sch, trajectory: evenTrajectory(1000, 5), variance: pixelVarianceRule(name, range),
        range, noise: new NoiseSource(3), ids: [0, 1], clipPixel, onStep: (i) => steps.push(i),
      }).dispose();
      return steps;
    };
    const a = run(sn, 'sn');
    const b = run(npr, 'npr');
    const meanBias2 = bias.reduce((p, v) => p + v * v, 0) / 4;
    a.forEach((st, k) => {
      const ratio = sch.bbar[st.t] / sch.abar[st.t];
      const g2 = (Math.sqrt(sch.abar[st.s]) - Math.sqrt(sch.bbar[st.s] - st.lam2) * Math.sqrt(sch.abar[st.t] / sch.bbar[st.t])) ** 2;
      const want = g2 * ratio * meanBias2;
      expect(b[k].sigma2 - st.sigma2).to.be.closeTo(want, 1e-4 * want + 1e-6 * st.sigma2, `jump (${st.s},${st.t})`);
    });
    const clipped = run(sn, 'sn', 1, [-1, 1]);
    const last = clipped[clipped.length - 1];
    expect(last.s).to.equal(1);
    expect(last.sigma2).to.be.at.most(clipPixelThreshold(1) * (1 + 1e-6)); // float32 threshold
    expect(last.sigma2Unclipped).to.be.above(clipPixelThreshold(1));
  });

  it('a per-pixel rule needs a head model of its kind; no tensors leak', async () => {
    const plain = new GaussianOracle(shape, sch, mu, std);
    const args = { schedule: sch, trajectory: evenTrajectory(1000, 3), range: null, noise: new NoiseSource(1), ids: [0] };
    expect(() => samplerByName('ddpm')({ ...args, model: plain, variance: pixelVarianceRule('sn', null) })).to.throw(/variance "sn" needs a model with SN head\(s\); oracle:gaussian has none/);
    expect(() => samplerByName('ddpm')({ ...args, model: sn, variance: pixelVarianceRule('npr', null) })).to.throw(/variance "npr" needs NPR head\(s\); oracle:gaussian-sn has SN head\(s\)/);
    expect(() => pixelVarianceRule('analytic', null)).to.throw(/unknown per-pixel variance rule "analytic"; allowed: sn, npr/);
    await expectNoLeak(() => samplerByName('ddim')({ ...args, model: sn, variance: pixelVarianceRule('sn', [-1, 1]), range: [-1, 1], ids: [0, 1], clipPixel: 2, onStep: () => {} }));
  });
});
