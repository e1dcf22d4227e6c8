/** Shared test helpers. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';

/** Run f and assert that it leaves no tensors behind (besides the ones it returns and the caller disposes). */
export async function expectNoLeak(f: () => unknown | Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  const out = await f();
  if (out instanceof tf.Tensor) out.dispose();
  expect(tf.memory().numTensors, 'tensor count after the call').to.equal(before);
}

/** |a - b| <= k * se, with a readable message. */
export function expectWithinSE(actual: number, expected: number, se: number, k = 4, what = 'value'): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected} (se ${se}, allowed ${k} se)`).to.be.at.most(k * se);
}

export function relClose(a: number, b: number, rel: number, what = 'value'): void {
  expect(Math.abs(a - b) / Math.max(Math.abs(b), 1e-300), `${what}: ${a} vs ${b}`).to.be.at.most(rel);
}
