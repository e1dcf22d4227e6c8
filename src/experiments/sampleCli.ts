/**
 * npm run sample -- <checkpoint> [--sampler ddpm|ddim] [--variance small|large|analytic] [--K 100]
 *                   [--trajectory even|quad] [--eta 0] [--clip-pixel 0|1|2] [--n 64] [--seed 1] [--ms-eps file] [--out grid.png]
 * Samples a trained model and writes a PNG grid.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCli } from '../core/cli.js';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES, initBackend } from '../core/backend.js';
import { loadNetwork } from '../core/train/checkpoint.js';
import { makeSchedule } from '../core/schedule.js';
import { evenTrajectory, quadTrajectory } from '../core/trajectory.js';
import { samplerByName } from '../core/sampler.js';
import { varianceRule, VARIANCE_NAMES } from '../core/variances.js';
import { PROCESS_NAMES } from '../core/posterior.js';
import { NoiseSource } from '../core/rng.js';
import { loadMsEps } from '../estimators/msEpsArtifact.js';
import { writePngGrid } from '../core/image/pngGrid.js';

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run sample --')
  .command('$0 <checkpoint>', 'sample a trained model into a PNG grid', (y) => y
    .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint directory or training run directory' })
    .option('sampler', { choices: PROCESS_NAMES, default: 'ddpm' as const })
    .option('variance', { choices: VARIANCE_NAMES, default: 'small' as const })
    .option('K', { type: 'number', default: 100, describe: 'number of steps' })
    .option('trajectory', { choices: ['even', 'quad'] as const, default: 'even' as const })
    .option('eta', { type: 'number', default: 0 })
    .option('clip-pixel', { type: 'number', choices: [0, 1, 2], default: 0 })
    .option('n', { type: 'number', default: 64, describe: 'number of samples' })
    .option('batch', { type: 'number', default: 64 })
    .option('seed', { type: 'number', default: 1 })
    .option('ms-eps', { type: 'string', describe: 'msEps artifact (needed by --variance analytic)' })
    .option('out', { type: 'string', default: 'samples.png' })
    .option('raw', { type: 'boolean', default: false, describe: 'use the raw (not EMA) weights of a training checkpoint' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const }),
  async (argv) => {
    await initBackend(argv.backend, (m) => console.error(m));
    const { net, manifest } = loadNetwork(argv.checkpoint as string, { raw: argv.raw });
    const sch = makeSchedule(manifest.schedule.name, manifest.schedule.N);
    const msEps = argv.msEps ? loadMsEps(argv.msEps, { N: sch.N }).msEps : undefined;
    const trajectory = argv.trajectory === 'quad' ? quadTrajectory(sch.N, argv.K) : evenTrajectory(sch.N, argv.K);
    const variance = varianceRule(argv.variance, { msEps, range: [-1, 1] });
    const noise = new NoiseSource(argv.seed);
    const parts: tf.Tensor[] = [];
    const t0 = Date.now();
    for (let i = 0; i < argv.n; i += argv.batch) {
      const ids = Array.from({ length: Math.min(argv.batch, argv.n - i) }, (_, j) => i + j);
      parts.push(samplerByName(argv.sampler)({
        model: net, schedule: sch, trajectory, variance, range: [-1, 1], noise, ids, eta: argv.eta, clipPixel: argv.clipPixel,
      }));
      console.error(`sampled ${i + ids.length}/${argv.n} in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    }
    const all = tf.concat(parts);
    await writePngGrid(argv.out, all);
    tf.dispose([all, ...parts]);
    console.error(`wrote ${argv.out}`);
  }));
