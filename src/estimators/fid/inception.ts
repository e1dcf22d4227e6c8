/**
 * InceptionV3 pool features for the CIFAR-10 FID (Heusel et al. 2017), from TensorFlow.js weights on disk.
 *
 * Weights are not shipped: point the option `path` or the environment variable INCEPTION_TFJS_PATH at a
 * TensorFlow.js model (a directory with model.json, or the model.json itself, plus its weight shards). Both
 * formats of the tfjs converter are read from disk with node fs and tf.io.fromMemory, chosen by model.json's
 * `format`: "layers-model" (tf.loadLayersModel) or "graph-model" (tf.loadGraphModel). The model must map
 * [B,299,299,3] (NHWC; NCHW is detected from the input shape and transposed to) to the 2048-d pool3 features
 * ([B,2048] or [B,1,1,2048]; any larger spatial output is averaged).
 *
 * Pre-processing follows pytorch-fid: images in [0,1] are resized to 299×299 bilinearly with
 * align_corners=False and mapped to 2x-1. Our images are already 2·(L/255)-1 in [-1,1], and bilinear resizing
 * commutes with that affine map, so [-1,1] images are resized with tfjs' half-pixel-centre bilinear kernel (the
 * same sampling grid and edge clamping as torch's align_corners=False for upsampling) and fed as they are.
 * Numbers comparable with published FIDs need the pytorch-fid weights (pt_inception-2015-12-05, with its
 * FID-specific blocks) converted to tfjs; Keras' or TF-Hub's ImageNet InceptionV3 give a different feature space
 * and FIDs that are not comparable with pytorch-fid's.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dataset } from '../../core/data/dataset.js';
import { GaussianAccumulator, type GaussianStats } from './gaussianStats.js';

export const INCEPTION_ENV = 'INCEPTION_TFJS_PATH';
export const INCEPTION_SIZE = 299;

type ModelFormat = 'layers-model' | 'graph-model';

interface ModelJson {
  format?: string;
  modelTopology?: { node?: unknown; model_config?: unknown; class_name?: unknown };
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  [k: string]: unknown;
}

/** The configured weights location: the option, else $INCEPTION_TFJS_PATH, else null. */
export function inceptionPath(path?: string): string | null {
  return path || process.env[INCEPTION_ENV] || null;
}

function modelJsonPath(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
}

