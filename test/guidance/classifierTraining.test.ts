/**
 * The noise-aware classifier (arch kind "noisy-classifier") through the project's trainer: the cross-entropy of
 * p(y | x_t, t) at t ~ U{1..N} decreases on a tiny labelled mixture, an interrupted and resumed run ends with exactly
 * the weights of an uninterrupted one, the trained classifier approaches the exact (Bayes) classifier's
 * cross-entropy, and the conv body's input gradient (what classifier guidance uses) matches finite differences.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig, type TrainConfig } from '../../src/core/train/config.js';
import { train, disposeState } from '../../src/core/train/trainer.js';
import { loadNetwork } from '../../src/core/train/checkpoint.js';
import { LabeledArrayDataset } from '../../src/core/data/labeled.js';
import { fillNormal, NoiseSource } from '../../src/core/rng.js';
import { makeSchedule } from '../../src/core/schedule.js';
import { qSample } from '../../src/core/forward.js';
import { NoisyClassifierNet } from '../../src/core/nn/noisyClassifier.js';
import { GmmClassifier } from '../../src/core/guidance/gmmClassifier.js';
import { logProbGradient, sumLogProb } from '../../src/core/guidance/logProbGradient.js';
import type { GmmSpec } from '../../src/core/data/toy.js';
import { expectNoLeak } from '../helpers.js';

const SPEC: GmmSpec = { weights: [1, 1, 1], means: [[-2, 0], [2, 0], [0, 3]], stds: [0.3, 0.3, 0.3] };

/** n rows, row i drawn from component i mod 3 and labelled with it. */
function labelledMixture(n: number, seed: number): LabeledArrayDataset {
  const values = new Float32Array(2 * n);
  fillNormal(values, 0, 2 * n, seed);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    labels[i] = k;
    for (let j = 0; j < 2; j++) values[2 * i + j] = SPEC.means[k][j] + SPEC.stds[k] * values[2 * i + j];
  }
  return new LabeledArrayDataset('gmm3-labelled', [2], values, null, false, labels, 3);
}

function classifierConfig(out: string, over: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    name: 'tiny-noisy-classifier', seed: 3,
    data: { kind: 'gmm', shape: [2], components: 3, spread: 1, std: 0.1, n: 64 }, // not read: the tests pass their own labelled data
    arch: { kind: 'noisy-classifier', config: { body: 'mlp', dim: 2, hidden: 32, depth: 2, numClasses: 3, timeEmbDim: 8 } },
    schedule: { name: 'linear', N: 100 },
    train: { steps: 12, batchSize: 32, lr: 3e-3, warmup: 3, checkpointEvery: 4, logEvery: 1000, ...over },
    out,
  }, 'tiny-noisy-classifier.json');
}

