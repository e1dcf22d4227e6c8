/**
 * The fidelity/diversity trade-off of guidance (Dhariwal & Nichol 2021 Fig. 3; Ho & Salimans 2022 Fig. 2): guided
 * class accuracy against FID, one curve per guidance kind (and sampler and K), points ordered and labelled by the guidance
 * strength (gamma or w). Also the markdown table and image link of the report.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { ResultRow } from '../resultsCsv.js';
import type { ExperimentSpec } from '../schema.js';
import { guidanceKindName, guidanceStrength } from '../../core/guidance/guidanceSpec.js';
import { PLOT_CONFIG, finiteOrUndefined, renderSvg } from './render.js';
import { writeSvg } from './writeSvg.js';

export interface GuidancePoint {
  series: string;
  method: string;
  sampler: string;
  strength: number;
  K: number;
  accuracy: number;
  accuracyStderr: number | undefined;
  fid: number;
}

/** One point per guided method and K that has both a finite accuracy and a finite fid row. */
export function guidancePoints(e: ExperimentSpec, rows: readonly ResultRow[]): GuidancePoint[] {
  const points: GuidancePoint[] = [];
  for (const c of e.cases) {
    for (const m of c.sweep.methods) {
      if (!m.guidance) continue;
      const mine = rows.filter((r) => r.case === c.id && r.method === m.label);
      for (const K of [...new Set(mine.map((r) => Number(r.K)))].sort((a, b) => a - b)) {
        const acc = mine.find((r) => r.metric === 'accuracy' && Number(r.K) === K);
        const fid = mine.find((r) => r.metric === 'fid' && Number(r.K) === K);
        const a = finiteOrUndefined(acc?.value);
        const f = finiteOrUndefined(fid?.value);
        if (a === undefined || f === undefined) continue;
        points.push({ series: guidanceKindName(m.guidance), method: m.label, sampler: m.sampler, strength: guidanceStrength(m.guidance), K, accuracy: a, accuracyStderr: finiteOrUndefined(acc?.stderr), fid: f });
      }
    }
  }
  // one curve per guidance kind, and per sampler and K when the experiment has several
  const samplers = new Set(points.map((p) => p.sampler));
  if (samplers.size > 1) points.forEach((p) => { p.series = `${p.series}, ${p.sampler.toUpperCase()}`; });
  const Ks = new Set(points.map((p) => p.K));
  if (Ks.size > 1) points.forEach((p) => { p.series = `${p.series}, K=${p.K}`; });
  return points;
}

/** The Vega-Lite spec of accuracy against FID (exported for tests). */
export function accuracyVsFidSpec(points: readonly GuidancePoint[], title: string): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  const x = { field: 'fid', type: 'quantitative', scale: { zero: false }, axis: { title: 'FID (lower = closer to the data)' } } as const;
  const y = { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'guided class accuracy', format: '.0%' } } as const;
  const color = { field: 'series', type: 'nominal', scale: { domain: series }, legend: { title: 'guidance', orient: 'bottom', direction: 'vertical' } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: ['points labelled by the guidance strength (γ or w), joined in order of increasing strength'] },
    width: 440,
    height: 300,
    config: PLOT_CONFIG,
    data: { values: points.map((p) => ({ ...p, label: String(p.strength) })) },
    encoding: { x, y, color },
    layer: [
      { mark: { type: 'line', point: { size: 40 }, strokeWidth: 1.5 }, encoding: { order: { field: 'strength', type: 'quantitative' } } },
      { mark: { type: 'text', dx: 8, dy: -6, fontSize: 10, align: 'left' }, encoding: { text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

/** SVG of accuracy against FID. */
export function accuracyVsFidSvg(points: readonly GuidancePoint[], title: string): Promise<string> {
  return renderSvg(accuracyVsFidSpec(points, title));
}

/** Write accuracy-vs-fid.svg and return the report's markdown lines (empty when no guided cell has both metrics). */
export async function guidanceReport(e: ExperimentSpec, rows: readonly ResultRow[], outDir: string): Promise<string[]> {
  const points = guidancePoints(e, rows);
  if (points.length === 0) return [];
  writeSvg(join(outDir, 'accuracy-vs-fid.svg'), await accuracyVsFidSvg(points, `${e.name}: guided class accuracy against FID`));
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const lines = ['## Guidance: accuracy against FID', '', '| guidance | strength | K | accuracy | FID |', '|---|---|---|---|---|'];
  for (const p of points) {
    lines.push(`| ${p.series} | ${p.strength} | ${p.K} | ${pct(p.accuracy)}${p.accuracyStderr !== undefined ? ` ± ${pct(p.accuracyStderr)}` : ''} | ${p.fid.toFixed(3)} |`);
  }
  lines.push('', '![guided class accuracy against FID](accuracy-vs-fid.svg)', '');
  return lines;
}
