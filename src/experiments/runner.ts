/**
 * Run an experiment: per case, load or estimate msEps (cached artifact), expand the sweep into cells,
 * compute the shared per-timestep NLL statistics once (common random numbers across cells), write one CSV
 * row per cell and metric, then the markdown tables.
 */
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentSpec, CaseSpec } from './schema.js';
import { buildCase, type CaseSetup } from './caseSetup.js';
import { expandCells, unionOfSteps, type Cell } from './cells.js';
import { appendRows, readRows, rewriteRows, type ResultRow } from './resultsCsv.js';
import { markdownTable } from './report.js';
import { runMeta } from './meta.js';
import { hasMetricVsKPlot, writeReportPlots } from './plots/writeSvg.js';
import { featureSpace, fidFeatures, fidOfCell, fidSkipReason, guidanceCheckpointProblem, redrawCellGrid, withoutFid, type FidContext, type FidFeatures } from './fidCell.js';
import { guidanceReport } from './plots/accuracyVsFid.js';
import { odeNllOfCase } from './odeNllCell.js';
import { deal, forkTasks, type TaskRequest } from '../core/parallel/forkTask.js';
import { CASE_TASKS_MODULE, type CaseShare, type msEpsShare, type nllStatsShare } from './caseTasks.js';
import { progressReporter, formatSeconds } from './progress.js';
import { estimateMsEps, type MsEpsArtifact } from '../estimators/msEps.js';
import { loadMsEps, saveMsEps } from '../estimators/msEpsArtifact.js';
import { exactNelbo } from '../estimators/exactNelbo.js';
import { computeNllStats, pixelJumpKey, type NllStats, type PixelJump } from '../core/likelihood/termStats.js';
import { nelboFromStats, pixelJumpsOf, toBitsPerDim, type NelboCell } from '../core/likelihood/nelbo.js';
import { anyVarianceRule, isHeadVariance, isPixelRule } from '../core/variances.js';
import { epsNetworkOf } from '../core/nn/headedNet.js';
import { NoiseSource } from '../core/rng.js';
import type { ProcessName } from '../core/posterior.js';

export interface RunOptions {
  outDir: string;
  backend: string;
  file: string;
  /** worker processes for msEps and NLL statistics (1 = in this process) */
  workers?: number;
  /** run only this shard of the cells */
  shard?: Shard;
  log?: (msg: string) => void;
}

function writeJsonAtomic(path: string, v: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(v, null, 2) + '\n');
  renameSync(tmp, path);
}

/** Why an msEps artifact does not belong to this case (null when it does): M, estimator, seed, schedule, eps-network, data. */
function msEpsMismatch(a: MsEpsArtifact, c: CaseSpec, setup: CaseSetup): string | null {
  const want = { M: c.msEps.M, estimator: c.msEps.estimator, seed: setup.seeds.msEps, schedule: c.schedule.name, model: epsNetworkOf(setup.model).name };
  for (const [k, v] of Object.entries(want)) {
    const got = (a as unknown as Record<string, unknown>)[k];
    if (got !== v) return `has ${k} ${JSON.stringify(got)}, this case needs ${JSON.stringify(v)}`;
  }
  return a.data?.hash === setup.train.hash ? null : `was estimated on other training data (hash ${a.data?.hash})`;
}

/**
 * Reuse a cached msEps artifact when it matches this case exactly, or the one `msEps.reuse` names when it matches
 * (copied into the output directory); otherwise estimate and save it. msEps belongs to the
 * eps-network: a heads checkpoint shares its backbone's.
 */
