/**
 * A small eps-network for low-dimensional toy data: x [B, d] and the sinusoidal embedding of the integer timestep
 * are concatenated and passed through `depth` Linear+SiLU layers of width `hidden`, then a Linear back to d.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsModel, Timesteps } from '../model.js';
import { Linear } from './linear.js';
import { ParamStore } from './params.js';
import { silu } from './silu.js';
import { timestepEmbedding, timestepList } from './timestepEmbedding.js';
import { installZeroCopyClone } from './wasmClone.js';

export interface MlpConfig {
  dim: number;
  hidden: number;
  depth: number;
  /** Width of the sinusoidal timestep embedding (even, >= 4). */
  timeEmbDim: number;
}

export class MlpEpsNet implements EpsModel {
  readonly name: string;
  readonly shape: readonly number[];
  readonly timestepInput = 'n' as const;
  readonly params: Map<string, tf.Variable>;
  private readonly layers: Linear[] = [];
  private readonly out: Linear;

  constructor(readonly config: MlpConfig, readonly seed: number, private readonly store = new ParamStore(seed)) {
    const { dim, hidden, depth, timeEmbDim } = config;
    const posInt = (v: number) => Number.isInteger(v) && v > 0;
    if (![dim, hidden, depth].every(posInt) || !(posInt(timeEmbDim) && timeEmbDim >= 4 && timeEmbDim % 2 === 0)) {
      throw new Error(`MlpConfig: dim, hidden, depth must be positive integers and timeEmbDim even >= 4, got ${JSON.stringify(config)}`);
    }
    for (let l = 0; l < depth; l++) this.layers.push(new Linear(store, `hidden.${l}`, l === 0 ? dim + timeEmbDim : hidden, hidden));
    this.out = new Linear(store, 'out', hidden, dim);
    this.params = store.params;
    this.shape = [dim];
    this.name = `mlp(d=${dim},hidden=${hidden},depth=${depth},temb=${timeEmbDim},seed=${seed})`;
  }

  paramCount(): number {
    return this.store.count();
  }

  predictEps(x: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.apply(x, t);
  }

  /** x [B, d] -> eps [B, d] (no dropout, so training and inference coincide). */
  apply(x: tf.Tensor, t: Timesteps, _opts: { training?: boolean } = {}): tf.Tensor2D {
    const { eps, features } = this.applyWithFeatures(x, t);
    features.dispose();
    return eps;
  }

  /** eps [B, d] and the last hidden layer [B, hidden] that the output layer reads (the input of a variance head). */
  applyWithFeatures(x: tf.Tensor, t: Timesteps, _opts: { training?: boolean } = {}): { eps: tf.Tensor2D; features: tf.Tensor2D } {
    if (x.rank !== 2 || x.shape[1] !== this.config.dim) throw new Error(`MlpEpsNet: input shape [${x.shape}] is not [B,${this.config.dim}]`);
    return tf.tidy(() => {
      const e = timestepEmbedding(timestepList(t, x.shape[0]), this.config.timeEmbDim);
      let h = tf.concat([x as tf.Tensor2D, e], 1);
      for (const l of this.layers) h = silu(l.apply(h));
      return { eps: this.out.apply(h), features: h };
    });
  }

  /** Width of the feature vector returned by applyWithFeatures. */
  get featureChannels(): number {
    return this.config.hidden;
  }

  dispose(): void {
    this.store.dispose();
  }
}

export function createMlp(config: MlpConfig, seed: number): MlpEpsNet {
  installZeroCopyClone();
  return new MlpEpsNet(config, seed);
}
