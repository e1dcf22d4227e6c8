/**
 * Declarative guidance of a sampler (experiment files, src/experiments/schema.ts): classifier guidance with scale
 * gamma and a noise-aware classifier checkpoint (Dhariwal & Nichol 2021), or classifier-free guidance with weight w on
 * a class-conditional model (Ho & Salimans 2022). Sample id i targets class i mod numClasses.
 */
export type GuidanceSpec =
  | { kind: 'classifier'; classifier: string; scale: number }
  | { kind: 'cfg'; w: number };

/** The guidance strength of a spec (gamma or w), for tables and plots. */
export function guidanceStrength(g: GuidanceSpec): number {
  return g.kind === 'classifier' ? g.scale : g.w;
}

/** A readable name of the guidance kind. */
export function guidanceKindName(g: GuidanceSpec): string {
  return g.kind === 'classifier' ? 'classifier guidance (γ)' : 'classifier-free guidance (w)';
}

/** How to get the checkpoint a guidance spec needs on MNIST (used in "missing checkpoint" errors). */
export const GUIDANCE_TRAINING = {
  classifier: { config: 'configs/mnist-noisy-classifier.json', run: 'runs/mnist-noisy-classifier', what: 'a noise-aware classifier (arch kind "noisy-classifier")' },
  cfg: { config: 'configs/mnist-cfg-unet.json', run: 'runs/mnist-cfg-unet', what: 'a class-conditional UNet trained with label dropout (arch.config.numClasses, train.classDropout)' },
} as const;
