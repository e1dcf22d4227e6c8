/**
 * The guidance-mnist experiment's --quick run on tiny random checkpoints written to a temp directory (an
 * unconditional 28x28 UNet, a class-conditional one and a noise-aware conv classifier): missing checkpoints give an
 * error naming the field and the training command; the run writes one accuracy and one fid row per guided cell, the
 * accuracy table, the accuracy-vs-FID plot; a re-run resumes without recomputing; guided cells sampled by 2 worker
 * processes give the same rows as in one process.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { perturbParams } from '../helpers.js';
import { loadExperiment } from '../../src/experiments/registry.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { readRows, type ResultRow } from '../../src/experiments/resultsCsv.js';
import { createUNet, type UNetConfig } from '../../src/core/nn/unet.js';
import { NoisyClassifierNet, type NoisyClassifierConfig } from '../../src/core/nn/noisyClassifier.js';
import { writeCheckpoint } from '../../src/core/train/checkpoint.js';
import type { ArchSpec, TrainableNet } from '../../src/core/nn/network.js';

const TINY_UNET: UNetConfig = { imageSize: 28, inChannels: 1, baseChannels: 8, channelMult: [1, 1], numResBlocks: 1, attnResolutions: [], dropout: 0 };
const TINY_CLASSIFIER: NoisyClassifierConfig = { body: 'conv', imageSize: 28, inChannels: 1, channels: [8, 16], numClasses: 10, timeEmbDim: 8 };
const SCHEDULE = { name: 'linear', N: 1000 };

/** Perturb a fresh network's weights (so that its outputs depend on every input) and save it as a checkpoint. */
function writeTiny(dir: string, net: TrainableNet, arch: ArchSpec): void {
  perturbParams(net.params, 0.05, 300);
  writeCheckpoint(dir, { arch, schedule: SCHEDULE, timestepInput: 'n', step: 0, seed: 7, data: null, ema: null, adam: null, training: null }, { params: net.params });
  net.dispose();
}

