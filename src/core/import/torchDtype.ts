/**
 * PyTorch storage classes (torch.FloatStorage, torch.HalfStorage, ...; the storage type in a checkpoint's
 * persistent ids, torch/serialization.py) and their conversion to float32. Raw storages are little-endian.
 */

export interface TorchDtype {
  /** the storage class name, e.g. "FloatStorage" */
  storage: string;
  /** the torch dtype name, e.g. "float32" */
  name: string;
  itemSize: number;
  /** convert `count` little-endian elements at `bytes` to float32; null = unsupported */
  toFloat32: ((bytes: Uint8Array, count: number) => Float32Array) | null;
}

/** IEEE 754 binary16 -> float32 (exact: every half value is a float32 value). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function fromFloat32(bytes: Uint8Array, count: number): Float32Array {
  // Copy: the zip buffer is not 4-byte aligned in general.
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes.subarray(0, 4 * count));
  return out;
}

function fromFloat16(bytes: Uint8Array, count: number): Float32Array {
  const v = view(bytes), out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
  return out;
}

function fromBfloat16(bytes: Uint8Array, count: number): Float32Array {
  const v = view(bytes), out = new Float32Array(count), u = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) u[i] = v.getUint16(2 * i, true) << 16;
  return out;
}

function fromFloat64(bytes: Uint8Array, count: number): Float32Array {
  const v = view(bytes), out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = v.getFloat64(8 * i, true);
  return out;
}

const DTYPES: TorchDtype[] = [
  { storage: 'FloatStorage', name: 'float32', itemSize: 4, toFloat32: fromFloat32 },
  { storage: 'HalfStorage', name: 'float16', itemSize: 2, toFloat32: fromFloat16 },
  { storage: 'BFloat16Storage', name: 'bfloat16', itemSize: 2, toFloat32: fromBfloat16 },
  { storage: 'DoubleStorage', name: 'float64', itemSize: 8, toFloat32: fromFloat64 },
  { storage: 'LongStorage', name: 'int64', itemSize: 8, toFloat32: null },
  { storage: 'IntStorage', name: 'int32', itemSize: 4, toFloat32: null },
  { storage: 'ShortStorage', name: 'int16', itemSize: 2, toFloat32: null },
  { storage: 'CharStorage', name: 'int8', itemSize: 1, toFloat32: null },
  { storage: 'ByteStorage', name: 'uint8', itemSize: 1, toFloat32: null },
  { storage: 'BoolStorage', name: 'bool', itemSize: 1, toFloat32: null },
  { storage: 'ComplexFloatStorage', name: 'complex64', itemSize: 8, toFloat32: null },
  { storage: 'ComplexDoubleStorage', name: 'complex128', itemSize: 16, toFloat32: null },
];

export const SUPPORTED_DTYPES = DTYPES.filter((d) => d.toFloat32).map((d) => d.name);

/** The dtype of a storage class name, or an unsupported placeholder for classes this reader does not know. */
export function dtypeOfStorage(storage: string): TorchDtype {
  return DTYPES.find((d) => d.storage === storage) ?? { storage, name: storage, itemSize: 1, toFloat32: null };
}
