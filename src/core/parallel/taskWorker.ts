/**
 * A child process that runs one exported function: it receives {module, fn, args, backend}, initialises the
 * backend, calls `fn(args, progress)` from `module` and sends the result back. Started by forkTask.
 */
import { initBackend } from '../backend.js';
import type { TaskMessage, TaskRequest } from './forkTask.js';

function send(m: TaskMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(m, (err: Error | null) => (err ? reject(err) : resolve())));
}

async function run(req: TaskRequest): Promise<void> {
  await initBackend(req.backend);
  const mod = await import(req.module);
  if (typeof mod[req.fn] !== 'function') throw new Error(`${req.module} has no exported function ${req.fn}`);
  const result = await mod[req.fn](req.args, (done: number) => void send({ type: 'progress', done }));
  await send({ type: 'result', result });
}

process.once('message', (req: TaskRequest) => {
  run(req).then(
    () => process.exit(0),
    async (e: Error) => {
      await send({ type: 'error', message: e.message }).catch(() => {});
      process.exit(1);
    },
  );
});
