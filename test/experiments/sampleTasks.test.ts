import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig } from '../../src/core/train/config.js';
import { trainingData } from '../../src/core/train/trainData.js';
import { train, disposeState } from '../../src/core/train/trainer.js';
import { sampleParallel } from '../../src/experiments/sampleTasks.js';

describe('sampling a checkpoint over worker processes', () => {
  it('gives the same images with 1 and 2 processes, in id order', async function () {
    this.timeout(120000);
    const out = mkdtempSync(join(tmpdir(), 'smp-'));
    const c = parseTrainConfig({
      name: 'tiny', seed: 2, data: { kind: 'rademacher', shape: [8, 8, 1], n: 16 },
      arch: { kind: 'unet', config: { imageSize: 8, inChannels: 1, baseChannels: 8, channelMult: [1, 2], numResBlocks: 1, attnResolutions: [], dropout: 0 } },
      schedule: { name: 'linear', N: 100 }, train: { steps: 3, batchSize: 4, lr: 1e-3 }, out,
    }, 'tiny.json');
    disposeState(await train(c, await trainingData(c), { log: () => {} }));
    const job = { checkpoint: join(out, 'model'), sampler: 'ddpm', variance: 'small', K: 5, trajectory: 'even' as const, eta: 0, clipPixel: 0, seed: 9, batch: 3, ids: [0, 1, 2, 3, 4, 5, 6] };
    const one = await sampleParallel(job, 1, tf.getBackend());
    const two = await sampleParallel(job, 2, tf.getBackend());
    expect(two.shape).to.deep.equal([7, 8, 8, 1]);
    const a = one.dataSync();
    const b = two.dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).to.be.closeTo(a[i], 1e-6);
    tf.dispose([one, two]);
  });
});