async function msEpsFor(c: CaseSpec, setup: CaseSetup, path: string, ctx: CaseContext): Promise<MsEpsArtifact> {
  const { log } = ctx;
  if (existsSync(path)) {
    const a = loadMsEps(path, { N: c.schedule.N });
    if (!msEpsMismatch(a, c, setup)) {
      log(`[${c.id}] msEps: reusing ${path}`);
      return a;
    }
    log(`[${c.id}] msEps: ${path} was made with other settings; re-estimating`);
  } else if (c.msEps.reuse) {
    const a = loadMsEps(c.msEps.reuse, { N: c.schedule.N });
    const why = msEpsMismatch(a, c, setup);
    if (!why) {
      saveMsEps(path, a);
      log(`[${c.id}] msEps: reusing ${c.msEps.reuse} (copied to ${path})`);
      return a;
    }
    log(`[${c.id}] msEps: field "msEps.reuse": ${c.msEps.reuse} ${why} (--quick changes M); estimating msEps here`);
  }
  const t0 = Date.now();
  const progress = progressReporter(`[${c.id}] msEps (t x M items)`, 2000, (m) => log(m.trimEnd()));
  let a: MsEpsArtifact;
  if (ctx.workers <= 1) {
    a = estimateMsEps({
      model: epsNetworkOf(setup.model), schedule: setup.schedule, data: setup.train, M: c.msEps.M, seed: setup.seeds.msEps,
      batchSize: c.msEps.batchSize, estimator: c.msEps.estimator, onProgress: progress,
    });
  } else {
    const steps = Array.from({ length: c.schedule.N }, (_, i) => i + 1);
    const total = steps.length * c.msEps.M;
    const shares = deal(steps, ctx.workers);
    const results = await forkTasks<Awaited<ReturnType<typeof msEpsShare>>>(
      shares.map((timesteps) => ctx.task('msEpsShare', { ...ctx.share(setup), timesteps })), (d) => progress(d, total));
    a = results[0]; // every share's artifact has the same metadata; fill in the others' timesteps
    shares.forEach((share, k) => {
      const r = results[k];
      for (const t of share) {
        a.msEps[t] = r.msEps[t];
        a.stderr[t] = r.stderr[t];
      }
    });
  }
  saveMsEps(path, a);
  log(`[${c.id}] msEps: estimated (${c.msEps.estimator}) with M=${c.msEps.M} in ${formatSeconds((Date.now() - t0) / 1000)}, saved ${path}`);
  return a;
}

/** NLL statistics over the union of timesteps, in this process or split over workers. */
async function nllStatsFor(c: CaseSpec, setup: CaseSetup, ids: number[], steps: number[], pixelJumps: PixelJump[], ctx: CaseContext): Promise<NllStats> {
  const progress = progressReporter(`[${c.id}] NLL statistics (t x batch)`, 2000, (m) => ctx.log(m.trimEnd()));
  if (ctx.workers <= 1) {
    return computeNllStats({
      model: setup.model, schedule: setup.schedule, data: setup.test, ids, timesteps: steps, pixelJumps,
      noise: new NoiseSource(setup.seeds.nll), batchSize: c.nll.batchSize, onProgress: progress,
    });
  }
  const kl = steps.filter((t) => t >= 2);
  const batches = Math.ceil(ids.length / c.nll.batchSize);
  const total = (kl.length + 1) * batches;
  const shares = deal(kl, ctx.workers);
  const results = await forkTasks<Awaited<ReturnType<typeof nllStatsShare>>>(
    shares.map((timesteps, k) => ctx.task('nllStatsShare', {
      ...ctx.share(setup), timesteps, ids, includeDecoder: k === 0, pixelJumps: pixelJumps.filter((j) => timesteps.includes(j.t)),
    })),
    (d) => progress(d, total),
  );
  const stats: NllStats = { schedule: setup.schedule, d: setup.d, ids, prior: results[0].prior, decoder: results[0].decoder, terms: new Map(), pixelTerms: new Map() };
  for (const r of results) {
    r.terms.forEach((v, t) => stats.terms.set(t, v));
    r.pixelTerms.forEach((v, key) => stats.pixelTerms!.set(key, v));
  }
  return stats;
}

interface CaseContext {
  log: (m: string) => void;
  workers: number;
  share: (setup: CaseSetup) => Omit<CaseShare, 'timesteps'>;
  task: (fn: string, args: CaseShare) => TaskRequest;
}

function baseRow(e: ExperimentSpec, c: CaseSpec, setup: CaseSetup, cell: Cell, backend: string, data: string, clipPixel: number) {
  const m = cell.method;
  return {
    experiment: e.name, case: c.id, data, model: setup.model.name, schedule: c.schedule.name, N: c.schedule.N,
    method: m.label, sampler: m.sampler, variance: m.variance, eta: m.eta ?? '', trajectory: cell.trajectoryName, K: cell.K,
    steps: cell.steps.join(' '), clip_pixel: clipPixel, seed: e.seed, backend,
  };
}

/** A cell's rows come in groups that are written and resumed independently: nll (its components), fid and accuracy. */
type MetricGroup = 'nll' | 'fid' | 'accuracy' | 'ode-nll';
const ODE_NLL_METRICS = ['bpd_ode', 'nfe_ode'];
const groupOf = (metric: unknown): MetricGroup =>
  (metric === 'fid' ? 'fid' : metric === 'accuracy' ? 'accuracy' : ODE_NLL_METRICS.includes(String(metric)) ? 'ode-nll' : 'nll');

