/**
 * A small CNN image classifier built from the project's layers, used as the feature network of an MNIST FID:
 * conv3x3(c0) → SiLU → [conv3x3 stride 2 (c_i) → SiLU]_i → global average pool (features, c_last) → Linear(classes),
 * optionally with a GroupNorm (torch defaults: min(32, C) groups) between each conv and its SiLU.
 * NHWC input in [-1, 1]; seeded PyTorch-default initialisation via ParamStore; checkpoints via writeCheckpoint
 * with arch {kind: 'classifier', config}.
 */
import * as tf from '@tensorflow/tfjs';
import { Conv2d } from './conv2d.js';
import { GroupNorm } from './groupNorm.js';
import { Linear } from './linear.js';
import { ParamStore } from './params.js';
import { silu } from './silu.js';

export interface ClassifierConfig {
  imageSize: number;
  inChannels: number;
  /** channels of the conv stages: the first has stride 1, every later one stride 2 */
  channels: number[];
  numClasses: number;
  /** GroupNorm after every conv (default false) */
  groupNorm?: boolean;
}

/** The architecture of the shipped MNIST feature classifier (configs/mnist-classifier.json). */
export const MNIST_CLASSIFIER_CONFIG: ClassifierConfig = { imageSize: 28, inChannels: 1, channels: [32, 64, 128, 128], numClasses: 10, groupNorm: true };

export class Classifier {
  readonly params: Map<string, tf.Variable>;
  readonly featureDim: number;
  private readonly convs: Conv2d[];
  private readonly norms: GroupNorm[];
  private readonly head: Linear;

  constructor(readonly config: ClassifierConfig, readonly seed: number, private readonly store = new ParamStore(seed)) {
    const { channels, inChannels, numClasses } = config;
    if (channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
      throw new Error(`ClassifierConfig: channels must be a non-empty list of positive integers, got [${channels}]`);
    }
    this.convs = channels.map((c, i) => new Conv2d(store, `conv.${i}`, i === 0 ? inChannels : channels[i - 1], c, 3, i === 0 ? 1 : 2));
    this.norms = config.groupNorm ? channels.map((c, i) => new GroupNorm(store, `norm.${i}`, c)) : [];
    this.featureDim = channels[channels.length - 1];
    this.head = new Linear(store, 'head', this.featureDim, numClasses);
    this.params = store.params;
  }

  private check(x: tf.Tensor): void {
    const { imageSize: s, inChannels: c } = this.config;
    if (x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== c) {
      throw new Error(`Classifier: input shape [${x.shape}] is not [B,${s},${s},${c}]`);
    }
  }

  /** Penultimate features [B, featureDim]: the global average of the last conv stage (after SiLU). */
  features(x: tf.Tensor): tf.Tensor2D {
    this.check(x);
    return tf.tidy(() => {
      let h = x as tf.Tensor4D;
      this.convs.forEach((conv, i) => {
        h = conv.apply(h);
        h = silu(this.norms.length ? this.norms[i].apply(h) : h);
      });
      return tf.mean(h, [1, 2]) as tf.Tensor2D;
    });
  }

  /** Class logits [B, numClasses]. */
  logits(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.head.apply(this.features(x)));
  }

  /** Predicted classes (argmax of the logits). */
  predict(x: tf.Tensor): Int32Array {
    const p = tf.tidy(() => tf.argMax(this.logits(x), 1));
    const out = p.dataSync() as Int32Array;
    p.dispose();
    return Int32Array.from(out);
  }

  paramCount(): number {
    return this.store.count();
  }

  dispose(): void {
    this.store.dispose();
  }
}