const losses = (dir: string) => readFileSync(join(dir, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;

describe('noise-aware classifier training', function () {
  this.timeout(120000);
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'noisy-cls-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('the config schema accepts both bodies and rejects an unknown one naming the field', () => {
    expect(classifierConfig('/unused').arch.kind).to.equal('noisy-classifier');
    expect(() => parseTrainConfig({ ...classifierConfig('/unused'), arch: { kind: 'noisy-classifier', config: { body: 'resnet' } } }, 'x.json'))
      .to.throw(/x\.json: field "arch\.config\.body"/);
  });

  it('refuses a data set without labels, naming the config and the data', async () => {
    const c = classifierConfig(tmp());
    const { gmmDataset } = await import('../../src/core/data/toy.js');
    let err: Error | null = null;
    try {
      await train(c, gmmDataset(16, [2], SPEC, 1), { log: () => {} });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/tiny-noisy-classifier: arch kind "noisy-classifier" needs a labelled data set/);
  });

  it('the cross-entropy decreases and approaches the exact classifier\'s (Bayes) cross-entropy', async () => {
    const out = tmp();
    const data = labelledMixture(256, 1);
    const c = classifierConfig(out, { steps: 200, lr: 1e-2, warmup: 10, checkpointEvery: 200, emaDecay: 0.9 });
    disposeState(await train(c, data, { log: () => {} }));
    const l = losses(out);
    const first = mean(l.slice(0, 10));
    const last = mean(l.slice(-40));
    // Bayes floor: E_t E_{x_t} [-log p_exact(y | x_t)] over fresh draws, by Monte Carlo (t uniform in 1..N)
    const sch = makeSchedule('linear', 100);
    const exact = new GmmClassifier([2], sch, SPEC);
    const { net } = loadNetwork(out, { raw: true });
    const fresh = labelledMixture(3000, 2);
    const floorAndTrained = tf.tidy(() => {
      const ids = Array.from({ length: fresh.size }, (_, i) => i);
      const ts = ids.map((i) => 1 + (i * 37) % 100);
      const xt = qSample(sch, fresh.rows(ids), ts, new NoiseSource(8).normal('eps', ids, [2]));
      const labels = ids.map((i) => fresh.labels[i]);
      return [-sumLogProb(exact, xt, ts, labels).dataSync()[0] / ids.length, -sumLogProb(net as NoisyClassifierNet, xt, ts, labels).dataSync()[0] / ids.length];
    });
    net.dispose();
    const [floor, trained] = floorAndTrained;
    console.log(`      cross-entropy: first 10 steps ${first.toFixed(3)}, last 40 steps ${last.toFixed(3)}; held-out trained ${trained.toFixed(3)} vs exact ${floor.toFixed(3)} (ln 3 = ${Math.log(3).toFixed(3)})`);
    expect(first).to.be.above(0.9); // starts near ln 3 = 1.099 (uniform prediction)
    expect(last).to.be.below(first - 0.2);
    // the trained classifier cannot beat the Bayes classifier beyond Monte Carlo noise (se ~0.015 for 3000 draws)
    // and after 200 steps comes within 0.15 nats of it
    expect(trained).to.be.above(floor - 0.05);
    expect(trained).to.be.below(floor + 0.15);
  });

  it('an interrupted and resumed run ends with exactly the weights of an uninterrupted run', async () => {
    const a = tmp();
    const b = tmp();
    const data = labelledMixture(64, 3);
    disposeState(await train(classifierConfig(a), data, { log: () => {} }));
    disposeState(await train(classifierConfig(b), data, { maxSteps: 6, log: () => {} }));
    writeFileSync(join(b, 'latest.json'), JSON.stringify({ dir: 'step-0000004' })); // "killed" after the step-4 checkpoint
    disposeState(await train(classifierConfig(b), data, { log: () => {} }));
    for (const raw of [true, false]) {
      const wa = loadNetwork(a, { raw });
      const wb = loadNetwork(b, { raw });
      [...wa.net.params.entries()].forEach(([name, v]) => {
        const va = v.dataSync() as Float32Array;
        const vb = wb.net.params.get(name)!.dataSync() as Float32Array;
        expect(Buffer.from(vb.buffer).equals(Buffer.from(va.buffer)), `${raw ? 'params' : 'ema'} ${name}`).to.equal(true);
      });
      wa.net.dispose();
      wb.net.dispose();
    }
    expect(losses(b)).to.deep.equal(losses(a));
  });

  it('the conv body\'s input gradient matches central finite differences (directional, float32)', async () => {
    const net = new NoisyClassifierNet({ body: 'conv', imageSize: 8, inChannels: 1, channels: [8, 16], numClasses: 4, timeEmbDim: 8 }, 5);
    try {
      await expectNoLeak(() => {
        const B = 3;
        const xv = new Float32Array(B * 64);
        fillNormal(xv, 0, xv.length, 1);
        const vv = new Float32Array(B * 64);
        fillNormal(vv, 0, vv.length, 2);
        const labels = [0, 1, 3];
        const ts = [1, 50, 100];
        const x = tf.tensor4d(xv, [B, 8, 8, 1]);
        const v = tf.tensor4d(vv, [B, 8, 8, 1]);
        const g = logProbGradient(net, x, ts, labels);
        const along = tf.tidy(() => tf.sum(tf.mul(g, v)).dataSync()[0]);
        const h = 1e-2;
        const f = (s: number) => tf.tidy(() => sumLogProb(net, tf.add(x, tf.mul(v, s)), ts, labels).dataSync()[0]);
        const fd = (f(h) - f(-h)) / (2 * h);
        // O(h^2) truncation plus float32 rounding of f (~1e-7 |f| / h ~ 1e-4 here): 1% is a wide but discriminating margin
        expect(Math.abs(along - fd), `${along} vs ${fd}`).to.be.at.most(0.01 * Math.max(1, Math.abs(fd)));
        expect(Math.abs(fd)).to.be.above(1e-3); // the check is not vacuous
        tf.dispose([x, v, g]);
      });
    } finally {
      net.dispose();
    }
  });
});
