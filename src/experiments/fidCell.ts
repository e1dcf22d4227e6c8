/**
 * The fid metric of a cell: draw fid.samples samples with the cell's sampler, variance and trajectory (sample i
 * uses the noise streams of id i in every cell: common random numbers), fit a Gaussian to their features and
 * take the Frechet distance to the reference split (Heusel et al. 2017). Features: InceptionV3 pool features for
 * CIFAR-10 (pytorch-fid protocol, weights from fid.inception or $INCEPTION_TFJS_PATH; without them the fid cells
 * are skipped, see fidSkipReason), the shipped MNIST classifier for MNIST, raw coordinates for toy data.
 * Optionally writes a PNG grid of the first samples.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseSpec, MethodSpec } from './schema.js';
import { buildCase, type CaseSetup } from './caseSetup.js';
import type { Cell } from './cells.js';
import { sampleCase, type CaseSampleShare } from './caseTasks.js';
import { progressReporter } from './progress.js';
import { deal, forkTasks, undealRows, type TaskRequest } from '../core/parallel/forkTask.js';
import { gaussianStats, type GaussianStats } from '../estimators/fid/gaussianStats.js';
import { frechetDistanceStats } from '../estimators/fid/frechet.js';
import { mnistFeatureStats, mnistReferenceStats } from '../estimators/fid/mnistFid.js';
import { INCEPTION_ENV, inceptionAvailable, inceptionFeatureStats, inceptionFingerprint, inceptionPath, loadInception } from '../estimators/fid/inception.js';
import { writePngGrid } from '../core/image/pngGrid.js';
import { ArrayDataset, type Dataset } from '../core/data/dataset.js';
import { guidedSampleRows } from '../core/guidance/guidedSampling.js';
import { GUIDANCE_TRAINING } from '../core/guidance/guidanceSpec.js';
import { targetAccuracy } from '../core/guidance/targetAccuracy.js';
import { defaultMnistClassifier } from '../estimators/fid/mnistFid.js';
import { anyVarianceRule } from '../core/variances.js';
import { NoiseSource } from '../core/rng.js';

/** Largest dimension for which raw coordinates serve as features. */
const RAW_FEATURE_MAX_DIM = 512;
/** Images per Inception forward (pytorch-fid's default batch size). */
const INCEPTION_BATCH = 50;

export interface FidContext {
  workers: number;
  shareBase: Omit<CaseSampleShare, 'method' | 'steps' | 'msEps' | 'batchSize' | 'timesteps' | 'ids'>;
  task: (fn: string, args: CaseSampleShare) => TaskRequest;
  outDir: string;
  progress: (done: number, total: number) => void;
}

const GREEK: Record<string, string> = { 'σ': 'sigma', 'β': 'beta', 'η': 'eta', 'λ': 'lambda', '²': '2', '\u0303': '-tilde' };

