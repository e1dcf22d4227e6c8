/**
 * npm run bench [-- --backend wasm --batch 32 --iters 5 --torch]
 * Images/s and GFLOP/s of UNet forward and training steps on the reference configuration (base 32, mult 1,2,2,
 * 2 blocks, attention at 16, dropout 0.1, 32x32x3) and on the shipped MNIST configuration; with --torch also
 * runs shared/peer/torch_unet_bench.py (python3-torch) on the same configurations and prints the ratio.
 * Appends to results/bench/bench.csv.
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

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .command('$0', 'benchmark the UNet', (y) => y
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const })
    .option('batch', { type: 'number', default: 32 })
    .option('iters', { type: 'number', default: 5 })
    .option('torch', { type: 'boolean', default: false, describe: 'also run the PyTorch reference (needs python3-torch)' })
    .option('out', { type: 'string', default: 'results/bench/bench.csv' }),
  async (argv) => {
    const backend = await initBackend(argv.backend, (m) => console.error(m));
    const configs: Array<[string, UNetConfig]> = [['reference-32x32x3', REFERENCE_UNET_CONFIG], ['mnist-28x28x1', mnistConfig()]];
    for (const [name, cfg] of configs) {
      const r = await benchUNet(cfg, argv.batch, argv.iters);
      const gf = unetForwardFlops(cfg) / 1e9;
      const row: Record<string, string | number> = {
        date: new Date().toISOString(), host: os.hostname(), backend, config: name, params: r.params, batch: argv.batch,
        forward_img_s: r.forwardImgPerSec.toFixed(2), train_img_s: r.trainImgPerSec.toFixed(2),
        forward_gflop_s: (r.forwardImgPerSec * gf).toFixed(2), train_gflop_s: (r.trainImgPerSec * 3 * gf).toFixed(2),
        torch_forward_img_s: '', torch_train_img_s: '', forward_ratio: '', train_ratio: '',
      };
      console.log(`${name}: ${r.params} params, ${gf.toFixed(3)} GFLOP/img forward; forward ${row.forward_img_s} img/s (${row.forward_gflop_s} GFLOP/s), training ${row.train_img_s} img/s (${row.train_gflop_s} GFLOP/s) on ${backend}`);
      if (argv.torch) {
        const t = torchBench(cfg, argv.batch, argv.iters);
        if (typeof t === 'string') console.log(`  torch: ${t}`);
        else {
          Object.assign(row, { torch_forward_img_s: t.fwd, torch_train_img_s: t.train,
            forward_ratio: (r.forwardImgPerSec / t.fwd).toFixed(3), train_ratio: (r.trainImgPerSec / t.train).toFixed(3) });
          console.log(`  PyTorch 2 threads: forward ${t.fwd} img/s, training ${t.train} img/s; ratio ours/torch: forward ${row.forward_ratio}, training ${row.train_ratio}`);
        }
      }
      appendCsv(argv.out, row);
    }
    console.log(`appended to ${argv.out}`);
  }));
