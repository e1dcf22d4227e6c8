/**
 * Checkpoints: a directory with `manifest.json` (architecture, schedule, step, seeds, data hash, EMA decay,
 * optimiser state metadata, tensor table) and `weights.bin` (float32 little-endian, tensors back to back).
 * Training writes `step-XXXXXXX/` into a temp directory and renames it, then atomically rewrites `latest.json`,
 * so a kill -9 at any moment leaves the previous checkpoint intact. The manifest records the byte length and
 * sha256 of weights.bin: a truncated or corrupted file gives an error naming the file and the mismatch.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createNetwork, type ArchSpec, type TrainableNet } from '../nn/network.js';
import { checkBackbone, type BackboneRef } from '../nn/headedNet.js';

export const CHECKPOINT_FORMAT = 'adpm-ts-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface TensorEntry {
  /** params | ema | adam.m | adam.v */
  group: string;
  name: string;
  shape: number[];
  /** offset and length in float32 elements */
  offset: number;
  length: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  arch: ArchSpec;
  schedule: { name: string; N: number };
  /** what the network's timestep input means: 'n' = the integer timestep 1..N */
  timestepInput: 'n' | 'n-1' | 'rescaled';
  step: number;
  seed: number;
  data: { name: string; hash: string } | null;
  ema: { decay: number } | null;
  adam: { step: number; beta1: number; beta2: number; eps: number } | null;
  /** heads checkpoints only: the backbone checkpoint the heads were trained on */
  backbone?: BackboneRef;
  /** the training configuration that produced it (free-form) */
  training: Record<string, unknown> | null;
  tensors: TensorEntry[];
  weightsBytes: number;
  weightsSha256: string;
  createdAt: string;
}

export type TensorGroups = Record<string, Map<string, tf.Tensor>>;

/** Serialise tensor groups into one float32 buffer and its table. */
function packTensors(groups: TensorGroups): { buf: Buffer; tensors: TensorEntry[] } {
  const tensors: TensorEntry[] = [];
  let offset = 0;
  const chunks: Float32Array[] = [];
  for (const [group, map] of Object.entries(groups)) {
    for (const [name, t] of map) {
      const data = t.dataSync() as Float32Array;
      tensors.push({ group, name, shape: [...t.shape], offset, length: data.length });
      chunks.push(data);
      offset += data.length;
    }
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return { buf: Buffer.from(all.buffer, all.byteOffset, all.byteLength), tensors };
}

/** Write a checkpoint directory atomically (temp dir + rename). Replaces an existing directory of that name. */
export function writeCheckpoint(dir: string, meta: Omit<CheckpointManifest, 'format' | 'version' | 'tensors' | 'weightsBytes' | 'weightsSha256' | 'createdAt'>, groups: TensorGroups): void {
  const { buf, tensors } = packTensors(groups);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...meta, tensors,
    weightsBytes: buf.byteLength, weightsSha256: createHash('sha256').update(buf).digest('hex'), createdAt: new Date().toISOString(),
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), buf);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  if (existsSync(dir)) {
    const old = `${dir}.old-${process.pid}`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
}

/** A run directory's latest checkpoint (via latest.json), or the directory itself if it holds a manifest. */
export function resolveCheckpointDir(path: string): string {
  if (existsSync(join(path, 'manifest.json'))) return path;
  const latest = join(path, 'latest.json');
  if (existsSync(latest)) {
    const { dir } = JSON.parse(readFileSync(latest, 'utf8')) as { dir: string };
    return join(path, dir);
  }
  throw new Error(`checkpoint ${path}: no manifest.json or latest.json found (expected a checkpoint directory or a training run directory)`);
}

export interface LoadedCheckpoint {
  dir: string;
  manifest: CheckpointManifest;
  groups: Record<string, Map<string, { shape: number[]; values: Float32Array }>>;
}

/** Read and verify a checkpoint; errors name the file and what is wrong. */
export function readCheckpoint(path: string): LoadedCheckpoint {
  const dir = resolveCheckpointDir(path);
  const mPath = join(dir, 'manifest.json');
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(mPath, 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint ${mPath}: not valid JSON (${(e as Error).message})`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint ${mPath}: field "format" is ${JSON.stringify(manifest.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (manifest.version !== CHECKPOINT_VERSION) throw new Error(`checkpoint ${mPath}: unsupported version ${manifest.version} (this build reads ${CHECKPOINT_VERSION})`);
  const wPath = join(dir, 'weights.bin');
  if (!existsSync(wPath)) throw new Error(`checkpoint ${wPath}: file is missing`);
  const buf = readFileSync(wPath);
  if (buf.byteLength !== manifest.weightsBytes) {
    throw new Error(`checkpoint ${wPath}: truncated or wrong file: ${buf.byteLength} bytes, the manifest expects ${manifest.weightsBytes}`);
  }
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== manifest.weightsSha256) throw new Error(`checkpoint ${wPath}: corrupt: sha256 ${sha} does not match the manifest's ${manifest.weightsSha256}`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const groups: LoadedCheckpoint['groups'] = {};
  for (const e of manifest.tensors) {
    if (e.offset + e.length > all.length || e.length !== e.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`checkpoint ${mPath}: tensor ${e.group}/${e.name} has an inconsistent shape, offset or length`);
    }
    (groups[e.group] ??= new Map()).set(e.name, { shape: e.shape, values: all.subarray(e.offset, e.offset + e.length) });
  }
  return { dir, manifest, groups };
}

/** Assign a group of saved tensors to variables, checking that names and shapes match exactly. */
export function assignGroup(vars: Map<string, tf.Variable>, group: Map<string, { shape: number[]; values: Float32Array }> | undefined, what: string): void {
  if (!group) throw new Error(`${what}: group is missing from the checkpoint`);
  for (const [name, v] of vars) {
    const g = group.get(name);
    if (!g) throw new Error(`${what}: tensor "${name}" is missing from the checkpoint`);
    if (g.shape.join() !== v.shape.join()) throw new Error(`${what}: tensor "${name}" has shape [${g.shape}] in the checkpoint, the network expects [${v.shape}]`);
    const t = tf.tensor(g.values, g.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
  for (const name of group.keys()) if (!vars.has(name)) throw new Error(`${what}: checkpoint tensor "${name}" does not exist in the network`);
}

/** Build the network of a checkpoint and load its weights (the EMA weights when present, unless `raw`). */
export function loadNetwork(path: string, opts: { raw?: boolean } = {}): { net: TrainableNet; manifest: CheckpointManifest; dir: string } {
  const ck = readCheckpoint(path);
  const net = createNetwork(ck.manifest.arch, ck.manifest.seed);
  try {
    checkBackbone(net, ck.manifest.backbone, `checkpoint ${ck.dir}`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  const group = !opts.raw && ck.groups.ema ? 'ema' : 'params';
  assignGroup(net.params, ck.groups[group], `checkpoint ${ck.dir} (${group})`);
  return { net, manifest: ck.manifest, dir: ck.dir };
}

/** Point latest.json at a step directory (atomically) and delete older step directories beyond `keep`. */
export function markLatest(runDir: string, stepDir: string, keep: number): void {
  const tmp = join(runDir, `latest.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ dir: stepDir }) + '\n');
  renameSync(tmp, join(runDir, 'latest.json'));
  const steps = readdirSync(runDir).filter((f) => /^step-\d+$/.test(f)).sort();
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) rmSync(join(runDir, old), { recursive: true, force: true });
}
