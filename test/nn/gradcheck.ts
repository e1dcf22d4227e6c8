/** Helpers for the nn tests: seeded inputs and a reference computed on the cpu backend. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { fillNormal } from '../../src/core/rng.js';

/** Seeded standard normals as a plain array (backend independent). */
export function normals(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  fillNormal(a, 0, n, seed);
  return a;
}

/** Run f on the cpu backend and come back to the current one. */
export async function onCpu<T>(f: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return await f();
  } finally {
    await tf.setBackend(prev);
  }
}

/** max|a-b| <= rel * max|b| (a relative tolerance on the scale of the reference). */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  expect(a.length, `${what}: length`).to.equal(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  expect(Number.isFinite(err), `${what}: finite`).to.equal(true);
  expect(err, `${what}: max|Δ| ${err} vs scale ${scale}`).to.be.at.most(rel * scale + 1e-30);
}
