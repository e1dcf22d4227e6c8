/**
 * npm run exp -- <experiment> [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu] [--out DIR] [--quick] [--set key=value ...]
 * npm run exp -- list | merge <experiment> | report <experiment> | grids <experiment>
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCli } from '../core/cli.js';
import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { BACKEND_CHOICES, initBackend } from '../core/backend.js';
import { experimentNames, loadExperiment } from './registry.js';
import { runExperiment, parseShard, writeReport, redrawGrids } from './runner.js';
import { mergeShards, shardDir } from './merge.js';

const defaultOut = (name: string, quick: boolean) => join('results', quick ? `${name}-quick` : name);

async function main(): Promise<void> {
  await runCli(yargs(hideBin(process.argv))
    .scriptName('npm run exp --')
    .command('list', 'list the experiments with one-line descriptions', {}, () => {
      for (const name of experimentNames()) {
        const { spec } = loadExperiment(name);
        console.log(`${name.padEnd(28)} ${spec.description}`);
      }
    })
    .command('report <experiment>', 'rewrite results.md and the SVG plots from results.csv and the msEps artifacts', (y) => y
      .positional('experiment', { type: 'string', demandOption: true })
      .option('out', { type: 'string', describe: 'the run directory (default results/<experiment>)' })
      .option('quick', { type: 'boolean', default: false }),
    async (argv) => {
      const { spec } = loadExperiment(argv.experiment as string, { quick: argv.quick });
      const out = argv.out ?? defaultOut(spec.name, argv.quick);
      await writeReport(spec, out);
      console.error(`wrote ${join(out, 'results.md')} and plots`);
    })
    .command('grids <experiment>', 'redraw the PNG sample grid of every fid cell (the first grid.n samples, identical to the run\'s) from the run\'s msEps', (y) => y
      .positional('experiment', { type: 'string', demandOption: true })
      .option('out', { type: 'string', describe: 'the run directory (default results/<experiment>)' })
      .option('set', { type: 'string', array: true, default: [] as string[] })
      .option('quick', { type: 'boolean', default: false })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const }),
    async (argv) => {
      const { spec } = loadExperiment(argv.experiment as string, { set: argv.set as string[], quick: argv.quick });
      await initBackend(argv.backend, (m) => console.error(m));
      const n = await redrawGrids(spec, argv.out ?? defaultOut(spec.name, argv.quick));
      console.error(`wrote ${n} grids`);
    })
    .command('merge <experiment>', 'combine the shards of a run into results/<experiment>/results.csv', (y) => y
      .positional('experiment', { type: 'string', demandOption: true })
      .option('out', { type: 'string', describe: 'the run directory (default results/<experiment>)' })
      .option('set', { type: 'string', array: true, default: [] as string[] })
      .option('quick', { type: 'boolean', default: false }),
    async (argv) => {
      const { spec } = loadExperiment(argv.experiment as string, { set: argv.set as string[], quick: argv.quick });
      await mergeShards(spec, argv.out ?? defaultOut(spec.name, argv.quick), (m) => console.error(m));
    })
    .command('$0 <experiment>', 'run an experiment by name (or a path to an experiment .json file)', (y) => y
      .positional('experiment', { type: 'string', demandOption: true })
      .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'tfjs backend (auto = fastest that loads)' })
      .option('out', { type: 'string', describe: 'output directory (default results/<experiment>, or results/<experiment>-quick with --quick)' })
      .option('quick', { type: 'boolean', default: false, describe: 'reduced version (fewer K, images and msEps samples) for a smoke test' })
      .option('set', { type: 'string', array: true, default: [] as string[], describe: 'override a field: --set cases.0.nll.images=200' })
      .option('workers', { type: 'number', default: Math.min(2, os.cpus().length), describe: 'worker processes for msEps and NLL statistics (1 = run in this process)' })
      .option('shard', { type: 'string', describe: 'run only shard i of n (e.g. 2/4), into <out>/shards/i-of-n; combine with "merge"' })
      .option('fresh', { type: 'boolean', default: false, describe: 'delete results.csv in the output directory before running' }),
    async (argv) => {
      const { spec, file } = loadExperiment(argv.experiment as string, { set: argv.set as string[], quick: argv.quick });
      const shard = argv.shard ? parseShard(argv.shard) : undefined;
      const base = argv.out ?? defaultOut(spec.name, argv.quick);
      const outDir = shard ? shardDir(base, shard.index, shard.count) : base;
      if (argv.fresh && existsSync(join(outDir, 'results.csv'))) rmSync(join(outDir, 'results.csv'));
      const backend = await initBackend(argv.backend, (m) => console.error(m));
      await runExperiment(spec, { outDir, backend, file, workers: argv.workers, shard });
    })
    .demandCommand(1, 'name an experiment, or "list"'));
}

main();
