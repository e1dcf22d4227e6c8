import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRows, type ResultRow } from '../../src/experiments/resultsCsv.js';
import { loadMsEps } from '../../src/estimators/msEpsArtifact.js';
import { metricAxisTitle, metricVsKSpec, metricVsKSvg, wantsLogY } from '../../src/experiments/plots/metricVsK.js';
import { msEpsSvg } from '../../src/experiments/plots/msEpsPlot.js';
import { writeReportPlots, writeSvg } from '../../src/experiments/plots/writeSvg.js';

const TOY = 'results/analytic-dpm-toy';
const rows = readRows(join(TOY, 'results.csv'));
const rad = rows.filter((r) => r.case === 'rademacher');
const gmm = rows.filter((r) => r.case === 'gmm');
const METHODS = ['ET DDPM, σ²=β̃', 'ET DDPM, σ²=β', 'ET Analytic-DDPM', 'OT Analytic-DDPM'];

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Texts of the <text> elements inside the groups of one vega role (e.g. "legend-label", "axis-title"). */
function texts(svg: string, role: string): string[] {
  const out: string[] = [];
  for (const g of svg.matchAll(new RegExp(`<g class="mark-text role-${role}"[^>]*>(.*?)</g>`, 'g'))) {
    for (const t of g[1].matchAll(/<text[^>]*>(.*?)<\/text>/g)) out.push(unescape(t[1]));
  }
  return out;
}

/** Minimal well-formedness check: one root <svg>, every element closed in order. */
function expectBalancedXml(svg: string): void {
  expect(svg.startsWith('<svg')).to.equal(true);
  expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) expect(stack.pop(), `closing </${m[2]}>`).to.equal(m[2]);
    else stack.push(m[2]);
  }
  expect(stack).to.deep.equal([]);
}

/** x positions of the x-axis tick labels, by label text. */
function xAxisLabelX(svg: string, labels: string[]): Map<string, number> {
  for (const g of svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/g)) {
    const found = [...g[1].matchAll(/<text[^>]*transform="translate\(([-\d.]+),[-\d.]+\)"[^>]*>(.*?)<\/text>/g)];
    if (found.map((t) => t[2]).join() === labels.join()) return new Map(found.map((t) => [t[2], Number(t[1])]));
  }
  throw new Error(`no axis with labels ${labels.join()}`);
}

