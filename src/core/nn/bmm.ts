/**
 * Batched matrix product C[n] = A[n] B[n] as a depthwise convolution, with its gradient in the same form.
 * On wasm, tf.matMul with a batch axis falls back to a slow loop (~2.7 GFLOP/s, measured at [32,256,64]×[32,64,256]);
 * a depthwise conv whose channel axis is the batch (kernel 1×K, channel multiplier J) runs in XNNPACK and is 3-4× faster.
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './customOp.js';
import { isReferenceMode } from './referenceMode.js';

/**
 * The primitive: inp [I,K,N], filt [K,N,J] -> out [I,N,J], out[i,n,j] = Σ_k inp[i,k,n] filt[k,n,j]
 * (a depthwise conv with batch I, a 1×K kernel, N channels and channel multiplier J). No gradient: use it inside
 * custom gradients only (wasm has no depthwise backprop kernels).
 */
export function contract(inp: tf.Tensor3D, filt: tf.Tensor3D): tf.Tensor3D {
  const [I, K, N] = inp.shape;
  const J = filt.shape[2];
  const y = tf.depthwiseConv2d(inp.reshape([I, 1, K, N]) as tf.Tensor4D, filt.reshape([1, K, N, J]) as tf.Tensor4D, 1, 'valid');
  return y.reshape([I, N, J]);
}

/** contract, then back to the batch-first layout [N,I,J]. */
function contractNIJ(inp: tf.Tensor3D, filt: tf.Tensor3D): tf.Tensor3D {
  return contract(inp, filt).transpose([1, 0, 2]);
}

const bmmOp = customOp(([a, b], save) => {
  save([a, b]);
  return {
    // C[n,i,j] = Σ_k A[n,i,k] B[n,k,j]
    value: contractNIJ(a.transpose([1, 2, 0]) as tf.Tensor3D, b.transpose([1, 0, 2]) as tf.Tensor3D),
    gradFunc: (dc: tf.Tensor, [as, bs]: tf.Tensor[]) => [
      // dA[n,i,k] = Σ_j dC[n,i,j] B[n,k,j]
      contractNIJ(dc.transpose([1, 2, 0]) as tf.Tensor3D, bs.transpose([2, 0, 1]) as tf.Tensor3D),
      // dB[n,k,j] = Σ_i A[n,i,k] dC[n,i,j]
      contractNIJ(as.transpose([2, 1, 0]) as tf.Tensor3D, dc.transpose([1, 0, 2]) as tf.Tensor3D),
    ],
  };
});

/** a [N,I,K], b [N,K,J] -> [N,I,J]; same values as tf.matMul(a, b). */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) throw new Error(`bmm: shapes ${a.shape} and ${b.shape}`);
  return (isReferenceMode() ? tf.matMul(a, b) : bmmOp(a, b)) as tf.Tensor3D;
}