/** Parse and check model.json and the presence of its shards; throws an error naming what is wrong. */
function readModelJson(path: string): { file: string; json: ModelJson; format: ModelFormat } {
  const file = modelJsonPath(path);
  if (!existsSync(file)) throw new Error(`inception: ${file} does not exist (expected a tfjs model.json or its directory)`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`inception: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology) throw new Error(`inception: ${file} has no modelTopology; not a TensorFlow.js model.json`);
  let format = json.format;
  if (format === undefined) format = json.modelTopology.node ? 'graph-model' : json.modelTopology.model_config || json.modelTopology.class_name ? 'layers-model' : undefined;
  if (format !== 'layers-model' && format !== 'graph-model') {
    throw new Error(`inception: ${file} has format ${JSON.stringify(json.format)}; expected "layers-model" or "graph-model"`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new Error(`inception: ${file} has no weightsManifest`);
  for (const g of json.weightsManifest) {
    for (const p of g.paths) {
      const shard = join(dirname(file), p);
      if (!existsSync(shard)) throw new Error(`inception: weight shard ${shard} listed in ${file} is missing`);
    }
  }
  return { file, json, format };
}

/**
 * Whether Inception features can be computed: null when a model.json is configured and readable, otherwise the
 * reason (so callers can skip FID with a warning).
 */
export function inceptionAvailable(path?: string): string | null {
  const p = inceptionPath(path);
  if (!p) return `no Inception weights configured: set ${INCEPTION_ENV} (or pass a path) to a TensorFlow.js InceptionV3 model.json; FID is skipped`;
  try {
    readModelJson(p);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The weights' identity, for caches of feature statistics: sha256 over model.json and every shard in manifest order. */
export function inceptionFingerprint(path?: string): { file: string; sha256: string } {
  const p = inceptionPath(path);
  if (!p) throw new Error(inceptionAvailable()!);
  const { file, json } = readModelJson(p);
  const h = createHash('sha256').update(readFileSync(file));
  for (const g of json.weightsManifest!) for (const shard of g.paths) h.update(readFileSync(join(dirname(file), shard)));
  return { file, sha256: h.digest('hex') };
}

/** Model artifacts from disk: all shards concatenated in manifest order, as tf.io.fromMemory expects. */
function readArtifacts(file: string, json: ModelJson): tf.io.ModelArtifacts {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const g of json.weightsManifest!) {
    specs.push(...g.weights);
    for (const p of g.paths) buffers.push(readFileSync(join(dirname(file), p)));
  }
  const all = Buffer.concat(buffers);
  const { weightsManifest: _, ...rest } = json;
  return {
    ...(rest as tf.io.ModelArtifacts),
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  };
}

export class InceptionFeatures {
  readonly layout: 'NHWC' | 'NCHW';
  readonly inputSize: number;

  constructor(readonly model: tf.LayersModel | tf.GraphModel, readonly format: ModelFormat, readonly source: string) {
    const shape = (model.inputs[0].shape ?? []) as Array<number | null>;
    this.layout = shape.length === 4 && shape[1] === 3 && shape[3] !== 3 ? 'NCHW' : 'NHWC';
    const side = this.layout === 'NHWC' ? shape[1] : shape[2];
    this.inputSize = typeof side === 'number' && side > 0 ? side : INCEPTION_SIZE;
  }

  /** Pool features [B, D] of images x [B,H,W,3] in [-1,1] (resized to the model's input size first). */
  features(x: tf.Tensor): tf.Tensor2D {
    if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`inception: input shape [${x.shape}] is not [B,H,W,3]`);
    return tf.tidy(() => {
      const s = this.inputSize;
      let h = x as tf.Tensor4D;
      if (h.shape[1] !== s || h.shape[2] !== s) h = tf.image.resizeBilinear(h, [s, s], false, true);
      if (this.layout === 'NCHW') h = h.transpose([0, 3, 1, 2]);
      let out = this.model.predict(h) as tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
      if (Array.isArray(out)) out = out[0];
      else if (!(out instanceof tf.Tensor)) out = Object.values(out)[0];
      if (out.rank === 4) out = tf.mean(out, this.layout === 'NHWC' ? [1, 2] : [2, 3]);
      return out.reshape([x.shape[0], -1]) as tf.Tensor2D;
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Load the Inception feature network from `path` (or $INCEPTION_TFJS_PATH). */
export async function loadInception(path?: string): Promise<InceptionFeatures> {
  const p = inceptionPath(path);
  if (!p) throw new Error(inceptionAvailable()!);
  const { file, json, format } = readModelJson(p);
  const handler = tf.io.fromMemory(readArtifacts(file, json));
  const model = format === 'layers-model' ? await tf.loadLayersModel(handler) : await tf.loadGraphModel(handler);
  return new InceptionFeatures(model, format, file);
}

/** Gaussian statistics of Inception features of images [N,H,W,3] in [-1,1] (a tensor or a Dataset), in batches. */
export function inceptionFeatureStats(images: tf.Tensor | Dataset, net: InceptionFeatures, batchSize = 50, onProgress?: (done: number, total: number) => void): GaussianStats {
  const n = images instanceof tf.Tensor ? images.shape[0] : images.size;
  let acc: GaussianAccumulator | null = null;
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const f = tf.tidy(() => {
      const x = images instanceof tf.Tensor ? tf.slice(images, s, b) : images.rows(Array.from({ length: b }, (_, j) => s + j));
      return net.features(x);
    });
    acc ??= new GaussianAccumulator(f.shape[1]);
    acc.add(f.dataSync() as Float32Array);
    f.dispose();
    onProgress?.(s + b, n);
  }
  if (!acc) throw new Error('inception: no images');
  return acc.stats();
}
