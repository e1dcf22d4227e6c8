/** The tiny training configuration shared by the trainer tests: an MLP on a 4-d mixture or a small UNet on 8x8 Rademacher images. */
import { parseTrainConfig, type TrainConfig } from '../../src/core/train/config.js';

export function tinyConfig(out: string, over: Partial<TrainConfig['train']> | Record<string, unknown> = {}, arch: 'mlp' | 'unet' = 'mlp'): TrainConfig {
  return parseTrainConfig({
    name: 'tiny', seed: 5,
    data: arch === 'mlp' ? { kind: 'gmm', shape: [4], components: 3, spread: 1, std: 0.1, n: 64 } : { kind: 'rademacher', shape: [8, 8, 1], n: 32 },
    arch: arch === 'mlp'
      ? { kind: 'mlp', config: { dim: 4, hidden: 32, depth: 2, timeEmbDim: 8 } }
      : { kind: 'unet', config: { imageSize: 8, inChannels: 1, baseChannels: 8, channelMult: [1, 2], numResBlocks: 1, attnResolutions: [4], dropout: 0.1 } },
    schedule: { name: 'linear', N: 100 },
    train: { steps: 12, batchSize: 8, lr: 3e-3, warmup: 3, checkpointEvery: 4, logEvery: 100, ...over },
    out,
  }, 'tiny.json');
}
