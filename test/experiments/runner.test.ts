import { expect } from 'chai';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { parseExperiment } from '../../src/experiments/schema.js';
import { runExperiment, redrawGrids } from '../../src/experiments/runner.js';
import { readRows, rewriteRows, RESULT_COLUMNS } from '../../src/experiments/resultsCsv.js';
import { mergeShards, shardDir } from '../../src/experiments/merge.js';
import { parseShard } from '../../src/experiments/runner.js';

const tiny = parseExperiment({
  name: 'tiny', description: 'tiny end-to-end run', seed: 3,
  cases: [{
    id: 'rad', title: 'Rademacher 2x2x3',
    data: { kind: 'rademacher', shape: [2, 2, 3], train: 20, test: 30 },
    model: { kind: 'oracle' }, schedule: { name: 'linear', N: 60 },
    msEps: { M: 20, estimator: 'residual' }, nll: { images: 30, batchSize: 16 },
    sweep: { K: [5, 60], methods: [
      { label: 'ET DDPM small', sampler: 'ddpm', variance: 'small', trajectory: 'even' },
      { label: 'OT Analytic-DDPM', sampler: 'ddpm', variance: 'analytic', trajectory: 'optimal' },
    ] },
  }],
  quick: { K: [5], images: 10, M: 5 },
}, 'tiny.json');

describe('experiment runner', () => {
  it('writes results.csv (fixed header, one row per cell and metric), ms_eps.json, results.md, meta.json; a re-run skips done cases', async () => {
    const out = mkdtempSync(join(tmpdir(), 'run-'));
    const logs: string[] = [];
    await runExperiment(tiny, { outDir: out, backend: tf.getBackend(), file: 'tiny.json', log: (m) => logs.push(m) });
    for (const f of ['results.csv', 'ms_eps.json', 'results.md', 'meta.json', 'config.resolved.json']) expect(existsSync(join(out, f)), f).to.equal(true);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n')[0]).to.equal(RESULT_COLUMNS.join(','));
    const rows = readRows(join(out, 'results.csv'));
    expect(rows.length).to.equal(2 * 2 * 5); // 2 methods x 2 K x (4 components + closed form)
    const ot5 = rows.find((r) => r.method === 'OT Analytic-DDPM' && r.K === '5' && r.metric === 'bpd_total')!;
    expect(String(ot5.steps).split(' ').map(Number)[0]).to.equal(1);
    expect(JSON.parse(readFileSync(join(out, 'ms_eps.json'), 'utf8')).msEps.length).to.equal(61);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).to.match(/\| OT Analytic-DDPM \|/);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.git).to.have.property('commit');
    expect(meta.cases.rad.test.hash).to.match(/^[0-9a-f]{64}$/);
    logs.length = 0;
    await runExperiment(tiny, { outDir: out, backend: tf.getBackend(), file: 'tiny.json', log: (m) => logs.push(m) });
    expect(logs.join('\n')).to.match(/reusing .*ms_eps.json/).and.to.match(/already in .*skipping/);
    expect(readRows(join(out, 'results.csv')).length).to.equal(20);
  });

  it('two worker processes give exactly the same CSV as one process', async function () {
    this.timeout(120000);
    const a = mkdtempSync(join(tmpdir(), 'run-'));
    const b = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(tiny, { outDir: a, backend: tf.getBackend(), file: 'tiny.json', log: () => {} });
    await runExperiment(tiny, { outDir: b, backend: tf.getBackend(), file: 'tiny.json', workers: 2, log: () => {} });
    expect(readFileSync(join(b, 'results.csv'), 'utf8')).to.equal(readFileSync(join(a, 'results.csv'), 'utf8'));
    expect(readFileSync(join(b, 'ms_eps.json'), 'utf8')).to.equal(readFileSync(join(a, 'ms_eps.json'), 'utf8'));
  });

  it('a run killed mid-sweep and re-run gives the same CSV as an uninterrupted run (no duplicate, no lost row)', async () => {
    const full = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(tiny, { outDir: full, backend: tf.getBackend(), file: 'tiny.json', log: () => {} });
    const killed = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(tiny, { outDir: killed, backend: tf.getBackend(), file: 'tiny.json', log: () => {} });
    const rows = readRows(join(killed, 'results.csv'));
    rewriteRows(join(killed, 'results.csv'), rows.slice(0, 7)); // one full cell and 2 of the next cell's 5 rows survive the "kill"
    const logs: string[] = [];
    await runExperiment(tiny, { outDir: killed, backend: tf.getBackend(), file: 'tiny.json', log: (m) => logs.push(m) });
    expect(logs.join('\n')).to.match(/dropping 1 incomplete cells/).and.to.match(/3 of 4 cells to run/);
    expect(readFileSync(join(killed, 'results.csv'), 'utf8')).to.equal(readFileSync(join(full, 'results.csv'), 'utf8'));
  });

  it('shards 1/3, 2/3, 3/3 merged equal an unsharded run', async () => {
    const full = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(tiny, { outDir: full, backend: tf.getBackend(), file: 'tiny.json', log: () => {} });
    const base = mkdtempSync(join(tmpdir(), 'run-'));
    for (const i of [1, 2, 3]) {
      await runExperiment(tiny, { outDir: shardDir(base, i, 3), backend: tf.getBackend(), file: 'tiny.json', shard: parseShard(`${i}/3`), log: () => {} });
    }
    expect(readRows(join(shardDir(base, 2, 3), 'results.csv')).length).to.be.below(20);
    await mergeShards(tiny, base);
    expect(readFileSync(join(base, 'results.csv'), 'utf8')).to.equal(readFileSync(join(full, 'results.csv'), 'utf8'));
    expect(readFileSync(join(base, 'ms_eps.json'), 'utf8')).to.equal(readFileSync(join(full, 'ms_eps.json'), 'utf8'));
    expect(() => parseShard('4/3')).to.throw(/--shard: expected i\/n/);
  });

  it('merge reports missing shards', async () => {
    const base = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(tiny, { outDir: shardDir(base, 1, 2), backend: tf.getBackend(), file: 'tiny.json', shard: parseShard('1/2'), log: () => {} });
    let err: Error | null = null;
    await mergeShards(tiny, base).catch((e: Error) => { err = e; });
    expect(String(err)).to.match(/shard\(s\) 2\/2 have no results.csv yet/);
  });

  it('the CLI reports an unknown experiment and a bad backend with exit code 2', function () {
    this.timeout(60000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/experiments/cli.ts', 'no-such-exp'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/unknown experiment "no-such-exp"; known experiments: .*analytic-dpm-toy/);
    const s = spawnSync(process.execPath, ['--import', 'tsx', 'src/experiments/cli.ts', 'analytic-dpm-toy', '--backend', 'gpu'], { encoding: 'utf8' });
    expect(s.status).to.equal(2);
    expect(s.stderr).to.match(/backend.*Choices: "auto", "wasm", "cpu", "tensorflow", "tensorflow-gpu"/s);
  });
});

