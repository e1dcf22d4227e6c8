/**
 * Run exported functions in child processes (wasm is single-threaded in Node, so the second core is used by a
 * second process). A task is a module path, an exported function `(args, progress) => result` and its args;
 * args and results cross the process boundary by structured clone (typed arrays and Maps included).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface TaskRequest {
  /** absolute path or file URL of the module */
  module: string;
  fn: string;
  args: unknown;
  backend: string;
}

export type TaskMessage = { type: 'progress'; done: number } | { type: 'error'; message: string } | { type: 'result'; result: unknown };

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'taskWorker.ts');

/** Deal items round-robin into at most `n` non-empty shares. */
export function deal<T>(items: readonly T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: n }, () => []);
  items.forEach((x, i) => shares[i % n].push(x));
  return shares.filter((s) => s.length > 0);
}

/**
 * Undo `deal` for row data: rows[k] holds the d-wide rows of shares[k] in share order; the result holds the rows
 * of all items in the order of `items`.
 */
export function undealRows<T>(items: readonly T[], shares: readonly (readonly T[])[], rows: readonly Float32Array[], d: number): Float32Array {
  const pos = new Map(items.map((x, i) => [x, i]));
  const out = new Float32Array(items.length * d);
  shares.forEach((share, k) => share.forEach((x, j) => out.set(rows[k].subarray(j * d, (j + 1) * d), pos.get(x)! * d)));
  return out;
}

/** Run one task in a child process; progress counts are forwarded. */
export function forkTask<R>(req: TaskRequest, onProgress: (done: number) => void = () => {}): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result: { value: R } | null = null;
    let failure: Error | null = null;
    child.on('message', (m: TaskMessage) => {
      if (m.type === 'progress') onProgress(m.done);
      else if (m.type === 'error') failure = new Error(`worker ${req.fn}: ${m.message}`);
      else result = { value: m.result as R };
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result) resolve(result.value);
      else reject(failure ?? new Error(`worker ${req.fn} exited with code ${code}`));
    });
    child.send(req);
  });
}

/** Run tasks concurrently and report the summed progress. */
export async function forkTasks<R>(reqs: TaskRequest[], onProgress: (done: number) => void = () => {}): Promise<R[]> {
  const done = reqs.map(() => 0);
  return Promise.all(reqs.map((req, k) => forkTask<R>(req, (d) => {
    done[k] = d;
    onProgress(done.reduce((a, b) => a + b, 0));
  })));
}
