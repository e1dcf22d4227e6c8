import { expect } from 'chai';
import { evenTrajectory, quadTrajectory, explicitTrajectory, reversePairs } from '../../src/core/trajectory.js';
import { roundHalfEven } from '../../src/core/rounding.js';

describe('trajectories', () => {
  it('roundHalfEven is Python round', () => {
    expect([0.5, 1.5, 2.5, 500.5, 2000.5, -0.5, 2.4, 2.6].map(roundHalfEven)).to.deep.equal([0, 2, 2, 500, 2000, 0, 2, 3]);
  });

  it('even trajectory N=1000 K=10 matches the official one', () => {
    expect(evenTrajectory(1000, 10)).to.deep.equal([1, 112, 223, 334, 445, 556, 667, 778, 889, 1000]);
  });

  it('even trajectory N=1000 K=25 has 500 at index 12 (half to even, not Math.round)', () => {
    expect(evenTrajectory(1000, 25)).to.deep.equal([1, 43, 84, 126, 168, 209, 251, 292, 334, 376, 417, 459, 500, 542, 584, 625, 667, 709, 750, 792, 834, 875, 917, 958, 1000]);
    expect(evenTrajectory(4000, 25)[12]).to.equal(2000);
  });

  it('K = N gives every step; K > N is rejected', () => {
    expect(evenTrajectory(50, 50)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(() => evenTrajectory(1000, 1001)).to.throw(/K = 1001 exceeds the number of diffusion steps N = 1000/);
  });

  it('quadratic trajectory (DDIM): ends at int(0.8 N) + 1 and starts at 1', () => {
    const q = quadTrajectory(1000, 20);
    expect(q[0]).to.equal(1);
    expect(q[19]).to.equal(801);
    expect(q.length).to.equal(20);
  });

  it('explicit lists are validated', () => {
    expect(explicitTrajectory(100, [1, 5, 100])).to.deep.equal([1, 5, 100]);
    expect(() => explicitTrajectory(100, [1, 5, 5])).to.throw(/strictly increasing/);
    expect(() => explicitTrajectory(100, [0, 5])).to.throw(/not an integer in \[1, 100\]/);
  });

  it('reverse pairs end with the (0, tau_1) decoder step', () => {
    expect(reversePairs([1, 5, 9])).to.deep.equal([[5, 9], [1, 5], [0, 1]]);
  });
});