describe('experiments with a trained checkpoint on MNIST', () => {
  it('estimates msEps and the NLL of a checkpoint model on the MNIST splits, in this process and over workers', async function () {
    this.timeout(300000);
    const { parseTrainConfig } = await import('../../src/core/train/config.js');
    const { trainingData } = await import('../../src/core/train/trainData.js');
    const { train, disposeState } = await import('../../src/core/train/trainer.js');
    const ck = mkdtempSync(join(tmpdir(), 'ck-'));
    const tc = parseTrainConfig({
      name: 'tiny-mnist', seed: 4, data: { kind: 'mnist', split: 'train' },
      arch: { kind: 'unet', config: { imageSize: 28, inChannels: 1, baseChannels: 8, channelMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0 } },
      schedule: { name: 'linear', N: 40 }, train: { steps: 2, batchSize: 4, lr: 1e-3 }, out: ck,
    }, 'tiny-mnist.json');
    disposeState(await train(tc, await trainingData(tc), { log: () => {} }));
    const spec = parseExperiment({
      name: 'tiny-mnist', description: 'checkpoint on MNIST', seed: 2,
      cases: [{
        id: 'mnist', title: 'MNIST, tiny UNet', data: { kind: 'mnist' }, model: { kind: 'checkpoint', path: join(ck, 'model') },
        schedule: { name: 'linear', N: 40 }, msEps: { M: 4, batchSize: 40 }, nll: { images: 6, batchSize: 6 },
        sweep: { K: [5, 40], methods: [
          { label: 'ET DDPM, σ²=β', sampler: 'ddpm', variance: 'large', trajectory: 'even' },
          { label: 'ET Analytic-DDPM', sampler: 'ddpm', variance: 'analytic', trajectory: 'even' },
        ] },
      }],
      quick: { K: [5], images: 2, M: 2 },
    }, 'tiny-mnist.json');
    const a = mkdtempSync(join(tmpdir(), 'run-'));
    const b = mkdtempSync(join(tmpdir(), 'run-'));
    await runExperiment(spec, { outDir: a, backend: tf.getBackend(), file: 'tiny-mnist.json', log: () => {} });
    await runExperiment(spec, { outDir: b, backend: tf.getBackend(), file: 'tiny-mnist.json', workers: 2, log: () => {} });
    const rows = readRows(join(a, 'results.csv'));
    expect(rows.length).to.equal(2 * 2 * 4);
    for (const r of rows) expect(Number.isFinite(Number(r.value)), `${r.method} K=${r.K} ${r.metric}`).to.equal(true);
    expect(readFileSync(join(b, 'results.csv'), 'utf8')).to.equal(readFileSync(join(a, 'results.csv'), 'utf8'));
    expect(() => parseExperiment({ ...spec, cases: [{ ...spec.cases[0], model: { kind: 'oracle' } }] }, 'x.json')).to.throw(/MNIST has no exact oracle/);
  });
});

