import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '../../src/core/schedule.js';
import { gaussianDataset, rademacherDataset } from '../../src/core/data/toy.js';
import { GaussianOracle } from '../../src/estimators/oracles/gaussianOracle.js';
import { RademacherOracle } from '../../src/estimators/oracles/rademacherOracle.js';
import { estimateMsEps } from '../../src/estimators/msEps.js';
import { saveMsEps, loadMsEps } from '../../src/estimators/msEpsArtifact.js';
import { rademacherMsEps } from '../../src/estimators/rademacherReference.js';
import { expectNoLeak, expectWithinSE } from '../helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('msEps Monte Carlo estimator', () => {
  const sch = makeSchedule('linear', 40);

  it('Gaussian oracle: msEps matches bbar/(abar s^2 + bbar) within its standard error', () => {
    const std = 0.5;
    const shape = [16];
    const data = gaussianDataset(400, shape, 0.1, std, 7);
    const oracle = new GaussianOracle(shape, sch, 0.1, std);
    const a = estimateMsEps({ model: oracle, schedule: sch, data, M: 400, seed: 3 });
    expect(a.msEps.length).to.equal(41);
    expect(a.msEps[0]).to.equal(0);
    let z2 = 0;
    for (let t = 1; t <= 40; t++) {
      const exact = sch.bbar[t] / (sch.abar[t] * std * std + sch.bbar[t]);
      expectWithinSE(a.msEps[t], exact, a.stderr[t], 4.5, `msEps[${t}]`);
      z2 += ((a.msEps[t] - exact) / a.stderr[t]) ** 2;
    }
    // chi-square with 40 dof: mean 40, sd 9; a wrong formula or wrong stderr lands far outside
    expect(z2).to.be.within(10, 90);
  });

  it('Rademacher oracle: msEps matches the 1-D quadrature reference within its standard error', () => {
    const shape = [8, 8, 3];
    const data = rademacherDataset(200, shape, 11);
    const oracle = new RademacherOracle(shape, sch);
    const a = estimateMsEps({ model: oracle, schedule: sch, data, M: 200, seed: 5, batchSize: 97 });
    const ref = rademacherMsEps(sch);
    let z2 = 0;
    for (let t = 1; t <= 40; t++) {
      expectWithinSE(a.msEps[t], ref[t], a.stderr[t], 5.5, `msEps[${t}]`);
      z2 += ((a.msEps[t] - ref[t]) / a.stderr[t]) ** 2;
    }
    expect(z2).to.be.within(10, 90); // chi-square, 40 dof
  });

  it('standard errors shrink as 1/sqrt(M)', () => {
    const shape = [4];
    const data = gaussianDataset(1600, shape, 0, 0.3, 1);
    const oracle = new GaussianOracle(shape, sch, 0, 0.3);
    const small = estimateMsEps({ model: oracle, schedule: sch, data, M: 100, seed: 9 });
    const big = estimateMsEps({ model: oracle, schedule: sch, data, M: 1600, seed: 9 });
    let ratio = 0;
    for (let t = 5; t <= 40; t++) ratio += small.stderr[t] / big.stderr[t] / 36;
    expect(ratio).to.be.within(3.4, 4.6); // sqrt(1600/100) = 4
  });

  it('is reproducible from its seed and independent of the batch size', () => {
    const shape = [8, 8, 3];
    const data = rademacherDataset(50, shape, 2);
    const oracle = new RademacherOracle(shape, sch);
    const a = estimateMsEps({ model: oracle, schedule: sch, data, M: 20, seed: 4, batchSize: 7 });
    const b = estimateMsEps({ model: oracle, schedule: sch, data, M: 20, seed: 4, batchSize: 64 });
    for (let t = 1; t <= 40; t++) expect(a.msEps[t]).to.be.closeTo(b.msEps[t], 1e-6);
  });

  it('does not leak tensors', async () => {
    const shape = [8];
    const data = gaussianDataset(30, shape, 0, 1, 3);
    const oracle = new GaussianOracle(shape, sch, 0, 1);
    await expectNoLeak(() => estimateMsEps({ model: oracle, schedule: sch, data, M: 30, seed: 1 }));
  });

  it('rejects M larger than the data set', () => {
    const data = gaussianDataset(10, [2], 0, 1, 3);
    expect(() => estimateMsEps({ model: new GaussianOracle([2], sch, 0, 1), schedule: sch, data, M: 11, seed: 1 }))
      .to.throw(/M = 11 exceeds the data set size 10/);
  });

  it('artifacts round-trip, and a file of the wrong length or kind gives a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mseps-'));
    const data = gaussianDataset(10, [2], 0, 1, 3);
    const a = estimateMsEps({ model: new GaussianOracle([2], sch, 0, 1), schedule: sch, data, M: 10, seed: 1 });
    const p = join(dir, 'ms_eps.json');
    saveMsEps(p, a);
    expect(loadMsEps(p, { N: 40 }).msEps).to.deep.equal(a.msEps);
    expect(() => loadMsEps(p, { N: 1000 })).to.throw(/msEps has 41 entries, expected N\+1 = 1001/);
    writeFileSync(p, '{"msEps": [0, 0.5]');
    expect(() => loadMsEps(p)).to.throw(/not valid JSON/);
    writeFileSync(p, '{"N": 3}');
    expect(() => loadMsEps(p)).to.throw(/field "msEps"/);
    expect(() => loadMsEps(join(dir, 'nope.json'))).to.throw(/does not exist/);
    expect(tf.memory().numTensors).to.be.a('number');
  });
});
