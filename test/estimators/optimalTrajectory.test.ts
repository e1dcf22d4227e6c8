import { expect } from 'chai';
import seedrandom from 'seedrandom';
import { makeSchedule } from '../../src/core/schedule.js';
import { rademacherMsEps } from '../../src/estimators/rademacherReference.js';
import {
  dpTrajectory,
  jumpCost,
  optimalTrajectory,
  splitBadTail,
  tailSteps,
} from '../../src/estimators/optimalTrajectory.js';
import type { Schedule } from '../../src/core/schedule.js';

function sumJ(sch: Schedule, ms: ArrayLike<number>, steps: readonly number[]): number {
  let c = 0;
  for (let k = 1; k < steps.length; k++) c += jumpCost(sch, ms, steps[k - 1], steps[k]);
  return c;
}

/** All paths lo = tau_1 < ... < tau_K = hi, by recursion. */
function allPaths(lo: number, hi: number, K: number): number[][] {
  if (K === 2) return [[lo, hi]];
  const out: number[][] = [];
  const rec = (path: number[], left: number) => {
    if (left === 0) {
      out.push([...path, hi]);
      return;
    }
    for (let s = path[path.length - 1] + 1; s <= hi - left; s++) rec([...path, s], left - 1);
  };
  rec([lo], K - 2);
  return out;
}

function bruteForce(sch: Schedule, ms: ArrayLike<number>, K: number, lo: number, hi: number) {
  let best = { steps: [] as number[], cost: Infinity };
  for (const p of allPaths(lo, hi, K)) {
    const c = sumJ(sch, ms, p);
    if (c < best.cost) best = { steps: p, cost: c };
  }
  return best;
}

function expectValidTrajectory(steps: number[], K: number, N: number): void {
  expect(steps.length).to.equal(K);
  expect(steps[0]).to.equal(1);
  expect(steps[K - 1]).to.equal(N);
  for (let k = 1; k < K; k++) expect(steps[k]).to.be.above(steps[k - 1]);
  for (const s of steps) expect(Number.isInteger(s)).to.equal(true);
}

