/**
 * What a published network is fed for the paper's timestep n = 1..N (Analytic-DPM reference §1; Extended-Analytic-DPM
 * `core/diffusion/wrapper.py::DTWrapper(shift1, rescale_timesteps)`):
 *   'n'        the network sees n (Analytic-DPM's own CIFAR-10 iDDPM models: n·1000/N with N = 1000)
 *   'n-1'      the network sees n - 1 (pytorch_diffusion / DDIM CelebA, LSUN and CIFAR-10 models)
 *   'rescaled' the network sees (n - shift)·1000/N, in float32 as improved-diffusion's `_scale_timesteps`;
 *              shift 1 is improved-diffusion's own 0-based index (the ImageNet-64 model, N = 4000), shift 0 is n·1000/N.
 */
export type TimestepInput = 'n' | 'n-1' | 'rescaled';
export const TIMESTEP_INPUTS: readonly TimestepInput[] = ['n', 'n-1', 'rescaled'];

export interface TimestepConvention {
  input: TimestepInput;
  /** number of diffusion steps N of the schedule the model was trained with */
  N: number;
  /** for 'rescaled': subtract 1 from n before rescaling (default true) */
  shift1?: boolean;
}

export function validateConvention(c: TimestepConvention, where: string): void {
  if (!TIMESTEP_INPUTS.includes(c.input)) throw new Error(`${where}: timestep input "${c.input}" is not one of ${TIMESTEP_INPUTS.join(', ')}`);
  if (!Number.isInteger(c.N) || c.N < 1) throw new Error(`${where}: timestep N must be a positive integer, got ${c.N}`);
}

/** The network's timestep inputs for paper timesteps n (integers 1..N). */
export function networkTimesteps(n: readonly number[], c: TimestepConvention): number[] {
  return n.map((ni) => {
    if (!Number.isInteger(ni) || ni < 1 || ni > c.N) throw new Error(`timestep ${ni} is outside 1..${c.N} (integer n of the paper's convention)`);
    if (c.input === 'n') return ni;
    if (c.input === 'n-1') return ni - 1;
    const shift = c.shift1 === false ? 0 : 1;
    return Math.fround(Math.fround(ni - shift) * Math.fround(1000 / c.N));
  });
}
