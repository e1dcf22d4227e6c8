import { expect } from 'chai';
import { expectNormal, gaussHermiteProbabilists } from '../../src/estimators/gaussHermite.js';

describe('gaussHermiteProbabilists / expectNormal', () => {
  it('reproduces the N(0,1) moments E z^2 = 1, E z^4 = 3, E z^6 = 15 to 1e-12', () => {
    expect(Math.abs(expectNormal((z) => z * z) - 1)).to.be.below(1e-12);
    expect(Math.abs(expectNormal((z) => z ** 4) - 3)).to.be.below(1e-12);
    expect(Math.abs(expectNormal((z) => z ** 6) - 15)).to.be.below(1e-12);
  });

  it('integrates E cos z = exp(-1/2) to 1e-12', () => {
    expect(Math.abs(expectNormal(Math.cos) - Math.exp(-0.5))).to.be.below(1e-12);
  });

  it('has weights summing to 1 and symmetric nodes for several n (up to 300)', () => {
    for (const n of [1, 2, 5, 20, 101, 200, 300]) {
      const { nodes, weights } = gaussHermiteProbabilists(n);
      expect(nodes.length).to.equal(n);
      const sum = weights.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - 1), `n=${n}`).to.be.below(1e-13);
      for (let i = 0; i < n; i++) {
        expect(weights[i]).to.be.at.least(0);
        expect(nodes[i] + nodes[n - 1 - i]).to.equal(0);
        if (i > 0) expect(nodes[i]).to.be.above(nodes[i - 1]);
      }
    }
  });

  it('is exact for polynomials of degree 2n-1 (n = 5: E z^8 = 105) and matches known small rules', () => {
    expect(Math.abs(expectNormal((z) => z ** 8, 5) - 105)).to.be.below(1e-11);
    const r2 = gaussHermiteProbabilists(2);
    expect(r2.nodes[1]).to.be.closeTo(1, 1e-15);
    expect(r2.weights[0]).to.be.closeTo(0.5, 1e-15);
    const r3 = gaussHermiteProbabilists(3);
    expect(r3.nodes[2]).to.be.closeTo(Math.sqrt(3), 1e-15);
    expect(r3.weights[1]).to.be.closeTo(2 / 3, 1e-15);
  });

  it('integrates a high moment accurately with n = 300 (E z^20 = 19!! = 654729075)', () => {
    expect(expectNormal((z) => z ** 20, 300) / 654729075 - 1).to.be.closeTo(0, 1e-12);
  });

  it('caches the table by n and rejects bad n', () => {
    expect(gaussHermiteProbabilists(200)).to.equal(gaussHermiteProbabilists(200));
    expect(() => gaussHermiteProbabilists(0)).to.throw(/n must be an integer/);
    expect(() => gaussHermiteProbabilists(2.5)).to.throw(/n must be an integer/);
  });
});
