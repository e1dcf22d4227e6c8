/**
 * The `ode-nll` metric: the model's likelihood by the probability-flow ODE of the VP SDE matching the case's
 * schedule (Song et al. ICLR 2021, App. D.2; src/core/sde/likelihood.ts), on the first nll.images test images,
 * with uniform dequantisation for 8-bit data (bits/dim of the discrete data, src/core/sde/dequantise.ts) and none for
 * continuous toy data. It does not depend on K: measured once per method, at the sweep's first K. Rows: bpd_ode
 * (mean over images ± its standard error, which includes the Hutchinson probes' noise) and nfe_ode (the RK45 solver's
 * function evaluations per batch, averaged over batches).
 */
import * as tf from '@tensorflow/tfjs';
import { NoiseSource } from '../core/rng.js';
import { vpSdeForSchedule } from '../core/sde/vp.js';
import { scoreFromEpsModel } from '../core/sde/score.js';
import { odeLogLikelihood } from '../core/sde/likelihood.js';
import { bitsPerDim, uniformDequantise } from '../core/sde/dequantise.js';
import type { CaseSetup } from './caseSetup.js';
import { ODE_NLL_DEFAULTS, type CaseSpec } from './schema.js';

export interface OdeNllResult {
  bpd: { mean: number; stderr: number; n: number };
  nfe: number;
}

/** Mean and standard error of per-image values. */
function meanStderr(v: Float64Array): { mean: number; stderr: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const varSum = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, stderr: n > 1 ? Math.sqrt(varSum / (n - 1) / n) : NaN };
}

export function odeNllOfCase(c: CaseSpec, setup: CaseSetup, progress: (done: number, total: number) => void = () => {}): OdeNllResult {
  const opts = c.odeNll ?? ODE_NLL_DEFAULTS;
  const sde = vpSdeForSchedule(setup.schedule);
  const score = scoreFromEpsModel(setup.model, sde, { schedule: setup.schedule });
  const noise = new NoiseSource(setup.seeds.nll);
  const n = c.nll.images;
  const B = c.nll.batchSize;
  const bpd = new Float64Array(n);
  let nfe = 0;
  let batches = 0;
  for (let b0 = 0; b0 < n; b0 += B) {
    const ids = Array.from({ length: Math.min(B, n - b0) }, (_, j) => b0 + j);
    const x0 = setup.test.rows(ids);
    const y = setup.test.discrete ? uniformDequantise(x0, noise, ids) : x0;
    try {
      const r = odeLogLikelihood(sde, score, y, { noise, ids, probes: opts.probes, rtol: opts.rtol, atol: opts.atol });
      r.logp.forEach((lp, j) => (bpd[b0 + j] = bitsPerDim(lp, setup.d, setup.test.discrete ? 'uniform' : 'none')));
      nfe += r.nfe;
      batches += 1;
    } finally {
      tf.dispose(y === x0 ? [x0] : [x0, y]);
    }
    progress(b0 + ids.length, n);
  }
  return { bpd: { ...meanStderr(bpd), n }, nfe: nfe / batches };
}