/** Rows a complete group has: the 4 NLL components (+ the closed form for exact models), or 1 fid row. */
function rowsPerGroup(g: MetricGroup, setup: CaseSetup, cell: Cell): number {
  return g === 'nll' ? (hasExactRow(setup, cell) ? 5 : 4) : g === 'ode-nll' ? ODE_NLL_METRICS.length : 1;
}

/** The closed-form NLL row exists for exact models with scalar variance rules. */
function hasExactRow(setup: CaseSetup, cell: Cell): boolean {
  return setup.exact !== null && !isHeadVariance(cell.method.variance);
}

/** The NELBO description of a cell: process, eta, variance rule and trajectory. */
function nelboCellOf(cell: Cell, setup: CaseSetup, msEps: number[]): NelboCell {
  const m = cell.method;
  return { process: m.sampler as ProcessName, eta: m.eta, variance: anyVarianceRule(m.variance, { msEps, range: setup.range }), trajectory: cell.steps };
}

/** The per-pixel jumps (s, t) of the cells with sn / npr rules, each once. */
function pixelJumpsOfCells(cells: readonly Cell[], setup: CaseSetup, msEps: number[]): PixelJump[] {
  const jumps = new Map<string, PixelJump>();
  for (const cell of cells) for (const j of pixelJumpsOf(nelboCellOf(cell, setup, msEps))) jumps.set(pixelJumpKey(j), j);
  return [...jumps.values()];
}

function groupKey(caseId: string, method: string, K: number | string, g: MetricGroup): string {
  return `${cellKey(caseId, method, K)}\u0000${g}`;
}

function nllRows(e: ExperimentSpec, c: CaseSpec, setup: CaseSetup, cell: Cell, stats: NllStats, msEps: number[], backend: string): ResultRow[] {
  const m = cell.method;
  const nc = nelboCellOf(cell, setup, msEps);
  const bpd = toBitsPerDim(nelboFromStats(stats, nc), setup.d);
  const base = { ...baseRow(e, c, setup, cell, backend, setup.test.name, 0), n: bpd.n };
  const rows: ResultRow[] = [
    { ...base, metric: 'bpd_total', value: bpd.total.mean, stderr: bpd.total.stderr },
    { ...base, metric: 'bpd_prior', value: bpd.prior.mean, stderr: bpd.prior.stderr },
    { ...base, metric: 'bpd_kl', value: bpd.klSum.mean, stderr: bpd.klSum.stderr },
    { ...base, metric: 'bpd_decoder', value: bpd.decoder.mean, stderr: bpd.decoder.stderr },
  ];
  if (setup.exact && !isPixelRule(nc.variance)) {
    const ex = exactNelbo({ sch: setup.schedule, trajectory: cell.steps, process: nc.process, eta: m.eta, variance: nc.variance, ...setup.exact });
    rows.push({ ...base, metric: 'bpd_total_exact', value: ex.total, stderr: '' });
  }
  return rows;
}

/** The ode-nll rows of a cell: bpd_ode (mean ± standard error over images) and nfe_ode (solver evaluations per batch). */
function odeNllRows(e: ExperimentSpec, c: CaseSpec, setup: CaseSetup, cell: Cell, backend: string, log: (m: string) => void): ResultRow[] {
  const t0 = Date.now();
  const r = odeNllOfCase(c, setup, progressReporter(`[${c.id}] ${cell.method.label}: ODE likelihood (images)`, 5000, (m) => log(m.trimEnd())));
  log(`[${c.id}] ${cell.method.label}: ODE likelihood ${r.bpd.mean.toFixed(4)} ± ${r.bpd.stderr.toFixed(4)} bits/dim, ${r.nfe.toFixed(0)} evaluations per batch (${formatSeconds((Date.now() - t0) / 1000)})`);
  const base = baseRow(e, c, setup, cell, backend, setup.test.name, 0);
  return [
    { ...base, metric: 'bpd_ode', value: r.bpd.mean, stderr: r.bpd.stderr, n: r.bpd.n },
    { ...base, metric: 'nfe_ode', value: r.nfe, stderr: '', n: r.bpd.n },
  ];
}

