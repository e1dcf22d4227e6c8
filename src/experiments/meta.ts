/** Provenance of a run: git commit and dirty flag, package versions, backend, machine. */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);

function git(cmd: string): string | null {
  try {
    return execSync(`git ${cmd}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

function packageVersion(name: string): string | null {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    return null;
  }
}

export function runMeta(backend: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const status = git('status --porcelain');
  return {
    git: { commit: git('rev-parse HEAD'), dirty: status === null ? null : status.length > 0 },
    node: process.version,
    packages: Object.fromEntries(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']
      .map((p) => [p, packageVersion(p)])),
    backend,
    host: { hostname: os.hostname(), cpus: os.cpus().length, platform: process.platform, arch: process.arch },
    started: new Date().toISOString(),
    ...extra,
  };
}
