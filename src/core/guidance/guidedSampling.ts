/**
 * Guided samples of a set of ids: the guidance spec turned into a per-batch EpsModel (classifier guidance with a
 * noise-aware classifier checkpoint, or classifier-free guidance on a class-conditional UNet), run by the named
 * sampler (ddpm | ddim) with target label id mod numClasses. Rows depend only on their ids (keyed noise).
 */
import { existsSync } from 'node:fs';
import type { EpsModel } from '../model.js';
import type { Schedule } from '../schedule.js';
import { sampleRows, samplerByName, type SampleArgs } from '../sampler.js';
import { loadNetwork } from '../train/checkpoint.js';
import { NoisyClassifierNet } from '../nn/noisyClassifier.js';
import { ClassifierGuidedModel } from './classifierGuidance.js';
import { ClassifierFreeGuidedModel } from './classifierFreeGuidance.js';
import { conditionalUNet } from './conditionalModel.js';
import { guidedSampler, targetLabel } from './guidedSampler.js';
import { GUIDANCE_TRAINING, type GuidanceSpec } from './guidanceSpec.js';

/** A noise-aware classifier checkpoint for `schedule` and samples of `shape`, or an error naming `field`. */
export function loadNoiseAwareClassifier(path: string, schedule: Schedule, shape: readonly number[], field: string): NoisyClassifierNet {
  if (!existsSync(path)) {
    const t = GUIDANCE_TRAINING.classifier;
    throw new Error(`${field}: checkpoint ${path} does not exist. Train ${t.what} with \`npm run train -- ${t.config}\` and copy ${t.run}/model to ${path} (see docs/guidance.md)`);
  }
  const { net, manifest } = loadNetwork(path);
  const fail = (why: string) => {
    net.dispose();
    return new Error(`${field}: checkpoint ${path} ${why}`);
  };
  if (!(net instanceof NoisyClassifierNet)) throw fail(`is a "${manifest.arch.kind}" network; classifier guidance needs arch kind "noisy-classifier" (${GUIDANCE_TRAINING.classifier.config})`);
  if (manifest.schedule.name !== schedule.name || manifest.schedule.N !== schedule.N) {
    throw fail(`was trained with schedule ${manifest.schedule.name} N=${manifest.schedule.N}; the sampler uses ${schedule.name} N=${schedule.N}`);
  }
  if (net.shape.join() !== shape.join()) throw fail(`takes samples of shape [${net.shape}], the model makes [${shape}]`);
  return net;
}

export interface GuidedSampleArgs extends Omit<SampleArgs, 'ids' | 'model'> {
  /** the unguided model (classifier guidance) or a class-conditional UNet (classifier-free guidance) */
  model: EpsModel;
  sampler: string;
  guidance: GuidanceSpec;
  /** the field named in errors, e.g. 'case x, method "CG γ=1": field "guidance"' */
  where: string;
}

/** Guided samples of `ids` as row-major float32 [ids.length, ...shape]; returns the number of classes too. */
export function guidedSampleRows(args: GuidedSampleArgs, ids: readonly number[], batch: number, progress: (done: number) => void = () => {}): { values: Float32Array; numClasses: number } {
  const { guidance: g, model, schedule, where } = args;
  const plain = samplerByName(args.sampler);
  const common = { ...args, model };
  if (g.kind === 'classifier') {
    const cls = loadNoiseAwareClassifier(g.classifier, schedule, model.shape, `${where}.classifier`);
    try {
      const sampler = guidedSampler(plain, (labels) => new ClassifierGuidedModel(model, cls, schedule, g.scale, labels), (id) => targetLabel(id, cls.numClasses));
      return { values: sampleRows(sampler, common, ids, batch, progress), numClasses: cls.numClasses };
    } finally {
      cls.dispose();
    }
  }
  const cond = conditionalUNet(model, `${where} (kind "cfg")`);
  const sampler = guidedSampler(plain, (labels) => new ClassifierFreeGuidedModel(cond, g.w, labels), (id) => targetLabel(id, cond.numClasses));
  return { values: sampleRows(sampler, common, ids, batch, progress), numClasses: cond.numClasses };
}
