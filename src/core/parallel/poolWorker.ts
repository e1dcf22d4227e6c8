/**
 * A long-lived worker process of a WorkerPool: on `init` it initialises the backend and imports the module;
 * then it runs `call`s one at a time, in arrival order, until `exit` or until the parent goes away.
 * SIGINT and SIGTERM are ignored: a Ctrl-C (sent to the whole process group) or a group-wide SIGTERM must reach
 * the parent, which finishes the current step (for which it needs its workers), checkpoints and closes the pool.
 */
import { initBackend } from '../backend.js';
import type { PoolReply, PoolRequest } from './workerPool.js';

type Module = Record<string, unknown>;

let mod: Module | null = null;
let queue: Promise<void> = Promise.resolve();

function send(m: PoolReply): Promise<void> {
  return new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));
}

async function init(req: Extract<PoolRequest, { type: 'init' }>): Promise<void> {
  try {
    await initBackend(req.backend);
    mod = (await import(req.module)) as Module;
    await send({ type: 'ready' });
  } catch (e) {
    await send({ type: 'error', id: null, message: `cannot start: ${(e as Error).message}` }).catch(() => {});
    process.exit(1);
  }
}

async function call(req: Extract<PoolRequest, { type: 'call' }>): Promise<void> {
  try {
    if (!mod) throw new Error('call before init');
    const f = mod[req.fn];
    if (typeof f !== 'function') throw new Error(`the module has no exported function ${req.fn}`);
    const result = await f(req.args);
    await send({ type: 'result', id: req.id, result });
  } catch (e) {
    await send({ type: 'error', id: req.id, message: `${req.fn}: ${(e as Error).message}` }).catch(() => {});
  }
}

function handle(req: PoolRequest): Promise<void> {
  if (req.type === 'init') return init(req);
  if (req.type === 'call') return call(req);
  process.exit(0);
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (req: PoolRequest) => {
  queue = queue.then(() => handle(req));
});
