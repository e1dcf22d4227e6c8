/**
 * Read a `torch.save` file: the zip format of PyTorch >= 1.6 (torch/serialization.py `_save`; the older format goes
 * to torchLegacy.ts). `<name>/data.pkl` is a pickle whose tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls on
 * persistent ids ('storage', torch.FloatStorage, key, location, numel), with the raw storage bytes in
 * `<name>/data/<key>`. Returns the unpickled object tree with lazy TorchTensor leaves.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { unpickle } from './pickle.js';
import { storageClassOf, torchGlobals } from './torchGlobals.js';
import { readLegacyTorch } from './torchLegacy.js';
import { TorchStorage } from './torchTensor.js';
import { ZipArchive } from './zip.js';

export interface TorchFile {
  file: string;
  root: unknown;
  /** sha256 of the whole file (hex) */
  sha256(): string;
}

/** The first bytes of a pre-1.6 ("legacy") torch.save file: PROTO 2, LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/** Locate `<prefix>data.pkl` (torch names the top folder after the file; "archive" for buffers). */
function findPrefix(zip: ZipArchive, file: string): string {
  const pkl = zip.names().filter((n) => n.endsWith('data.pkl') && (n === 'data.pkl' || /^[^/]+\/data\.pkl$/.test(n)));
  if (pkl.length === 0) {
    throw new Error(`${file}: zip archive without data.pkl (entries: ${zip.names().slice(0, 5).join(', ')}${zip.names().length > 5 ? ', ...' : ''}); not a torch.save checkpoint`);
  }
  return pkl[0].slice(0, pkl[0].length - 'data.pkl'.length);
}

/** Parse a torch.save checkpoint; tensors are read from the archive when their values are asked for. */
export function readTorchFile(path: string): TorchFile {
  if (!existsSync(path)) throw new Error(`${path}: file does not exist`);
  if (!statSync(path).isFile()) throw new Error(`${path}: not a file`);
  const buf = readFileSync(path);
  const sha256 = () => createHash('sha256').update(buf).digest('hex');
  if (buf.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) return { file: path, root: readLegacyTorch(buf, path), sha256 };
  const zip = new ZipArchive(buf, path);
  const prefix = findPrefix(zip, path);
  const order = prefix + 'byteorder';
  if (zip.has(order) && zip.read(order).toString('latin1').trim() !== 'little') {
    throw new Error(`${path}: big-endian checkpoint (${order} says "${zip.read(order).toString('latin1').trim()}"); only little-endian is supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new Error(`${path}: unsupported persistent id ${JSON.stringify(pid)} in data.pkl (expected ('storage', type, key, location, numel))`);
    }
    const [, clsRaw, key, , numel] = pid as [string, unknown, string, string, number];
    const cls = storageClassOf(path, clsRaw, key);
    if (typeof numel !== 'number') throw new Error(`${path}: corrupt storage record in data.pkl (key ${JSON.stringify(key)})`);
    let st = storages.get(key);
    if (!st) {
      const entry = `${prefix}data/${key}`;
      if (!zip.has(entry)) throw new Error(`${path}: storage "${entry}" referenced by data.pkl is missing from the archive`);
      st = new TorchStorage(path, key, cls.dtype, numel, () => zip.read(entry));
      storages.set(key, st);
    }
    return st;
  };
  const root = unpickle(zip.read(prefix + 'data.pkl'), { findClass: torchGlobals(path), persistentLoad }, `${path}: ${prefix}data.pkl`);
  return { file: path, root, sha256 };
}