/** A file-name slug of a method label that keeps labels apart: "ET DDPM, σ²=β̃" -> "ET-DDPM-sigma2-beta-tilde". */
export function labelSlug(label: string): string {
  const ascii = [...label.normalize('NFD')].map((ch) => GREEK[ch] ?? ch).join('');
  return ascii.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** The feature space a case's FID is measured in (for the report). */
export function featureSpace(c: CaseSpec): string {
  if (c.data.kind === 'cifar10') return 'InceptionV3 pool features';
  if (c.data.kind === 'mnist') return 'features of the shipped MNIST classifier';
  return 'raw coordinates';
}

/**
 * Why the fid cells of case `ci` cannot run: CIFAR-10 without usable Inception weights (none configured, or the
 * configured ones unreadable). Null when they can run or the case measures no fid. FID is never faked: the caller
 * drops fid from the cells' metrics and warns once.
 */
export function fidSkipReason(c: CaseSpec, ci: number): string | null {
  if (!c.fid || c.data.kind !== 'cifar10' || !c.sweep.methods.some((m) => m.metrics.includes('fid'))) return null;
  const field = `cases.${ci}.fid.inception`;
  const tail = 'The fid cells are not run and no FID is reported; the NLL cells run as usual. See docs/analytic-dpm-cifar.md.';
  const p = inceptionPath(c.fid.inception);
  if (!p) {
    return `case ${c.id}: FID skipped: no Inception weights configured (neither the field "${field}" nor ${INCEPTION_ENV} is set). ` +
      `Point either at a TensorFlow.js InceptionV3 model.json (pytorch-fid's weights converted to tfjs give comparable numbers). ${tail}`;
  }
  const why = inceptionAvailable(p);
  if (!why) return null;
  const from = c.fid.inception ? `the field "${field}"` : INCEPTION_ENV;
  return `case ${c.id}: FID skipped: the Inception weights named by ${from} are unusable: ${why}. ${tail}`;
}

/** The features a case's FID is computed in, with the reference split's statistics. */
export interface FidFeatures {
  reference: GaussianStats;
  /** the data column of fid rows, e.g. "cifar10-train (train split)" */
  referenceLabel: string;
  /** Gaussian statistics of the features of samples */
  stats(samples: Dataset): GaussianStats;
  /** provenance for meta.json */
  info: Record<string, unknown>;
  dispose(): void;
}

/** The first n rows of a data set as a data set (its hash names the parent and n). */
export function firstRows(ds: Dataset, n: number): Dataset {
  if (n >= ds.size) return ds;
  const check = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`dataset ${ds.name} (first ${n} rows): index ${i} out of range [0, ${n})`);
    return i;
  };
  return {
    name: ds.name, shape: ds.shape, size: n, range: ds.range, discrete: ds.discrete,
    hash: createHash('sha256').update(`${ds.hash}:first ${n}`).digest('hex'),
    rows: (ids) => ds.rows(ids.map(check)),
    row: (i) => ds.row(check(i)),
  };
}

function rawStats(ds: Dataset): GaussianStats {
  const all = ds.rows(Array.from({ length: ds.size }, (_, i) => i));
  const d = all.size / ds.size;
  const st = gaussianStats(all.dataSync() as Float32Array, d);
  all.dispose();
  return st;
}

interface ReferenceKey {
  weightsSha256: string;
  data: string;
  dataHash: string;
  images: number;
}

/** Reference statistics from `file` when its key matches, else computed and written there (atomically). */
function cachedStats(file: string, key: ReferenceKey, compute: () => GaussianStats, log: (m: string) => void): GaussianStats {
  if (existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    if (JSON.stringify(j.key) === JSON.stringify(key)) {
      log(`FID reference: reusing ${file}`);
      const f64 = (b64: string) => { const b = Buffer.from(b64, 'base64'); return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8).slice(); };
      return { n: j.n, d: j.d, mu: f64(j.mu), sigma: f64(j.sigma) };
    }
    log(`FID reference: ${file} was made with other weights or data; recomputing`);
  }
  const st = compute();
  const b64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ kind: 'fid-reference-stats', key, n: st.n, d: st.d, encoding: 'base64 float64 little-endian', mu: b64(st.mu), sigma: b64(st.sigma) }) + '\n');
  renameSync(tmp, file);
  log(`FID reference: saved ${file}`);
  return st;
}

/**
 * Load the case's feature network and the reference statistics: for CIFAR-10 the Inception statistics of the
 * reference split, cached in <outDir>/fid_ref.<case>.json keyed by the weights' sha256 and the data hash.
 */
