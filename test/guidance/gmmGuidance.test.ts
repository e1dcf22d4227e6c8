/**
 * Classifier guidance and classifier-free guidance against exact references on a 3-component Gaussian mixture in
 * 2-D: the exact classifier p(k | x_t) (posterior over components under q(x_t | x0)), the exact conditional eps of
 * each component and the exact mixture eps. Checked: the classifier's autodiff gradient against float64 finite
 * differences; the Bayes identity eps(x|y) = eps(x) - sqrt(bbar) grad log p(y|x) (classifier guidance at gamma = 1
 * equals the conditional oracle, CFG at w equals classifier guidance at gamma = 1 + w); gamma = 0 and w = 0 reproduce
 * the unguided / conditional sampler bit for bit; and guided DDPM / DDIM samples land in the chosen component with a
 * frequency that increases with gamma and w, matching the exact conditional's frequency at gamma = 1.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type Schedule } from '../../src/core/schedule.js';
import type { GmmSpec } from '../../src/core/data/toy.js';
import { GmmClassifier } from '../../src/core/guidance/gmmClassifier.js';
import { GmmConditionalOracle } from '../../src/core/guidance/gmmConditional.js';
import { ClassifierGuidedModel, bbarAt } from '../../src/core/guidance/classifierGuidance.js';
import { ClassifierFreeGuidedModel } from '../../src/core/guidance/classifierFreeGuidance.js';
import { guidedSampler, targetLabel } from '../../src/core/guidance/guidedSampler.js';
import { logProbGradient } from '../../src/core/guidance/logProbGradient.js';
import { SAMPLERS, sampleRows, type Sampler } from '../../src/core/sampler.js';
import { varianceRule } from '../../src/core/variances.js';
import { evenTrajectory } from '../../src/core/trajectory.js';
import { NoiseSource, fillNormal, sfc32 } from '../../src/core/rng.js';
import type { EpsModel } from '../../src/core/model.js';
import { expectNoLeak } from '../helpers.js';

const SPEC: GmmSpec = { weights: [0.5, 0.3, 0.2], means: [[-0.6, 0], [0.6, 0], [0, 1]], stds: [0.5, 0.5, 0.5] };
const K_COMP = 3;
const SHAPE = [2];
const N = 200;
const SAMPLES = 600;

/** log p(k | x_t) in float64 (the closed form the tensor classifier implements). */
function logPosterior64(sch: Schedule, x: readonly number[], t: number, k: number): number {
  const total = SPEC.weights.reduce((a, b) => a + b, 0);
  const l = SPEC.weights.map((w, j) => {
    const v = sch.abar[t] * SPEC.stds[j] ** 2 + sch.bbar[t];
    const dist = x.reduce((s, xi, i) => s + (xi - Math.sqrt(sch.abar[t]) * SPEC.means[j][i]) ** 2, 0);
    return Math.log(w / total) - (x.length / 2) * Math.log(v) - dist / (2 * v);
  });
  const m = Math.max(...l);
  return l[k] - (m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0)));
}

/** The component a clean point belongs to (argmax of the exact posterior at t = 0). */
function component(sch: Schedule, x: readonly number[]): number {
  const l = [0, 1, 2].map((k) => logPosterior64(sch, x, 0, k));
  return l.indexOf(Math.max(...l));
}

/** Fraction of samples (rows of `values`) whose component is their target label id mod 3. */
function hitRate(sch: Schedule, values: Float32Array): number {
  let hits = 0;
  for (let i = 0; i < SAMPLES; i++) if (component(sch, [values[2 * i], values[2 * i + 1]]) === targetLabel(i, K_COMP)) hits++;
  return hits / SAMPLES;
}

/** Expected hit rate when sample i is drawn exactly from component i mod 3 (Monte Carlo in float64, 3 x 100,000 draws). */
function exactConditionalHitRate(sch: Schedule): number {
  const n = 100000;
  const z = new Float32Array(2 * n);
  let hits = 0;
  for (let k = 0; k < K_COMP; k++) {
    fillNormal(z, 0, 2 * n, 77 + k);
    for (let i = 0; i < n; i++) {
      const x = [SPEC.means[k][0] + SPEC.stds[k] * z[2 * i], SPEC.means[k][1] + SPEC.stds[k] * z[2 * i + 1]];
      if (component(sch, x) === k) hits++;
    }
  }
  return hits / (K_COMP * n);
}

