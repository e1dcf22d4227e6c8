/**
 * npm run bench [-- --backend wasm --batch 32 --iters 5 --torch --workers 2]
 * Images/s and GFLOP/s of UNet forward and training steps on the reference configuration (base 32, mult 1,2,2,
 * 2 blocks, attention at 16, dropout 0.1, 32x32x3) and on the shipped MNIST configuration; with --torch also
 * runs shared/peer/torch_unet_bench.py (python3-torch) on the same configurations and prints the ratio.
 * With --workers W > 1 each configuration is also measured with the batch split over W worker processes
 * (parallelBench.ts: split forward, data-parallel trainer step), one more row with workers = W.
 * Appends to results/bench/bench.csv (column `workers`; rows written before it existed are single-process).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCli } from '../core/cli.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { BACKEND_CHOICES, initBackend } from '../core/backend.js';
import { REFERENCE_UNET_CONFIG, type UNetConfig } from '../core/nn/unet.js';
import { benchUNet } from './unetBench.js';
import { unetForwardFlops } from './flops.js';
import { appendCsv } from './benchCsv.js';
import { benchUNetParallel } from './parallelBench.js';

const TORCH_SCRIPT = '../shared/peer/torch_unet_bench.py';

function mnistConfig(): UNetConfig {
  const c = JSON.parse(readFileSync('configs/mnist-unet.json', 'utf8'));
  return c.arch.config as UNetConfig;
}

function torchBench(c: UNetConfig, batch: number, iters: number): { fwd: number; train: number } | string {
  const script = process.env.TORCH_BENCH ?? TORCH_SCRIPT;
  if (!existsSync(script)) return `${script} not found`;
  const args = [script, '--ch', String(c.baseChannels), '--mult', c.channelMult.join(','), '--blocks', String(c.numResBlocks),
    '--attn', c.attnResolutions.join(','), '--res', String(c.imageSize), '--cin', String(c.inChannels), '--batch', String(batch), '--iters', String(iters)];
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  const m = /train_img_s=([\d.]+).*fwd_img_s=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) return `torch benchmark failed (is python3-torch installed? apt-get install python3-torch): ${(r.stderr ?? '').trim().split('\n').pop()}`;
  return { train: Number(m[1]), fwd: Number(m[2]) };
}

/** One CSV row; `workers` is the last column (added later: older rows are single-process). */
function benchRow(backend: string, config: string, params: number, batch: number, workers: number,
  r: { forwardImgPerSec: number; trainImgPerSec: number }, gflopPerImg: number): Record<string, string | number> {
  return {
    date: new Date().toISOString(), host: os.hostname(), backend, config, params, batch,
    forward_img_s: r.forwardImgPerSec.toFixed(2), train_img_s: r.trainImgPerSec.toFixed(2),
    forward_gflop_s: (r.forwardImgPerSec * gflopPerImg).toFixed(2), train_gflop_s: (r.trainImgPerSec * 3 * gflopPerImg).toFixed(2),
    torch_forward_img_s: '', torch_train_img_s: '', forward_ratio: '', train_ratio: '',
    workers,
  };
}

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .command('$0', 'benchmark the UNet', (y) => y
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const })
    .option('batch', { type: 'number', default: 32 })
    .option('iters', { type: 'number', default: 5 })
    .option('torch', { type: 'boolean', default: false, describe: 'also run the PyTorch reference (needs python3-torch)' })
    .option('workers', { type: 'number', default: 1, describe: 'also measure with the batch split over this many worker processes (1..batch)' })
    .option('out', { type: 'string', default: 'results/bench/bench.csv' }),
  async (argv) => {
    if (!Number.isInteger(argv.workers) || argv.workers < 1 || argv.workers > argv.batch) {
      throw new Error(`--workers: must be an integer in 1..${argv.batch} (--batch), got ${argv.workers}`);
    }
    const backend = await initBackend(argv.backend, (m) => console.error(m));
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores (other jobs depress the figures)`);
    const configs: Array<[string, UNetConfig]> = [['reference-32x32x3', REFERENCE_UNET_CONFIG], ['mnist-28x28x1', mnistConfig()]];
    for (const [name, cfg] of configs) {
      const gf = unetForwardFlops(cfg) / 1e9;
      const r = await benchUNet(cfg, argv.batch, argv.iters);
      const rows = [benchRow(backend, name, r.params, argv.batch, 1, r, gf)];
      console.log(`${name}: ${r.params} params, ${gf.toFixed(3)} GFLOP/img forward; forward ${rows[0].forward_img_s} img/s (${rows[0].forward_gflop_s} GFLOP/s), training ${rows[0].train_img_s} img/s (${rows[0].train_gflop_s} GFLOP/s) on ${backend}`);
      if (argv.workers > 1) {
        const p = await benchUNetParallel(cfg, argv.batch, argv.iters, argv.workers);
        rows.push(benchRow(backend, name, r.params, argv.batch, argv.workers, p, gf));
        console.log(`  ${argv.workers} worker processes: forward ${rows[1].forward_img_s} img/s (x${(p.forwardImgPerSec / r.forwardImgPerSec).toFixed(2)}), data-parallel training ${rows[1].train_img_s} img/s (x${(p.trainImgPerSec / r.trainImgPerSec).toFixed(2)})`);
        if (p.forwardImgPerSecIdleEstimate !== null && p.trainImgPerSecIdleEstimate !== null) {
          const [f1, t1, fW, tW] = [r.forwardImgPerCpuSec, r.trainImgPerCpuSec, p.forwardImgPerSecIdleEstimate, p.trainImgPerSecIdleEstimate];
          console.log(`  idle-machine estimate from CPU time (not in the CSV): 1 process forward ${f1.toFixed(2)}, training ${t1.toFixed(2)} img/s; ` +
            `${argv.workers} workers forward ${fW.toFixed(2)} (x${(fW / f1).toFixed(2)}), training ${tW.toFixed(2)} img/s (x${(tW / t1).toFixed(2)})`);
        }
      }
      if (argv.torch) {
        const t = torchBench(cfg, argv.batch, argv.iters);
        if (typeof t === 'string') console.log(`  torch: ${t}`);
        else {
          for (const row of rows) {
            Object.assign(row, { torch_forward_img_s: t.fwd, torch_train_img_s: t.train,
              forward_ratio: (Number(row.forward_img_s) / t.fwd).toFixed(3), train_ratio: (Number(row.train_img_s) / t.train).toFixed(3) });
          }
          console.log(`  PyTorch 2 threads: forward ${t.fwd} img/s, training ${t.train} img/s; ratio ours/torch: ${rows.map((row) => `workers=${row.workers} forward ${row.forward_ratio}, training ${row.train_ratio}`).join('; ')}`);
        }
      }
      for (const row of rows) appendCsv(argv.out, row, { workers: 1 });
    }
    console.log(`appended to ${argv.out}`);
  }));
