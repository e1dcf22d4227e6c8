/**
 * CIFAR-10 from the official binary release (cifar-10-binary.tar.gz), as [32, 32, 3] (NHWC) images in [-1, 1].
 *
 * Binary format: each file is a sequence of 3073-byte records = 1 label byte (0..9) + 3072 pixel bytes: 1024 R,
 * then 1024 G, then 1024 B, each plane row-major 32x32. Train = data_batch_1.bin .. data_batch_5.bin (10,000
 * records each), test = test_batch.bin (10,000), all inside `cifar-10-batches-bin/` in the archive.
 *
 * Where the data come from: opts.path, else env CIFAR10_PATH, else `data/cifar10` (relative to the working
 * directory). It may be the archive, the `cifar-10-batches-bin` directory, or a directory holding either.
 * An archive is extracted (once) into `<cacheDir or the archive's directory>/cifar-10-batches-bin`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tar from 'tar';
import { LabeledArrayDataset, type LabeledDataset } from './labeled.js';
import { LEVEL_TO_UNIT } from './dataset.js';
import { DownloadError, downloadFile, type DownloadOptions, type DownloadResult } from './download.js';

export type Cifar10Split = 'train' | 'test';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_PAGE = 'https://www.cs.toronto.edu/~kriz/cifar.html';
/** md5 of the official cifar-10-binary.tar.gz, as listed on the CIFAR-10 page */
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_DIR = 'cifar-10-batches-bin';
export const CIFAR10_ENV = 'CIFAR10_PATH';
export const CIFAR10_DEFAULT_PATH = 'data/cifar10';
export const CIFAR10_FILES: Record<Cifar10Split, readonly string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};
export const CIFAR10_SHAPE = [32, 32, 3] as const;
/** bytes per record: 1 label + 32*32*3 pixels */
export const CIFAR10_RECORD_BYTES = 3073;
const PIXELS = 1024;

export interface Cifar10Options {
  /** archive, cifar-10-batches-bin directory, or a directory containing either (else env CIFAR10_PATH, else data/cifar10) */
  path?: string;
  /** where an archive is extracted (default: the archive's directory) */
  cacheDir?: string;
  /** exact number of records each batch file must hold; default 10,000 (the official files); null: any whole number */
  recordsPerFile?: number | null;
}

/** Written into a directory we extracted, so a changed archive triggers re-extraction. */
const MARKER = '.extracted-from.json';

function howToGet(): string {
  return `Download the binary version (${CIFAR10_ARCHIVE}, ~162 MB) from ${CIFAR10_PAGE} ` +
    `(or call downloadCifar10), then pass its path with the \`path\` option or set ${CIFAR10_ENV}=/path/to/${CIFAR10_ARCHIVE} ` +
    `(a path to the extracted ${CIFAR10_DIR}/ directory also works).`;
}

/** The directory holding the batch files, extracting an archive if that is what `path` designates. */
export async function resolveCifar10Dir(opts: Cifar10Options = {}): Promise<string> {
  const [given, from] = opts.path !== undefined ? [opts.path, 'the path option']
    : process.env[CIFAR10_ENV] ? [process.env[CIFAR10_ENV] as string, `env ${CIFAR10_ENV}`]
    : [CIFAR10_DEFAULT_PATH, `the default location (no path option, ${CIFAR10_ENV} unset)`];
  const p = resolve(given);
  if (!existsSync(p)) throw new Error(`CIFAR-10 not found: ${p} (from ${from}) does not exist. ${howToGet()}`);
  if (statSync(p).isFile()) return extractArchive(p, opts.cacheDir);
  const names = readdirSync(p);
  if (names.some((n) => CIFAR10_FILES.train.includes(n) || CIFAR10_FILES.test.includes(n))) return p;
  if (names.includes(CIFAR10_DIR) && statSync(join(p, CIFAR10_DIR)).isDirectory()) return join(p, CIFAR10_DIR);
  if (names.includes(CIFAR10_ARCHIVE)) return extractArchive(join(p, CIFAR10_ARCHIVE), opts.cacheDir);
  throw new Error(`CIFAR-10 not found: ${p} (from ${from}) holds neither ${CIFAR10_DIR}/, ${CIFAR10_ARCHIVE} nor the batch files. ${howToGet()}`);
}

