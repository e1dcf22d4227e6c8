/** Write plots to disk: single SVGs atomically, and the full set for an experiment's results. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResultRow } from '../resultsCsv.js';
import { metricVsKSvg } from './metricVsK.js';
import { msEpsSvg, type MsEpsPlotInput } from './msEpsPlot.js';
import { finiteOrUndefined } from './render.js';

/** Write an SVG atomically (temp file in the same directory + rename); creates the directory. */
export function writeSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, svg);
  renameSync(tmp, path);
}

/** A case id or metric name made safe for a file name. */
const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Whether `metric` has finite values at 2 or more K in the rows of one case (a metric-vs-K plot needs them). */
export function hasMetricVsKPlot(caseRows: readonly ResultRow[], metric: string): boolean {
  const Ks = new Set(caseRows.filter((r) => r.metric === metric && finiteOrUndefined(r.value) !== undefined).map((r) => Number(r.K)));
  return Ks.size >= 2;
}

/**
 * Write `plot-<case>-<metric>.svg` for every case × metric in `rows` that has finite values at 2 or more K,
 * and `ms_eps-<case>.svg` for every artifact (keyed by case id). Returns the written paths, in that order.
 */
export async function writeReportPlots(
  outDir: string, rows: readonly ResultRow[], msEpsArtifacts: Record<string, MsEpsPlotInput> = {},
): Promise<string[]> {
  const written: string[] = [];
  const cases = [...new Set(rows.map((r) => String(r.case)))];
  for (const c of cases) {
    const caseRows = rows.filter((r) => String(r.case) === c);
    for (const metric of [...new Set(caseRows.map((r) => String(r.metric)))]) {
      if (!hasMetricVsKPlot(caseRows, metric)) continue;
      const path = join(outDir, `plot-${fileSafe(c)}-${fileSafe(metric)}.svg`);
      writeSvg(path, await metricVsKSvg(caseRows, { metric }));
      written.push(path);
    }
  }
  for (const [c, a] of Object.entries(msEpsArtifacts)) {
    const path = join(outDir, `ms_eps-${fileSafe(c)}.svg`);
    writeSvg(path, await msEpsSvg(a));
    written.push(path);
  }
  return written;
}
