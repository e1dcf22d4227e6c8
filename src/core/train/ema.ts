/** Exponential moving average of parameters: ema = decay * ema + (1 - decay) * p (Polyak averaging, as in DDPM). */
import * as tf from '@tensorflow/tfjs';

export class Ema {
  readonly shadow = new Map<string, tf.Variable>();

  constructor(params: Map<string, tf.Variable>, readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`ema decay must be in [0, 1), got ${decay}`);
    for (const [name, p] of params) this.shadow.set(name, tf.variable(p.clone(), false));
  }

  update(params: Map<string, tf.Variable>): void {
    tf.tidy(() => {
      for (const [name, p] of params) {
        const s = this.shadow.get(name)!;
        s.assign(tf.add(tf.mul(s, this.decay), tf.mul(p, 1 - this.decay)));
      }
    });
  }

  /** Copy the averaged weights into a network's parameters (for sampling or export). */
  copyTo(params: Map<string, tf.Variable>): void {
    for (const [name, p] of params) p.assign(this.shadow.get(name)!);
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
  }
}
