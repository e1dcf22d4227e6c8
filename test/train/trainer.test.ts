import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync, truncateSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig } from '../../src/core/train/config.js';
import { tinyConfig } from './tinyConfig.js';
import { trainingData } from '../../src/core/train/trainData.js';
import { train, disposeState, BatchOrder } from '../../src/core/train/trainer.js';
import { loadNetwork, readCheckpoint } from '../../src/core/train/checkpoint.js';
import type { Dataset } from '../../src/core/data/dataset.js';


async function weights(path: string): Promise<Float32Array[]> {
  const { net } = loadNetwork(path, { raw: true });
  const w = [...net.params.values()].map((v) => v.dataSync() as Float32Array);
  net.dispose();
  return w;
}

describe('trainer', () => {
  let data: Dataset;
  before(async () => {
    data = await trainingData(tinyConfig('/unused'));
  });

  it('an interrupted and resumed run ends with exactly the weights of an uninterrupted run (UNet with dropout)', async () => {
    const a = mkdtempSync(join(tmpdir(), 'tr-'));
    const b = mkdtempSync(join(tmpdir(), 'tr-'));
    const ca = tinyConfig(a, {}, 'unet');
    const cb = tinyConfig(b, {}, 'unet');
    const d = await trainingData(ca);
    disposeState(await train(ca, d, { log: () => {} }));
    disposeState(await train(cb, d, { maxSteps: 6, log: () => {} })); // "killed" after step 6 (checkpoint at 4, partial state at 6)
    // simulate kill -9 after the step-4 checkpoint: point latest back at step 4
    writeFileSync(join(b, 'latest.json'), JSON.stringify({ dir: 'step-0000004' }));
    disposeState(await train(cb, d, { log: () => {} }));
    const wa = await weights(a);
    const wb = await weights(b);
    wa.forEach((w, i) => expect(Buffer.from(wb[i].buffer).equals(Buffer.from(w.buffer)), `tensor ${i}`).to.equal(true));
    const lossRows = readFileSync(join(b, 'loss.csv'), 'utf8').trim().split('\n');
    expect(lossRows.length).to.equal(13); // header + 12 steps, no duplicates after the resume
    expect(readFileSync(join(b, 'loss.csv'), 'utf8').split('\n').slice(1, 13).map((l) => l.split(',')[1]))
      .to.deep.equal(readFileSync(join(a, 'loss.csv'), 'utf8').split('\n').slice(1, 13).map((l) => l.split(',')[1]));
  });

  it('the loss decreases on a tiny data set', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tr-'));
    const c = tinyConfig(out, { steps: 150, lr: 1e-2, warmup: 10, checkpointEvery: 150 });
    disposeState(await train(c, data, { log: () => {} }));
    const losses = readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    expect(mean(losses.slice(-30))).to.be.below(0.7 * mean(losses.slice(0, 10)));
  });

  it('checkpoints round-trip bit-exactly, and the exported EMA model loads', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tr-'));
    const c = tinyConfig(out);
    const st = await train(c, data, { log: () => {} });
    const ema = [...st.ema.shadow.values()].map((v) => v.dataSync() as Float32Array);
    const raw = [...st.net.params.values()].map((v) => v.dataSync() as Float32Array);
    disposeState(st);
    expect((await weights(out)).map((w) => Array.from(w))).to.deep.equal(raw.map((w) => Array.from(w)));
    const { net, manifest } = loadNetwork(join(out, 'model'));
    expect(manifest.step).to.equal(12);
    expect([...net.params.values()].map((v) => Array.from(v.dataSync()))).to.deep.equal(ema.map((w) => Array.from(w)));
    net.dispose();
  });

  it('a truncated, corrupted or foreign checkpoint gives a clear error', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tr-'));
    disposeState(await train(tinyConfig(out, { steps: 4 }), data, { log: () => {} }));
    const w = join(out, 'model', 'weights.bin');
    const buf = readFileSync(w);
    buf[10] ^= 0xff;
    writeFileSync(w, buf);
    expect(() => readCheckpoint(join(out, 'model'))).to.throw(/weights.bin: corrupt: sha256/);
    truncateSync(w, 100);
    expect(() => readCheckpoint(join(out, 'model'))).to.throw(/weights.bin: truncated or wrong file: 100 bytes, the manifest expects/);
    writeFileSync(join(out, 'model', 'manifest.json'), '{"format": "something-else"');
    expect(() => readCheckpoint(join(out, 'model'))).to.throw(/manifest.json: not valid JSON/);
    expect(() => readCheckpoint(mkdtempSync(join(tmpdir(), 'empty-')))).to.throw(/no manifest.json or latest.json/);
  });

  it('refuses to resume a run directory made with another configuration', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tr-'));
    disposeState(await train(tinyConfig(out, { steps: 4 }), data, { log: () => {} }));
    const other = { ...tinyConfig(out, { steps: 8 }), seed: 6 };
    let err: Error | null = null;
    try {
      await train(other, data, { log: () => {} });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/holds a checkpoint with a different seed/);
  });

  it('batch order covers every row once per epoch and does not depend on where a run resumes', () => {
    const o = new BatchOrder(10, 3);
    const epoch0 = [...o.indices(0, 5), ...o.indices(1, 5)].sort((p, q) => p - q);
    expect(epoch0).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new BatchOrder(10, 3).indices(3, 5)).to.deep.equal(o.indices(3, 5));
  });

  it('bad training configs name the field', () => {
    const c = tinyConfig('/x') as unknown as Record<string, unknown>;
    expect(() => parseTrainConfig({ ...c, train: { ...(c.train as object), lr: -1 } }, 'cfg.json')).to.throw(/cfg.json: field "train.lr"/);
    expect(() => parseTrainConfig({ ...c, arch: { kind: 'resnet' } }, 'cfg.json')).to.throw(/field "arch.kind"/);
    expect(tf.memory().numTensors).to.be.a('number');
    expect(existsSync('/x')).to.equal(false);
  });
});