export async function fidFeatures(c: CaseSpec, setup: CaseSetup, opts: { outDir: string; log: (m: string) => void }): Promise<FidFeatures> {
  const fid = c.fid!;
  const split = setup[fid.reference];
  const ref = firstRows(split, fid.referenceImages ?? split.size);
  const referenceLabel = `${split.name} (${fid.reference} split${ref === split ? '' : `, first ${ref.size} images`})`;
  if (c.data.kind === 'cifar10') {
    const net = await loadInception(fid.inception);
    const weights = inceptionFingerprint(fid.inception);
    const key: ReferenceKey = { weightsSha256: weights.sha256, data: split.name, dataHash: ref.hash, images: ref.size };
    const file = join(opts.outDir, `fid_ref.${c.id}.json`);
    const log = (m: string) => opts.log(`[${c.id}] ${m}`);
    const stats = (ds: Dataset, label: string) => inceptionFeatureStats(ds, net, INCEPTION_BATCH, progressReporter(`[${c.id}] Inception features of ${label}`, 10000, (m) => opts.log(m.trimEnd())));
    const reference = cachedStats(file, key, () => stats(ref, referenceLabel), log);
    return { reference, referenceLabel, stats: (s) => stats(s, 'samples'), info: { features: 'inception', weights, reference: key }, dispose: () => net.dispose() };
  }
  if (c.data.kind === 'mnist') {
    const reference = ref === split ? mnistReferenceStats(fid.reference) : mnistFeatureStats(ref);
    return { reference, referenceLabel, stats: (s) => mnistFeatureStats(s), info: { features: 'mnist-classifier' }, dispose: () => {} };
  }
  if (setup.d > RAW_FEATURE_MAX_DIM) throw new Error(`case ${c.id}: fid on raw coordinates needs d <= ${RAW_FEATURE_MAX_DIM} (d = ${setup.d})`);
  return { reference: rawStats(ref), referenceLabel, stats: rawStats, info: { features: 'raw' }, dispose: () => {} };
}

/**
 * Sample the cell (in this process or over workers; guided methods by guidedCellShare) and return its FID against the
 * reference statistics (null when `features` is null) and, with ctx.accuracy, the guided class accuracy of the samples.
 */
export async function fidOfCell(c: CaseSpec, setup: CaseSetup, cell: Cell, msEps: number[], features: FidFeatures | null, ctx: FidContext & { accuracy?: boolean }): Promise<{ fid: number | null; n: number; accuracy?: ReturnType<typeof targetAccuracy> }> {
  const fid = c.fid!;
  const ids = Array.from({ length: fid.samples }, (_, i) => i);
  const job = { method: cell.method, steps: cell.steps, msEps, batchSize: fid.batchSize };
  let values: Float32Array;
  if (cell.method.guidance && ctx.workers <= 1) {
    values = guidedCellValues(c, setup, cell.method, cell.steps, msEps, ids, fid.batchSize, (d) => ctx.progress(d, ids.length));
  } else if (ctx.workers <= 1) {
    values = sampleCase(setup, { ...job, ids }, (d) => ctx.progress(d, ids.length)).values;
  } else {
    const shares = deal(ids, ctx.workers);
    const parts = await forkTasks<{ values: Float32Array }>(
      shares.map((sh) => guidedTask(ctx.task('caseSampleShare', { ...ctx.shareBase, ...job, timesteps: [], ids: sh }))), (d) => ctx.progress(d, ids.length));
    values = undealRows(ids, shares, parts.map((p) => p.values), setup.d);
  }
  const samples = new ArrayDataset('samples', setup.train.shape, values, setup.range, false);
  if (c.grid && setup.train.shape.length === 3) await writeCellGrid(c, cell, samples, Math.min(c.grid.n, ids.length), ctx.outDir);
  const judge = ctx.accuracy ? defaultMnistClassifier() : null;
  const accuracy = judge ? targetAccuracy((x) => judge.predict(x), (r) => samples.rows(r), ids, judge.config.numClasses) : undefined;
  return { fid: features ? frechetDistanceStats(features.stats(samples), features.reference) : null, n: ids.length, accuracy };
}

/** Samples of a guided method (src/core/guidance), in this process; the noise streams are those of unguided cells. */
function guidedCellValues(c: CaseSpec, setup: CaseSetup, m: MethodSpec, steps: number[], msEps: number[], ids: number[], batch: number, progress: (done: number) => void): Float32Array {
  return guidedSampleRows({
    model: setup.model, schedule: setup.schedule, trajectory: steps, variance: anyVarianceRule(m.variance, { msEps, range: setup.range }),
    range: setup.range, noise: new NoiseSource(setup.seeds.sample), eta: m.eta, clipPixel: m.clipPixel ?? 0, sampler: m.sampler,
    guidance: m.guidance!, where: `case ${c.id}, method "${m.label}": field "guidance"`,
  }, ids, batch, progress).values;
}

export const FID_CELL_MODULE = fileURLToPath(import.meta.url);

