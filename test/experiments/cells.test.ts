import { expect } from 'chai';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperiment, DEFS_DIR } from '../../src/experiments/registry.js';
import { expandCells } from '../../src/experiments/cells.js';
import { makeSchedule } from '../../src/core/schedule.js';

const mnistDef = () => JSON.parse(readFileSync(join(DEFS_DIR, 'analytic-dpm-mnist.json'), 'utf8'));

function load(spec: unknown, quick = false) {
  const p = join(mkdtempSync(join(tmpdir(), 'cells-')), 'exp.json');
  writeFileSync(p, JSON.stringify(spec));
  return loadExperiment(p, { quick }).spec;
}

describe('cells: fid only at fid.K', () => {
  const sch = makeSchedule('linear', 1000);
  const msEps = new Array(1001).fill(0.5);

  it('a method with nll and fid measures fid only at fid.K; fid-only methods have cells only there', () => {
    const s = mnistDef();
    s.cases[0].fid.K = [10, 50];
    const c = load(s).cases[0];
    const cells = expandCells(c, sch, msEps);
    const of = (label: string) => cells.filter((x) => x.method.label === label).map((x) => `${x.K}:${x.metrics.join('+')}`);
    expect(of('ET DDPM, σ²=β̃')).to.deep.equal(['10:nll+fid', '25:nll', '50:nll+fid', '100:nll', '200:nll', '1000:nll']);
    expect(of('OT Analytic-DDPM')).to.deep.equal(['10:nll', '25:nll', '50:nll', '100:nll', '200:nll', '1000:nll']);
    expect(of('ET DDIM')).to.deep.equal(['10:fid', '50:fid']);
  });

  it('without fid.K every K gets fid', () => {
    const s = mnistDef();
    delete s.cases[0].fid.K;
    const cells = expandCells(load(s).cases[0], sch, msEps);
    expect(cells.filter((x) => x.method.label === 'ET DDIM').map((x) => x.K)).to.deep.equal([10, 25, 50, 100, 200, 1000]);
  });

  it('fid.K outside the sweep is an error naming the field', () => {
    const s = mnistDef();
    s.cases[0].fid.K = [10, 30];
    expect(() => load(s)).to.throw(/field "cases.0.fid.K.1": K = 30 is not in the sweep's K/);
  });

  it('--quick keeps the fid.K members among the quick K (else the smallest quick K)', () => {
    const s = mnistDef();
    s.quick.K = [10, 25];
    s.cases[0].fid.K = [25, 50];
    expect(load(s, true).cases[0].fid!.K).to.deep.equal([25]);
    s.cases[0].fid.K = [50];
    expect(load(s, true).cases[0].fid!.K).to.deep.equal([10]);
  });
});

describe('grid file names', () => {
  it('keep the labels of the σ²=β̃ and σ²=β rows apart', async () => {
    const { labelSlug } = await import('../../src/experiments/fidCell.js');
    expect(labelSlug('ET DDPM, σ²=β̃')).to.equal('ET-DDPM-sigma2-beta-tilde');
    expect(labelSlug('ET DDPM, σ²=β')).to.equal('ET-DDPM-sigma2-beta');
    expect(labelSlug('ET Analytic-DDIM')).to.equal('ET-Analytic-DDIM');
  });
});
