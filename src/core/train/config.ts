/** Training-run configuration files (JSON), validated with errors naming the file, field and allowed values. */
import { readJsonFile } from '../jsonFile.js';
import { z } from 'zod';
import { SCHEDULE_NAMES } from '../schedule.js';

const posInt = z.number().int().positive();

const unetConfig = z.strictObject({
  imageSize: posInt,
  inChannels: posInt,
  baseChannels: posInt,
  channelMult: z.array(posInt).min(1),
  numResBlocks: posInt,
  attnResolutions: z.array(posInt),
  dropout: z.number().min(0).max(0.99),
  numClasses: posInt.nullable().optional(),
});

const mlpConfig = z.strictObject({ dim: posInt, hidden: posInt, depth: posInt, timeEmbDim: posInt });

/** Extended-Analytic-DPM variance heads on a frozen eps-network checkpoint (src/core/nn/headedNet.ts). */
const headsConfig = z.strictObject({
  /** the pretrained eps-network: checkpoint or run directory, relative to the working directory */
  backbone: z.string().min(1),
  heads: z.array(z.enum(['sn', 'npr'])).min(1).refine((h) => new Set(h).size === h.length, 'list each head kind once'),
  mode: z.enum(['simple', 'complex']).default('simple'),
  /** the official code trains the heads with the backbone's dropout active (models.train()) */
  backboneDropout: z.boolean().default(true),
});

/** A noise-aware classifier p(y | x_t, t) for classifier guidance (src/core/nn/noisyClassifier.ts). */
const noisyClassifierConfig = z.discriminatedUnion('body', [
  z.strictObject({ body: z.literal('conv'), imageSize: posInt, inChannels: posInt, channels: z.array(posInt).min(1), numClasses: z.number().int().min(2), timeEmbDim: posInt }),
  z.strictObject({ body: z.literal('mlp'), dim: posInt, hidden: posInt, depth: posInt, numClasses: z.number().int().min(2), timeEmbDim: posInt }),
]);

export const trainConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'use lower-case letters, digits and dashes'),
  seed: posInt,
  data: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('mnist'), split: z.enum(['train', 'test', 'all']).default('train') }),
    z.strictObject({ kind: z.literal('cifar10'), split: z.enum(['train', 'test']).default('train'), path: z.string().optional() }),
    z.strictObject({ kind: z.literal('rademacher'), shape: z.array(posInt).min(1), n: posInt }),
    z.strictObject({ kind: z.literal('gmm'), shape: z.array(posInt).min(1), components: posInt, spread: z.number().nonnegative(), std: z.number().positive(), n: posInt }),
  ]),
  arch: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('unet'), config: unetConfig }),
    z.strictObject({ kind: z.literal('mlp'), config: mlpConfig }),
    z.strictObject({ kind: z.literal('heads'), config: headsConfig }),
    z.strictObject({ kind: z.literal('noisy-classifier'), config: noisyClassifierConfig }),
  ]),
  schedule: z.strictObject({ name: z.enum(SCHEDULE_NAMES as [string, ...string[]]), N: z.number().int().min(2) }),
  train: z.strictObject({
    steps: posInt,
    batchSize: posInt,
    lr: z.number().positive(),
    /** linear learning-rate warmup over this many steps */
    warmup: z.number().int().nonnegative().default(0),
    /** clip the global gradient norm (0 = off) */
    gradClip: z.number().nonnegative().default(1),
    emaDecay: z.number().min(0).max(0.999999).default(0.999),
    checkpointEvery: posInt.default(500),
    logEvery: posInt.default(50),
    /** step directories kept on disk */
    keep: posInt.default(2),
    /** probability of replacing a label by the null class (classifier-free guidance training) */
    classDropout: z.number().min(0).max(1).default(0),
    /**
     * data-parallel worker processes: each step's batch is split into `workers` contiguous shards whose
     * gradients are computed in parallel by long-lived processes holding parameter replicas, combined in a
     * fixed order and applied once (clip, Adam, EMA) in the main process. 1 = in-process (the default);
     * `npm run train -- <config> --workers N` overrides it. Integer in 1..batchSize.
     */
    workers: z.number().int('must be an integer').min(1, 'must be at least 1').default(1),
  }).superRefine((t, ctx) => {
    const msg = checkWorkers(t.workers, t.batchSize);
    if (msg) ctx.addIssue({ code: 'custom', path: ['workers'], message: msg });
  }),
  /** run directory (default runs/<name>) */
  out: z.string().optional(),
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** null if `workers` is an integer in 1..batchSize, else what is wrong with it. */
export function checkWorkers(workers: number, batchSize: number): string | null {
  return Number.isInteger(workers) && workers >= 1 && workers <= batchSize ? null
    : `must be an integer in 1..${batchSize} (train.batchSize), got ${workers}`;
}

/** The config with train.workers replaced (the --workers flag); `source` names the flag in errors. */
export function withWorkers(c: TrainConfig, workers: number, source = '--workers'): TrainConfig {
  const msg = checkWorkers(workers, c.train.batchSize);
  if (msg) throw new Error(`${source}: ${msg}`);
  return { ...c, train: { ...c.train, workers } };
}

export function parseTrainConfig(raw: unknown, file: string): TrainConfig {
  const r = trainConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : '';
      return `  ${file}: field "${i.path.join('.') || '(top level)'}": ${i.message}${keys}`;
    });
    throw new Error(`invalid training config:\n${lines.join('\n')}`);
  }
  return r.data;
}

export function loadTrainConfig(file: string): TrainConfig {
  return parseTrainConfig(readJsonFile(file, 'training config'), file);
}