describe('guidance-mnist --quick on tiny random checkpoints', function () {
  this.timeout(300000);
  let root: string;
  let unet: string;
  let cfgUnet: string;
  let classifier: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'guidance-quick-'));
    unet = join(root, 'unet');
    cfgUnet = join(root, 'cfg-unet');
    classifier = join(root, 'noisy-classifier');
    writeTiny(unet, createUNet(TINY_UNET, 7), { kind: 'unet', config: TINY_UNET });
    const conditional = { ...TINY_UNET, numClasses: 10 };
    writeTiny(cfgUnet, createUNet(conditional, 7), { kind: 'unet', config: conditional });
    writeTiny(classifier, new NoisyClassifierNet(TINY_CLASSIFIER, 7), { kind: 'noisy-classifier', config: TINY_CLASSIFIER });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Guided methods per case of the shipped experiment (classifier guidance, classifier-free guidance). */
  const strengths = loadExperiment('guidance-mnist').spec.cases.map((c) => c.sweep.methods.length);
  const cells = strengths[0] + strengths[1];

  /** The shipped experiment with --quick, 12 samples per cell at K = 3, FID reference = the first 100 train digits. */
  const quickSpec = (paths: { unet: string; cfg: string; classifier: string }) => loadExperiment('guidance-mnist', {
    quick: true,
    set: [
      `cases.0.model.path=${paths.unet}`,
      ...Array.from({ length: strengths[0] }, (_, mi) => `cases.0.sweep.methods.${mi}.guidance.classifier=${paths.classifier}`),
      `cases.1.model.path=${paths.cfg}`,
      'quick.images=12', 'quick.K=[3]',
      'cases.0.fid.referenceImages=100', 'cases.1.fid.referenceImages=100',
    ],
  }).spec;

  it('names the missing field and the training command when a checkpoint does not exist', async () => {
    const spec = quickSpec({ unet, cfg: join(root, 'nope-cfg'), classifier: join(root, 'nope-cls') });
    let err: Error | null = null;
    try {
      await runExperiment(spec, { outDir: join(root, 'missing'), backend: tf.getBackend(), file: 'guidance-mnist.json', workers: 1, log: () => {} });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/field "cases\.0\.sweep\.methods\.0\.guidance\.classifier".*npm run train -- configs\/mnist-noisy-classifier\.json/);
    expect(err?.message).to.match(/field "cases\.1\.model\.path".*npm run train -- configs\/mnist-cfg-unet\.json/);
    expect(existsSync(join(root, 'missing', 'results.csv'))).to.equal(false);
  });

  let rows: ResultRow[] = [];
  it('writes an accuracy and a fid row per guided cell, the accuracy table and the accuracy-vs-FID plot', async () => {
    const out = join(root, 'run');
    const spec = quickSpec({ unet, cfg: cfgUnet, classifier });
    await runExperiment(spec, { outDir: out, backend: tf.getBackend(), file: 'guidance-mnist.json', workers: 1, log: () => {} });
    rows = readRows(join(out, 'results.csv'));
    expect(rows.length).to.equal(2 * cells); // every strength of both cases x (accuracy, fid)
    ['classifier-guidance', 'classifier-free-guidance'].forEach((c, ci) => {
      const mine = rows.filter((r) => r.case === c);
      expect(mine.filter((r) => r.metric === 'accuracy').length, c).to.equal(strengths[ci]);
      expect(mine.filter((r) => r.metric === 'fid').length, c).to.equal(strengths[ci]);
    });
    for (const r of rows) {
      expect(Number(r.K)).to.equal(3);
      expect(Number(r.n)).to.equal(12);
      const v = Number(r.value);
      if (r.metric === 'accuracy') {
        expect(v).to.be.within(0, 1);
        expect(Number(r.stderr)).to.be.closeTo(Math.sqrt((v * (1 - v)) / 12), 1e-12);
      } else {
        expect(v).to.be.above(0);
        expect(Number.isFinite(v)).to.equal(true);
      }
    }
    // guidance changes the samples: the fid of the strongest guidance differs from gamma = 0 / w = 0
    for (const c of ['classifier-guidance', 'classifier-free-guidance']) {
      const fids = rows.filter((r) => r.case === c && r.metric === 'fid').map((r) => Number(r.value));
      expect(new Set(fids).size, `${c}: distinct fids ${fids}`).to.be.above(1);
    }
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).to.include('Guided class accuracy of 12 samples');
    expect(md).to.include('## Guidance: accuracy against FID');
    expect(md).to.include('![guided class accuracy against FID](accuracy-vs-fid.svg)');
    // every image the report links exists (one K per cell: no metric-vs-K plots, so none are linked)
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((f) => f.startsWith('plot-'))).to.deep.equal([]);
    for (const f of links) expect(existsSync(join(out, f)), f).to.equal(true);
    const svg = readFileSync(join(out, 'accuracy-vs-fid.svg'), 'utf8');
    expect(svg).to.include('<svg');
    expect(svg).to.include('classifier-free guidance (w)');
    expect(existsSync(join(out, 'grids', 'classifier-guidance'))).to.equal(true);

    const lines: string[] = [];
    await runExperiment(spec, { outDir: out, backend: tf.getBackend(), file: 'guidance-mnist.json', workers: 1, log: (m) => lines.push(m) });
    expect(lines.join('\n')).to.match(new RegExp(`all ${strengths[1]} cells are already in`));
    expect(readRows(join(out, 'results.csv')).length).to.equal(2 * cells);
  });

  it('guided cells sampled by 2 worker processes give the same rows as in one process', async () => {
    const spec = quickSpec({ unet, cfg: cfgUnet, classifier });
    // one cell (classifier-free guidance, w = 2): the workers rebuild the case, which is the slow part here
    const one = { ...spec, cases: [spec.cases[1]].map((c) => ({ ...c, sweep: { ...c.sweep, methods: c.sweep.methods.slice(3, 4) } })) };
    const out = join(root, 'run-w2');
    await runExperiment(one, { outDir: out, backend: tf.getBackend(), file: 'guidance-mnist.json', workers: 2, log: () => {} });
    const two = readRows(join(out, 'results.csv'));
    expect(two.length).to.equal(2);
    for (const r of two) {
      const ref = rows.find((q) => q.case === r.case && q.method === r.method && q.metric === r.metric)!;
      expect(Number(r.value), `${r.case} ${r.method} ${r.metric}`).to.equal(Number(ref.value));
    }
  });
});
