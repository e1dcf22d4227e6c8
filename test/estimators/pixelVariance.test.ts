import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { lambda2, gammaCoef } from '../../src/core/posterior.js';
import { alphaTS } from '../../src/core/skip.js';
import { qSample } from '../../src/core/forward.js';
import { NoiseSource } from '../../src/core/rng.js';
import { pixelCov0, pixelSigma2 } from '../../src/estimators/pixelVariance.js';
import { GaussianHeadOracle } from '../../src/estimators/oracles/gaussianHeadOracle.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';

// Diagonal Gaussian data x0 ~ N(mu, diag(s^2)) on 2x2x1, stds spread so per-pixel variances differ
const sch = makeSchedule('linear', 1000);
const shape = [2, 2, 1];
const mu = [0.3, -0.2, 0, 0.5];
const std = [0.05, 0.2, 0.5, 0.9];
const noise = new NoiseSource(31);

/** x0, eps and x_t for n samples at t. */
function draw(n: number, t: number) {
  const ids = Array.from({ length: n }, (_, i) => i);
  const eps = noise.normal(`eps:${t}`, ids, shape);
  const x0 = tf.tidy(() => tf.add(tf.mul(noise.normal(`x0:${t}`, ids, shape), tf.tensor(std, shape)), tf.tensor(mu, shape)));
  const xt = qSample(sch, x0, t, eps);
  return { x0, eps, xt };
}

/** Mean and standard error of each column of a [n, 4] array. */
function colStats(v: Float32Array, n: number): Array<{ mean: number; se: number }> {
  return [0, 1, 2, 3].map((i) => {
    let s = 0;
    let q = 0;
    for (let j = 0; j < n; j++) s += v[j * 4 + i];
    const m = s / n;
    for (let j = 0; j < n; j++) q += (v[j * 4 + i] - m) ** 2;
    return { mean: m, se: Math.sqrt(q / (n - 1) / n) };
  });
}

/** eps_hat and the output of the oracle's single head. */
function withHead(o: GaussianHeadOracle, xt: tf.Tensor, t: number): { eps: tf.Tensor; head: tf.Tensor } {
  const { eps, heads } = o.predictWithHeads(xt, t);
  return { eps, head: heads[o.headKinds[0]]! };
}

