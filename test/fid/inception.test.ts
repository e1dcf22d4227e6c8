import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillNormal } from '../../src/core/rng.js';
import { INCEPTION_ENV, inceptionAvailable, inceptionFeatureStats, loadInception } from '../../src/estimators/fid/inception.js';
import { expectNoLeak } from '../helpers.js';

/** Save a LayersModel with tfjs itself as model.json + weights.bin in `dir`. */
async function saveLayers(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    const data = a.weightData === undefined ? [] : Array.isArray(a.weightData) ? a.weightData : [a.weightData];
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat(data.map((b) => Buffer.from(b))));
    const json = { format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }] };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

/** torch.nn.functional.interpolate(mode='bilinear', align_corners=False) on one H×W plane, written out in JS. */
function torchBilinear(x: Float32Array, H: number, W: number, C: number, c: number, S: number): Float64Array {
  const taps = (inSize: number, o: number) => {
    const src = Math.max(0, (o + 0.5) * (inSize / S) - 0.5);
    const i0 = Math.floor(src), i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    return { i0, i1, l: src - i0 };
  };
  const out = new Float64Array(S * S);
  for (let oy = 0; oy < S; oy++) {
    const ty = taps(H, oy);
    for (let ox = 0; ox < S; ox++) {
      const tx = taps(W, ox);
      const v = (y: number, xx: number) => x[(y * W + xx) * C + c];
      const top = (1 - tx.l) * v(ty.i0, tx.i0) + tx.l * v(ty.i0, tx.i1);
      const bot = (1 - tx.l) * v(ty.i1, tx.i0) + tx.l * v(ty.i1, tx.i1);
      out[oy * S + ox] = (1 - ty.l) * top + ty.l * bot;
    }
  }
  return out;
}

function images(n: number, seed: number): tf.Tensor4D {
  const a = new Float32Array(n * 32 * 32 * 3);
  fillNormal(a, 0, a.length, seed);
  return tf.clipByValue(tf.tensor4d(a, [n, 32, 32, 3]), -1, 1) as tf.Tensor4D;
}