function caseReport(c: CaseSpec, rows: readonly ResultRow[], msEps: MsEpsArtifact): string {
  const parts = [`## ${c.title}`];
  const nll = rows.find((r) => r.metric === 'bpd_total');
  if (nll) {
    parts.push('', `NLL (bits/dim) on ${nll.n} test images, Monte Carlo mean ± standard error (lowest per K in bold):`, '',
      markdownTable(rows, { metric: 'bpd_total', digits: 4, boldMin: true, withStderr: true }));
  }
  const fid = rows.find((r) => r.metric === 'fid');
  if (fid) {
    const space = featureSpace(c);
    parts.push('', `FID (${space}) of ${fid.n} samples against the ${c.fid?.reference ?? 'train'} split (lowest per K in bold):`, '',
      markdownTable(rows, { metric: 'fid', digits: 3, boldMin: true }));
  }
  const ode = rows.find((r) => r.metric === 'bpd_ode');
  if (ode) {
    parts.push('', `Likelihood by the probability-flow ODE (bits/dim; uniform dequantisation for 8-bit data) on ${ode.n} test images, mean ± standard error, and the RK45 evaluations per batch:`, '',
      markdownTable(rows, { metric: 'bpd_ode', digits: 4, withStderr: true }), '', markdownTable(rows, { metric: 'nfe_ode', digits: 0 }));
  }
  const acc = rows.find((r) => r.metric === 'accuracy');
  if (acc) {
    parts.push('', `Guided class accuracy of ${acc.n} samples (sample i targets digit i mod 10; judged by the shipped MNIST classifier), ± binomial standard error:`, '',
      markdownTable(rows, { metric: 'accuracy', digits: 3, withStderr: true }));
  }
  if (rows.some((r) => r.metric === 'bpd_total_exact')) {
    parts.push('', 'Closed-form expected NLL of the same cells (exact posterior variance by quadrature, same σ² as above):', '',
      markdownTable(rows, { metric: 'bpd_total_exact', digits: 4, boldMin: true }));
    const zByMethod = new Map<string, number>();
    for (const r of rows.filter((q) => q.metric === 'bpd_total')) {
      const ex = rows.find((q) => q.metric === 'bpd_total_exact' && q.method === r.method && q.K === r.K);
      const z = ex ? Math.abs(Number(r.value) - Number(ex.value)) / Number(r.stderr) : 0;
      zByMethod.set(String(r.method), Math.max(zByMethod.get(String(r.method)) ?? 0, z));
    }
    parts.push('', `Largest |Monte Carlo − closed form| / standard error over K, per method: ${[...zByMethod].map(([m, z]) => `${m}: ${z.toFixed(1)}`).join('; ')}.`);
  }
  const max = Math.max(...msEps.msEps.slice(1));
  const argmin = msEps.msEps.indexOf(Math.min(...msEps.msEps.slice(1)));
  parts.push('', `msEps (${msEps.estimator} estimator): M = ${msEps.M} per timestep; min ${msEps.msEps[argmin].toFixed(4)} at t = ${argmin}; max ${max.toFixed(4)}.`);
  return parts.join('\n');
}

/** Identity of a cell within an experiment (case, method label, K). */
export function cellKey(caseId: string, method: string, K: number | string): string {
  return `${caseId}\u0000${method}\u0000${K}`;
}

/** A shard "i/n" (1-based): this process runs the cells whose global index is congruent to i-1 mod n. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard: expected i/n with 1 <= i <= n (e.g. 2/4), got "${s}"`);
  return { index, count };
}

/** Markdown report and SVG plots (metric vs K per case, msEps per timestep) from the CSV and msEps artifacts. */
export async function writeReport(e: ExperimentSpec, outDir: string): Promise<void> {
  const rows = readRows(join(outDir, 'results.csv'));
  const parts: string[] = [`# ${e.name}`, '', e.description, ''];
  const artifacts: Record<string, MsEpsArtifact> = {};
  for (const c of e.cases) {
    const caseRows = rows.filter((r) => r.case === c.id);
    const msPath = join(outDir, msEpsFile(e, c));
    if (caseRows.length === 0 || !existsSync(msPath)) continue;
    artifacts[c.id] = loadMsEps(msPath);
    parts.push(caseReport(c, caseRows, artifacts[c.id]), '');
    const plots = ['bpd_total', 'bpd_total_exact', 'fid'].filter((m) => hasMetricVsKPlot(caseRows, m));
    parts.push(plots.map((m) => `![${m} against K](plot-${c.id}-${m}.svg)`).join(' '), `![msEps](ms_eps-${c.id}.svg)`, '');
  }
  parts.push(...await guidanceReport(e, rows, outDir));
  writeFileSync(join(outDir, 'results.md'), parts.join('\n'));
  await writeReportPlots(outDir, rows, artifacts);
}

