/** Paths and readers of the PyTorch reference fixtures (made by scripts/make-torch-fixtures.py). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torch');

export function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

/** A network fixture: its config, raw network timesteps, and x / reference output in NHWC order. */
export interface NetFixture<C> {
  config: C;
  tNet: number[];
  dtype: 'float32' | 'float16';
  x: { shape: number[]; data: number[] };
  out: { shape: number[]; data: number[] };
  params: number;
}