describe('optimalTrajectory (Analytic-DPM OT, Theorem 3 / Algorithm 1)', () => {
  const sch = makeSchedule('linear', 1000);
  const ms = rademacherMsEps(sch);

  it('K=5 on Rademacher data, linear N=1000: [1,59,103,149,1000]', () => {
    const r = optimalTrajectory(sch, ms, 5);
    expect(r.steps).to.deep.equal([1, 59, 103, 149, 1000]);
    expect(r.split).to.deep.equal({ N1: 1000, K1: 5, K2: 0, numBad: 0 });
  });

  it('K=10 on Rademacher data: [1,55,85,105,123,142,163,190,231,1000], cost ≈ -17.7332', () => {
    const r = optimalTrajectory(sch, ms, 10);
    expect(r.steps).to.deep.equal([1, 55, 85, 105, 123, 142, 163, 190, 231, 1000]);
    expect(r.cost).to.be.closeTo(-17.7332, 1e-3);
    expect(r.dpCost).to.equal(r.cost);
  });

  it('the returned cost equals the sum of jumpCost along the path', () => {
    for (const K of [2, 3, 7, 10]) {
      const r = optimalTrajectory(sch, ms, K);
      expect(r.cost).to.be.closeTo(sumJ(sch, ms, r.steps), 1e-12);
      const d = dpTrajectory(sch, ms, K);
      expect(d.steps).to.deep.equal(r.steps);
      expect(d.cost).to.be.closeTo(sumJ(sch, ms, d.steps), 1e-12);
    }
  });

  it('jumpCost is log(1 - beta(t|s) ms_eps[t] / bbar[t]) and checks its indices', () => {
    const s = 100;
    const t = 300;
    const beta = 1 - sch.abar[t] / sch.abar[s];
    expect(jumpCost(sch, ms, s, t)).to.equal(Math.log(1 - (beta * ms[t]) / sch.bbar[t]));
    expect(() => jumpCost(sch, ms, 0, 5)).to.throw(/1 <= s < t/);
    expect(() => jumpCost(sch, ms, 5, 5)).to.throw(/1 <= s < t/);
  });

  it('the DP equals a brute-force search over all paths (N=30, random ms_eps in (0,1))', () => {
    const small = makeSchedule('linear', 30);
    const rng = seedrandom('ot-brute-force');
    for (let trial = 0; trial < 5; trial++) {
      const m = new Float64Array(31);
      for (let t = 1; t <= 30; t++) m[t] = 0.01 + 0.98 * rng();
      for (const K of [2, 3, 4, 5]) {
        const bf = bruteForce(small, m, K, 1, 30);
        const dp = dpTrajectory(small, m, K);
        expect(dp.steps, `trial ${trial}, K=${K}`).to.deep.equal(bf.steps);
        expect(dp.cost).to.be.closeTo(bf.cost, 1e-12);
        expect(optimalTrajectory(small, m, K).steps).to.deep.equal(bf.steps);
      }
      // a sub-interval [lo, hi]
      const bf = bruteForce(small, m, 4, 3, 25);
      const dp = dpTrajectory(small, m, 4, 3, 25);
      expect(dp.steps).to.deep.equal(bf.steps);
      expect(dp.cost).to.be.closeTo(bf.cost, 1e-12);
    }
  });

  it('dpTrajectory edge cases: K = n, K = 1, K = 2', () => {
    expect(dpTrajectory(sch, ms, 4, 10, 13).steps).to.deep.equal([10, 11, 12, 13]);
    expect(dpTrajectory(sch, ms, 1, 7, 7)).to.deep.equal({ steps: [7], cost: 0 });
    expect(() => dpTrajectory(sch, ms, 1, 7, 9)).to.throw(/K = 1 is only valid when lo == hi/);
    const two = dpTrajectory(sch, ms, 2, 5, 400);
    expect(two.steps).to.deep.equal([5, 400]);
    expect(two.cost).to.equal(jumpCost(sch, ms, 5, 400));
    expect(() => dpTrajectory(sch, ms, 5, 10, 13)).to.throw(/K = 5/);
  });

  it('K = N returns 1..N', () => {
    const small = makeSchedule('linear', 50);
    const m = rademacherMsEps(small);
    const r = optimalTrajectory(small, m, 50);
    expect(r.steps).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(r.split).to.equal(null);
    expect(r.cost).to.be.closeTo(sumJ(small, m, r.steps), 1e-12);
  });

  it('throws clear errors for K > N, K < 2 and a wrong msEps length', () => {
    expect(() => optimalTrajectory(sch, ms, 1001)).to.throw(/K = 1001.*N = 1000/);
    expect(() => optimalTrajectory(sch, ms, 1)).to.throw(/K must be an integer >= 2/);
    expect(() => optimalTrajectory(sch, ms.subarray(0, 1000), 10)).to.throw(/length 1000.*N\+1 = 1001/);
    expect(() => dpTrajectory(sch, ms.subarray(1), 10)).to.throw(/length 1000.*N\+1 = 1001/);
  });

  it('dpTrajectory refuses ms_eps > 1 that makes J NaN', () => {
    const m = Float64Array.from(ms);
    m[1000] = 1e6;
    expect(() => dpTrajectory(sch, m, 5)).to.throw(/NaN/);
  });

  describe('the _split heuristic', () => {
    const bad = Float64Array.from(ms);
    for (let n = 951; n <= 1000; n++) bad[n] = 1.2;

    it('matches a hand computation for ms_eps[n] = 1.2 (n >= 951), K = 10', () => {
      // idx_g1 = 951, num_bad = 2*(1000-951+1) = 100, N1 = 900, bad_ratio = 0.1,
      // K1 = ceil(0.92*10) = 10, K2 = 0; num_bad > 0 and K2 == 0 -> K2 = 1, K1 = 9.
      expect(splitBadTail(bad, 1000, 10)).to.deep.equal({ N1: 900, K1: 9, K2: 1, numBad: 100 });
      const r = optimalTrajectory(sch, bad, 10);
      expect(r.split).to.deep.equal({ N1: 900, K1: 9, K2: 1, numBad: 100 });
      expectValidTrajectory(r.steps, 10, 1000);
      const head = dpTrajectory(sch, bad, 9, 1, 900);
      expect(r.steps).to.deep.equal([...head.steps, 1000]);
      expect(head.steps[8]).to.equal(900);
      expect(r.dpCost).to.equal(head.cost);
      expect(Number.isFinite(r.dpCost)).to.equal(true);
    });

    it('spreads larger K over the tail with an even grid', () => {
      // K = 100: K1 = ceil(0.92*100) = 92, K2 = 8; tail = round(1000 - 12.5 k), k=0..7, reversed.
      const sp = splitBadTail(bad, 1000, 100);
      expect(sp).to.deep.equal({ N1: 900, K1: 92, K2: 8, numBad: 100 });
      const r = optimalTrajectory(sch, bad, 100);
      expectValidTrajectory(r.steps, 100, 1000);
      expect(r.steps.slice(92)).to.deep.equal([912, 925, 938, 950, 962, 975, 988, 1000]);
      expect(r.steps[91]).to.equal(900);
    });

    it('tail grid uses Python (half-to-even) rounding', () => {
      expect(tailSteps(1000, 900, 4)).to.deep.equal([925, 950, 975, 1000]);
      expect(tailSteps(10, 5, 2)).to.deep.equal([8, 10]); // 7.5 -> 8
      expect(tailSteps(11, 6, 2)).to.deep.equal([8, 11]); // 8.5 -> 8
      expect(tailSteps(1000, 900, 0)).to.deep.equal([]);
    });

    it('no bad points: N1 = N, K1 = K, K2 = 0', () => {
      expect(splitBadTail(ms, 1000, 25)).to.deep.equal({ N1: 1000, K1: 25, K2: 0, numBad: 0 });
    });

    it('throws when the doubled bad tail leaves nothing for the DP', () => {
      const worse = Float64Array.from(ms);
      for (let n = 400; n <= 1000; n++) worse[n] = 1.2;
      expect(() => splitBadTail(worse, 1000, 10)).to.throw(/nothing left for the DP/);
      expect(() => optimalTrajectory(sch, worse, 10)).to.throw(/splitBadTail/);
    });
  });

  it('K = 200, N = 1000 finishes (O(K N) memory, O(K N^2) time)', () => {
    const r = optimalTrajectory(sch, ms, 200);
    expectValidTrajectory(r.steps, 200, 1000);
    expect(r.cost).to.be.closeTo(sumJ(sch, ms, r.steps), 1e-9);
    expect(r.cost).to.be.below(optimalTrajectory(sch, ms, 10).cost);
  });
});

describe('optimalTrajectory badTail = clamp', () => {
  it('handles Monte Carlo estimates slightly above 1 at small t, where the official split gives up', async () => {
    const { makeSchedule } = await import('../../src/core/schedule.js');
    const { rademacherMsEps } = await import('../../src/estimators/rademacherReference.js');
    const { optimalTrajectory } = await import('../../src/estimators/optimalTrajectory.js');
    const sch = makeSchedule('linear', 1000);
    const exact = rademacherMsEps(sch);
    const noisy = Float64Array.from(exact, (v, t) => (t >= 1 && t <= 5 ? v + 1e-3 : v));
    expect(() => optimalTrajectory(sch, noisy, 10)).to.throw(/use badTail 'clamp'/);
    // clamping estimates that exceed 1 back to 1 recovers the trajectory of the exact msEps
    expect(optimalTrajectory(sch, noisy, 10, 'clamp').steps).to.deep.equal([1, 55, 85, 105, 123, 142, 163, 190, 231, 1000]);
  });
});
