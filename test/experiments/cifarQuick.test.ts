/**
 * The analytic-dpm-cifar experiment's --quick run on a tiny fixture: the fixture CIFAR-10 archive
 * (test/data/cifar10Fixture.ts), a tiny random 32x32x3 UNet checkpoint and, for FID, a tiny fake Inception
 * network in TensorFlow.js format, all written to a temp directory. Without Inception weights the fid cells are
 * skipped with one warning and the NLL cells run; with them, fid rows appear; resuming keeps every group intact.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { perturbParams } from '../helpers.js';
import { loadExperiment } from '../../src/experiments/registry.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { readRows, rewriteRows, type ResultRow } from '../../src/experiments/resultsCsv.js';
import { createUNet, type UNetConfig } from '../../src/core/nn/unet.js';
import { writeCheckpoint } from '../../src/core/train/checkpoint.js';
import { INCEPTION_ENV } from '../../src/estimators/fid/inception.js';
import { CIFAR10_ENV } from '../../src/core/data/cifar10.js';
import { FIXTURE_TEST_RECORDS, FIXTURE_TRAIN_RECORDS, writeFixture } from '../data/cifar10Fixture.js';

const TINY_UNET: UNetConfig = { imageSize: 32, inChannels: 3, baseChannels: 8, channelMult: [1, 1, 1], numResBlocks: 1, attnResolutions: [], dropout: 0 };

/** A random tiny UNet (weights perturbed so that eps_theta is not identically 0) saved as a checkpoint for `schedule`. */
function writeTinyCheckpoint(dir: string, schedule: { name: string; N: number }): void {
  const net = createUNet(TINY_UNET, 11);
  perturbParams(net.params, 0.02, 100);
  writeCheckpoint(dir, { arch: { kind: 'unet', config: TINY_UNET }, schedule, timestepInput: 'n', step: 0, seed: 11, data: null, ema: null, adam: null, training: null }, { params: net.params });
  net.dispose();
}