describe('fid/inception loader', () => {
  let root: string;
  const savedEnv = process.env[INCEPTION_ENV];
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'adpm-inception-'));
    delete process.env[INCEPTION_ENV];
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    if (savedEnv === undefined) delete process.env[INCEPTION_ENV];
    else process.env[INCEPTION_ENV] = savedEnv;
  });

  it('loads a LayersModel saved by tfjs and reproduces its features on resized 32×32 inputs', async () => {
    const m = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [299, 299, 3], filters: 6, kernelSize: 5, strides: 4, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.globalAveragePooling2d({}),
    ] });
    const dir = join(root, 'layers');
    await saveLayers(m, dir);
    expect(inceptionAvailable(dir)).to.equal(null);
    const net = await loadInception(dir);
    expect(net.format).to.equal('layers-model');
    expect([net.layout, net.inputSize]).to.deep.equal(['NHWC', 299]);
    const x = images(3, 1);
    const got = net.features(x);
    const want = tf.tidy(() => m.predict(tf.image.resizeBilinear(x, [299, 299], false, true)) as tf.Tensor);
    expect(got.shape).to.deep.equal([3, 6]);
    const g = got.dataSync(), w = want.dataSync();
    g.forEach((v, i) => expect(v).to.be.closeTo(w[i], 1e-5));
    await expectNoLeak(() => net.features(x));
    const st = inceptionFeatureStats(tf.concat([x, images(5, 2)]), net, 3);
    expect(st.n).to.equal(8);
    expect(st.d).to.equal(6);
    tf.dispose([x, got, want]);
    net.dispose();
    m.dispose();
  });

  it('resizes like torch bilinear with align_corners=False (pytorch-fid) and averages a spatial output', async () => {
    // Layers model whose output is its (resized) input: the features are the 299×299 image itself (4-D output).
    const m = tf.sequential({ layers: [tf.layers.activation({ inputShape: [299, 299, 3], activation: 'linear' })] });
    const dir = join(root, 'identity');
    await saveLayers(m, dir);
    const net = await loadInception(join(dir, 'model.json'));
    const x = images(1, 3);
    const xs = x.dataSync() as Float32Array;
    // a 4-D output is averaged over space: the per-channel mean of the resized image
    const pooled = net.features(x);
    expect(pooled.shape).to.deep.equal([1, 3]);
    const resized = tf.tidy(() => tf.image.resizeBilinear(x, [299, 299], false, true));
    const r = resized.dataSync();
    for (let c = 0; c < 3; c++) {
      const ref = torchBilinear(xs, 32, 32, 3, c, 299);
      let maxErr = 0, mean = 0;
      ref.forEach((v, i) => {
        maxErr = Math.max(maxErr, Math.abs(v - r[i * 3 + c]));
        mean += v / ref.length;
      });
      expect(maxErr, `channel ${c}`).to.be.below(1e-5);
      expect(pooled.dataSync()[c]).to.be.closeTo(mean, 1e-5);
    }
    tf.dispose([x, pooled, resized]);
    net.dispose();
    m.dispose();
  });

  it('loads a GraphModel (format "graph-model") from a hand-written GraphDef', async () => {
    const dir = join(root, 'graph');
    mkdirSync(dir);
    const dim = (...s: number[]) => ({ dim: s.map((v) => ({ size: String(v) })) });
    const modelTopology = {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(-1, 299, 299, 3) } } },
        { name: 'axes', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: dim(2) } }, dtype: { type: 'DT_INT32' } } },
        { name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(3, 4) } }, dtype: { type: 'DT_FLOAT' } } },
        { name: 'pool', op: 'Mean', input: ['x', 'axes'], attr: { keep_dims: { b: false }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } } },
        { name: 'feat', op: 'MatMul', input: ['pool', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } } },
      ],
      library: {}, versions: {},
    };
    const w = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 7);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(Int32Array.of(1, 2).buffer), Buffer.from(w.buffer)]));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'graph-model', generatedBy: 'test', convertedBy: 'hand', modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }, { name: 'w', shape: [3, 4], dtype: 'float32' }] }],
    }));
    const net = await loadInception(dir);
    expect(net.format).to.equal('graph-model');
    const x = images(2, 4);
    const got = net.features(x);
    const want = tf.tidy(() => tf.matMul(tf.mean(tf.image.resizeBilinear(x, [299, 299], false, true), [1, 2]), tf.tensor2d(w, [3, 4])));
    expect(got.shape).to.deep.equal([2, 4]);
    const wd = want.dataSync();
    got.dataSync().forEach((v, i) => expect(v).to.be.closeTo(wd[i], 1e-5));
    tf.dispose([x, got, want]);
    net.dispose();
  });

  it('reports why it is unavailable and fails clearly on missing or invalid paths', async () => {
    expect(inceptionAvailable()).to.match(new RegExp(`${INCEPTION_ENV}.*FID is skipped`));
    process.env[INCEPTION_ENV] = join(root, 'nowhere');
    expect(inceptionAvailable()).to.match(/nowhere.*does not exist/);
    delete process.env[INCEPTION_ENV];
    const bad = join(root, 'bad');
    mkdirSync(bad);
    let err = '';
    await loadInception(bad).catch((e: Error) => (err = e.message));
    expect(err).to.match(/bad\/model\.json does not exist/);
    await loadInception().catch((e: Error) => (err = e.message));
    expect(err).to.match(/no Inception weights configured/);
    writeFileSync(join(bad, 'model.json'), '{ not json');
    expect(inceptionAvailable(bad)).to.match(/not valid JSON/);
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ format: 'onnx', modelTopology: {}, weightsManifest: [] }));
    expect(inceptionAvailable(bad)).to.match(/format "onnx"; expected "layers-model" or "graph-model"/);
    writeFileSync(join(bad, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [{ paths: ['gone.bin'], weights: [] }] }));
    expect(inceptionAvailable(bad)).to.match(/gone\.bin .* is missing/);
    // a working model named via the environment variable
    process.env[INCEPTION_ENV] = join(root, 'layers');
    expect(inceptionAvailable()).to.equal(null);
    delete process.env[INCEPTION_ENV];
  });
});