/** A sampling task of a guided method runs guidedCellShare of this module instead of caseSampleShare. */
function guidedTask(req: TaskRequest): TaskRequest {
  const share = req.args as CaseSampleShare;
  return share.method.guidance ? { ...req, module: FID_CELL_MODULE, fn: 'guidedCellShare' } : req;
}

/** Worker task: guided samples of share.ids, with the case rebuilt from its spec and root seed. */
export async function guidedCellShare(share: CaseSampleShare, progress: (done: number) => void = () => {}): Promise<{ values: Float32Array }> {
  const setup = await buildCase(share.case, share.rootSeed);
  if (setup.train.hash !== share.trainHash || setup.test.hash !== share.testHash) throw new Error(`worker rebuilt different data for case ${share.case.id} (hash mismatch)`);
  return { values: guidedCellValues(share.case, setup, share.method, share.steps, share.msEps, share.ids!, share.batchSize, progress) };
}

/**
 * Why the guided methods of case `ci` cannot run: a checkpoint they need (the classifier of classifier guidance, the
 * class-conditional model of classifier-free guidance) is missing; the message names the field and the training
 * command. Null when every checkpoint exists.
 */
export function guidanceCheckpointProblem(c: CaseSpec, ci: number): string | null {
  for (const [mi, m] of c.sweep.methods.entries()) {
    const g = m.guidance;
    if (!g) continue;
    const t = GUIDANCE_TRAINING[g.kind];
    if (g.kind === 'cfg' && c.model.kind !== 'checkpoint') {
      return `case ${c.id}: field "cases.${ci}.model.kind": method "${m.label}" uses classifier-free guidance, which needs ${t.what} as a checkpoint (model kind "checkpoint", e.g. from ${t.config}); got "${c.model.kind}"`;
    }
    const [field, path] = g.kind === 'classifier' ? [`cases.${ci}.sweep.methods.${mi}.guidance.classifier`, g.classifier] : [`cases.${ci}.model.path`, (c.model as { path: string }).path];
    if (!existsSync(path)) {
      return `case ${c.id}: field "${field}": checkpoint ${resolve(path)} does not exist. It is ${t.what}: train it with ` +
        `\`npm run train -- ${t.config}\` (re-run the command to resume), copy ${t.run}/model to ${path} or point the field at it with ` +
        `--set ${field}=DIR (see docs/guidance.md)`;
    }
  }
  return null;
}

/** grids/<case>/<method slug>-K<K>.png: the first n samples of a cell (sample i = noise streams of id i). */
export function cellGridPath(outDir: string, c: CaseSpec, cell: Cell): string {
  return join(outDir, 'grids', c.id, `${labelSlug(cell.method.label)}-K${cell.K}.png`);
}

async function writeCellGrid(c: CaseSpec, cell: Cell, samples: Dataset, n: number, outDir: string): Promise<string> {
  const first = samples.rows(Array.from({ length: n }, (_, i) => i));
  try {
    const path = cellGridPath(outDir, c, cell);
    await writePngGrid(path, first);
    return path;
  } finally {
    first.dispose();
  }
}

/**
 * Redraw the grid of a fid cell without computing its FID: samples ids 0..n-1 exactly as the fid cell does, so the
 * PNG equals the one a full run writes (used by `npm run exp -- grids`).
 */
export async function redrawCellGrid(c: CaseSpec, setup: CaseSetup, cell: Cell, msEps: number[], n: number, batchSize: number, outDir: string): Promise<string> {
  const ids = Array.from({ length: n }, (_, i) => i);
  const { values } = cell.method.guidance ? { values: guidedCellValues(c, setup, cell.method, cell.steps, msEps, ids, batchSize, () => {}) }
    : sampleCase(setup, { method: cell.method, steps: cell.steps, msEps, batchSize, ids });
  return writeCellGrid(c, cell, new ArrayDataset('samples', setup.train.shape, values, setup.range, false), n, outDir);
}

/** Cells without the fid metric; cells left with no metric are dropped (a fid-only method produces no cells). */
export function withoutFid(cells: readonly Cell[]): Cell[] {
  return cells.map((cell) => ({ ...cell, metrics: cell.metrics.filter((m) => m !== 'fid') })).filter((cell) => cell.metrics.length > 0);
}