/** A fake "Inception": conv (stride 4) + global average pooling on 299x299x3 inputs, 8-d features, saved as a tfjs layers model. */
async function writeFakeInception(dir: string): Promise<void> {
  const m = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [299, 299, 3], filters: 8, kernelSize: 5, strides: 4, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    tf.layers.globalAveragePooling2d({}),
  ] });
  mkdirSync(dir, { recursive: true });
  await m.save(tf.io.withSaveHandler(async (a) => {
    const data = a.weightData === undefined ? [] : Array.isArray(a.weightData) ? a.weightData : [a.weightData];
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat(data.map((b) => Buffer.from(b))));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  m.dispose();
}

const NLL_METRICS = ['bpd_total', 'bpd_prior', 'bpd_kl', 'bpd_decoder'];
const NLL_METHODS = ['ET DDPM, σ²=β̃', 'ET DDPM, σ²=β', 'ET Analytic-DDPM', 'OT Analytic-DDPM'];
const FID_METHODS = ['ET DDPM, σ²=β̃', 'ET DDPM, σ²=β', 'ET Analytic-DDPM', 'ET DDIM', 'ET Analytic-DDIM'];
const key = (r: ResultRow) => `${r.method}|${r.K}|${r.metric}`;

describe('analytic-dpm-cifar --quick on a tiny fixture', function () {
  this.timeout(180000);
  let root: string;
  let archive: string;
  let ckpt: string;
  let inception: string;
  const saved = { [INCEPTION_ENV]: process.env[INCEPTION_ENV], [CIFAR10_ENV]: process.env[CIFAR10_ENV] };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'cifar-quick-'));
    ({ archive } = await writeFixture(join(root, 'data')));
    ckpt = join(root, 'models', 'cifar10-ls');
    writeTinyCheckpoint(ckpt, { name: 'linear', N: 1000 });
    inception = join(root, 'inception');
    await writeFakeInception(inception);
    delete process.env[INCEPTION_ENV];
    delete process.env[CIFAR10_ENV];
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** The shipped experiment with --quick and --set overrides pointing at the fixture (2 test images, 15 train images). */
  const quickSpec = (extra: string[] = []) => loadExperiment('analytic-dpm-cifar', {
    quick: true,
    set: [
      `cases.0.data.path=${archive}`,
      `cases.0.data.recordsPerFile={"train":${FIXTURE_TRAIN_RECORDS},"test":${FIXTURE_TEST_RECORDS}}`,
      `cases.0.model.path=${ckpt}`,
      `cases.0.nll.images=${FIXTURE_TEST_RECORDS}`,
      'cases.0.msEps.M=2',
      `quick.images=${FIXTURE_TEST_RECORDS}`,
      ...extra,
    ],
  }).spec;

  async function run(outDir: string, extra: string[] = []): Promise<{ rows: ResultRow[]; log: string }> {
    const lines: string[] = [];
    await runExperiment(quickSpec(extra), { outDir, backend: tf.getBackend(), file: 'analytic-dpm-cifar.json', workers: 1, log: (m) => lines.push(m) });
    return { rows: readRows(join(outDir, 'results.csv')), log: lines.join('\n') };
  }

  let noInception: ResultRow[] = [];
  let withInception: ResultRow[] = [];
  const dirA = () => join(root, 'run-a');

  it('the quick spec keeps the CIFAR-10 splits and takes K, images, M and the FID reference size from quick', () => {
    const c = quickSpec().cases[0];
    expect(c.data).to.deep.equal({ kind: 'cifar10', path: archive, recordsPerFile: { train: 3, test: 2 } });
    expect(c.sweep.K).to.deep.equal([10, 25]);
    expect([c.nll.images, c.msEps.M, c.fid!.samples, c.fid!.referenceImages]).to.deep.equal([2, 2, 2, 2]);
    expect(c.schedule).to.deep.equal({ name: 'linear', N: 1000 });
    const full = loadExperiment('analytic-dpm-cifar').spec.cases[0];
    expect([full.nll.images, full.fid!.samples, full.fid!.referenceImages, full.msEps.M]).to.deep.equal([10000, 50000, undefined, 100]);
  });

  it('(a) without Inception weights: one warning, NLL rows for every NLL cell, no fid row', async () => {
    const { rows, log } = await run(dirA());
    const warnings = log.split('\n').filter((l) => l.startsWith('WARNING'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/FID skipped: no Inception weights configured/)
      .and.to.include('"cases.0.fid.inception"').and.to.include(INCEPTION_ENV).and.to.match(/NLL cells run/);
    expect(rows.filter((r) => r.metric === 'fid')).to.have.length(0);
    expect(rows).to.have.length(NLL_METHODS.length * 2 * NLL_METRICS.length);
    expect(new Set(rows.map((r) => r.method))).to.deep.equal(new Set(NLL_METHODS));
    for (const r of rows) {
      expect(Number.isFinite(Number(r.value)), key(r)).to.equal(true);
      expect(r.data).to.equal('cifar10-test');
      expect(Number(r.n)).to.equal(2);
    }
    for (const r of rows.filter((q) => q.metric === 'bpd_total')) expect(Number(r.value), key(r)).to.be.above(0);
    const ms = JSON.parse(readFileSync(join(dirA(), 'ms_eps.json'), 'utf8'));
    expect(ms.msEps).to.have.length(1001);
    expect(ms.M).to.equal(2);
    const meta = JSON.parse(readFileSync(join(dirA(), 'meta.json'), 'utf8'));
    expect(meta.cases['cifar10-ls'].fid.skipped).to.match(/FID skipped/);
    const md = readFileSync(join(dirA(), 'results.md'), 'utf8');
    expect(md).to.match(/NLL \(bits\/dim\) on 2 test images/).and.not.to.match(/FID \(/);
    noInception = rows;
  });

  it('(b) with a (fake) Inception model: fid rows for every FID cell, finite, and the same NLL rows', async () => {
    const out = join(root, 'run-b');
    const { rows, log } = await run(out, [`cases.0.fid.inception=${inception}`]);
    expect(log).not.to.match(/WARNING/);
    const fid = rows.filter((r) => r.metric === 'fid');
    expect(fid).to.have.length(FID_METHODS.length * 2);
    expect(new Set(fid.map((r) => r.method))).to.deep.equal(new Set(FID_METHODS));
    for (const r of fid) {
      expect(Number.isFinite(Number(r.value)) && Number(r.value) >= 0, key(r)).to.equal(true);
      expect([r.n, r.data]).to.deep.equal(['2', 'cifar10-train (train split, first 2 images)']);
    }
    expect(fid.find((r) => r.method === 'ET Analytic-DDPM')!.clip_pixel).to.equal('2');
    expect(fid.find((r) => r.method === 'ET Analytic-DDIM')!.clip_pixel).to.equal('1');
    const nll = rows.filter((r) => r.metric !== 'fid');
    expect(nll.map((r) => [key(r), r.value])).to.deep.equal(noInception.map((r) => [key(r), r.value]));
    expect(existsSync(join(out, 'fid_ref.cifar10-ls.json'))).to.equal(true);
    expect(existsSync(join(out, 'grids', 'cifar10-ls', 'ET-Analytic-DDIM-K10.png'))).to.equal(true);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).to.match(/FID \(InceptionV3 pool features\) of 2 samples/);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.cases['cifar10-ls'].fid.weights.sha256).to.match(/^[0-9a-f]{64}$/);
    withInception = rows;
  });

  it('resuming (a) with Inception adds only the fid rows; a killed fid cell reuses the cached reference; a run without Inception keeps them', async () => {
    const sorted = (rs: ResultRow[]) => rs.map((r) => [key(r), r.value]).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    const added = await run(dirA(), [`cases.0.fid.inception=${inception}`]);
    expect(added.log).not.to.match(/NLL:/);
    expect(added.log).to.match(/FID reference: saved/);
    expect(sorted(added.rows)).to.deep.equal(sorted(withInception));
    // a kill that lost one fid row: only that cell is sampled again, against the cached reference statistics
    const csv = join(dirA(), 'results.csv');
    rewriteRows(csv, added.rows.filter((r) => !(r.metric === 'fid' && r.method === 'ET DDIM' && r.K === '25')));
    const resumed = await run(dirA(), [`cases.0.fid.inception=${inception}`]);
    expect(resumed.log).to.match(/FID reference: reusing .*fid_ref\.cifar10-ls\.json/).and.to.match(/ET DDIM K=25: fid/).and.not.to.match(/ET DDIM K=10: fid|NLL:/);
    expect(sorted(resumed.rows)).to.deep.equal(sorted(withInception));
    // without Inception weights the fid rows already written stay (nothing is recomputed or dropped)
    const again = await run(dirA());
    expect(again.log).to.match(/WARNING: .*FID skipped/).and.to.match(/already in/).and.not.to.match(/dropping/);
    expect(sorted(again.rows)).to.deep.equal(sorted(withInception));
  });

  it('a missing checkpoint says how to get one', async () => {
    const spec = loadExperiment('analytic-dpm-cifar', {
      quick: true,
      set: [`cases.0.data.path=${archive}`, `cases.0.data.recordsPerFile={"train":3,"test":2}`, 'cases.0.nll.images=2', 'cases.0.msEps.M=2', `cases.0.model.path=${join(root, 'nowhere')}`],
    }).spec;
    let err = '';
    await runExperiment(spec, { outDir: join(root, 'run-c'), backend: tf.getBackend(), file: 'x', workers: 1, log: () => {} }).catch((e: Error) => (err = e.message));
    expect(err).to.match(/field "model.path": checkpoint .*nowhere does not exist/).and.to.include('npm run train').and.to.include('--set cases.<i>.model.path=DIR');
  });
});
