/** msEps_t against t = 1..N with a ±2·stderr band (the Monte Carlo artifact behind Analytic-DPM's variances). */
import type { TopLevelSpec } from 'vega-lite';
import type { MsEpsArtifact } from '../../estimators/msEps.js';
import { PLOT_CONFIG, finiteOrUndefined, renderSvg } from './render.js';

/** The fields the plot reads (an MsEpsArtifact as saved, or any object with them). */
export type MsEpsPlotInput = Pick<MsEpsArtifact, 'N' | 'M' | 'model' | 'estimator' | 'msEps' | 'stderr'> & Partial<MsEpsArtifact>;

export interface MsEpsPlotOptions {
  /** default: "msEps: <model>, <estimator> estimator, M = <M>" */
  title?: string;
  width?: number;
  height?: number;
}

/** The Vega-Lite spec behind msEpsSvg (exported for inspection and tests). */
export function msEpsSpec(a: MsEpsPlotInput, opts: MsEpsPlotOptions = {}): TopLevelSpec {
  if (a.msEps.length !== a.N + 1) throw new Error(`msEpsPlot: msEps has ${a.msEps.length} entries, expected N+1 = ${a.N + 1}`);
  const points: { t: number; msEps: number; lo: number; hi: number }[] = [];
  let dropped = 0;
  for (let t = 1; t <= a.N; t++) {
    const v = finiteOrUndefined(a.msEps[t]);
    if (v === undefined) { dropped++; continue; }
    const band = 2 * Math.abs(finiteOrUndefined(a.stderr?.[t]) ?? 0);
    points.push({ t, msEps: v, lo: v - band, hi: v + band });
  }
  const subtitle = [`band: ± 2 standard errors; schedule ${a.schedule ?? '?'}, N = ${a.N}`,
    ...(dropped ? [`dropped ${dropped} non-finite value${dropped > 1 ? 's' : ''}`] : [])];
  const x = { field: 't', type: 'quantitative', scale: { domain: [1, a.N], nice: false }, axis: { title: 'timestep t', tickMinStep: 1, tickCount: 5, format: 'd', labelOverlap: false } } as const;
  const yTitle = 'msEps(t) = E‖ε_θ(x_t, t)‖² / d';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title ?? `msEps: ${a.model}, ${a.estimator} estimator, M = ${a.M}`, subtitle },
    width: opts.width ?? 480,
    height: opts.height ?? 280,
    config: PLOT_CONFIG,
    data: { values: points },
    encoding: { x },
    layer: [
      {
        name: 'band',
        mark: { type: 'area', opacity: 0.6, color: '#6baed6' },
        encoding: { y: { field: 'lo', type: 'quantitative', scale: { zero: false }, axis: { title: yTitle } }, y2: { field: 'hi' } },
      },
      {
        name: 'msEps',
        mark: { type: 'line', color: '#1f4e79', strokeWidth: 1 },
        encoding: { y: { field: 'msEps', type: 'quantitative', axis: { title: yTitle } } },
      },
    ],
  } as TopLevelSpec;
}

/** SVG string of an msEps artifact (t = 1..N; index 0 is data and not drawn). */
export function msEpsSvg(a: MsEpsPlotInput, opts: MsEpsPlotOptions = {}): Promise<string> {
  return renderSvg(msEpsSpec(a, opts));
}
