/**
 * Held-out check of variance heads (Extended-Analytic-DPM): on n test digits and a grid of timesteps, the mean
 * squared error of each head against its regression target (SN: eps^2, NPR: (eps - eps_hat)^2 with the backbone in
 * inference mode), and the calibration ratio mean(head) / mean(target) (1 for a well-fitted head on average).
 *   npx tsx scripts/heads-eval.ts <heads checkpoint or run dir> [--raw] [--n 200]
 * --raw reads the raw (non-EMA) weights of a run directory's latest checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend.js';
import { loadMnist } from '../src/core/data/mnist.js';
import { loadNetwork } from '../src/core/train/checkpoint.js';
import { requireHeadModel } from '../src/core/model.js';
import { makeSchedule } from '../src/core/schedule.js';
import { NoiseSource } from '../src/core/rng.js';
import { qSample } from '../src/core/forward.js';
import { headTarget } from '../src/core/train/headLoss.js';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--'));
if (!path) throw new Error('usage: npx tsx scripts/heads-eval.ts <heads checkpoint or run dir> [--raw] [--n 200]');
const raw = args.includes('--raw');
const nIdx = args.indexOf('--n');
const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 200;
await initBackend('auto', () => {});
const { net, manifest } = loadNetwork(path, { raw });
const model = requireHeadModel(net, ['sn', 'npr'].filter((k) => (net as unknown as { headKinds: string[] }).headKinds.includes(k)) as never);
const sch = makeSchedule(manifest.schedule.name, manifest.schedule.N);
const test = loadMnist('test');
const ids = Array.from({ length: n }, (_, i) => i);
const noise = new NoiseSource(7);
console.log(`${path} (${raw ? 'raw' : 'EMA'} weights, step ${manifest.step}), ${n} test digits`);
console.log(['t', ...model.headKinds.flatMap((k) => [`${k} mse`, `${k} mean(head)/mean(target)`])].join('\t'));
let total = 0;
for (const t of [1, 5, 20, 50, 100, 200, 400, 600, 800, 1000]) {
  const row = tf.tidy(() => {
    const x0 = test.rows(ids);
    const eps = noise.normal(`heads-eval:${t}`, ids, test.shape);
    const { eps: epsHat, heads } = model.predictWithHeads(qSample(sch, x0, t, eps), t);
    return model.headKinds.flatMap((k) => {
      const target = headTarget(k, eps, epsHat);
      const mse = tf.mean(tf.square(tf.sub(target, heads[k]!))).dataSync()[0];
      total += mse;
      return [mse, tf.mean(heads[k]!).dataSync()[0] / tf.mean(target).dataSync()[0]];
    });
  });
  console.log([t, ...row.map((v) => v.toFixed(4))].join('\t'));
}
console.log(`sum of mse over the grid: ${total.toFixed(4)}`);
