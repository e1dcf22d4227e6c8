/**
 * The sde-ode-toy experiment (continuous-time samplers and the ODE likelihood selected by name in an experiment
 * file) on Gaussian data with the exact oracle: every sampler's fid row, and the ODE likelihood against the exact
 * log density of the same test images. Tolerance: 4 standard errors of the reported mean (over images, Hutchinson
 * noise included) plus 0.01 bits/dim for the solver tolerance and the oracle's integer-timestep rounding
 * (src/core/sde/score.ts).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadExperiment } from '../../src/experiments/registry.js';
import { parseExperiment } from '../../src/experiments/schema.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { readRows } from '../../src/experiments/resultsCsv.js';
import { buildCase } from '../../src/experiments/caseSetup.js';

describe('sde-ode-toy: continuous samplers and the ODE likelihood in an experiment file', function () {
  this.timeout(300000);
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'sde-toy-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes a fid row for every sampler and an ODE likelihood within its error of the exact log density', async () => {
    const e = loadExperiment('sde-ode-toy', { quick: true, set: ['quick.K=[10]', 'quick.images=100', 'cases.0.fid.samples=200'] }).spec;
    await runExperiment(e, { outDir: root, backend: tf.getBackend(), file: 'sde-ode-toy.json', workers: 1, log: () => {} });
    const rows = readRows(join(root, 'results.csv'));
    const fid = rows.filter((r) => r.metric === 'fid');
    expect(new Set(fid.map((r) => r.sampler))).to.deep.equal(new Set(['ddpm', 'ddim', 'sde-em', 'sde-pc', 'sde-lambda', 'ode-heun', 'ode-rk45']));
    for (const r of fid) expect(Number(r.value), String(r.method)).to.be.within(0, 2);
    const ode = rows.find((r) => r.metric === 'bpd_ode')!;
    expect(Number(rows.find((r) => r.metric === 'nfe_ode')!.value)).to.be.above(20);
    // exact: x ~ N(0.2, 0.3^2) per dimension
    const setup = await buildCase(e.cases[0], e.seed);
    const x = setup.test.rows(Array.from({ length: 100 }, (_, i) => i));
    const v = x.dataSync();
    x.dispose();
    let nats = 0;
    for (const xi of v) nats += 0.5 * Math.log(2 * Math.PI * 0.09) + (xi - 0.2) ** 2 / (2 * 0.09);
    const exactBpd = nats / v.length / Math.LN2;
    expect(Math.abs(Number(ode.value) - exactBpd)).to.be.below(4 * Number(ode.stderr) + 0.01);
  });

  it('rejects the discrete ELBO on a continuous sampler, ode-nll without ode-rk45, a variance rule and lambda > 1, naming the field', () => {
    const base = loadExperiment('sde-ode-toy').spec as unknown as { cases: Array<{ sweep: { methods: Array<Record<string, unknown>> } }> };
    const withMethod = (m: Record<string, unknown>) => {
      const e = JSON.parse(JSON.stringify(base));
      e.cases[0].sweep.methods = [{ label: 'x', trajectory: 'even', variance: 'small', ...m }];
      return () => parseExperiment(e, 'x.json');
    };
    expect(withMethod({ sampler: 'sde-em', metrics: ['nll'] })).to.throw(/x.json: field "cases.0.sweep.methods.0.metrics": "nll" is the discrete ELBO/);
    expect(withMethod({ sampler: 'ode-heun', metrics: ['ode-nll'] })).to.throw(/"ode-nll" .* needs sampler "ode-rk45"/);
    expect(withMethod({ sampler: 'ode-rk45', variance: 'analytic', metrics: ['fid'] })).to.throw(/methods.0.variance": continuous samplers have no variance rule/);
    expect(withMethod({ sampler: 'sde-lambda', eta: 1.5, metrics: ['fid'] })).to.throw(/methods.0.eta": .* lambda in \[0, 1\]/);
    expect(withMethod({ sampler: 'euler', metrics: ['fid'] })).to.throw(/sampler/);
  });
});
