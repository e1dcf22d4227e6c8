import { expect } from 'chai';
import { makeSchedule, linearBetas, cosineBetas } from '../../src/core/schedule.js';
import { alphaTS, betaTS, tildeBeta } from '../../src/core/skip.js';

describe('schedules', () => {
  it('linear: improved-diffusion definition rescaled by 1000/N', () => {
    const b = linearBetas(1000);
    expect(b[0]).to.equal(1e-4);
    expect(b[999]).to.be.closeTo(0.02, 1e-15);
    const b4 = linearBetas(4000);
    expect(b4[0]).to.be.closeTo(0.25e-4, 1e-18);
    expect(b4[3999]).to.be.closeTo(0.005, 1e-15);
  });

  it('cosine: iDDPM Eq. 17 with max beta 0.999', () => {
    const b = cosineBetas(1000);
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(b[0]).to.be.closeTo(1 - f(1 / 1000) / f(0), 1e-15);
    expect(b[999]).to.equal(0.999);
  });

  it('padded arrays: betas[0] = 0, abar[0] = 1, bbar = 1 - abar, abar is the running product', () => {
    const sch = makeSchedule('linear', 1000);
    expect(sch.betas.length).to.equal(1001);
    expect(sch.betas[0]).to.equal(0);
    expect(sch.abar[0]).to.equal(1);
    let p = 1;
    for (let n = 1; n <= 1000; n++) p *= 1 - sch.betas[n];
    expect(sch.abar[1000]).to.be.closeTo(p, 1e-15);
    expect(sch.bbar[500]).to.equal(1 - sch.abar[500]);
    expect(sch.abar[1000]).to.be.closeTo(4.035e-5, 1e-7);
  });

  it('rejects unknown names and bad N with a clear message', () => {
    expect(() => makeSchedule('sigmoid', 1000)).to.throw(/unknown name "sigmoid".*linear, cosine/);
    expect(() => makeSchedule('linear', 1.5)).to.throw(/N must be an integer/);
  });
});

describe('(s,t) skip algebra', () => {
  const sch = makeSchedule('cosine', 1000);
  it('alpha(t|s) equals the explicit product of per-step alphas', () => {
    for (const [s, t] of [[0, 1], [1, 2], [10, 500], [112, 223], [999, 1000], [0, 1000]]) {
      let p = 1;
      for (let i = s + 1; i <= t; i++) p *= sch.alphas[i];
      expect(alphaTS(sch, s, t)).to.be.closeTo(p, 1e-12 * Math.max(p, 1e-300) + 1e-300);
      expect(betaTS(sch, s, t)).to.be.closeTo(1 - p, 1e-12);
    }
  });

  it('tildeBeta(n-1, n) = bbar_{n-1} beta_n / bbar_n (DDPM posterior variance), tildeBeta(0, t) = 0', () => {
    for (const n of [2, 10, 500, 1000]) {
      expect(tildeBeta(sch, n - 1, n)).to.be.closeTo((sch.bbar[n - 1] * sch.betas[n]) / sch.bbar[n], 1e-15);
    }
    expect(tildeBeta(sch, 0, 7)).to.equal(0);
  });
});
