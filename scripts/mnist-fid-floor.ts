/**
 * The noise floor of the MNIST FID column: FID of n real test digits (disjoint subsets of the 2,000-digit test
 * split) against the train split, in the shipped classifier's features. A generated set cannot be told apart from
 * real data below this level at the same n.
 *   npx tsx scripts/mnist-fid-floor.ts [n=1000]
 */
import { initBackend } from '../src/core/backend.js';
import { loadMnist } from '../src/core/data/mnist.js';
import { fid, mnistFeatureStats, mnistReferenceStats } from '../src/estimators/fid/mnistFid.js';

await initBackend('auto', () => {});
const n = Number(process.argv[2] ?? 1000);
const test = loadMnist('test');
if (!(n >= 2 && 2 * n <= test.size)) throw new Error(`n must be in 2..${test.size / 2} (two disjoint subsets of the test split), got ${process.argv[2]}`);
const ref = mnistReferenceStats('train');
for (const [k, offset] of [[1, 0], [2, n]] as const) {
  const rows = test.rows(Array.from({ length: n }, (_, i) => offset + i));
  const f = fid(mnistFeatureStats(rows), ref);
  rows.dispose();
  console.log(`real test digits ${offset}..${offset + n - 1} (subset ${k}): FID ${f.toFixed(3)} against the train split`);
}
const all = test.rows(Array.from({ length: test.size }, (_, i) => i));
console.log(`all ${test.size} test digits: FID ${fid(mnistFeatureStats(all), ref).toFixed(3)} against the train split`);
all.dispose();