describe('plots', () => {
  it('metric against K: well-formed SVG with the methods in the legend, axis titles and ±stderr error bars', async () => {
    const svg = await metricVsKSvg(rad, { metric: 'bpd_total' });
    expectBalancedXml(svg);
    expect(texts(svg, 'legend-label')).to.deep.equal(METHODS);
    const axisTitles = texts(svg, 'axis-title');
    expect(axisTitles).to.include('K (sampling steps, log scale)');
    expect(axisTitles.some((t) => t.startsWith('bpd_total (bits/dim)'))).to.equal(true);
    expect(svg).to.contain('errorbars');
    expect(texts(svg, 'title-subtitle').join(' ')).to.contain('± 1 standard error');
    // 4 methods × 6 K line points
    expect(svg.match(/<g class="mark-line role-mark lines_marks"/g)).to.have.length(4);
  });

  it('no error bars when the rows have no stderr (bpd_total_exact)', async () => {
    const svg = await metricVsKSvg(rad, { metric: 'bpd_total_exact' });
    expect(svg).not.to.contain('errorbars');
    expect(svg).not.to.contain('standard error');
  });

  it('x is log K with ticks at the K values present', async () => {
    const spec = metricVsKSpec(rad, { metric: 'bpd_total' }) as { encoding: { x: { scale: { type: string }; axis: { values: number[] } } } };
    expect(spec.encoding.x.scale.type).to.equal('log');
    expect(spec.encoding.x.axis.values).to.deep.equal([10, 25, 50, 100, 200, 1000]);
    const x = xAxisLabelX(await metricVsKSvg(rad, { metric: 'bpd_total' }), ['10', '25', '50', '100', '200', '1000']);
    const d = (a: string, b: string) => x.get(b)! - x.get(a)!;
    expect(d('10', '100')).to.be.closeTo(d('100', '1000'), 1); // one decade each
    expect(d('25', '50')).to.be.closeTo(d('100', '200'), 1); // a factor of 2 each
  });

  it('auto log y: on for the Rademacher rows (~96 vs ~1.5), off for the GMM rows (negative values); can be forced', async () => {
    expect(wantsLogY(rad.filter((r) => r.metric === 'bpd_total').map((r) => Number(r.value)))).to.equal(true);
    expect(wantsLogY([1, 2, 3])).to.equal(false);
    expect(wantsLogY([-1, 100])).to.equal(false);
    const yTitle = async (rs: ResultRow[], logY?: boolean) =>
      texts(await metricVsKSvg(rs, { metric: 'bpd_total', logY }), 'axis-title').find((t) => t.startsWith('bpd_total'));
    expect(await yTitle(rad)).to.equal('bpd_total (bits/dim), log scale');
    expect(await yTitle(gmm)).to.equal('bpd_total (bits/dim)');
    expect(await yTitle(rad, false)).to.equal('bpd_total (bits/dim)');
    const spec = metricVsKSpec(rad, { metric: 'bpd_total' }) as { layer: { encoding: { y: { scale: { type: string } } } }[] };
    expect(spec.layer.map((l) => l.encoding.y.scale.type)).to.deep.equal(['log', 'log']);
    expect(() => metricVsKSpec(gmm, { metric: 'bpd_total', logY: true })).to.throw(/positive/);
  });

  it('drops non-finite values with a note in the title; units in axis titles', async () => {
    const bad = rad.map((r) => (r.metric === 'bpd_total' && Number(r.K) === 10 && r.method !== 'ET Analytic-DDPM' ? { ...r, value: 'NaN' } : r));
    const svg = await metricVsKSvg(bad, { metric: 'bpd_total', title: 'with gaps' });
    expectBalancedXml(svg);
    expect(texts(svg, 'title-text')).to.deep.equal(['with gaps']);
    expect(texts(svg, 'title-subtitle').join(' ')).to.contain('dropped 3 non-finite values');
    expect(metricAxisTitle('bpd_kl')).to.equal('bpd_kl (bits/dim)');
    expect(metricAxisTitle('fid')).to.equal('FID');
    expect(metricAxisTitle('something')).to.equal('something');
    const fid = rad.filter((r) => r.metric === 'bpd_total').map((r) => ({ ...r, metric: 'fid', stderr: '' }));
    expect(texts(await metricVsKSvg(fid, { metric: 'fid' }), 'axis-title')).to.include('FID, log scale');
  });

  it('refuses rows of several cases', () => {
    expect(() => metricVsKSpec(rows, { metric: 'bpd_total' })).to.throw(/several cases/);
  });

  it('msEps plot: line over t = 1..N with a ±2·stderr band, titled with model, estimator and M', async () => {
    const a = loadMsEps(join(TOY, 'ms_eps.gmm.json'));
    const svg = await msEpsSvg(a);
    expectBalancedXml(svg);
    expect(texts(svg, 'title-text')).to.deep.equal(['msEps: oracle:gmm8, residual estimator, M = 1000']);
    expect(texts(svg, 'title-subtitle').join(' ')).to.contain('± 2 standard errors');
    expect(texts(svg, 'axis-title')).to.include('timestep t');
    expect(svg).to.contain('band_marks');
    expect(svg).to.contain('msEps_marks');
  });

  it('rendering is deterministic', async () => {
    expect(await metricVsKSvg(rad, { metric: 'bpd_total' })).to.equal(await metricVsKSvg(rad, { metric: 'bpd_total' }));
    const a = loadMsEps(join(TOY, 'ms_eps.json'));
    expect(await msEpsSvg(a)).to.equal(await msEpsSvg(a));
  });

  it('writeReportPlots writes one plot per case × metric and one msEps plot per case (toy results)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'plots-'));
    const files = await writeReportPlots(out, rows, {
      rademacher: loadMsEps(join(TOY, 'ms_eps.json')), gmm: loadMsEps(join(TOY, 'ms_eps.gmm.json')),
    });
    const expected = [
      ...['bpd_total', 'bpd_prior', 'bpd_kl', 'bpd_decoder', 'bpd_total_exact'].map((m) => `plot-rademacher-${m}.svg`),
      ...['bpd_total', 'bpd_prior', 'bpd_kl', 'bpd_decoder'].map((m) => `plot-gmm-${m}.svg`),
      'ms_eps-rademacher.svg', 'ms_eps-gmm.svg',
    ];
    expect(files).to.deep.equal(expected.map((f) => join(out, f)));
    expect(readdirSync(out).sort()).to.deep.equal([...expected].sort()); // no temp files left
    for (const f of files) expect(readFileSync(f, 'utf8').startsWith('<svg')).to.equal(true);
  });

  it('writeReportPlots skips metrics with fewer than 2 K values; writeSvg creates directories', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'plots-')), 'nested');
    const one = rad.filter((r) => r.metric === 'bpd_total' && Number(r.K) === 10);
    expect(await writeReportPlots(out, one)).to.deep.equal([]);
    writeSvg(join(out, 'a.svg'), '<svg/>');
    expect(existsSync(join(out, 'a.svg'))).to.equal(true);
    expect(readdirSync(out)).to.deep.equal(['a.svg']);
  });
});