/** Extract `archive` into <cacheDir>/cifar-10-batches-bin via a temp directory and a rename; reuse a matching earlier extraction. */
async function extractArchive(archive: string, cacheDir?: string): Promise<string> {
  const root = resolve(cacheDir ?? dirname(archive));
  const target = join(root, CIFAR10_DIR);
  const st = statSync(archive);
  const stamp = JSON.stringify({ archive, size: st.size, mtimeMs: st.mtimeMs });
  if (existsSync(target)) {
    const marker = join(target, MARKER);
    // no marker: extracted by hand next to the archive, trusted; a marker from another archive: re-extract
    if (!existsSync(marker) || readFileSync(marker, 'utf8') === stamp) return target;
  }
  mkdirSync(root, { recursive: true });
  const tmp = join(root, `.cifar10-extract-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp);
  try {
    try {
      await tar.x({ file: archive, cwd: tmp, strict: true, filter: (path) => path.replace(/^\.\//, '').startsWith(`${CIFAR10_DIR}/`) });
    } catch (e) {
      throw new Error(`CIFAR-10 archive ${archive} is corrupt or not a .tar.gz (${(e as Error).message}). ` +
        `Delete it and download ${CIFAR10_ARCHIVE} again from ${CIFAR10_PAGE}.`, { cause: e });
    }
    const extracted = join(tmp, CIFAR10_DIR);
    if (!existsSync(extracted)) {
      throw new Error(`CIFAR-10 archive ${archive} has no ${CIFAR10_DIR}/ directory: is it the binary version ` +
        `(${CIFAR10_ARCHIVE}, not the python or matlab one)? ${howToGet()}`);
    }
    writeFileSync(join(extracted, MARKER), stamp);
    if (existsSync(target)) {
      // another process may have finished the same extraction meanwhile: keep its copy
      if (existsSync(join(target, MARKER)) && readFileSync(join(target, MARKER), 'utf8') === stamp) return target;
      rmSync(target, { recursive: true, force: true });
    }
    renameSync(extracted, target);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Read one batch file and check its size: a whole number of records, exactly recordsPerFile of them unless null. */
function readBatchBytes(file: string, recordsPerFile: number | null): Buffer {
  if (!existsSync(file)) {
    throw new Error(`CIFAR-10: missing batch file ${basename(file)} in ${dirname(file)} ` +
      `(a complete ${CIFAR10_DIR}/ has ${[...CIFAR10_FILES.train, ...CIFAR10_FILES.test].join(', ')}). ${howToGet()}`);
  }
  const buf = readFileSync(file);
  if (buf.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new Error(`CIFAR-10: ${file} is truncated or corrupt: ${buf.length} bytes is not a multiple of the ` +
      `${CIFAR10_RECORD_BYTES}-byte record (${Math.floor(buf.length / CIFAR10_RECORD_BYTES)} whole records + ` +
      `${buf.length % CIFAR10_RECORD_BYTES} bytes). Re-extract or re-download ${CIFAR10_ARCHIVE}.`);
  }
  const n = buf.length / CIFAR10_RECORD_BYTES;
  if (recordsPerFile !== null && n !== recordsPerFile) {
    const what = n < recordsPerFile ? 'truncated' : 'too large';
    throw new Error(`CIFAR-10: ${file} is ${what}: ${buf.length} bytes = ${n} records, expected ` +
      `${recordsPerFile * CIFAR10_RECORD_BYTES} bytes = ${recordsPerFile} records. Re-extract or re-download ${CIFAR10_ARCHIVE}.`);
  }
  return buf;
}

/** Decode the records of buf into labels[row0..] and NHWC values (planar RGB -> interleaved), checking labels. */
function decodeBatch(buf: Buffer, file: string, labels: Uint8Array, values: Float32Array, row0: number): void {
  const n = buf.length / CIFAR10_RECORD_BYTES;
  for (let r = 0; r < n; r++) {
    const off = r * CIFAR10_RECORD_BYTES;
    if (buf[off] > 9) {
      throw new Error(`CIFAR-10: ${file} is corrupt: record ${r} (byte offset ${off}) has label byte ${buf[off]}, not 0..9.`);
    }
    labels[row0 + r] = buf[off];
    const out = (row0 + r) * 3 * PIXELS;
    for (let c = 0; c < 3; c++) {
      const plane = off + 1 + c * PIXELS;
      for (let p = 0; p < PIXELS; p++) values[out + p * 3 + c] = LEVEL_TO_UNIT[buf[plane + p]];
    }
  }
}

/** One batch file as labels and NHWC float values in [-1, 1], validated (size, record count, labels). */
export function readCifar10Batch(file: string, recordsPerFile: number | null = 10000): { labels: Uint8Array; values: Float32Array } {
  const buf = readBatchBytes(file, recordsPerFile);
  const n = buf.length / CIFAR10_RECORD_BYTES;
  const out = { labels: new Uint8Array(n), values: new Float32Array(n * 3 * PIXELS) };
  decodeBatch(buf, file, out.labels, out.values, 0);
  return out;
}

/** In-process cache keyed by the files' paths, sizes and mtimes (so a changed file is re-read). */
const cache = new Map<string, LabeledArrayDataset>();

/** CIFAR-10 'train' (50,000) or 'test' (10,000) as a labelled [32, 32, 3] data set in [-1, 1]; see the file header for `path`. */
export async function loadCifar10(split: Cifar10Split, opts: Cifar10Options = {}): Promise<LabeledDataset> {
  if (split !== 'train' && split !== 'test') throw new Error(`CIFAR-10: unknown split '${split}' (train | test)`);
  const dir = await resolveCifar10Dir(opts);
  const files = CIFAR10_FILES[split].map((f) => join(dir, f));
  const recordsPerFile = opts.recordsPerFile === undefined ? 10000 : opts.recordsPerFile;
  const key = JSON.stringify([recordsPerFile, files.map((f) => (existsSync(f) ? [f, statSync(f).size, statSync(f).mtimeMs] : [f]))]);
  const hit = cache.get(key);
  if (hit) return hit;
  const bufs = files.map((f) => readBatchBytes(f, recordsPerFile)); // every size checked before the big allocation
  const n = bufs.reduce((a, b) => a + b.length / CIFAR10_RECORD_BYTES, 0);
  const labels = new Uint8Array(n);
  const values = new Float32Array(n * 3 * PIXELS);
  let row = 0;
  bufs.forEach((buf, i) => {
    decodeBatch(buf, files[i], labels, values, row);
    row += buf.length / CIFAR10_RECORD_BYTES;
  });
  const ds = new LabeledArrayDataset(`cifar10-${split}`, CIFAR10_SHAPE, values, [-1, 1], true, labels, 10);
  cache.set(key, ds);
  return ds;
}

/** Forget loaded CIFAR-10 data sets. */
export function clearCifar10Cache(): void {
  cache.clear();
}

/**
 * Download the archive to <destDir>/cifar-10-binary.tar.gz (atomically; skipped if already there) and return its
 * path. When url is the official one and no checksum is given, the official md5 is checked.
 */
export async function downloadCifar10(
  url: string = CIFAR10_URL,
  destDir: string = CIFAR10_DEFAULT_PATH,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  const dest = resolve(destDir, CIFAR10_ARCHIVE);
  const checks = url === CIFAR10_URL && !opts.md5 && !opts.sha256 ? { ...opts, md5: CIFAR10_MD5 } : opts;
  if (existsSync(dest)) {
    const data = readFileSync(dest);
    const have = { sha256: createHash('sha256').update(data).digest('hex'), md5: createHash('md5').update(data).digest('hex') };
    const ok = (!checks.sha256 || checks.sha256.toLowerCase() === have.sha256) && (!checks.md5 || checks.md5.toLowerCase() === have.md5);
    if (ok) return { path: dest, bytes: data.length, ...have };
  }
  try {
    return await downloadFile(url, dest, checks);
  } catch (e) {
    if (e instanceof DownloadError && e.network) {
      throw new Error(`Could not download CIFAR-10 from ${url}: ${e.message}. If this machine has no internet access, ` +
        `download ${CIFAR10_ARCHIVE} manually from ${CIFAR10_PAGE} on another machine, copy it here and pass its path ` +
        `with the \`path\` option or ${CIFAR10_ENV}.`, { cause: e });
    }
    throw e;
  }
}
