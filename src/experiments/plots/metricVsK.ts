/** A metric against the number of sampling steps K: one line per method, log x, ±stderr error bars. */
import type { TopLevelSpec } from 'vega-lite';
import type { ResultRow } from '../resultsCsv.js';
import { PLOT_CONFIG, finiteOrUndefined, renderSvg } from './render.js';

export interface MetricVsKOptions {
  metric: string;
  /** default: "<case>: <metric> against K" */
  title?: string;
  /** 'auto' (default): log when all values are > 0 and span at least `logYDecades` decades */
  logY?: boolean | 'auto';
  /** decades (log10 of max/min) from which 'auto' switches to a log y-axis; default 1.5 */
  logYDecades?: number;
  width?: number;
  height?: number;
}

/** Unit of a metric for axis titles, or '' when unknown. */
export function metricUnit(metric: string): string {
  if (metric.startsWith('bpd')) return 'bits/dim';
  if (metric.toLowerCase().startsWith('fid')) return 'FID';
  return '';
}

/** "bpd_total (bits/dim)", "FID", or the metric name itself. */
export function metricAxisTitle(metric: string): string {
  const unit = metricUnit(metric);
  if (unit === 'FID' && metric.toLowerCase() === 'fid') return 'FID';
  return unit ? `${metric} (${unit})` : metric;
}

/** The 'auto' rule: a log y-axis when every value is positive and max/min ≥ 10^decades. */
export function wantsLogY(values: readonly number[], decades = 1.5): boolean {
  if (values.length < 2 || values.some((v) => !(v > 0))) return false;
  return Math.log10(Math.max(...values) / Math.min(...values)) >= decades;
}

interface Point { method: string; K: number; value: number; lo: number | null; hi: number | null }

/** An explicit y-domain around the value when all values (and error bars) are equal to ~1e-6 relative; else undefined. */
function flatDomain(points: readonly Point[], logY: boolean): [number, number] | undefined {
  const ends = points.flatMap((p) => [p.value, p.lo ?? p.value, p.hi ?? p.value]);
  const min = Math.min(...ends);
  const max = Math.max(...ends);
  const c = (min + max) / 2;
  if (max - min > 1e-6 * Math.abs(c)) return undefined;
  if (logY) return [c / 1.25, c * 1.25];
  const pad = Math.abs(c) * 0.05 || 1;
  return [c - pad, c + pad];
}

/** The Vega-Lite spec behind metricVsKSvg (exported for inspection and tests). */
export function metricVsKSpec(rows: readonly ResultRow[], opts: MetricVsKOptions): TopLevelSpec {
  const sel = rows.filter((r) => r.metric === opts.metric);
  if (sel.length === 0) throw new Error(`metricVsK: no rows with metric "${opts.metric}"`);
  const cases = [...new Set(sel.map((r) => String(r.case)))];
  if (cases.length > 1) throw new Error(`metricVsK: rows of several cases (${cases.join(', ')}); filter by case first`);

  const seen = new Set<string>();
  const dropped: string[] = [];
  const points: Point[] = [];
  for (const r of sel) {
    const method = String(r.method);
    const K = Number(r.K);
    const key = `${method}\u0000${K}`;
    if (seen.has(key)) throw new Error(`metricVsK: two rows for method "${method}", K=${K}, metric ${opts.metric}`);
    seen.add(key);
    const value = finiteOrUndefined(r.value);
    if (value === undefined || !(K > 0)) {
      dropped.push(`${method} at K=${r.K} (${r.value})`);
      continue;
    }
    const se = finiteOrUndefined(r.stderr);
    points.push({ method, K, value, lo: se ? value - Math.abs(se) : null, hi: se ? value + Math.abs(se) : null });
  }
  if (points.length === 0) throw new Error(`metricVsK: no finite values for metric "${opts.metric}"`);

  const values = points.map((p) => p.value);
  const logY = opts.logY === true || opts.logY === false ? opts.logY : wantsLogY(values, opts.logYDecades);
  if (logY && values.some((v) => v <= 0)) throw new Error(`metricVsK: logY needs positive values (${opts.metric} has values ≤ 0)`);
  // on a log axis a whisker cannot reach 0 or below: draw only its upper half then
  if (logY) for (const p of points) if (p.lo !== null && p.lo <= 0) p.lo = p.value;

  const methods = [...new Set(sel.map((r) => String(r.method)))];
  const Ks = [...new Set(points.map((p) => p.K))].sort((a, b) => a - b);
  const withBars = points.some((p) => p.lo !== null);
  const subtitle = [
    ...(withBars ? ['error bars: ± 1 standard error'] : []),
    // one short line per dropped value (at most 3), so a long note does not widen the figure
    ...(dropped.length ? [`dropped ${dropped.length} non-finite value${dropped.length > 1 ? 's' : ''}:`, ...dropped.slice(0, 3)] : []),
    ...(dropped.length > 3 ? [`… and ${dropped.length - 3} more`] : []),
  ];

  const yTitle = metricAxisTitle(opts.metric) + (logY ? ', log scale' : '');
  const domain = flatDomain(points, logY);
  const y = {
    type: 'quantitative',
    scale: { ...(logY ? { type: 'log' } : { type: 'linear', zero: false }), ...(domain ? { domain } : {}) },
    axis: { title: yTitle, format: '.4~g' },
  } as const;
  const x = {
    field: 'K', type: 'quantitative',
    scale: { type: 'log', domain: [Ks[0] / 1.3, Ks[Ks.length - 1] * 1.3], nice: false },
    axis: { values: Ks, format: 'd', title: 'K (sampling steps, log scale)', grid: true },
  } as const;
  const color = { field: 'method', type: 'nominal', scale: { domain: methods }, legend: { title: 'method', orient: 'right' } } as const;

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? `${cases[0]}: ${opts.metric} against K`, ...(subtitle.length ? { subtitle } : {}) },
    width: opts.width ?? 440,
    height: opts.height ?? 300,
    config: PLOT_CONFIG,
    data: { values: points },
    encoding: { x, color },
    layer: [
      ...(withBars ? [{
        name: 'errorbars',
        transform: [{ filter: 'datum.lo != null' }],
        mark: { type: 'errorbar', ticks: { size: 6 }, thickness: 1.5 },
        encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
      } as const] : []),
      {
        name: 'lines',
        mark: { type: 'line', point: { size: 40 }, strokeWidth: 1.5 },
        encoding: { y: { ...y, field: 'value' } },
      },
    ],
  } as TopLevelSpec;
}

/** SVG string of metric against K (see MetricVsKOptions); deterministic for the same rows and options. */
export function metricVsKSvg(rows: readonly ResultRow[], opts: MetricVsKOptions): Promise<string> {
  return renderSvg(metricVsKSpec(rows, opts));
}
