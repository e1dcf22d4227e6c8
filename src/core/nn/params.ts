/**
 * Named trainable parameters with deterministic PyTorch-default initialisation from one seed.
 * Each tensor's values depend only on (seed, name), never on creation order or backend:
 * conv/linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)),
 * norm scales 1 and shifts 0, embedding tables ~ N(0, 1) (torch.nn.Embedding).
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, fillNormal, sfc32 } from '../rng.js';

export class ParamStore {
  readonly params = new Map<string, tf.Variable>();

  constructor(readonly seed: number) {}

  private add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.params.has(name)) throw new Error(`parameter ${name} defined twice`);
    // tfjs variable names are global: keep ours in the Map only, so several networks can coexist.
    const init = tf.tensor(values, shape, 'float32');
    const v = tf.variable(init, true);
    init.dispose();
    this.params.set(name, v);
    return v;
  }

  /** U(-bound, bound), seeded by (seed, name). */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const u = sfc32(deriveSeed(this.seed, 'param', name));
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * u() - 1) * bound;
    return this.add(name, shape, a);
  }

  /** N(0, std^2), seeded by (seed, name). */
  normal(name: string, shape: number[], std = 1): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    fillNormal(a, 0, n, deriveSeed(this.seed, 'param', name));
    for (let i = 0; i < n; i++) a[i] *= std;
    return this.add(name, shape, a);
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));
  }

  get(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`unknown parameter ${name}`);
    return v;
  }

  /** Total number of scalars. */
  count(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** PyTorch's default bound for Conv2d/Linear weights and biases: 1/sqrt(fan_in). */
export const torchBound = (fanIn: number): number => 1 / Math.sqrt(fanIn);
