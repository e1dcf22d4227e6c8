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

  describe('CIFAR-10 cases', () => {
    const cifar = () => JSON.parse(readFileSync(join(DEFS_DIR, 'analytic-dpm-cifar.json'), 'utf8'));
    const fails = (edit: (s: ReturnType<typeof cifar>) => void, ...patterns: RegExp[]) => {
      const s = cifar();
      edit(s);
      const p = writeSpec(s);
      let msg = '';
      try {
        loadExperiment(p);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg, 'expected an error').to.include(p);
      for (const re of patterns) expect(msg).to.match(re);
    };

    it('the shipped CIFAR-10 experiments are the paper\'s settings', () => {
      for (const [name, schedule, clip] of [['analytic-dpm-cifar', 'linear', 2], ['analytic-dpm-cifar-cs', 'cosine', 1]] as const) {
        const c = loadExperiment(name).spec.cases[0];
        expect(c.data).to.deep.equal({ kind: 'cifar10' });
        expect(c.schedule).to.deep.equal({ name: schedule, N: 1000 });
        expect(c.model.kind).to.equal('checkpoint');
        expect([c.nll.images, c.fid!.samples, c.fid!.reference]).to.deep.equal([10000, 50000, 'train']);
        expect(c.sweep.K).to.deep.equal([10, 25, 50, 100, 200, 400, 1000]);
        const m = (label: string) => c.sweep.methods.find((x) => x.label === label)!;
        expect(m('ET Analytic-DDPM').clipPixel).to.equal(clip);
        expect(m('ET Analytic-DDIM').clipPixel).to.equal(1);
        expect(m('OT Analytic-DDPM').metrics).to.deep.equal(['nll']);
        expect(m('ET DDIM').metrics).to.deep.equal(['fid']);
      }
    });

    it('an unknown data kind lists the allowed kinds', () => {
      fails((s) => { s.cases[0].data.kind = 'cifar100'; }, /field "cases.0.data.kind".*'mnist' \| 'cifar10'/);
    });

    it('an unknown CIFAR-10 field lists the allowed fields', () => {
      fails((s) => { s.cases[0].data.split = 'test'; }, /field "cases.0.data": .*split.*allowed fields: kind, path, recordsPerFile/);
      fails((s) => { s.cases[0].fid.inceptionPath = 'x'; }, /field "cases.0.fid": .*inceptionPath.*allowed fields: .*referenceImages, inception/);
    });

    it('wrong types and values name the field', () => {
      fails((s) => { s.cases[0].data.path = 5; }, /field "cases.0.data.path": .*expected string/);
      fails((s) => { s.cases[0].data.recordsPerFile = { train: 'x', test: 0 }; }, /field "cases.0.data.recordsPerFile.train": .*expected number/, /field "cases.0.data.recordsPerFile.test": .*>0/);
      fails((s) => { s.cases[0].fid.inception = ''; }, /field "cases.0.fid.inception": .*>=1 characters/);
    });

    it('sizes are checked against the splits (50,000 train / 10,000 test, or recordsPerFile)', () => {
      fails((s) => { s.cases[0].nll.images = 10001; }, /field "cases.0.nll.images": 10001 exceeds the 10000 test rows/);
      fails((s) => { s.cases[0].msEps.M = 50001; }, /field "cases.0.msEps.M": M = 50001 exceeds the 50000 training rows/);
      fails((s) => { s.cases[0].fid.referenceImages = 50001; }, /field "cases.0.fid.referenceImages": 50001 exceeds the 50000 rows of the train split/);
      fails((s) => { s.cases[0].data.recordsPerFile = { train: 3, test: 2 }; s.cases[0].nll.images = 3; s.cases[0].msEps.M = 15; }, /field "cases.0.nll.images": 3 exceeds the 2 test rows/);
    });

    it('no oracle model, and Inception weights only for CIFAR-10', () => {
      fails((s) => { s.cases[0].model = { kind: 'oracle' }; }, /field "cases.0.model.kind": CIFAR-10 has no exact oracle; use "empirical" or "checkpoint"/);
      const t = base();
      t.cases[0].sweep.methods[0].metrics = ['nll', 'fid'];
      t.cases[0].fid = { samples: 10, inception: 'x' };
      expect(() => loadExperiment(writeSpec(t))).to.throw(/field "cases.0.fid.inception": only data kind "cifar10" uses Inception features/);
    });

    it('--quick keeps the splits and uses quick.images samples, test images and reference images', () => {
      const q = loadExperiment('analytic-dpm-cifar', { quick: true }).spec.cases[0];
      const { quick } = loadExperiment('analytic-dpm-cifar').spec;
      expect(q.data).to.deep.equal({ kind: 'cifar10' });
      expect(q.sweep.K).to.deep.equal(quick.K);
      expect([q.nll.images, q.fid!.samples, q.fid!.referenceImages, q.msEps.M]).to.deep.equal([quick.images, quick.images, quick.images, quick.M]);
      // MNIST keeps its full reference split under --quick
      expect(loadExperiment('analytic-dpm-mnist', { quick: true }).spec.cases[0].fid!.referenceImages).to.equal(undefined);
    });
  });

  it('--quick reduces K, images and M', () => {
    const q = quickVersion(loadExperiment('analytic-dpm-toy').spec);
    expect(q.cases[0].sweep.K).to.deep.equal([10, 100]);
    expect(q.cases[0].nll.images).to.equal(100);
    expect(q.cases[0].msEps.M).to.equal(20);
  });
});
