/**
 * Zero-copy clone for the wasm backend. tfjs saves every tensor a gradient needs through tensor clones (the
 * Identity kernel); the cpu backend shares the data (reference count), but wasm's Identity copies it, which
 * doubles the memory of a training step and overflows the 4 GB wasm heap at batch 48 (reference UNet).
 * Tensors are immutable, so sharing is safe; this is what Reshape already does on wasm. Process-wide, idempotent.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

let installed = false;

export function installZeroCopyClone(): void {
  if (installed || !tf.getKernel('Identity', 'wasm')) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  installed = true;
}