export function msEpsFile(e: ExperimentSpec, c: CaseSpec): string {
  return c.msEps.file ?? (e.cases.length === 1 ? 'ms_eps.json' : `ms_eps.${c.id}.json`);
}

export async function runExperiment(e: ExperimentSpec, opts: RunOptions): Promise<void> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  mkdirSync(opts.outDir, { recursive: true });
  const csvPath = join(opts.outDir, 'results.csv');
  writeJsonAtomic(join(opts.outDir, 'config.resolved.json'), e);
  const started = Date.now();
  const shard = opts.shard ?? { index: 1, count: 1 };
  const meta: Record<string, unknown> = runMeta(opts.backend, { experiment: e.name, file: opts.file, seed: e.seed, shard, cases: {} });
  let globalIndex = 0;
  const warned = new Set<string>();
  // every checkpoint guided methods need, before any case runs
  const guidanceProblems = e.cases.map((c, ci) => guidanceCheckpointProblem(c, ci)).filter((p) => p !== null);
  if (guidanceProblems.length > 0) throw new Error(guidanceProblems.join('\n'));
  for (const [ci, c] of e.cases.entries()) {
    const t0 = Date.now();
    const setup = await buildCase(c, e.seed);
    const fidSkip = fidSkipReason(c, ci);
    if (fidSkip && !warned.has(fidSkip)) {
      warned.add(fidSkip);
      log(`WARNING: ${fidSkip}`);
    }
    const caseMeta: Record<string, unknown> = { seeds: setup.seeds, train: { name: setup.train.name, hash: setup.train.hash }, test: { name: setup.test.name, hash: setup.test.hash }, model: setup.model.name };
    if (fidSkip) caseMeta.fid = { skipped: fidSkip };
    (meta.cases as Record<string, unknown>)[c.id] = caseMeta;
    writeJsonAtomic(join(opts.outDir, 'meta.json'), meta);
    const ctx: CaseContext = {
      log, workers: opts.workers ?? 1,
      share: (st) => ({ case: c, rootSeed: e.seed, trainHash: st.train.hash, testHash: st.test.hash }),
      task: (fn, args) => ({ module: CASE_TASKS_MODULE, fn, args, backend: opts.backend }),
    };
    const ms = await msEpsFor(c, setup, join(opts.outDir, msEpsFile(e, c)), ctx);
    // shards are dealt over the full cells, so the split does not depend on whether FID features are available
    const shardCells = expandCells(c, setup.schedule, ms.msEps).filter(() => globalIndex++ % shard.count === shard.index - 1);
    const cells = fidSkip ? withoutFid(shardCells) : shardCells;
    // resume per metric group: a group with the wrong number of rows was interrupted and is recomputed; rows of a
    // group this run does not measure (fid rows of an earlier run with Inception weights) are kept
    const expected = new Map(shardCells.flatMap((cell) => cell.metrics.map((g) => [groupKey(c.id, cell.method.label, cell.K, g), rowsPerGroup(g, setup, cell)] as const)));
    const count = new Map<string, number>();
    for (const r of readRows(csvPath)) {
      const k = groupKey(String(r.case), String(r.method), r.K, groupOf(r.metric));
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    const incomplete = [...count].filter(([k, n]) => k.startsWith(`${c.id}\u0000`) && n !== (expected.get(k) ?? n)).map(([k]) => k);
    if (incomplete.length > 0) {
      log(`[${c.id}] dropping ${incomplete.length} incomplete cells of an interrupted run`);
      rewriteRows(csvPath, readRows(csvPath).filter((r) => !incomplete.includes(groupKey(String(r.case), String(r.method), r.K, groupOf(r.metric)))));
      incomplete.forEach((k) => count.delete(k));
    }
    const todo = cells
      .map((cell) => ({ cell, need: cell.metrics.filter((g) => !count.has(groupKey(c.id, cell.method.label, cell.K, g))) }))
      .filter((x) => x.need.length > 0);
    if (todo.length === 0) {
      log(`[${c.id}] all ${cells.length} cells are already in ${csvPath}; skipping (use --fresh to recompute)`);
    } else {
      const nllTodo = todo.filter((x) => x.need.includes('nll')).map((x) => x.cell);
      let stats: NllStats | null = null;
      if (nllTodo.length > 0) {
        const ids = Array.from({ length: c.nll.images }, (_, i) => i);
        const steps = unionOfSteps(nllTodo);
        log(`[${c.id}] NLL: ${nllTodo.length} of ${cells.length} cells to run, ${steps.length} distinct timesteps, ${ids.length} images`);
        const jumps = pixelJumpsOfCells(nllTodo, setup, ms.msEps);
        if (jumps.length > 0) log(`[${c.id}] NLL: ${jumps.length} per-pixel jumps (sn / npr heads) evaluated in the same pass`);
        stats = await nllStatsFor(c, setup, ids, steps, jumps, ctx);
      }
      let features: FidFeatures | null = null;
      if (todo.some((x) => x.need.includes('fid'))) {
        features = await fidFeatures(c, setup, { outDir: opts.outDir, log });
        caseMeta.fid = features.info;
        writeJsonAtomic(join(opts.outDir, 'meta.json'), meta);
      }
      try {
        for (const { cell, need } of todo) {
          const rows = stats && need.includes('nll') ? nllRows(e, c, setup, cell, stats, ms.msEps, opts.backend) : [];
          if (need.includes('ode-nll')) rows.push(...odeNllRows(e, c, setup, cell, opts.backend, log));
          const wantFid = features !== null && need.includes('fid');
          if (wantFid || need.includes('accuracy')) {
            const t1 = Date.now();
            const r = await fidOfCell(c, setup, cell, ms.msEps, wantFid ? features : null, {
              workers: ctx.workers, outDir: opts.outDir, shareBase: ctx.share(setup), task: ctx.task as FidContext['task'],
              progress: progressReporter(`[${c.id}] ${cell.method.label} K=${cell.K} samples`, 5000, (m) => log(m.trimEnd())),
              accuracy: need.includes('accuracy'),
            });
            if (r.fid !== null) rows.push({ ...baseRow(e, c, setup, cell, opts.backend, features!.referenceLabel, cell.method.clipPixel ?? 0), metric: 'fid', value: r.fid, stderr: '', n: r.n });
            if (r.accuracy) {
              rows.push({ ...baseRow(e, c, setup, cell, opts.backend, 'target class (id mod 10) by the shipped MNIST classifier', cell.method.clipPixel ?? 0), metric: 'accuracy', value: r.accuracy.accuracy, stderr: r.accuracy.stderr, n: r.accuracy.n });
            }
            log(`[${c.id}] ${cell.method.label} K=${cell.K}:${r.fid !== null ? ` fid ${r.fid.toFixed(3)}` : ''}${r.accuracy ? ` accuracy ${r.accuracy.accuracy.toFixed(3)}` : ''} (${formatSeconds((Date.now() - t1) / 1000)})`);
          }
          appendRows(csvPath, rows);
        }
      } finally {
        features?.dispose();
      }
    }
    await writeReport(e, opts.outDir);
    log(`[${c.id}] done in ${formatSeconds((Date.now() - t0) / 1000)}`);
  }
  meta.finished = new Date().toISOString();
  meta.wallSeconds = (Date.now() - started) / 1000;
  writeJsonAtomic(join(opts.outDir, 'meta.json'), meta);
  log(`wrote ${csvPath} (${readRows(csvPath).length} rows), results.md, meta.json in ${formatSeconds((Date.now() - started) / 1000)}`);
}

