import { expect } from 'chai';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readTorchFile } from '../../src/core/import/torchFile.js';
import { selectStateDict, stateDictEntries } from '../../src/core/import/stateDict.js';
import { DdpmUNet, type DdpmUNetConfig } from '../../src/core/nn/imported/ddpmUNet.js';
import { assignWeights, mapStateDict } from '../../src/core/nn/imported/loadStateDict.js';
import { FIXTURES, readJson, type NetFixture } from './fixtures.js';
import { maxAbsDiff } from './maxAbsDiff.js';

function loadFixtureNet(name: string): { net: DdpmUNet; fx: NetFixture<DdpmUNetConfig> } {
  const fx = readJson<NetFixture<DdpmUNetConfig>>(`${name}.json`);
  const net = new DdpmUNet(fx.config, { input: 'n-1', N: 1000 });
  const sd = selectStateDict(readTorchFile(join(FIXTURES, `${name}.pt`)));
  assignWeights(net, mapStateDict(net, stateDictEntries(sd), `${name}.pt (ddpm-unet)`));
  return { net, fx };
}

describe('imported DDPM UNet (pesser/pytorch_diffusion layout)', () => {
  for (const name of ['ddpm_tiny', 'ddpm_tiny_f16']) {
    it(`reproduces the PyTorch reference output of ${name} within 1e-4`, () => {
      const { net, fx } = loadFixtureNet(name);
      expect(net.paramCount()).to.equal(fx.params);
      const x = tf.tensor(fx.x.data, fx.x.shape);
      const raw = net.applyNetwork(x, fx.tNet);
      const d = maxAbsDiff(raw, fx.out.data);
      console.log(`      ${name}: max |TS - torch| = ${d.toExponential(2)}`);
      expect(d).to.be.below(1e-4);
      // the EpsModel view: paper timestep n = tNet + 1 under the 'n-1' convention
      const eps = net.predictEps(x, fx.tNet.map((t) => t + 1));
      expect(maxAbsDiff(eps, fx.out.data)).to.be.below(1e-4);
      tf.dispose([x, raw, eps]);
      net.dispose();
    });
  }

  it('names missing, unexpected and mis-shaped keys', () => {
    const fx = readJson<NetFixture<DdpmUNetConfig>>('ddpm_tiny.json');
    const sd = stateDictEntries(selectStateDict(readTorchFile(join(FIXTURES, 'ddpm_tiny.pt'))));
    const wrongAttn = new DdpmUNet({ ...fx.config, attnResolutions: [16] }, { input: 'n-1', N: 1000 });
    expect(() => mapStateDict(wrongAttn, sd, 'ddpm_tiny.pt (ddpm-unet)')).to.throw(
      /ddpm_tiny\.pt \(ddpm-unet\): the state dict does not match the architecture: missing keys "down\.0\.attn\.0\.norm\.weight".*; unexpected keys "down\.1\.attn\.0\.norm\.weight"/);
    wrongAttn.dispose();
    const wrongCh = new DdpmUNet({ ...fx.config, chMult: [1, 3] }, { input: 'n-1', N: 1000 });
    expect(() => mapStateDict(wrongCh, sd, 'ddpm_tiny.pt (ddpm-unet)')).to.throw(
      /key "down\.1\.block\.0\.conv1\.weight" has shape \[64,32,3,3\] in the checkpoint, the architecture expects \[96,32,3,3\]/);
    wrongCh.dispose();
  });
});
