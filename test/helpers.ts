/** Shared test helpers. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { fillNormal } from '../src/core/rng.js';

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

/** Add N(0, scale^2) noise to every variable in order, the k-th seeded by seed + k, so a fresh network's outputs are not trivial. */
export function perturbParams(params: Map<string, tf.Variable>, scale: number, seed: number): void {
  let k = 0;
  for (const v of params.values()) {
    const noise = new Float32Array(v.size);
    fillNormal(noise, 0, noise.length, seed + k++);
    const t = tf.tidy(() => tf.add(v, tf.mul(tf.tensor(noise, v.shape), scale)));
    v.assign(t);
    t.dispose();
  }
}
