/**
 * Combine the shards of a run (`--shard i/n` writes <out>/shards/<i>-of-<n>/) into <out>/results.csv, in the
 * order an unsharded run writes its cells (case, method, K), with the shared msEps artifacts and the report.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentSpec } from './schema.js';
import { readRows, rewriteRows, type ResultRow } from './resultsCsv.js';
import { msEpsFile, writeReport } from './runner.js';

export function shardDir(outDir: string, index: number, count: number): string {
  return join(outDir, 'shards', `${index}-of-${count}`);
}

/** Sort rows in the canonical cell order of the experiment, keeping the metric order within a cell. */
export function canonicalOrder(e: ExperimentSpec, rows: readonly ResultRow[]): ResultRow[] {
  const rank = (r: ResultRow): number[] => {
    const ci = e.cases.findIndex((c) => c.id === r.case);
    const c = e.cases[ci];
    const mi = c ? c.sweep.methods.findIndex((m) => m.label === r.method) : -1;
    const ki = c ? c.sweep.K.indexOf(Number(r.K)) : -1;
    return [ci, mi, ki];
  };
  return rows.map((r, i) => ({ r, i, k: rank(r) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2] || a.i - b.i)
    .map((x) => x.r);
}

export async function mergeShards(e: ExperimentSpec, outDir: string, log: (m: string) => void = () => {}): Promise<number> {
  const root = join(outDir, 'shards');
  if (!existsSync(root)) throw new Error(`merge: no shards in ${root} (run with --shard i/n first)`);
  const dirs = readdirSync(root).map((d) => /^(\d+)-of-(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null);
  const counts = [...new Set(dirs.map((m) => Number(m[2])))];
  if (counts.length !== 1) throw new Error(`merge: ${root} mixes shard counts ${counts.join(', ')}; keep one set of shards`);
  const n = counts[0];
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !existsSync(join(shardDir(outDir, i, n), 'results.csv')));
  if (missing.length > 0) throw new Error(`merge: shard(s) ${missing.map((i) => `${i}/${n}`).join(', ')} have no results.csv yet`);
  const rows = Array.from({ length: n }, (_, i) => readRows(join(shardDir(outDir, i + 1, n), 'results.csv'))).flat();
  rewriteRows(join(outDir, 'results.csv'), canonicalOrder(e, rows));
  for (const c of e.cases) {
    const f = msEpsFile(e, c);
    const sources = Array.from({ length: n }, (_, i) => join(shardDir(outDir, i + 1, n), f)).filter(existsSync);
    if (sources.length === 0) continue;
    const first = readFileSync(sources[0], 'utf8');
    const a = JSON.parse(first).msEps;
    for (const s of sources.slice(1)) {
      if (JSON.stringify(JSON.parse(readFileSync(s, 'utf8')).msEps) !== JSON.stringify(a)) throw new Error(`merge: ${s} differs from ${sources[0]}; shards must share msEps`);
    }
    copyFileSync(sources[0], join(outDir, f));
  }
  const metas = Array.from({ length: n }, (_, i) => join(shardDir(outDir, i + 1, n), 'meta.json')).filter(existsSync).map((p) => JSON.parse(readFileSync(p, 'utf8')));
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify({ merged: new Date().toISOString(), shards: metas }, null, 2) + '\n');
  copyFileSync(join(shardDir(outDir, 1, n), 'config.resolved.json'), join(outDir, 'config.resolved.json'));
  await writeReport(e, outDir);
  log(`merged ${n} shards: ${rows.length} rows into ${join(outDir, 'results.csv')}`);
  return rows.length;
}
