/** npm run train -- <config.json> [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu] [--max-steps N] [--workers W] [--export [--raw]] */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCli } from '../cli.js';
import { BACKEND_CHOICES, initBackend } from '../backend.js';
import { loadTrainConfig, withWorkers } from './config.js';
import { trainingData } from './trainData.js';
import { train, disposeState, runDir, initState, exportEma } from './trainer.js';

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run train --')
  .command('$0 <config>', 'train (or resume) the run a JSON config describes', (y) => y
    .positional('config', { type: 'string', demandOption: true, describe: 'training config file' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const })
    .option('max-steps', { type: 'number', describe: 'stop after this many steps in this invocation (resume later)' })
    .option('workers', { type: 'number', describe: 'data-parallel worker processes, 1..batchSize (overrides train.workers; default: the config, else 1)' })
    .option('export', { type: 'boolean', default: false, describe: 'only write <run>/model (EMA weights) from the latest checkpoint' })
    .option('raw', { type: 'boolean', default: false, describe: 'with --export: write the raw (non-EMA) weights instead' })
    .check((a) => !a.raw || a.export || '--raw only applies to --export (npm run train -- <config> --export --raw)'),
  async (argv) => {
    const loaded = loadTrainConfig(argv.config as string);
    const c = argv.workers === undefined ? loaded : withWorkers(loaded, argv.workers);
    await initBackend(argv.backend, (m) => console.error(m));
    const data = await trainingData(c);
    console.error(`training ${c.name}: ${data.name} (${data.size} rows), ${c.arch.kind}, ${c.train.steps} steps of ${c.train.batchSize}${c.train.workers > 1 ? ` over ${c.train.workers} workers` : ''} -> ${runDir(c)}`);
    if (argv.export) {
      const state = initState(c, data, (m) => console.error(m));
      const weights = argv.raw ? 'raw' : 'ema';
      console.error(`exported the ${weights === 'raw' ? 'raw' : 'EMA'} weights of step ${state.step} to ${exportEma(state, c, data, weights)}`);
      disposeState(state);
      return;
    }
    disposeState(await train(c, data, { maxSteps: argv.maxSteps }));
  }));
