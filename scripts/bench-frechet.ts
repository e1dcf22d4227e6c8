/**
 * Time the float64 Fréchet-distance pieces at FID size (d = 2048 by default):
 *   npx tsx scripts/bench-frechet.ts [d] [--sqrtm]
 * Random PSD covariances S = A Aᵀ / d (A with d columns of N(0,1)), so both are full rank.
 */
import { symEig } from '../src/estimators/fid/symEig.js';
import { frechetDistance, gaussianStats } from '../src/estimators/fid/frechet.js';
import { fillNormal } from '../src/core/rng.js';

const d = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2048);
const withSqrtm = process.argv.includes('--sqrtm');

function randomCov(seed: number): Float64Array {
  const a = new Float32Array(2 * d * d);
  fillNormal(a, 0, a.length, seed);
  return gaussianStats(a, d).sigma; // 2d samples of N(0, I): a full-rank Wishart-like matrix
}

const time = <T>(what: string, f: () => T): T => {
  const t = performance.now(), c = process.cpuUsage();
  const out = f();
  const cpu = process.cpuUsage(c);
  console.log(`${what}: ${((performance.now() - t) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s cpu`);
  return out;
};

const s1 = time(`gaussianStats of ${2 * d}×${d} rows`, () => randomCov(1));
const s2 = randomCov(2);
const mu = new Float64Array(d);
time(`symEig values only, d=${d}`, () => symEig(s1, d));
if (withSqrtm || d <= 1024) time(`symEig values + vectors, d=${d}`, () => symEig(s1, d, { vectors: true }));
const fd = time(`frechetDistance (cholesky), d=${d}`, () => frechetDistance(mu, s1, mu, s2));
console.log(`  FD = ${fd}`);
if (withSqrtm) {
  const fd2 = time(`frechetDistance (sqrtm), d=${d}`, () => frechetDistance(mu, s1, mu, s2, { method: 'sqrtm' }));
  console.log(`  FD = ${fd2} (relative difference ${Math.abs(fd2 - fd) / fd})`);
}