describe('per-pixel variances (SN / NPR heads) on diagonal Gaussian data', () => {
  it('the SN oracle head gives cov0 = Var[x0_i | x_t] and sigma^2 = the exact Var[x_s,i | x_t] of the DDPM jump', () => {
    const oracle = new GaussianHeadOracle('sn', shape, sch, mu, std);
    for (const [s, t] of [[1, 2], [10, 100], [100, 300], [500, 1000]]) {
      const { x0, eps, xt } = draw(8, t);
      const { eps: epsHat, head } = withHead(oracle, xt, t);
      const cov = pixelCov0('sn', sch, t, epsHat, head, [-1, 1]);
      const lam2 = lambda2(sch, 'ddpm', s, t);
      const sig = pixelSigma2(sch, s, t, lam2, cov);
      const covV = cov.dataSync();
      const sigV = sig.dataSync();
      const hV = head.dataSync();
      const ratio = sch.bbar[t] / sch.abar[t];
      const g2 = gammaCoef(sch, s, t, lam2) ** 2;
      const post = oracle.posteriorVariance(t);
      for (let i = 0; i < 4; i++) {
        // Var[x_s | x_t] from the joint Gaussian of (x_s, x_t): V_s - alpha(t|s) V_s^2 / V_t
        const vs = sch.abar[s] * std[i] ** 2 + sch.bbar[s];
        const vt = sch.abar[t] * std[i] ** 2 + sch.bbar[t];
        const exact = vs - (alphaTS(sch, s, t) * vs * vs) / vt;
        const bound = Math.min(post[i], 1);
        for (let b = 0; b < 8; b++) {
          // float32: h - eps_hat^2 cancels to a few ulps of h, amplified by bbar/abar (~2.5e4 at t = 1000)
          const f32 = 4 * 1.2e-7 * Math.max(1, hV[b * 4 + i]) * ratio;
          expect(covV[b * 4 + i]).to.be.closeTo(bound, 2e-4 * bound + f32, `cov0 t=${t} i=${i}`);
          expect(sigV[b * 4 + i]).to.be.closeTo(exact, 2e-4 * exact + g2 * f32, `sigma^2 (${s},${t}) i=${i}`);
        }
      }
      tf.dispose([x0, eps, xt, epsHat, head, cov, sig]);
    }
  });

  it('the SN head is E[eps^2 | x_t]: E[eps^2 - h] = 0 and E[(eps^2 - h) x_t^2] = 0 per pixel (Monte Carlo, 4 s.e.)', () => {
    const oracle = new GaussianHeadOracle('sn', shape, sch, mu, std);
    const n = 20000;
    for (const t of [50, 400]) {
      const { x0, eps, xt } = draw(n, t);
      const { eps: epsHat, head } = withHead(oracle, xt, t);
      const r = tf.tidy(() => tf.sub(tf.square(eps), head));
      const rx = tf.tidy(() => tf.mul(r, tf.square(xt)));
      colStats(r.dataSync() as Float32Array, n).forEach((c, i) => expectWithinSE(c.mean, 0, c.se, 4, `E[eps^2 - h] t=${t} i=${i}`));
      colStats(rx.dataSync() as Float32Array, n).forEach((c, i) => expectWithinSE(c.mean, 0, c.se, 4, `E[(eps^2 - h) x_t^2] t=${t} i=${i}`));
      tf.dispose([x0, eps, xt, epsHat, head, r, rx]);
    }
  });

  it('with a biased mean, NPR cov0 exceeds the perfect-mean SN cov0 by exactly bbar/abar bias^2, sigma^2 by gamma^2 bbar/abar bias^2', () => {
    const bias = [0.1, -0.3, 0.05, 0.2];
    const sn = new GaussianHeadOracle('sn', shape, sch, mu, std);
    const npr = new GaussianHeadOracle('npr', shape, sch, mu, std, bias);
    for (const [s, t, process, eta] of [[20, 200, 'ddpm', 0], [300, 700, 'ddim', 0], [300, 700, 'ddim', 0.5]] as const) {
      const { x0, eps, xt } = draw(4, t);
      const a = withHead(sn, xt, t);
      const b = withHead(npr, xt, t);
      const lam2 = lambda2(sch, process, s, t, eta);
      const covSn = pixelCov0('sn', sch, t, a.eps, a.head, null);
      const covNpr = pixelCov0('npr', sch, t, b.eps, b.head, null);
      const dSig = tf.sub(pixelSigma2(sch, s, t, lam2, covNpr), pixelSigma2(sch, s, t, lam2, covSn)).dataSync();
      const dCov = tf.sub(covNpr, covSn).dataSync();
      const ratio = sch.bbar[t] / sch.abar[t];
      const g2 = gammaCoef(sch, s, t, lam2) ** 2;
      for (let j = 0; j < 16; j++) {
        const want = ratio * bias[j % 4] ** 2;
        expect(dCov[j]).to.be.closeTo(want, 1e-5 * ratio, `cov0 ${process} t=${t}`);
        expect(dSig[j]).to.be.closeTo(g2 * want, 1e-5 * ratio * g2 + 1e-9, `sigma^2 ${process}(${s},${t})`);
      }
      tf.dispose([x0, eps, xt, a.eps, a.head, b.eps, b.head, covSn, covNpr]);
    }
  });

  it('the NPR head is E[(eps - eps_hat)^2 | x_t] of its biased eps_hat (Monte Carlo, 4 s.e.)', () => {
    const npr = new GaussianHeadOracle('npr', shape, sch, mu, std, [0.1, -0.3, 0.05, 0.2]);
    const n = 20000;
    const { x0, eps, xt } = draw(n, 250);
    const { eps: epsHat, head } = withHead(npr, xt, 250);
    const r = tf.tidy(() => tf.sub(tf.square(tf.sub(eps, epsHat)), head));
    colStats(r.dataSync() as Float32Array, n).forEach((c, i) => expectWithinSE(c.mean, 0, c.se, 4, `E[(eps - eps_hat)^2 - g] i=${i}`));
    tf.dispose([x0, eps, xt, epsHat, head, r]);
  });

  it('clamps cov0 to [0, ((b-a)/2)^2] (the heads have no positivity activation) without leaking tensors', async () => {
    await expectNoLeak(() => {
      const head = tf.tensor([-0.5, 0.2, 50, 1e-6]);
      const epsHat = tf.tensor([0, 0.3, 0, 0]);
      const t = 600;
      const ratio = sch.bbar[t] / sch.abar[t];
      const values = (x: tf.Tensor) => {
        const v = x.dataSync();
        x.dispose();
        return v;
      };
      const sn = values(pixelCov0('sn', sch, t, epsHat, head, [-1, 1]));
      const npr = values(pixelCov0('npr', sch, t, epsHat, head, [-1, 1]));
      expect([...sn].map((v) => +v.toFixed(6))).to.deep.equal([0, +Math.min(0.11 * ratio, 1).toFixed(6), 1, +Math.min(ratio * 1e-6, 1).toFixed(6)]);
      expect(npr[0]).to.equal(0);
      expect(npr[1]).to.be.closeTo(Math.min(0.2 * ratio, 1), 1e-6);
      expect(npr[2]).to.equal(1);
      const unbounded = values(pixelCov0('npr', sch, t, epsHat, head, null));
      expect(unbounded[2]).to.be.closeTo(50 * ratio, 1e-3 * 50 * ratio);
      tf.dispose([head, epsHat]);
    });
  });
});
