/**
 * npm run import -- <file.pt> (--arch ddpm|iddpm | --preset NAME) --out DIR [--config JSON|FILE]
 *   [--schedule linear|cosine] [--N 1000] [--timestep-input n|n-1|rescaled|rescaled-n] [--key PATH]
 * Converts a published PyTorch checkpoint into this project's checkpoint format (docs/import.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { initBackend } from '../backend.js';
import { runCli } from '../cli.js';
import { importTorchCheckpoint, SCHEDULE_CHOICES } from './importCheckpoint.js';
import { CLI_ARCHS, CLI_TIMESTEP_INPUTS, DEFAULT_PRESET, PRESET_NAMES, PRESETS } from './presets.js';

/** --config: inline JSON (starting with "{") or a JSON file. */
function readConfigFlag(value: string): Record<string, unknown> {
  const text = value.trim().startsWith('{') ? value : existsSync(value) ? readFileSync(value, 'utf8') : null;
  if (text === null) throw new Error(`--config ${value}: file does not exist (give a JSON file or inline JSON)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${value}: not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`--config ${value}: expected a JSON object of architecture hyper-parameters`);
  return parsed as Record<string, unknown>;
}

const presetList = PRESET_NAMES.map((n) => `${n}: ${PRESETS[n].description}`).join('\n');

await runCli(yargs(hideBin(process.argv))
  .scriptName('npm run import --')
  .command('$0 <file>', 'convert a PyTorch checkpoint (torch.save file) of a published diffusion UNet into a checkpoint directory', (y) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'the .pt / .pth / .ckpt file' })
    .option('out', { type: 'string', demandOption: true, describe: 'checkpoint directory to write (manifest.json + weights.bin)' })
    .option('arch', { choices: CLI_ARCHS, describe: `layout: ddpm = pesser/pytorch_diffusion & DDIM Model, iddpm = improved-diffusion UNetModel (default preset: ${DEFAULT_PRESET.ddpm} / ${DEFAULT_PRESET.iddpm})` })
    .option('preset', { choices: PRESET_NAMES, describe: `a published model's architecture, schedule and timestep convention:\n${presetList}` })
    .option('config', { type: 'string', describe: 'architecture hyper-parameters (JSON file or inline JSON), merged over the preset' })
    .option('schedule', { choices: SCHEDULE_CHOICES, describe: 'noise schedule the model was trained with (default: the preset)' })
    .option('N', { type: 'number', describe: 'number of diffusion steps (default: the preset)' })
    .option('timestep-input', { choices: CLI_TIMESTEP_INPUTS, describe: 'what the network sees for n = 1..N: n, n-1, (n-1)·1000/N (rescaled) or n·1000/N (rescaled-n) (default: the preset)' })
    .option('key', { type: 'string', describe: 'dotted path of the state dict in the checkpoint, e.g. ema_models_states.eps_model or 4 (default: the only, or the EMA, state dict)' })
    .option('backend', { choices: ['cpu', 'wasm'] as const, default: 'cpu' as const, describe: 'TensorFlow.js backend used while converting' }),
  async (argv) => {
    await initBackend(argv.backend);
    importTorchCheckpoint({
      file: argv.file as string,
      out: argv.out,
      arch: argv.arch,
      preset: argv.preset,
      config: argv.config === undefined ? undefined : readConfigFlag(argv.config),
      schedule: argv.schedule,
      N: argv.N,
      timestepInput: argv.timestepInput,
      key: argv.key,
      log: (m) => console.error(m),
    });
  }));
