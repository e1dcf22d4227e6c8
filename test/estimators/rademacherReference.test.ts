import { expect } from 'chai';
import seedrandom from 'seedrandom';
import { makeSchedule } from '../../src/core/schedule.js';
import {
  gaussianMsEps,
  rademacherMsEps,
  rademacherPosteriorVariance,
} from '../../src/estimators/rademacherReference.js';

/** Standard normal sampler by Box–Muller on a seeded uniform stream. */
function normalSampler(rng: () => number): () => number {
  return () => {
    const u1 = 1 - rng(); // (0, 1]
    const u2 = rng();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}

/** Monte Carlo E (x0 - E[x0|x_t])^2 with x0 = +-1, x_t = sqrt(a) x0 + sqrt(b) eps: mean and standard error. */
function monteCarloPosteriorVariance(abar: number, bbar: number, M: number, seed: string) {
  const rng = seedrandom(seed);
  const normal = normalSampler(rng);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < M; i++) {
    const x0 = rng() < 0.5 ? -1 : 1;
    const xt = Math.sqrt(abar) * x0 + Math.sqrt(bbar) * normal();
    const err = (x0 - Math.tanh((Math.sqrt(abar) * xt) / bbar)) ** 2;
    s += err;
    s2 += err * err;
  }
  const mean = s / M;
  const se = Math.sqrt((s2 / M - mean * mean) / (M - 1));
  return { mean, se };
}

describe('rademacherReference', () => {
  const sch = makeSchedule('linear', 1000);
  const ms = rademacherMsEps(sch);

  it('rademacherMsEps has length N+1, index 0 = 0 and values in [0, 1]', () => {
    expect(ms.length).to.equal(1001);
    expect(ms[0]).to.equal(0);
    for (let t = 1; t <= 1000; t++) {
      expect(ms[t], `t=${t}`).to.be.within(0, 1);
    }
  });

  it('tends to 1 at large t (> 0.999 at t = N)', () => {
    expect(ms[1000]).to.be.above(0.999);
  });

  it('is ~1 at t = 1 (x0 is identifiable, so E[eps|x_1] = eps) and dips well below 1 in between', () => {
    // For Rademacher data the posterior over x0 collapses as t -> 0, so ms_eps[1] -> 1, not a small value.
    expect(ms[1]).to.be.above(0.999999);
    let argmin = 1;
    for (let t = 1; t <= 1000; t++) if (ms[t] < ms[argmin]) argmin = t;
    expect(ms[argmin]).to.be.below(0.6);
    expect(argmin).to.be.within(150, 300);
  });

  it('matches the identity ms_eps = 1 - (abar/bbar) E Var[x0|x_t]', () => {
    for (const t of [1, 50, 221, 600, 1000]) {
      const a = sch.abar[t];
      const b = sch.bbar[t];
      expect(ms[t]).to.equal(1 - (a / b) * rademacherPosteriorVariance(a, b));
    }
  });

  it('rademacherPosteriorVariance agrees with a 1e6-sample Monte Carlo within 4 standard errors', () => {
    const pairs: Array<[number, number]> = [
      [0.9, 0.1],
      [0.5, 0.5],
      [0.2, 0.8],
      [0.05, 0.95],
    ];
    pairs.forEach(([a, b], i) => {
      const gh = rademacherPosteriorVariance(a, b);
      const mc = monteCarloPosteriorVariance(a, b, 1_000_000, `rademacher-mc-${i}`);
      expect(Math.abs(gh - mc.mean), `abar=${a}: GH ${gh} vs MC ${mc.mean} +- ${mc.se}`).to.be.below(4 * mc.se);
      expect(gh).to.be.within(0, 1);
    });
  });

  it('rejects a negative abar or a non-positive bbar', () => {
    expect(() => rademacherPosteriorVariance(1, 0)).to.throw(/bbar > 0/);
    expect(() => rademacherPosteriorVariance(-0.1, 1)).to.throw(/abar >= 0/);
    expect(rademacherPosteriorVariance(0, 1)).to.equal(1); // no signal: posterior = prior
  });

  it('gaussianMsEps matches bbar / (abar std^2 + bbar)', () => {
    for (const name of ['linear', 'cosine']) {
      const s = makeSchedule(name, 200);
      for (const std of [0.1, 0.5, 1, 2]) {
        const g = gaussianMsEps(s, std);
        expect(g.length).to.equal(201);
        expect(g[0]).to.equal(0);
        for (const t of [1, 7, 100, 200]) {
          const want = s.bbar[t] / (s.abar[t] * std * std + s.bbar[t]);
          expect(g[t]).to.be.closeTo(want, 1e-15);
        }
      }
    }
    // std = 1 (unit-variance data): x_t ~ N(., I), E||E[eps|x_t]||^2/d = bbar_t exactly.
    const s = makeSchedule('linear', 50);
    const g = gaussianMsEps(s, 1);
    for (let t = 1; t <= 50; t++) expect(g[t]).to.be.closeTo(s.bbar[t], 1e-15);
  });
});
