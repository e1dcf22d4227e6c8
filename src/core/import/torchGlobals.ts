/**
 * The Python globals a torch checkpoint's pickle refers to, as the unpickler's findClass: collections.OrderedDict
 * (a Map), torch._utils._rebuild_tensor_v2 / _rebuild_tensor (a TorchTensor view), _rebuild_parameter (its data),
 * and the storage classes torch.<Dtype>Storage of the persistent ids (torch/serialization.py). Anything else
 * becomes an opaque object, so unrelated parts of a checkpoint (optimizer state, numpy arrays) still load.
 */
import { type PyCallable, opaqueGlobal } from './pickle.js';
import { dtypeOfStorage, type TorchDtype } from './torchDtype.js';
import { TorchStorage, TorchTensor } from './torchTensor.js';

export interface StorageClass extends PyCallable {
  dtype: TorchDtype;
}

const isNumberList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

function rebuildTensor(file: string, args: unknown[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage) || typeof offset !== 'number' || !isNumberList(size) || !isNumberList(stride) || size.length !== stride.length) {
    throw new Error(`${file}: corrupt tensor record in the pickle (expected storage, offset, size, stride)`);
  }
  return new TorchTensor(storage, offset, size, stride);
}

export function torchGlobals(file: string): (module: string, name: string) => PyCallable {
  const fn = (module: string, name: string, call: (args: unknown[]) => unknown): PyCallable => ({ module, name, call });
  return (module, name) => {
    if (module === 'collections' && name === 'OrderedDict') return fn(module, name, () => new Map());
    if (module === 'torch._utils' && (name === '_rebuild_tensor_v2' || name === '_rebuild_tensor')) return fn(module, name, (a) => rebuildTensor(file, a));
    if (module === 'torch._utils' && (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state')) return fn(module, name, (a) => a[0]);
    if (module === 'torch' && name.endsWith('Storage')) {
      const cls: StorageClass = { ...opaqueGlobal(module, name), dtype: dtypeOfStorage(name) };
      return cls;
    }
    return opaqueGlobal(module, name);
  };
}

/** The storage class of a persistent id, or an error naming the file. */
export function storageClassOf(file: string, cls: unknown, key: unknown): StorageClass {
  if (!cls || !(cls as StorageClass).dtype || typeof key !== 'string') throw new Error(`${file}: corrupt storage record in the pickle (key ${JSON.stringify(key)})`);
  return cls as StorageClass;
}
