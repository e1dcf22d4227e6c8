/**
 * Backend selection: `auto` takes the fastest backend that loads, in the order
 * tensorflow-gpu (tfjs-node-gpu) > tensorflow (tfjs-node) > wasm > cpu. tfjs-node(-gpu) are optional
 * packages (their install downloads libtensorflow); they are imported only when asked for or under auto.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export const BACKEND_CHOICES = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

const NODE_PACKAGES: Record<'tensorflow' | 'tensorflow-gpu', string> = {
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

async function tryNative(which: 'tensorflow' | 'tensorflow-gpu'): Promise<string | null> {
  try {
    await import(NODE_PACKAGES[which]);
  } catch {
    return null;
  }
  return (await tf.setBackend('tensorflow')) ? 'tensorflow' : null;
}

/** Initialise the requested backend; returns the backend name that runs. Throws a clear error if impossible. */
export async function initBackend(choice: string = 'auto', log: (m: string) => void = () => {}): Promise<string> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`--backend: unknown value "${choice}"; allowed: ${BACKEND_CHOICES.join(', ')}`);
  }
  let name: string | null = null;
  if (choice === 'tensorflow' || choice === 'tensorflow-gpu') {
    name = await tryNative(choice);
    if (!name) {
      throw new Error(
        `--backend ${choice}: package ${NODE_PACKAGES[choice]} is not installed or failed to load ` +
          `(install it with "npm install ${NODE_PACKAGES[choice]}@4.22.0" on a machine with network access), ` +
          `or use --backend wasm`,
      );
    }
  } else if (choice === 'auto') {
    name = (await tryNative('tensorflow-gpu')) ?? (await tryNative('tensorflow'));
    if (!name) name = (await tf.setBackend('wasm')) ? 'wasm' : null;
    if (!name) name = (await tf.setBackend('cpu')) ? 'cpu' : null;
  } else {
    name = (await tf.setBackend(choice)) ? choice : null;
    if (!name) throw new Error(`--backend ${choice}: backend failed to initialise`);
  }
  if (!name) throw new Error('no tfjs backend could be initialised');
  await tf.ready();
  log(`backend: ${tf.getBackend()} (requested ${choice})`);
  return tf.getBackend();
}
