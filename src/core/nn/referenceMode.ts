/**
 * Switch every nn op to its plain tfjs form with built-in autodiff (tf.conv2d, tf.matMul, tf.moments, ...), to
 * check the hand-written gradients against tfjs' own on the cpu backend (most built-in gradients fail on wasm).
 */
let reference = false;

export function isReferenceMode(): boolean {
  return reference;
}

/** Run f with the reference ops (synchronous or async); restores the previous mode afterwards. */
export async function withReferenceOps<T>(f: () => T | Promise<T>): Promise<T> {
  const prev = reference;
  reference = true;
  try {
    return await f();
  } finally {
    reference = prev;
  }
}
