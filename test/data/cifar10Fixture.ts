/** A tiny CIFAR-10 in the official binary layout (5 train batches of 3 records, a test batch of 2), built at test time. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { CIFAR10_ARCHIVE, CIFAR10_DIR, CIFAR10_FILES, CIFAR10_RECORD_BYTES } from '../../src/core/data/cifar10.js';

export const FIXTURE_TRAIN_RECORDS = 3;
export const FIXTURE_TEST_RECORDS = 2;

/** Known contents: label and pixel level of record r of batch file index f (0..4 train, 5 test), channel c, pixel p = y*32+x. */
export const fixtureLabel = (f: number, r: number) => (f * 3 + r + 1) % 10;
export const fixtureLevel = (f: number, r: number, c: number, p: number) => (f * 31 + r * 7 + c * 85 + p * 3) % 256;

/** One batch file's bytes: per record, label byte then the R, G, B planes (row-major 32x32). */
export function fixtureBatch(f: number, records: number): Buffer {
  const buf = Buffer.alloc(records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    const off = r * CIFAR10_RECORD_BYTES;
    buf[off] = fixtureLabel(f, r);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) buf[off + 1 + c * 1024 + p] = fixtureLevel(f, r, c, p);
  }
  return buf;
}

/** Write <root>/cifar-10-batches-bin/ and <root>/cifar-10-binary.tar.gz; returns both paths. */
export async function writeFixture(root: string): Promise<{ dir: string; archive: string }> {
  const dir = join(root, CIFAR10_DIR);
  mkdirSync(dir, { recursive: true });
  const files = [...CIFAR10_FILES.train, ...CIFAR10_FILES.test];
  files.forEach((name, f) => writeFileSync(join(dir, name), fixtureBatch(f, f < 5 ? FIXTURE_TRAIN_RECORDS : FIXTURE_TEST_RECORDS)));
  writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
  const archive = join(root, CIFAR10_ARCHIVE);
  await tar.c({ gzip: true, file: archive, cwd: root }, [CIFAR10_DIR]);
  return { dir, archive };
}