describe('fid cells', () => {
  const spec = parseExperiment({
    name: 'tiny-fid', description: 'fid on a toy mixture', seed: 8,
    cases: [{
      id: 'gauss', title: 'Gaussian 2x2x1', data: { kind: 'gaussian', shape: [2, 2, 1], mean: 0.2, std: 0.5, train: 400, test: 400 },
      model: { kind: 'oracle' }, schedule: { name: 'linear', N: 100 }, msEps: { M: 200, estimator: 'residual' }, nll: { images: 20 },
      fid: { samples: 400, batchSize: 200 }, grid: { n: 16 },
      sweep: { K: [5], methods: [
        { label: 'DDPM small', sampler: 'ddpm', variance: 'small', trajectory: 'even', metrics: ['fid'] },
        { label: 'Analytic-DDPM', sampler: 'ddpm', variance: 'analytic', trajectory: 'even', metrics: ['nll', 'fid'] },
      ] },
    }],
    quick: { K: [5], images: 10, M: 10 },
  }, 'tiny-fid.json');

  it('samples every fid cell, writes its row and grid, ranks the variances as theory says, and splits over workers identically', async function () {
    this.timeout(120000);
    const a = mkdtempSync(join(tmpdir(), 'fid-'));
    await runExperiment(spec, { outDir: a, backend: tf.getBackend(), file: 'tiny-fid.json', log: () => {} });
    const rows = readRows(join(a, 'results.csv'));
    expect(rows.map((r) => `${r.method}:${r.metric}`)).to.deep.equal(['DDPM small:fid', ...['bpd_total', 'bpd_prior', 'bpd_kl', 'bpd_decoder', 'bpd_total_exact', 'fid'].map((m) => `Analytic-DDPM:${m}`)]);
    const fidOf = (m: string) => Number(rows.find((r) => r.method === m && r.metric === 'fid')!.value);
    // Gaussian data: Analytic-DDPM samples the right variance at any K, sigma^2 = tildeBeta at K = 5 far too little
    expect(fidOf('Analytic-DDPM')).to.be.below(0.5 * fidOf('DDPM small'));
    expect(existsSync(join(a, 'grids', 'gauss', 'Analytic-DDPM-K5.png'))).to.equal(true);
    expect(readFileSync(join(a, 'results.md'), 'utf8')).to.match(/FID \(raw coordinates\) of 400 samples/);
    // `exp grids` redraws the same PNGs from the run's msEps without the FID
    const png = (dir: string) => ['DDPM-small-K5', 'Analytic-DDPM-K5'].map((f) => readFileSync(join(dir, 'grids', 'gauss', `${f}.png`)));
    const before = png(a);
    rmSync(join(a, 'grids'), { recursive: true });
    expect(await redrawGrids(spec, a, () => {})).to.equal(2);
    png(a).forEach((buf, i) => expect(buf.equals(before[i])).to.equal(true));
    const b = mkdtempSync(join(tmpdir(), 'fid-'));
    await runExperiment(spec, { outDir: b, backend: tf.getBackend(), file: 'tiny-fid.json', workers: 2, log: () => {} });
    expect(readFileSync(join(b, 'results.csv'), 'utf8')).to.equal(readFileSync(join(a, 'results.csv'), 'utf8'));
  });

  it('a method with metric fid needs the case fid settings', () => {
    expect(() => parseExperiment({ ...spec, cases: [{ ...spec.cases[0], fid: undefined }] }, 'x.json')).to.throw(/cases.0.fid": required by the methods with metric "fid"/);
  });
});