/** Strictly increasing while below 0.99; once saturated (>= 0.99, a handful of misses out of 600) non-decreasing. */
function expectRising(rates: number[], scales: number[], what: string): void {
  for (let i = 1; i < rates.length; i++) {
    const msg = `${what} ${scales[i]} (${rates[i]}) vs ${scales[i - 1]} (${rates[i - 1]})`;
    if (rates[i - 1] < 0.99) expect(rates[i], msg).to.be.above(rates[i - 1]);
    else expect(rates[i], msg).to.be.at.least(rates[i - 1]);
  }
}

describe('guidance on a Gaussian mixture with exact models', function () {
  this.timeout(120000);
  let sch: Schedule;
  let classifier: GmmClassifier;
  let conditional: GmmConditionalOracle;
  const ids = Array.from({ length: SAMPLES }, (_, i) => i);
  const labelOf = (id: number) => targetLabel(id, K_COMP);

  before(() => {
    sch = makeSchedule('linear', N);
    classifier = new GmmClassifier(SHAPE, sch, SPEC);
    conditional = new GmmConditionalOracle(SHAPE, sch, SPEC);
  });
  after(() => conditional.dispose());

  const cg = (gamma: number) => (labels: readonly number[]): EpsModel => new ClassifierGuidedModel(conditional.mixture, classifier, sch, gamma, labels);
  const cfg = (w: number) => (labels: readonly number[]): EpsModel => new ClassifierFreeGuidedModel(conditional, w, labels);

  /** Samples of all ids with a (guided) sampler; DDPM on all N steps (small variance) or DDIM (eta 0) on 50 even steps. */
  function run(sampler: Sampler, process: 'ddpm' | 'ddim'): Float32Array {
    const trajectory = process === 'ddpm' ? evenTrajectory(N, N) : evenTrajectory(N, 50);
    return sampleRows(sampler, {
      model: conditional.mixture, schedule: sch, trajectory, variance: varianceRule('small', { range: null }), range: null,
      noise: new NoiseSource(5), eta: 0,
    }, ids, 300);
  }

  it('the exact classifier\'s autodiff gradient matches float64 central finite differences (rel. 2e-4)', async () => {
    const u = sfc32(9);
    const pts = Array.from({ length: 6 }, () => [4 * u() - 2, 4 * u() - 1.5]);
    const labels = pts.map((_, i) => i % K_COMP);
    for (const t of [1, 20, 100, N]) {
      let g: Float32Array | null = null;
      await expectNoLeak(() => {
        const x = tf.tensor2d(pts.flat(), [pts.length, 2]);
        const gt = logProbGradient(classifier, x, t, labels);
        g = gt.dataSync() as Float32Array;
        tf.dispose([x, gt]);
      });
      const h = 1e-5;
      pts.forEach((p, b) => {
        for (let i = 0; i < 2; i++) {
          const plus = [...p]; plus[i] += h;
          const minus = [...p]; minus[i] -= h;
          const fd = (logPosterior64(sch, plus, t, labels[b]) - logPosterior64(sch, minus, t, labels[b])) / (2 * h);
          // float32 logits carry ~1e-7 relative error; FD in float64 with h = 1e-5 is accurate to ~1e-9
          expect(Math.abs(g![2 * b + i] - fd), `t=${t} point ${b} dim ${i}: ${g![2 * b + i]} vs ${fd}`).to.be.at.most(2e-4 * Math.max(1, Math.abs(fd)));
        }
      });
    }
  });

  it('Bayes identity: classifier guidance at gamma = 1 equals the exact conditional eps; CFG at w equals gamma = 1 + w', async () => {
    const u = sfc32(4);
    const B = 12;
    const pts = Array.from({ length: B * 2 }, () => 3 * (2 * u() - 1));
    const labels = Array.from({ length: B }, (_, i) => i % K_COMP);
    const perSampleT = Array.from({ length: B }, (_, i) => 1 + Math.floor((i * (N - 1)) / (B - 1)));
    for (const t of [1, 10, 60, N, perSampleT] as const) {
      await expectNoLeak(() => {
        const x = tf.tensor2d(pts, [B, 2]);
        const exact = conditional.predictEpsConditional(x, t, labels);
        const guided = cg(1)(labels).predictEps(x, t);
        const cfg2 = cfg(2)(labels).predictEps(x, t);
        const cg3 = cg(3)(labels).predictEps(x, t);
        const [e, g, c2, g3] = [exact, guided, cfg2, cg3].map((v) => v.dataSync() as Float32Array);
        const maxAbs = Math.max(...Array.from(e, Math.abs), ...Array.from(g3, Math.abs));
        // float32 rounding (~6e-8 relative) is amplified by 1/sqrt(bbar_t) where the mixture oracle forms
        // eps = (x_t - sqrt(abar_t) x0hat) / sqrt(bbar_t); 1e-5 leaves a margin of ~10 over the observed error
        const minBbar = Math.min(...(typeof t === 'number' ? [t] : t).map((n) => sch.bbar[n]));
        const tol = (1e-5 * Math.max(1, maxAbs)) / Math.sqrt(minBbar);
        e.forEach((v, i) => expect(Math.abs(g[i] - v), `t=${t} cg(1) vs conditional at ${i}`).to.be.at.most(tol));
        c2.forEach((v, i) => expect(Math.abs(g3[i] - v), `t=${t} cfg(2) vs cg(3) at ${i}`).to.be.at.most(tol));
        tf.dispose([x, exact, guided, cfg2, cg3]);
      });
    }
  });

  it('real-valued timesteps (continuous-time samplers) use bbar interpolated between integer steps', () => {
    expect(bbarAt(sch, 10)).to.equal(sch.bbar[10]);
    expect(bbarAt(sch, 10.25)).to.be.closeTo(0.75 * sch.bbar[10] + 0.25 * sch.bbar[11], 1e-15);
    expect(() => bbarAt(sch, N + 1)).to.throw(/timestep 201 outside \[0, 200\]/);
  });

  for (const process of ['ddpm', 'ddim'] as const) {
    it(`${process}: gamma = 0 reproduces the unguided sampler and w = 0 the conditional model bit for bit`, async () => {
      await expectNoLeak(() => {
        const plain = run(SAMPLERS[process], process);
        const g0 = run(guidedSampler(SAMPLERS[process], cg(0), labelOf), process);
        expect(Buffer.from(g0.buffer).equals(Buffer.from(plain.buffer))).to.equal(true);
        const condSampler = guidedSampler(SAMPLERS[process], (labels) => ({ ...conditional.bind(labels) }), labelOf);
        const cond = run(condSampler, process);
        const w0 = run(guidedSampler(SAMPLERS[process], cfg(0), labelOf), process);
        expect(Buffer.from(w0.buffer).equals(Buffer.from(cond.buffer))).to.equal(true);
      });
    });

    it(`${process}: the hit rate of the chosen component rises with gamma and with w, and gamma = 1 matches the exact conditional`, async () => {
      const gammas = [0, 0.5, 1, 2, 4];
      const cgRates = gammas.map((g) => hitRate(sch, run(guidedSampler(SAMPLERS[process], cg(g), labelOf), process)));
      const ws = [0, 1, 3];
      const cfgRates = ws.map((w) => hitRate(sch, run(guidedSampler(SAMPLERS[process], cfg(w), labelOf), process)));
      const expected = exactConditionalHitRate(sch);
      console.log(`      ${process}: hit rate vs gamma ${gammas.map((g, i) => `${g}:${cgRates[i].toFixed(3)}`).join(' ')}; ` +
        `vs w ${ws.map((w, i) => `${w}:${cfgRates[i].toFixed(3)}`).join(' ')}; exact conditional ${expected.toFixed(3)}`);
      expectRising(cgRates, gammas, 'gamma');
      expectRising(cfgRates, ws, 'w');
      // gamma = 1 samples the exact conditional; binomial se of 600 samples ~0.016; 4 se plus 0.02 for the
      // discretisation of the reverse process (N = 200 DDPM steps, 50 DDIM steps)
      const se = Math.sqrt((expected * (1 - expected)) / SAMPLES);
      expect(Math.abs(cgRates[2] - expected), `gamma = 1: ${cgRates[2]} vs exact ${expected}`).to.be.at.most(4 * se + 0.02);
      expect(Math.abs(cfgRates[0] - expected), `w = 0: ${cfgRates[0]} vs exact ${expected}`).to.be.at.most(4 * se + 0.02);
      // without guidance the target (uniform over components) is hit about as often as the mixture puts mass there
      expect(cgRates[0]).to.be.below(0.5);
    });
  }
});
