import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { NoiseSource } from '../../src/core/rng.js';
import { vpSde } from '../../src/core/sde/vp.js';
import { priorLogProb } from '../../src/core/sde/sde.js';
import { GaussianScoreOracle } from '../../src/core/sde/oracles/gaussianScoreOracle.js';
import { GmmScoreOracle } from '../../src/core/sde/oracles/gmmScoreOracle.js';
import { odeLogLikelihood } from '../../src/core/sde/likelihood.js';
import { hutchinsonDivergence, hutchinsonProbes } from '../../src/core/sde/hutchinson.js';
import { probabilityFlowOde } from '../../src/core/sde/ode.js';
import { reconstructionError } from '../../src/core/sde/encode.js';
import { bitsPerDim, uniformDequantise } from '../../src/core/sde/dequantise.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';
import { gaussianData, maxAbsDiff, range } from './sdeHelpers.js';

describe('exact likelihood by the probability-flow ODE with Hutchinson probes', () => {
  const eps = 1e-5;
  const mu = [0.3, -0.2, 0.0, 0.5];
  const s = [0.5, 1.0, 0.2, 0.8];
  const gmmSpec = { weights: [0.5, 0.3, 0.2], means: [[1, 1], [-1, 0.5], [0, -1]], stds: [0.3, 0.2, 0.4] };

  /** What the method computes exactly: log p_eps(x0) - log p_1(x_1) + log prior(x_1) (the prior replaces p_1). */
  function reference(o: { logProb(x: tf.Tensor, t: number): Float64Array }, x0: tf.Tensor, latent: Float32Array): Float64Array {
    const xT = tf.tensor(latent, x0.shape);
    const a = o.logProb(x0, eps);
    const b = o.logProb(xT, 1);
    const c = priorLogProb(vpSde(), xT);
    xT.dispose();
    return a.map((v, i) => v - b[i] + c[i]);
  }

  it('diagonal Gaussian data, Rademacher probes: the divergence is exact (diagonal Jacobian), so log p matches the closed form to solver accuracy', () => {
    const sde = vpSde();
    const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
    const B = 32;
    const x0 = gaussianData(mu, s, B, 1);
    const r = odeLogLikelihood(sde, o, x0, { noise: new NoiseSource(2), ids: range(B), probes: 2 });
    const ref = reference(o, x0, r.latent);
    const exact = o.logProb(x0, eps);
    let worst = 0;
    let worstExact = 0;
    for (let b = 0; b < B; b++) {
      worst = Math.max(worst, Math.abs(r.logp[b] - ref[b]));
      worstExact = Math.max(worstExact, Math.abs(r.logp[b] - exact[b]));
      expect(r.stderr[b]).to.be.at.most(1e-5); // both probes give the same value: v^T diag(J) v = tr J
    }
    // RK45 at rtol = atol = 1e-5 integrates an O(1)..O(10) log-density: measured worst error 5.5e-5 vs the reference
    // and 9.9e-3 vs log p_eps itself (the N(0, I) prior replaces p_1 = N(m1 mu, ~1), m1 = 6.6e-3); bounds 1e-3, 3e-2.
    expect(worst, 'vs reference').to.be.at.most(1e-3);
    expect(worstExact, 'vs log p_eps').to.be.at.most(3e-2);
    expect(bitsPerDim(r.logp[0], 4, 'none')).to.be.closeTo(-r.logp[0] / (4 * Math.LN2), 1e-12);
    x0.dispose();
  });

  it('diagonal Gaussian data, Gaussian probes: the per-sample mean error is within 4 standard errors computed from the probes', () => {
    const sde = vpSde();
    const o = new GaussianScoreOracle([4], sde, 1000, mu, s);
    const B = 32;
    const M = 8;
    const x0 = gaussianData(mu, s, B, 3);
    const r = odeLogLikelihood(sde, o, x0, { noise: new NoiseSource(4), ids: range(B), probes: M, probe: 'gaussian' });
    const ref = reference(o, x0, r.latent);
    // pooled over samples: mean_b (est_b - ref_b) has se sqrt(sum_b se_b^2) / B (independent probes per sample)
    const diff = r.logp.reduce((a, v, b) => a + v - ref[b], 0) / B;
    const se = Math.sqrt(r.stderr.reduce((a, v) => a + v * v, 0)) / B;
    expect(se).to.be.greaterThan(0.01); // Gaussian probes are noisy here: a real Monte Carlo test
    expectWithinSE(diff, 0, se, 4, 'mean log p error');
    let outside = 0;
    for (let b = 0; b < B; b++) if (Math.abs(r.logp[b] - ref[b]) > 4 * r.stderr[b] * 1.5) outside++; // 1.5: se from M = 8 is itself noisy
    expect(outside).to.be.at.most(1);
    x0.dispose();
  });

  it('GMM data, Rademacher probes (non-diagonal Jacobian): within 4 standard errors of the closed form, and the finite-difference divergence agrees with the VJP', () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const B = 24;
    const M = 8;
    const x0 = tf.tidy(() => tf.concat([gaussianData([1, 1], [0.3, 0.3], 12, 5), gaussianData([-1, 0.5], [0.2, 0.2], 12, 6)], 0));
    const r = odeLogLikelihood(sde, gmm, x0, { noise: new NoiseSource(7), ids: range(B), probes: M });
    const ref = reference(gmm, x0, r.latent);
    const diff = r.logp.reduce((a, v, b) => a + v - ref[b], 0) / B;
    const se = Math.sqrt(r.stderr.reduce((a, v) => a + v * v, 0)) / B;
    expect(se).to.be.greaterThan(1e-4);
    // the solver error (~1e-3, first test) is added to the Monte Carlo se
    expect(Math.abs(diff), `mean error ${diff}, se ${se}`).to.be.at.most(4 * se + 2e-3);
    const probes = hutchinsonProbes(new NoiseSource(8), range(6), [2], 4, 'rademacher');
    const x = x0.slice([0, 0], [6, 2]);
    const F = probabilityFlowOde(sde, gmm);
    const a = hutchinsonDivergence(F, x, 0.3, probes, 'vjp');
    const f = hutchinsonDivergence(F, x, 0.3, probes, 'fd', 1e-3);
    // fd: truncation delta^2 |F'''| ~ 1e-6 * 100, float32 round-off 6e-8 |F| ||v||^2 / delta ~ 1e-3 for |F| ~ 10
    // (measured 4.4e-4 against the VJP)
    expect(maxAbsDiff(a.div, f.div)).to.be.at.most(1e-2);
    expect(maxAbsDiff(a.value, f.value)).to.be.at.most(1e-6);
    [probes, x, a.value, a.div, f.value, f.div, x0].forEach((t) => t.dispose());
  });

  it('encode/decode round trip: decode(encode(x0)) = x0 up to the solver error', () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const x0 = gaussianData([1, 1], [0.3, 0.3], 50, 9);
    const loose = reconstructionError(sde, gmm, x0, { rtol: 1e-3, atol: 1e-3 });
    const tight = reconstructionError(sde, gmm, x0, { rtol: 1e-6, atol: 1e-6 });
    // RK45 both ways: the error is set by the tolerance and shrinks with it (measured max |error| 0.11 at 1e-3,
    // 1.2e-5 at 1e-6); Heun (200 steps each way, the same grid reversed) measured 1.7e-5
    expect(tight.maxAbs).to.be.at.most(1e-4);
    expect(tight.maxAbs).to.be.below(loose.maxAbs / 100);
    const heun = reconstructionError(sde, gmm, x0, { method: 'heun', steps: 200, eps: 1e-3 });
    expect(heun.maxAbs).to.be.at.most(2e-4);
    x0.dispose();
  });

  it('dequantisation: y = (k + u)/128 - 1 stays in the bin of level k, and bits/dim adds d log2(128)', () => {
    const levels = [0, 1, 127, 128, 254, 255];
    const x = tf.tensor2d(levels.map((k) => k / 127.5 - 1), [1, 6]);
    const xs = tf.tidy(() => tf.tile(x, [200, 1]));
    const y = uniformDequantise(xs, new NoiseSource(1), range(200));
    const v = y.dataSync();
    let sumU = 0;
    for (let i = 0; i < v.length; i++) {
      const k = levels[i % 6];
      expect(Math.floor((v[i] + 1) * 128 + 1e-4), `value ${v[i]} of level ${k}`).to.be.oneOf([k, k + 1 > 255 ? 255 : k]);
      sumU += (v[i] + 1) * 128 - k;
    }
    // u ~ U[0, 1): mean 1/2 with se sqrt(1/12 / 1200) = 0.0083
    expectWithinSE(sumU / v.length, 0.5, Math.sqrt(1 / 12 / v.length), 4, 'mean u');
    expect(bitsPerDim(-100, 10, 'uniform')).to.be.closeTo((100 + 10 * Math.log(128)) / (10 * Math.LN2), 1e-12);
    expect(bitsPerDim(-100, 10, 'uniform') - bitsPerDim(-100, 10, 'none')).to.be.closeTo(7, 1e-12);
    expect(() => bitsPerDim(0, 1, 'logit' as never)).to.throw(/allowed: none, uniform/);
    [x, xs, y].forEach((t) => t.dispose());
  });

  it('leaves no tensors behind', async () => {
    const sde = vpSde();
    const gmm = new GmmScoreOracle([2], sde, 1000, gmmSpec);
    const x0 = gaussianData([1, 1], [0.3, 0.3], 3, 10);
    await expectNoLeak(() => { odeLogLikelihood(sde, gmm, x0, { noise: new NoiseSource(1), ids: [0, 1, 2], probes: 2, rtol: 1e-3, atol: 1e-3 }); });
    await expectNoLeak(() => { odeLogLikelihood(sde, gmm, x0, { noise: new NoiseSource(1), ids: [0, 1, 2], divergence: 'fd', rtol: 1e-3, atol: 1e-3 }); });
    await expectNoLeak(() => { reconstructionError(sde, gmm, x0, { rtol: 1e-3, atol: 1e-3 }); });
    expect(() => odeLogLikelihood(sde, gmm, x0, { noise: new NoiseSource(1), ids: [0], probes: 1 })).to.throw(/ids has 1 entries for a batch of 3/);
    expect(() => odeLogLikelihood(sde, gmm, x0, { noise: new NoiseSource(1), ids: [0, 1, 2], probes: 0 })).to.throw(/integer >= 1, got 0/);
    x0.dispose();
  });
});
