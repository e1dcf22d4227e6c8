import { expect } from 'chai';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperiment, experimentNames, DEFS_DIR, quickVersion } from '../../src/experiments/registry.js';

const base = () => JSON.parse(readFileSync(join(DEFS_DIR, 'analytic-dpm-toy.json'), 'utf8'));

function writeSpec(spec: unknown, raw = false): string {
  const p = join(mkdtempSync(join(tmpdir(), 'exp-')), 'bad.json');
  writeFileSync(p, raw ? (spec as string) : JSON.stringify(spec));
  return p;
}

describe('experiment files', () => {
  it('every shipped experiment validates', () => {
    expect(experimentNames()).to.include('analytic-dpm-toy');
    for (const n of experimentNames()) expect(loadExperiment(n).spec.name).to.equal(n);
  });

  it('an unknown experiment name lists the known ones', () => {
    expect(() => loadExperiment('analytic-dpm-nope')).to.throw(/unknown experiment "analytic-dpm-nope"; known experiments: .*analytic-dpm-toy/);
  });

  it('malformed JSON names the file', () => {
    const p = writeSpec('{"name": ', true);
    expect(() => loadExperiment(p)).to.throw(new RegExp(`experiment file ${p} is not valid JSON`));
  });

  it('an unknown field is reported with its path', () => {
    const s = base();
    s.cases[0].nll.imagez = 3;
    const p = writeSpec(s);
    expect(() => loadExperiment(p)).to.throw(/field "cases.0.nll".*imagez/);
  });

  it('a wrong type names the field', () => {
    const s = base();
    s.seed = 'abc';
    expect(() => loadExperiment(writeSpec(s))).to.throw(/field "seed": .*expected number/);
  });

  it('an unknown sampler or variance lists the allowed values', () => {
    const s = base();
    s.cases[0].sweep.methods[1].sampler = 'euler';
    s.cases[0].sweep.methods[2].variance = 'optimal';
    const p = writeSpec(s);
    expect(() => loadExperiment(p)).to.throw(/field "cases.0.sweep.methods.1.sampler".*"ddpm"\|"ddim"/s);
    expect(() => loadExperiment(p)).to.throw(/field "cases.0.sweep.methods.2.variance".*"small"\|"large"\|"analytic"/s);
  });

  it('an empty sweep and K > N are rejected', () => {
    const s = base();
    s.cases[0].sweep.methods = [];
    expect(() => loadExperiment(writeSpec(s))).to.throw(/cases.0.sweep.methods.*at least one method/);
    const t = base();
    t.cases[1].sweep.K = [10, 2000];
    expect(() => loadExperiment(writeSpec(t))).to.throw(/cases.1.sweep.K.1": K = 2000 exceeds the number of diffusion steps N = 1000/);
  });

  it('--set overrides fields (JSON values) and reports bad paths', () => {
    const { spec } = loadExperiment('analytic-dpm-toy', { set: ['cases.0.nll.images=50', 'seed=7'] });
    expect(spec.cases[0].nll.images).to.equal(50);
    expect(spec.seed).to.equal(7);
    expect(() => loadExperiment('analytic-dpm-toy', { set: ['cases.9.nll.images=50'] })).to.throw(/--set cases.9.nll.images=50/);
    expect(() => loadExperiment('analytic-dpm-toy', { set: ['seed'] })).to.throw(/expected key=value/);
  });

  it('--quick reduces K, images and M', () => {
    const q = quickVersion(loadExperiment('analytic-dpm-toy').spec);
    expect(q.cases[0].sweep.K).to.deep.equal([10, 100]);
    expect(q.cases[0].nll.images).to.equal(100);
    expect(q.cases[0].msEps.M).to.equal(20);
  });
});
