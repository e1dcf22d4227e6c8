/**
 * Long-lived worker processes (forkTask starts one process per task; a pool keeps W processes and their state,
 * e.g. a network replica, across many calls). Each worker imports one module once and then runs its exported
 * functions `(args) => result` on request, one request at a time, in arrival order. Arguments and results
 * cross the process boundary by structured clone (advanced serialization: typed arrays are copied, not
 * converted to JSON).
 *
 * Clean-up: close() ends every worker (gracefully, or at once with {force: true}) and resolves only when all of
 * them have exited; a pool that the program forgets to close is killed when the parent exits, and a worker
 * whose parent dies exits when its IPC channel closes. A worker that dies breaks the pool: pending and later
 * calls reject with an error naming the worker, its pid and the exit code or signal.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export type PoolRequest =
  | { type: 'init'; module: string; backend: string }
  | { type: 'call'; id: number; fn: string; args: unknown }
  | { type: 'exit' };

export type PoolReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number | null; message: string };

export interface PoolOptions {
  /** number of worker processes (>= 1) */
  size: number;
  /** absolute path or file URL of the module whose exported functions the workers run */
  module: string;
  /** tfjs backend the workers initialise (e.g. tf.getBackend() of the parent) */
  backend: string;
  /** name used in error messages */
  name?: string;
}

const POOL_WORKER = join(dirname(fileURLToPath(import.meta.url)), 'poolWorker.ts');
/** a graceful close waits this long for a worker to finish its current call before killing it */
const CLOSE_GRACE_MS = 30000;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** One worker process and its outstanding calls. */
class PoolMember {
  readonly pending = new Map<number, Pending>();
  failure: Error | null = null;
  exited = false;
  readonly exit: Promise<void>;
  private ready: Pending | null = null;

  constructor(readonly child: ChildProcess, readonly label: string) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.fail(new Error(`${label} (pid ${child.pid}) exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`));
        resolve();
      });
      child.on('error', (e) => {
        this.fail(new Error(`${label} (pid ${child.pid ?? 'none'}): ${e.message}`));
        if (child.pid === undefined) { // never started: no 'exit' event will follow
          this.exited = true;
          resolve();
        }
      });
    });
    child.on('message', (m: PoolReply) => this.onMessage(m));
  }

  /** Resolves when the worker has imported the module and initialised its backend. */
  started(req: PoolRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve: () => resolve(), reject };
      if (this.failure) reject(this.failure);
      else this.child.send(req);
    });
  }

  call(id: number, fn: string, args: unknown): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'call', id, fn, args } satisfies PoolRequest, (e) => {
        if (e) this.fail(new Error(`${this.label} (pid ${this.child.pid}): cannot send call ${fn}: ${e.message}`));
      });
    });
  }

  /** The first failure sticks: every pending and later call rejects with it. */
  fail(e: Error): void {
    if (!this.failure) this.failure = e;
    this.ready?.reject(this.failure);
    this.ready = null;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  private onMessage(m: PoolReply): void {
    if (m.type === 'ready') {
      this.ready?.resolve(undefined);
      this.ready = null;
    } else if (m.type === 'result') {
      this.pending.get(m.id)?.resolve(m.result);
      this.pending.delete(m.id);
    } else if (m.id === null) {
      this.fail(new Error(`${this.label}: ${m.message}`));
    } else {
      this.pending.get(m.id)?.reject(new Error(`${this.label}: ${m.message}`));
      this.pending.delete(m.id);
    }
  }
}

export class WorkerPool {
  private nextId = 0;
  private closing = false;
  private readonly killOnExit = () => this.kill();

  private constructor(private readonly members: PoolMember[]) {
    process.on('exit', this.killOnExit);
  }

  /** Fork `size` workers, each importing `module`; rejects (after killing them all) if any fails to start. */
  static async start(opts: PoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`worker pool: size must be a positive integer, got ${opts.size}`);
    const name = opts.name ?? 'worker';
    const members = Array.from({ length: opts.size }, (_, k) => new PoolMember(
      fork(POOL_WORKER, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
      `${name} ${k}`,
    ));
    const pool = new WorkerPool(members);
    try {
      await Promise.all(members.map((m) => m.started({ type: 'init', module: opts.module, backend: opts.backend })));
    } catch (e) {
      await pool.close({ force: true });
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.members.length;
  }

  /** Process ids of the workers (for monitoring and tests). */
  get pids(): number[] {
    return this.members.map((m) => m.child.pid!);
  }

  /** Run `fn(args)` in worker k. */
  call<R>(k: number, fn: string, args: unknown): Promise<R> {
    if (this.closing) return Promise.reject(new Error(`worker pool: call ${fn} after close()`));
    const m = this.members[k];
    if (!m) throw new Error(`worker pool: no worker ${k} (size ${this.size})`);
    return m.call(this.nextId++, fn, args) as Promise<R>;
  }

  /** Run `fn(args[k])` in worker k for every k (args.length must equal size); results in worker order. */
  all<R>(fn: string, args: readonly unknown[]): Promise<R[]> {
    if (args.length !== this.size) throw new Error(`worker pool: ${args.length} argument sets for ${this.size} workers`);
    return Promise.all(args.map((a, k) => this.call<R>(k, fn, a)));
  }

  /**
   * End all workers and wait until they have exited. Graceful: each finishes the call it is running (up to
   * 30 s) and exits; force: SIGKILL at once (use on error paths, when a worker may be stuck or mid-step).
   */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    this.closing = true;
    const timers: NodeJS.Timeout[] = [];
    for (const m of this.members) {
      if (m.exited) continue;
      m.fail(new Error(`${m.label}: the pool was closed`));
      if (opts.force || !m.child.connected) {
        m.child.kill('SIGKILL');
        continue;
      }
      m.child.send({ type: 'exit' } satisfies PoolRequest, () => {});
      const t = setTimeout(() => m.child.kill('SIGKILL'), CLOSE_GRACE_MS);
      t.unref();
      timers.push(t);
    }
    await Promise.all(this.members.map((m) => m.exit));
    timers.forEach(clearTimeout);
    process.off('exit', this.killOnExit);
  }

  /** Synchronous last resort (process exit): SIGKILL every live worker. */
  private kill(): void {
    for (const m of this.members) if (!m.exited) m.child.kill('SIGKILL');
  }
}
