/**
 * Split a case's per-timestep work over worker processes (wasm is single-threaded in Node, so the second
 * core is used by a second process). Timesteps are dealt round-robin so that shares cost about the same;
 * every (t, image) draw is keyed by its own noise stream, so the result does not depend on the split.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { CaseSpec } from './schema.js';
import type { TermStats } from '../core/likelihood/termStats.js';

export interface CaseJob {
  kind: 'msEps' | 'nllStats';
  case: CaseSpec;
  rootSeed: number;
  backend: string;
  trainHash: string;
  testHash: string;
  timesteps: number[];
  ids?: number[];
  includeDecoder?: boolean;
}

export type WorkerMessage =
  | { type: 'progress'; done: number }
  | { type: 'error'; message: string; stack?: string }
  | { type: 'result'; msEps: number[]; stderr: number[] }
  | { type: 'result'; prior: Float64Array; decoder: Float64Array; terms: Map<number, TermStats> };

export type WorkerResult = Extract<WorkerMessage, { type: 'result' }>;

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'caseWorker.ts');

/** Deal items round-robin into `n` shares. */
export function deal<T>(items: readonly T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: n }, () => []);
  items.forEach((x, i) => shares[i % n].push(x));
  return shares.filter((s) => s.length > 0);
}

/** Run one job in a child process; progress counts are forwarded. */
export function runWorker(job: CaseJob, onProgress: (done: number) => void): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result: WorkerResult | null = null;
    let failure: Error | null = null;
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.done);
      else if (m.type === 'error') failure = new Error(`worker (${job.kind}, case ${job.case.id}): ${m.message}`);
      else result = m;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result) resolve(result);
      else reject(failure ?? new Error(`worker (${job.kind}, case ${job.case.id}) exited with code ${code}`));
    });
    child.send(job);
  });
}

/** Run jobs concurrently and report the summed progress. */
export async function runJobs(jobs: CaseJob[], onProgress: (done: number) => void): Promise<WorkerResult[]> {
  const done = jobs.map(() => 0);
  return Promise.all(jobs.map((job, k) => runWorker(job, (d) => {
    done[k] = d;
    onProgress(done.reduce((a, b) => a + b, 0));
  })));
}
