/**
 * Pick the state dict (a dict of parameter name -> tensor) out of a checkpoint: the top level itself, the entry
 * that `--key` names (a dotted path through dicts and lists, e.g. `ema_models_states.eps_model` of Analytic-DPM's
 * CIFAR-10 checkpoints, or `4` for the EMA entry of DDIM's `[model, optimizer, epoch, step, ema]` list), or, with
 * no key, the only state dict in the tree (an EMA one when there are several). A `module.` prefix on every key
 * (nn.DataParallel) is removed.
 */
import type { TorchFile } from './torchFile.js';
import { TorchTensor } from './torchTensor.js';

export interface StateDict {
  file: string;
  /** where in the checkpoint it was found ('' = top level) */
  path: string;
  tensors: Map<string, TorchTensor>;
}

function isStateDict(v: unknown): v is Map<string, TorchTensor> {
  if (!(v instanceof Map) || v.size === 0) return false;
  for (const [k, t] of v) if (typeof k !== 'string' || !(t instanceof TorchTensor)) return false;
  return true;
}

function describe(v: unknown): string {
  if (v instanceof Map) return `a dict with keys ${[...v.keys()].slice(0, 8).map((k) => JSON.stringify(k)).join(', ')}${v.size > 8 ? ', ...' : ''}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof TorchTensor) return 'a tensor';
  return v === null ? 'None' : `a ${typeof v}`;
}

/** Follow a dotted key through dicts (longest matching key first, since keys may contain dots) and lists. */
function resolveKey(root: unknown, key: string, file: string): unknown {
  let node = root;
  let rest = key;
  let walked = '';
  while (rest !== '') {
    let step: string | null = null;
    if (node instanceof Map) {
      const keys = [...node.keys()].filter((k): k is string => typeof k === 'string');
      step = keys.filter((k) => rest === k || rest.startsWith(k + '.')).sort((a, b) => b.length - a.length)[0] ?? null;
      if (step !== null) node = node.get(step);
    } else if (Array.isArray(node)) {
      const m = /^(-?\d+)(\.|$)/.exec(rest);
      if (m) {
        const i = Number(m[1]);
        if (i >= -node.length && i < node.length) {
          step = m[1];
          node = node[i < 0 ? node.length + i : i];
        }
      }
    }
    if (step === null) throw new Error(`${file}: --key "${key}": no entry "${rest.split('.')[0]}" at ${walked || 'the top level'}, which is ${describe(node)}`);
    walked = walked ? `${walked}.${step}` : step;
    rest = rest.slice(step.length).replace(/^\./, '');
  }
  return node;
}

/** All state dicts within `depth` levels of containers, with their dotted paths. */
function findStateDicts(node: unknown, path: string, depth: number, out: { path: string; dict: Map<string, TorchTensor> }[]): void {
  if (isStateDict(node)) {
    out.push({ path, dict: node });
    return;
  }
  if (depth === 0) return;
  const join = (k: string) => (path ? `${path}.${k}` : k);
  if (node instanceof Map) for (const [k, v] of node) findStateDicts(v, join(String(k)), depth - 1, out);
  else if (Array.isArray(node)) node.forEach((v, i) => findStateDicts(v, join(String(i)), depth - 1, out));
}

/** Remove a `module.` prefix that every key carries (checkpoints of nn.DataParallel-wrapped models). */
function stripDataParallel(dict: Map<string, TorchTensor>): Map<string, TorchTensor> {
  const keys = [...dict.keys()];
  if (!keys.every((k) => k.startsWith('module.'))) return dict;
  return new Map(keys.map((k) => [k.slice('module.'.length), dict.get(k)!]));
}

export function selectStateDict(ck: TorchFile, key?: string): StateDict {
  const { file, root } = ck;
  if (key !== undefined && key !== '') {
    const node = resolveKey(root, key, file);
    if (!isStateDict(node)) throw new Error(`${file}: --key "${key}" is ${describe(node)}, not a state dict (a dict of name -> tensor)`);
    return { file, path: key, tensors: stripDataParallel(node) };
  }
  const found: { path: string; dict: Map<string, TorchTensor> }[] = [];
  findStateDicts(root, '', 4, found);
  if (found.length === 0) throw new Error(`${file}: no state dict (a dict of name -> tensor) found; the checkpoint is ${describe(root)}`);
  const pick = found.length === 1 ? found : found.filter((f) => /(^|[._])ema/i.test(f.path));
  if (pick.length !== 1) {
    throw new Error(`${file}: ${found.length} state dicts found (${found.map((f) => `"${f.path}" with ${f.dict.size} tensors`).join(', ')}); choose one with --key`);
  }
  return { file, path: pick[0].path, tensors: stripDataParallel(pick[0].dict) };
}

/** The state dict as shape + lazy values per key (what the network mapping reads). */
export function stateDictEntries(sd: StateDict): Map<string, { shape: number[]; values(): Float32Array }> {
  return new Map([...sd.tensors].map(([k, t]) => [k, { shape: t.shape, values: () => t.values(k) }]));
}
