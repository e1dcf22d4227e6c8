/**
 * npm run sample -- <checkpoint> [--sampler ddpm|ddim] [--variance small|large|analytic|sn|npr (heads checkpoints)] [--K 100]
 *                   [--trajectory even|quad] [--eta 0] [--clip-pixel 0|1|2] [--n 64] [--seed 1] [--ms-eps file] [--out grid.png]
 * Samples a trained model and writes a PNG grid.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCli } from '../core/cli.js';
import { BACKEND_CHOICES, initBackend } from '../core/backend.js';
import { ALL_VARIANCE_NAMES } from '../core/variances.js';
import { PROCESS_NAMES } from '../core/posterior.js';
import { loadMsEps } from '../estimators/msEpsArtifact.js';
import { writePngGrid } from '../core/image/pngGrid.js';
import { sampleParallel } from './sampleTasks.js';
import { progressReporter } from './progress.js';
import os from 'node:os';

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run sample --')
  .command('$0 <checkpoint>', 'sample a trained model into a PNG grid', (y) => y
    .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint directory or training run directory' })
    .option('sampler', { choices: PROCESS_NAMES, default: 'ddpm' as const })
    .option('variance', { choices: ALL_VARIANCE_NAMES, default: 'small' as const })
    .option('K', { type: 'number', default: 100, describe: 'number of steps' })
    .option('trajectory', { choices: ['even', 'quad'] as const, default: 'even' as const })
    .option('eta', { type: 'number', default: 0 })
    .option('clip-pixel', { type: 'number', choices: [0, 1, 2], default: 0 })
    .option('n', { type: 'number', default: 64, describe: 'number of samples' })
    .option('batch', { type: 'number', default: 64 })
    .option('seed', { type: 'number', default: 1 })
    .option('ms-eps', { type: 'string', describe: 'msEps artifact (needed by --variance analytic)' })
    .option('out', { type: 'string', default: 'samples.png' })
    .option('workers', { type: 'number', default: Math.min(2, os.cpus().length), describe: 'worker processes (1 = this process)' })
    .option('raw', { type: 'boolean', default: false, describe: 'use the raw (not EMA) weights of a training checkpoint' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const }),
  async (argv) => {
    const backend = await initBackend(argv.backend, (m) => console.error(m));
    const msEps = argv.msEps ? loadMsEps(argv.msEps).msEps : undefined;
    const t0 = Date.now();
    const report = progressReporter('sampling (images)', 5000);
    const x = await sampleParallel({
      checkpoint: argv.checkpoint as string, raw: argv.raw, sampler: argv.sampler, variance: argv.variance, K: argv.K,
      trajectory: argv.trajectory, eta: argv.eta, clipPixel: argv.clipPixel, seed: argv.seed, msEps, batch: argv.batch,
      ids: Array.from({ length: argv.n }, (_, i) => i),
    }, argv.workers, backend, (d) => report(d, argv.n));
    await writePngGrid(argv.out, x);
    x.dispose();
    console.error(`sampled ${argv.n} images in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    console.error(`wrote ${argv.out}`);
  }));
