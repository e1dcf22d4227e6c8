import { expect } from 'chai';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readTorchFile } from '../../src/core/import/torchFile.js';
import { selectStateDict, stateDictEntries } from '../../src/core/import/stateDict.js';
import { IddpmUNet, type IddpmUNetConfig } from '../../src/core/nn/imported/iddpmUNet.js';
import { assignWeights, mapStateDict } from '../../src/core/nn/imported/loadStateDict.js';
import type { TimestepConvention } from '../../src/core/nn/imported/timestepInput.js';
import { FIXTURES, readJson, type NetFixture } from './fixtures.js';
import { maxAbsDiff } from './maxAbsDiff.js';
import { expectNoLeak } from '../helpers.js';

/** Each fixture with a convention under which the paper's n maps onto its raw network timesteps. */
const CASES: { name: string; timestep: TimestepConvention; n: (tNet: number) => number }[] = [
  // (n - 1)·1000/4000: the ImageNet-64 convention; tNet 3 and 249.75 are n = 13 and n = 1000
  { name: 'iddpm_tiny', timestep: { input: 'rescaled', N: 4000, shift1: true }, n: (t) => t * 4 + 1 },
  // n itself: Analytic-DPM's CIFAR-10 models
  { name: 'iddpm_tiny_plain_f16', timestep: { input: 'n', N: 1000 }, n: (t) => t },
];

describe('imported iDDPM UNet (openai/improved-diffusion layout)', () => {
  for (const c of CASES) {
    it(`reproduces the PyTorch reference output of ${c.name} within 1e-4`, () => {
      const fx = readJson<NetFixture<IddpmUNetConfig>>(`${c.name}.json`);
      const net = new IddpmUNet(fx.config, c.timestep);
      const sd = selectStateDict(readTorchFile(join(FIXTURES, `${c.name}.pt`)));
      assignWeights(net, mapStateDict(net, stateDictEntries(sd), `${c.name}.pt (iddpm-unet)`));
      expect(net.paramCount()).to.equal(fx.params);
      const x = tf.tensor(fx.x.data, fx.x.shape);
      const raw = net.applyNetwork(x, fx.tNet);
      const d = maxAbsDiff(raw, fx.out.data);
      console.log(`      ${c.name}: max |TS - torch| = ${d.toExponential(2)} (${fx.out.shape[3]} output channels)`);
      expect(d).to.be.below(1e-4);
      // predictEps on the paper's n: the first 3 channels (learned-sigma models output 6)
      const eps = net.predictEps(x, fx.tNet.map(c.n));
      expect(eps.shape).to.deep.equal(fx.x.shape);
      const C = fx.out.shape[3];
      const refEps = fx.out.data.filter((_, i) => i % C < 3);
      expect(maxAbsDiff(eps, refEps)).to.be.below(1e-4);
      tf.dispose([x, raw, eps]);
      net.dispose();
    });
  }

  it('rejects timesteps outside 1..N and leaves no tensors behind', async () => {
    const fx = readJson<NetFixture<IddpmUNetConfig>>('iddpm_tiny_plain_f16.json');
    const net = new IddpmUNet(fx.config, { input: 'n', N: 1000 });
    const x = tf.zeros([1, 16, 16, 3]);
    expect(() => net.predictEps(x, 0)).to.throw(/timestep 0 is outside 1\.\.1000/);
    expect(() => net.predictEps(x, 1001)).to.throw(/timestep 1001 is outside 1\.\.1000/);
    await expectNoLeak(() => net.predictEps(x, 5));
    x.dispose();
    net.dispose();
  });
});
