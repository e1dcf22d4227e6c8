/**
 * A noise-aware classifier p(y | x_t, t) for classifier guidance (Dhariwal & Nichol 2021 §4.1: a classifier trained
 * on noisy x_t with the timestep as input). Two bodies, both conditioned on the sinusoidal timestep embedding passed
 * through Linear-SiLU-Linear-SiLU (as the UNet's):
 *   conv (images, NHWC): [conv3x3 (stride 1 first, then 2) -> GroupNorm -> + Linear(temb) -> SiLU]_i ->
 *        global average pool -> Linear(numClasses);
 *   mlp  (toy data [B, d]): [x, temb] -> [Linear -> SiLU] x depth -> Linear(numClasses).
 * A TrainableNet (arch kind "noisy-classifier") whose `apply` returns logits [B, numClasses], trained by the cross-
 * entropy of src/core/train/classifierLoss.ts; it is not an eps-model (predictEps is an error).
 */
import * as tf from '@tensorflow/tfjs';
import type { Timesteps } from '../model.js';
import type { NoiseAwareClassifier } from '../guidance/noiseAwareClassifier.js';
import { Conv2d } from './conv2d.js';
import { GroupNorm } from './groupNorm.js';
import { Linear } from './linear.js';
import { ParamStore } from './params.js';
import { silu } from './silu.js';
import { timestepEmbedding, timestepList } from './timestepEmbedding.js';
import { installZeroCopyClone } from './wasmClone.js';
import type { ApplyOptions, TrainableNet } from './network.js';

export type NoisyClassifierConfig =
  | { body: 'conv'; imageSize: number; inChannels: number; channels: number[]; numClasses: number; timeEmbDim: number }
  | { body: 'mlp'; dim: number; hidden: number; depth: number; numClasses: number; timeEmbDim: number };

export function validateNoisyClassifierConfig(c: NoisyClassifierConfig): void {
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  const ok = (cond: boolean, msg: string) => {
    if (!cond) throw new Error(`NoisyClassifierConfig: ${msg}, got ${JSON.stringify(c)}`);
  };
  ok(posInt(c.numClasses) && c.numClasses >= 2, 'numClasses must be an integer >= 2');
  ok(posInt(c.timeEmbDim) && c.timeEmbDim >= 4 && c.timeEmbDim % 2 === 0, 'timeEmbDim must be even and >= 4');
  if (c.body === 'mlp') {
    ok([c.dim, c.hidden, c.depth].every(posInt), 'dim, hidden, depth must be positive integers');
    return;
  }
  ok(c.body === 'conv', 'body must be "conv" or "mlp"');
  ok(posInt(c.imageSize) && posInt(c.inChannels), 'imageSize and inChannels must be positive integers');
  ok(c.channels.length > 0 && c.channels.every((ch) => posInt(ch) && ch % Math.min(32, ch) === 0), 'channels must be positive integers divisible by min(32, C) (GroupNorm)');
}

export class NoisyClassifierNet implements TrainableNet, NoiseAwareClassifier {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numClasses: number;
  readonly timestepInput = 'n' as const;
  readonly params: Map<string, tf.Variable>;
  private readonly temb: [Linear, Linear];
  private readonly convs: Conv2d[] = [];
  private readonly norms: GroupNorm[] = [];
  private readonly tproj: Linear[] = [];
  private readonly hidden: Linear[] = [];
  private readonly head: Linear;

  constructor(readonly config: NoisyClassifierConfig, readonly seed: number, private readonly store = new ParamStore(seed)) {
    validateNoisyClassifierConfig(config);
    const te = 4 * config.timeEmbDim;
    this.temb = [new Linear(store, 'temb.0', config.timeEmbDim, te), new Linear(store, 'temb.1', te, te)];
    this.numClasses = config.numClasses;
    if (config.body === 'conv') {
      config.channels.forEach((c, i) => {
        this.convs.push(new Conv2d(store, `conv.${i}`, i === 0 ? config.inChannels : config.channels[i - 1], c, 3, i === 0 ? 1 : 2));
        this.norms.push(new GroupNorm(store, `norm.${i}`, c));
        this.tproj.push(new Linear(store, `tproj.${i}`, te, c));
      });
      this.head = new Linear(store, 'head', config.channels[config.channels.length - 1], config.numClasses);
      this.shape = [config.imageSize, config.imageSize, config.inChannels];
      this.name = `noisy-classifier(conv,ch=${config.channels.join('-')},classes=${config.numClasses},seed=${seed})`;
    } else {
      for (let l = 0; l < config.depth; l++) this.hidden.push(new Linear(store, `hidden.${l}`, l === 0 ? config.dim + te : config.hidden, config.hidden));
      this.head = new Linear(store, 'head', config.hidden, config.numClasses);
      this.shape = [config.dim];
      this.name = `noisy-classifier(mlp,d=${config.dim},hidden=${config.hidden},depth=${config.depth},classes=${config.numClasses},seed=${seed})`;
    }
    this.params = store.params;
  }

  paramCount(): number {
    return this.store.count();
  }

  /** A classifier has no eps prediction. */
  predictEps(): tf.Tensor {
    throw new Error(`${this.name} is a noise-aware classifier (arch kind "noisy-classifier"), not an eps-model; use it as the classifier of classifier guidance`);
  }

  /** Logits of p(y | x_t, t) [B, numClasses] (no dropout, so training and inference coincide). */
  apply(x: tf.Tensor, t: Timesteps, _opts?: ApplyOptions): tf.Tensor2D {
    return this.logits(x, t);
  }

  logits(x: tf.Tensor, t: Timesteps): tf.Tensor2D {
    const [B, ...rest] = x.shape;
    if (rest.join() !== this.shape.join()) throw new Error(`${this.name}: input shape [${x.shape}] is not [B,${this.shape}]`);
    return tf.tidy(() => {
      const ea = silu(this.temb[1].apply(silu(this.temb[0].apply(timestepEmbedding(timestepList(t, B), this.config.timeEmbDim)))));
      if (this.config.body === 'mlp') {
        let h = tf.concat([x as tf.Tensor2D, ea], 1);
        for (const l of this.hidden) h = silu(l.apply(h));
        return this.head.apply(h);
      }
      let h = x as tf.Tensor4D;
      this.convs.forEach((conv, i) => {
        const n = this.norms[i].apply(conv.apply(h));
        const c = n.shape[3];
        h = silu(tf.add(n, this.tproj[i].apply(ea).reshape([B, 1, 1, c])));
      });
      return this.head.apply(tf.mean(h, [1, 2]) as tf.Tensor2D);
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}

export function createNoisyClassifier(config: NoisyClassifierConfig, seed: number): NoisyClassifierNet {
  installZeroCopyClone();
  return new NoisyClassifierNet(config, seed);
}
