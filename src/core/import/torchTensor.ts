/**
 * Tensors of a PyTorch checkpoint: a view (storage offset, size, stride; torch._utils._rebuild_tensor_v2) into a
 * storage that is read lazily from the archive. `values()` gathers the view into a contiguous row-major
 * Float32Array, so transposed, sliced, stepped and expanded tensors come out as PyTorch shows them.
 */
import { SUPPORTED_DTYPES, type TorchDtype } from './torchDtype.js';

export class TorchStorage {
  private cache: Uint8Array | null = null;

  constructor(
    readonly file: string,
    readonly key: string,
    readonly dtype: TorchDtype,
    /** number of elements the persistent id declares */
    readonly numel: number,
    private readonly load: () => Uint8Array,
  ) {}

  bytes(): Uint8Array {
    this.cache ??= this.load();
    return this.cache;
  }
}

export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The tensor as contiguous float32 in row-major order; `name` labels errors. */
  values(name: string): Float32Array {
    const { storage: st, shape, stride, offset } = this;
    const where = `${st.file}: tensor "${name}"`;
    if (!st.dtype.toFloat32) {
      throw new Error(`${where} has dtype ${st.dtype.name} (${st.dtype.storage}); supported: ${SUPPORTED_DTYPES.join(', ')}`);
    }
    const bytes = st.bytes();
    const available = Math.floor(bytes.length / st.dtype.itemSize);
    if (available < st.numel) {
      throw new Error(`${where}: storage data/${st.key} is truncated: ${bytes.length} bytes, ${st.numel} ${st.dtype.name} elements need ${st.numel * st.dtype.itemSize}`);
    }
    const n = this.size;
    if (n === 0) return new Float32Array(0);
    const last = offset + shape.reduce((acc, s, i) => acc + (s - 1) * stride[i], 0);
    if (offset < 0 || stride.some((s) => s < 0) || last >= st.numel) {
      throw new Error(`${where}: view (offset ${offset}, size [${shape}], stride [${stride}]) reaches element ${last} of a storage with ${st.numel}`);
    }
    const flat = st.dtype.toFloat32(bytes, st.numel);
    if (isContiguous(shape, stride)) return flat.slice(offset, offset + n);
    return gather(flat, offset, shape, stride);
  }
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  const c = contiguousStrides(shape);
  return shape.every((s, i) => s === 1 || stride[i] === c[i]);
}

/** out[i0,...,ik] = src[offset + Σ i_j stride_j], iterating like an odometer over the shape. */
function gather(src: Float32Array, offset: number, shape: readonly number[], stride: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let p = offset;
  for (let o = 0; o < n; o++) {
    out[o] = src[p];
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      p += stride[d];
      if (idx[d] < shape[d]) break;
      p -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