/**
 * Redraw the PNG grid of every fid cell from the run's msEps artifact (no FID, no CSV rows): `npm run exp -- grids`.
 * The first n samples of a cell depend only on their ids, so the images equal those of the run.
 */
export async function redrawGrids(e: ExperimentSpec, outDir: string, log: (m: string) => void = (m) => process.stderr.write(m + '\n')): Promise<number> {
  let written = 0;
  for (const c of e.cases) {
    if (!c.fid || !c.grid || !c.sweep.methods.some((m) => m.metrics.includes('fid'))) continue;
    const msPath = join(outDir, msEpsFile(e, c));
    if (!existsSync(msPath)) throw new Error(`grids: ${msPath} does not exist; run the experiment first (its msEps fixes the analytic variances and optimal trajectories)`);
    const setup = await buildCase(c, e.seed);
    const ms = loadMsEps(msPath, { N: c.schedule.N });
    for (const cell of expandCells(c, setup.schedule, ms.msEps).filter((x) => x.metrics.includes('fid'))) {
      const t0 = Date.now();
      const path = await redrawCellGrid(c, setup, cell, ms.msEps, Math.min(c.grid.n, c.fid.samples), c.fid.batchSize, outDir);
      log(`[${c.id}] ${cell.method.label} K=${cell.K}: ${path} (${formatSeconds((Date.now() - t0) / 1000)})`);
      written++;
    }
  }
  return written;
}