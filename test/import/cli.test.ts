import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { importTorchCheckpoint, planImport } from '../../src/core/import/importCheckpoint.js';
import { loadImportedNetwork } from '../../src/core/import/load.js';
import { loadNetwork } from '../../src/core/train/checkpoint.js';
import type { DdpmUNetConfig } from '../../src/core/nn/imported/ddpmUNet.js';
import type { IddpmUNetConfig } from '../../src/core/nn/imported/iddpmUNet.js';
import { FIXTURES, readJson, type NetFixture } from './fixtures.js';
import { maxAbsDiff } from './maxAbsDiff.js';

const ROOT = join(FIXTURES, '..', '..', '..');

/** Run `npm run import -- args` as a child process (tsx, as the npm script does). */
function runImportCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/core/import/cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
}

describe('import: npm run import round trip', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'torch-import-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the DDPM fixture, loads it back and reproduces the PyTorch output on the paper timesteps', () => {
    const fx = readJson<NetFixture<DdpmUNetConfig>>('ddpm_tiny.json');
    const out = join(dir, 'ddpm');
    const res = importTorchCheckpoint({ file: join(FIXTURES, 'ddpm_tiny.pt'), out, arch: 'ddpm', config: { ...fx.config } });
    expect(res.arch.timestep).to.deep.equal({ input: 'n-1', N: 1000 });
    const { net, manifest } = loadImportedNetwork(out);
    expect(manifest.timestepInput).to.equal('n-1');
    expect(manifest.arch.kind).to.equal('ddpm-unet');
    expect(manifest.schedule).to.deep.equal({ name: 'linear', N: 1000 });
    expect(net.paramCount()).to.equal(fx.params);
    const x = tf.tensor(fx.x.data, fx.x.shape);
    const eps = net.predictEps(x, fx.tNet.map((t) => t + 1));
    const d = maxAbsDiff(eps, fx.out.data);
    console.log(`      import -> load, ddpm_tiny: max |TS - torch| = ${d.toExponential(2)}`);
    expect(d).to.be.below(1e-4);
    // the experiments' loader (loadNetwork -> createNetwork) builds the same network from the same checkpoint
    const viaExperiments = loadNetwork(out).net;
    const again = viaExperiments.predictEps(x, fx.tNet.map((t) => t + 1));
    expect(Buffer.from(again.dataSync().buffer).equals(Buffer.from(eps.dataSync().buffer))).to.equal(true);
    tf.dispose([x, eps, again]);
    viaExperiments.dispose();
    net.dispose();
  });

  it('runs the CLI with every flag and records the convention in the manifest', function () {
    this.timeout(120000);
    const fx = readJson<NetFixture<IddpmUNetConfig>>('iddpm_tiny.json');
    const out = join(dir, 'iddpm');
    const cfgFile = join(dir, 'iddpm-config.json');
    writeFileSync(cfgFile, JSON.stringify(fx.config));
    const r = runImportCli([join(FIXTURES, 'iddpm_tiny.pt'), '--arch', 'iddpm', '--config', cfgFile, '--schedule', 'cosine', '--N', '4000',
      '--timestep-input', 'rescaled', '--out', out]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/state dict \(top level\) with \d+ tensors \(float32\)/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.timestepInput).to.equal('rescaled');
    expect(manifest.arch).to.deep.equal({ kind: 'iddpm-unet', config: fx.config, timestep: { input: 'rescaled', N: 4000, shift1: true } });
    expect(manifest.schedule).to.deep.equal({ name: 'cosine', N: 4000 });
    expect(manifest.training.source.file).to.equal('iddpm_tiny.pt');
    const { net } = loadImportedNetwork(out);
    const x = tf.tensor(fx.x.data, fx.x.shape);
    const raw = net.applyNetwork(x, fx.tNet);
    expect(maxAbsDiff(raw, fx.out.data)).to.be.below(1e-4);
    // paper timesteps n = 13 and 1000 are network inputs 3 and 249.75 under (n-1)·1000/4000
    const eps = net.predictEps(x, [13, 1000]);
    const refEps = fx.out.data.filter((_, i) => i % 6 < 3);
    expect(maxAbsDiff(eps, refEps)).to.be.below(1e-4);
    tf.dispose([x, raw, eps]);
    net.dispose();
  });

  it('prints one-line errors without a stack trace and exits non-zero', function () {
    this.timeout(120000);
    const notZip = join(dir, 'notes.pt');
    writeFileSync(notZip, 'not a checkpoint');
    const r1 = runImportCli([notZip, '--arch', 'ddpm', '--out', join(dir, 'x')]);
    expect(r1.status).to.not.equal(0);
    expect(r1.stderr).to.include(`error: ${notZip}: not a zip archive`);
    expect(r1.stderr).to.not.match(/^\s+at /m);
    // the default ddpm preset (DDIM CelebA) does not fit the tiny fixture: the mapping names the key and both shapes
    const r2 = runImportCli([join(FIXTURES, 'ddpm_tiny.pt'), '--arch', 'ddpm', '--out', join(dir, 'y'), '--config', '{"chMult": [1, 2], "attnResolutions": [8], "resolution": 16, "ch": 32, "numResBlocks": 1}', '--key', 'nope']);
    expect(r2.status).to.not.equal(0);
    expect(r2.stderr).to.match(/error: .*ddpm_tiny\.pt: --key "nope": no entry "nope" at the top level/);
    const r3 = runImportCli([join(FIXTURES, 'ddpm_tiny.pt'), '--arch', 'ddpm', '--out', join(dir, 'z'), '--config', '{"chMult": [1, 2], "attnResolutions": [8], "resolution": 16, "ch": 64, "numResBlocks": 1}']);
    expect(r3.status).to.not.equal(0);
    expect(r3.stderr).to.match(/error: .*ddpm_tiny\.pt \(ddpm-unet\): key "temb\.dense\.0\.weight" has shape \[128,32\] in the checkpoint, the architecture expects \[256,64\]/);
    expect(r3.stderr).to.not.match(/^\s+at /m);
  });

  it('checks the flags: presets, arch/preset agreement, config fields', () => {
    expect(planImport({ preset: 'iddpm-imagenet64' }).arch.timestep).to.deep.equal({ input: 'rescaled', N: 4000, shift1: true });
    expect(planImport({ arch: 'iddpm' }).preset).to.equal('adpm-cifar10-ls');
    expect(planImport({ arch: 'ddpm', timestepInput: 'rescaled-n', N: 2000 }).arch.timestep).to.deep.equal({ input: 'rescaled', N: 2000, shift1: false });
    expect(() => planImport({})).to.throw(/give --arch \(ddpm or iddpm\) or --preset/);
    expect(() => planImport({ arch: 'iddpm', preset: 'ddim-celeba' })).to.throw(/--arch iddpm does not match --preset ddim-celeba, which is an --arch ddpm model/);
    expect(() => planImport({ arch: 'ddpm', config: { channels: 3 } })).to.throw(/--config: unknown field\(s\) "channels" for --arch ddpm; allowed: ch, outCh/);
  });
});
