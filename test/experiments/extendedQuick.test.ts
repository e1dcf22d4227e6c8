/**
 * The extended-analytic-dpm-mnist experiment's --quick run on a tiny random backbone with random SN + NPR heads
 * (written to a temp directory): every NLL row of the DDPM-type methods (including NPR-DDPM and SN-DDPM, whose
 * per-pixel jump KLs are evaluated in the statistics pass) and every FID row; the same numbers with the NLL
 * statistics split over 2 worker processes; msEps reuse; a model without heads is refused up front.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { perturbParams } from '../helpers.js';
import { loadExperiment } from '../../src/experiments/registry.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { readRows, type ResultRow } from '../../src/experiments/resultsCsv.js';
import { createUNet, type UNetConfig } from '../../src/core/nn/unet.js';
import { HeadedNet } from '../../src/core/nn/headedNet.js';
import { readCheckpoint, writeCheckpoint } from '../../src/core/train/checkpoint.js';

const TINY: UNetConfig = { imageSize: 28, inChannels: 1, baseChannels: 8, channelMult: [1, 1], numResBlocks: 1, attnResolutions: [], dropout: 0 };
const SCHEDULE = { name: 'linear', N: 1000 };

/** A random tiny backbone and a heads checkpoint (SN + NPR, random) on it. */
function writeModels(root: string): { backbone: string; heads: string } {
  const backbone = join(root, 'backbone');
  const unet = createUNet(TINY, 11);
  perturbParams(unet.params, 0.02, 100);
  writeCheckpoint(backbone, { arch: { kind: 'unet', config: TINY }, schedule: SCHEDULE, timestepInput: 'n', step: 0, seed: 11, data: null, ema: null, adam: null, training: null }, { params: unet.params });
  const ref = { path: backbone, weightsSha256: readCheckpoint(backbone).manifest.weightsSha256 };
  const config = { backbone, heads: ['sn', 'npr'] as ('sn' | 'npr')[], mode: 'simple' as const, backboneDropout: true };
  const net = new HeadedNet(unet, config, ref, SCHEDULE, 12);
  perturbParams(net.params, 0.3, 200);
  const heads = join(root, 'heads');
  writeCheckpoint(heads, { arch: { kind: 'heads', config }, schedule: SCHEDULE, timestepInput: 'n', step: 0, seed: 12, backbone: ref, data: null, ema: null, adam: null, training: null }, { params: net.params });
  net.dispose();
  return { backbone, heads };
}

const NLL_METHODS = ['DDPM, σ²=β̃', 'DDPM, σ²=β', 'Analytic-DDPM', 'NPR-DDPM', 'SN-DDPM'];
const FID_METHODS = ['DDPM, σ²=β̃', 'Analytic-DDPM', 'NPR-DDPM', 'SN-DDPM', 'DDIM', 'Analytic-DDIM', 'NPR-DDIM', 'SN-DDIM'];
const key = (r: ResultRow) => `${r.method}|${r.K}|${r.metric}`;

describe('extended-analytic-dpm-mnist --quick on a tiny backbone with random heads', function () {
  this.timeout(300000);
  let root: string;
  let models: { backbone: string; heads: string };
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ext-quick-'));
    models = writeModels(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const spec = (model: string, extra: string[] = []) => loadExperiment('extended-analytic-dpm-mnist', {
    quick: true,
    set: [`cases.0.model.path=${model}`, 'cases.0.nll.images=4', 'cases.0.msEps.M=2', 'quick.images=4', ...extra],
  }).spec;

  async function run(outDir: string, workers: number, extra: string[] = [], nllOnly = false): Promise<{ rows: ResultRow[]; log: string }> {
    const lines: string[] = [];
    const e = spec(models.heads, extra);
    if (nllOnly) {
      const c = e.cases[0];
      c.sweep.methods = c.sweep.methods.filter((m) => m.metrics.includes('nll')).map((m) => ({ ...m, metrics: ['nll'] }));
    }
    await runExperiment(e, { outDir, backend: tf.getBackend(), file: 'extended-analytic-dpm-mnist.json', workers, log: (m) => lines.push(m) });
    return { rows: readRows(join(outDir, 'results.csv')), log: lines.join('\n') };
  }

  let oneProcess: ResultRow[] = [];

  it('writes the NLL rows of the five DDPM-type methods and the FID rows of all eight, all finite', async () => {
    const { rows, log } = await run(join(root, 'a'), 1);
    expect(log).to.match(/per-pixel jumps \(sn \/ npr heads\) evaluated in the same pass/);
    const nll = rows.filter((r) => r.metric === 'bpd_total');
    expect(new Set(nll.map((r) => r.method))).to.deep.equal(new Set(NLL_METHODS));
    expect(nll).to.have.length(NLL_METHODS.length * 2);
    const fid = rows.filter((r) => r.metric === 'fid');
    expect(new Set(fid.map((r) => r.method))).to.deep.equal(new Set(FID_METHODS));
    expect(fid).to.have.length(FID_METHODS.length * 2);
    for (const r of rows) expect(Number.isFinite(Number(r.value)), key(r)).to.equal(true);
    for (const r of nll) expect(Number(r.value), key(r)).to.be.above(0);
    // per-pixel variances are clamped to [lambda^2, lambda^2 + gamma^2]: NPR/SN-DDPM's KL terms lie between those of
    // sigma^2 = beta-tilde (the lower bound, KL >= 0) and must differ from it (random heads give cov0 > 0 somewhere)
    const v = (m: string, K: string) => Number(nll.find((r) => r.method === m && r.K === K)!.value);
    for (const K of ['10', '25']) {
      expect(v('NPR-DDPM', K)).not.to.equal(v('DDPM, σ²=β̃', K));
      expect(v('SN-DDPM', K)).not.to.equal(v('DDPM, σ²=β̃', K));
    }
    expect(fid.find((r) => r.method === 'SN-DDPM')!.clip_pixel).to.equal('2');
    expect(fid.find((r) => r.method === 'NPR-DDIM')!.clip_pixel).to.equal('1');
    oneProcess = rows;
  });

  it('gives the same NLL numbers with the statistics split over 2 workers, and reuses a matching msEps artifact', async () => {
    const { rows, log } = await run(join(root, 'b'), 2, [`cases.0.msEps.reuse=${join(root, 'a', 'ms_eps.json')}`], true);
    expect(log).to.match(/msEps: reusing .*a\/ms_eps.json \(copied to/);
    const nll = (rs: ResultRow[]) => rs.filter((r) => String(r.metric).startsWith('bpd')).map((r) => `${key(r)}=${r.value}`).sort();
    expect(nll(rows)).to.deep.equal(nll(oneProcess));
  });

  it('refuses sn / npr methods on a model without heads before any work, naming the field', async () => {
    let err = '';
    await runExperiment(spec(models.backbone), { outDir: join(root, 'c'), backend: tf.getBackend(), file: 'x', workers: 1, log: () => {} }).catch((e: Error) => (err = e.message));
    expect(err).to.match(/case mnist: field "model.path" \(.*backbone\): the sweep's variance "npr", "sn" needs a model with NPR and SN head\(s\)/);
  });
});
