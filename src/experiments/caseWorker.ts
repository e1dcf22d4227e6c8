/**
 * A worker process for one share of a case's timesteps (msEps or NLL statistics). It rebuilds the case from
 * its declarative spec and the root seed (data, model and noise are deterministic), computes its share and
 * sends the result back over IPC. Started by parallel.ts with `fork`.
 */
import { initBackend } from '../core/backend.js';
import { NoiseSource } from '../core/rng.js';
import { computeNllStats } from '../core/likelihood/termStats.js';
import { estimateMsEps } from '../estimators/msEps.js';
import { buildCase } from './caseSetup.js';
import type { CaseJob, WorkerMessage } from './parallel.js';

function send(m: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));
}

async function run(job: CaseJob): Promise<void> {
  await initBackend(job.backend);
  const setup = buildCase(job.case, job.rootSeed);
  if (setup.train.hash !== job.trainHash || setup.test.hash !== job.testHash) {
    throw new Error(`worker rebuilt different data for case ${job.case.id} (hash mismatch)`);
  }
  const onProgress = (done: number) => void send({ type: 'progress', done });
  if (job.kind === 'msEps') {
    const a = estimateMsEps({
      model: setup.model, schedule: setup.schedule, data: setup.train, M: job.case.msEps.M, seed: setup.seeds.msEps,
      batchSize: job.case.msEps.batchSize, estimator: job.case.msEps.estimator, timesteps: job.timesteps, onProgress,
    });
    await send({ type: 'result', msEps: a.msEps, stderr: a.stderr });
  } else {
    const stats = computeNllStats({
      model: setup.model, schedule: setup.schedule, data: setup.test, ids: job.ids!, timesteps: job.timesteps,
      noise: new NoiseSource(setup.seeds.nll), batchSize: job.case.nll.batchSize, includeDecoder: job.includeDecoder, onProgress,
    });
    await send({ type: 'result', prior: stats.prior, decoder: stats.decoder, terms: stats.terms });
  }
}

process.once('message', (job: CaseJob) => {
  run(job).then(
    () => process.exit(0),
    async (e: Error) => {
      await send({ type: 'error', message: e.message, stack: e.stack }).catch(() => {});
      process.exit(1);
    },
  );
});
