/** The guidance report: points (one per guided method and K with both metrics), the markdown table and the SVG plot. */
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guidancePoints, guidanceReport } from '../../src/experiments/plots/accuracyVsFid.js';
import { loadExperiment } from '../../src/experiments/registry.js';
import type { ResultRow } from '../../src/experiments/resultsCsv.js';

/** Synthetic rows for the shipped experiment: accuracy rises and fid grows with the strength. */
function fakeRows(): ResultRow[] {
  const { spec } = loadExperiment('guidance-mnist');
  const rows: ResultRow[] = [];
  for (const c of spec.cases) {
    c.sweep.methods.forEach((m, i) => {
      const base = { experiment: spec.name, case: c.id, data: '', model: '', schedule: 'linear', N: 1000, method: m.label, sampler: 'ddim', variance: 'small', eta: 0, trajectory: 'even', K: 25, steps: '', clip_pixel: 0, n: 1000, seed: 1, backend: 'cpu' };
      rows.push({ ...base, metric: 'accuracy', value: 0.5 + 0.04 * i + (c.id.includes('free') ? 0.03 : 0), stderr: 0.01 });
      rows.push({ ...base, metric: 'fid', value: 2 + i * i * 0.5, stderr: '' });
    });
  }
  return rows;
}

describe('guidance report: accuracy against FID', () => {
  it('one point per guided method with both metrics, series by guidance kind, strengths from the spec', () => {
    const { spec } = loadExperiment('guidance-mnist');
    const rows = fakeRows();
    const pts = guidancePoints(spec, rows);
    const cells = spec.cases[0].sweep.methods.length + spec.cases[1].sweep.methods.length;
    expect(pts.length).to.equal(cells);
    // classifier-free guidance runs with DDIM and DDPM, so every series names its sampler
    expect(new Set(pts.map((p) => p.series))).to.deep.equal(new Set(['classifier guidance (γ), DDIM', 'classifier-free guidance (w), DDIM', 'classifier-free guidance (w), DDPM']));
    expect(pts.filter((p) => p.series.startsWith('classifier guidance')).map((p) => p.strength)).to.deep.equal([0, 1, 2, 4, 8, 16]);
    expect(pts.filter((p) => p.series.endsWith('DDPM')).map((p) => p.strength)).to.deep.equal([0, 0.5, 1, 2, 4]);
    // with one sampler the series are the guidance kinds alone
    const ddimOnly = { ...spec, cases: spec.cases.map((c) => ({ ...c, sweep: { ...c.sweep, methods: c.sweep.methods.filter((m) => m.sampler === 'ddim') } })) };
    expect(new Set(guidancePoints(ddimOnly, rows).map((p) => p.series))).to.deep.equal(new Set(['classifier guidance (γ)', 'classifier-free guidance (w)']));
    // a method without its fid row gives no point
    expect(guidancePoints(spec, rows.filter((r) => !(r.metric === 'fid' && r.method === spec.cases[0].sweep.methods[0].label))).length).to.equal(cells - 1);
  });

  it('writes accuracy-vs-fid.svg and a markdown table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acc-fid-'));
    try {
      const { spec } = loadExperiment('guidance-mnist');
      const md = (await guidanceReport(spec, fakeRows(), dir)).join('\n');
      expect(md).to.include('| classifier guidance (γ), DDIM | 8 | 25 | 66.0% ± 1.0% | 10.000 |');
      const svg = readFileSync(join(dir, 'accuracy-vs-fid.svg'), 'utf8');
      expect(svg.startsWith('<svg')).to.equal(true);
      expect(svg).to.include('guided class accuracy');
      expect(await guidanceReport(spec, [], dir)).to.deep.equal([]);
      if (process.env.KEEP_PLOT) copyFileSync(join(dir, 'accuracy-vs-fid.svg'), process.env.KEEP_PLOT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
