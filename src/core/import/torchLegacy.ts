/**
 * The pre-1.6 torch.save format (torch/serialization.py `_legacy_save`): consecutive pickles of the magic number
 * 0x1950a86a20f9469cfc6c, the protocol version 1001, sys_info, the object (persistent ids ('storage', type,
 * key, location, numel, view_metadata)) and the list of storage keys, followed for each key by its element
 * count as int64 and its raw little-endian bytes. pytorch_diffusion's converted checkpoints use this format.
 */
import { type UnpickleHooks, unpickleFrom } from './pickle.js';
import { storageClassOf, torchGlobals } from './torchGlobals.js';
import { TorchStorage } from './torchTensor.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;

/** Parse a legacy checkpoint held in `buf`; returns the object tree with lazy tensor leaves. */
export function readLegacyTorch(buf: Buffer, file: string): unknown {
  const where = `${file} (legacy torch.save format)`;
  const findClass = torchGlobals(file);
  const plain: UnpickleHooks = { findClass, persistentLoad: () => { throw new Error(`${where}: unexpected persistent id in the header`); } };
  let pos = 0;
  const next = (hooks = plain) => {
    const r = unpickleFrom(buf, pos, hooks, where);
    pos = r.end;
    return r.value;
  };
  const magic = next();
  if (BigInt(magic as number | bigint) !== MAGIC) throw new Error(`${where}: bad magic number`);
  const protocol = next();
  if (protocol !== 1001) throw new Error(`${where}: unsupported protocol version ${String(protocol)} (expected 1001)`);
  const sysInfo = next();
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw new Error(`${where}: big-endian checkpoint; only little-endian is supported`);
  // Storages are declared by the object pickle and their bytes located after the key list.
  const declared = new Map<string, { cls: ReturnType<typeof storageClassOf>; numel: number; views: TorchStorage[] }>();
  const bytesOf = new Map<string, Uint8Array>();
  const load = (key: string) => () => {
    const b = bytesOf.get(key);
    if (!b) throw new Error(`${where}: storage ${key} has no data`);
    return b;
  };
  const persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`${where}: unsupported persistent id ${JSON.stringify(pid)}`);
    const [, clsRaw, key, , numel, view] = pid as [string, unknown, string, string, number, unknown];
    const cls = storageClassOf(file, clsRaw, key);
    if (!declared.has(key)) declared.set(key, { cls, numel, views: [] });
    if (Array.isArray(view)) {
      // (view_key, offset, view_size): a storage view of older torch versions
      const [, offset, size] = view as [string, number, number];
      return new TorchStorage(file, key, cls.dtype, size, () => load(key)().subarray(offset * cls.dtype.itemSize, (offset + size) * cls.dtype.itemSize));
    }
    return new TorchStorage(file, key, cls.dtype, numel, load(key));
  };
  const root = next({ findClass, persistentLoad });
  const keys = next();
  if (!Array.isArray(keys)) throw new Error(`${where}: corrupt storage key list`);
  for (const key of keys as string[]) {
    const d = declared.get(key);
    if (!d) throw new Error(`${where}: storage ${key} is listed but not used`);
    if (pos + 8 > buf.length) throw new Error(`${where}: truncated: storage ${key} starts past the end of the file (${buf.length} bytes)`);
    const numel = Number(buf.readBigInt64LE(pos));
    pos += 8;
    const nbytes = numel * d.cls.dtype.itemSize;
    if (pos + nbytes > buf.length) throw new Error(`${where}: truncated: storage ${key} needs bytes up to ${pos + nbytes}, the file has ${buf.length}`);
    bytesOf.set(key, buf.subarray(pos, pos + nbytes));
    pos += nbytes;
  }
  return root;
}
