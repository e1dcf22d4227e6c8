import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { withReferenceOps } from '../../src/core/nn/referenceMode.js';
import { REFERENCE_UNET_CONFIG, type UNetConfig, createUNet } from '../../src/core/nn/unet.js';
import { normals, onCpu } from './gradcheck.js';

const SMALL: UNetConfig = {
  imageSize: 8,
  inChannels: 1,
  baseChannels: 8,
  channelMult: [1, 2],
  numResBlocks: 1,
  attnResolutions: [8],
  dropout: 0,
};

/** Gradients of the eps MSE for every variable, keyed by parameter name (plain arrays). */
function mseGrads(config: UNetConfig, B: number): Map<string, Float32Array> {
  const net = createUNet(config, 11);
  const [H, W, C] = net.shape;
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const x = tf.tensor4d(normals(B * H * W * C, 1), [B, H, W, C]);
    const eps = tf.tensor4d(normals(B * H * W * C, 2), [B, H, W, C]);
    const t = Array.from({ length: B }, (_, i) => 17 + 300 * i);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(net.apply(x, t, { training: true, dropoutSeed: 3 }), eps))) as tf.Scalar);
    for (const [name, v] of net.params) out.set(name, grads[v.name].dataSync() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
  });
  net.dispose();
  return out;
}

describe(`nn/unet (backend ${process.env.TFJS_BACKEND ?? 'wasm'})`, () => {
  it('reference config (torch_unet_bench.py defaults) has 1,624,323 parameters', () => {
    const net = createUNet(REFERENCE_UNET_CONFIG, 0);
    expect(net.paramCount()).to.equal(1_624_323);
    net.dispose();
  });

  it('a second config has the count of the PyTorch layout computed by hand (176,849)', () => {
    // ch 16, mult [1,2], 1 block, attention at 8, 16×16×1; td = 64. conv(i,o,k) = i·o·k² + o, GN(c) = 2c, lin = i·o + o.
    // temb 16·64+64 + 64·64+64 = 5248; inc conv(1,16,3) = 160
    // down.0 Res(16,16) = 32+2320+1040+32+2320 = 5744; down.1 conv(16,16,3) = 2320
    // down.2 Res(16,32) = 32+4640+2080+64+9248+544 = 16608, + Attn(32) = 64+3168+1056 = 4288 (at resolution 8)
    // mid Res(32,32) ×2 = 2·(64+9248+2080+64+9248) = 41408, Attn(32) = 4288
    // up.0 Res(64,32) = 128+18464+2080+64+9248+2080 = 32064 + Attn 4288; up.1 Res(48,32) = 96+13856+2080+64+9248+1568 = 26912 + Attn 4288
    // up.2 conv(32,32,3) = 9248; up.3 Res(48,16) = 96+6928+1040+32+2320+784 = 11200; up.4 Res(32,16) = 64+4624+1040+32+2320+528 = 8608
    // out GN(16) + conv(16,1,3) = 32 + 145 = 177.  Total 176,849.
    const net = createUNet({ ...SMALL, imageSize: 16, baseChannels: 16 }, 0);
    expect(net.paramCount()).to.equal(176_849);
    net.dispose();
  });

  it('has stable parameter names, EpsModel fields and a JSON-serialisable config', () => {
    const net = createUNet({ ...SMALL, numClasses: 3 }, 0);
    const names = [...net.params.keys()];
    for (const n of ['temb.0.w', 'inc.w', 'down.0.res.conv1.w', 'down.1.conv.w', 'down.2.res.skip.w', 'down.0.attn.qkv.w', 'mid.1.qkv.w', 'up.0.res.norm1.g', 'out.conv.b', 'classEmb.table']) {
      expect(names, n).to.include(n);
    }
    expect(net.shape).to.deep.equal([8, 8, 1]);
    expect(net.timestepInput).to.equal('n');
    expect(JSON.parse(JSON.stringify(net.config))).to.deep.equal(net.config);
    expect(net.params.get('down.0.res.conv1.w')!.shape).to.deep.equal([3, 3, 8, 8]);
    net.dispose();
  });

  it('forward output has the input shape (reference config, batch 2) and predictEps is deterministic', () => {
    const net = createUNet(REFERENCE_UNET_CONFIG, 1);
    const x = tf.randomNormal([2, 32, 32, 3]);
    const a = net.predictEps(x, [10, 900]), b = net.predictEps(x, [10, 900]);
    expect(a.shape).to.deep.equal([2, 32, 32, 3]);
    expect(Array.from(a.dataSync())).to.deep.equal(Array.from(b.dataSync()));
    const c = net.predictEps(x, 10);
    expect(c.shape).to.deep.equal([2, 32, 32, 3]);
    tf.dispose([x, a, b, c]);
    net.dispose();
  });

  it('training forward/backward on this backend gives a finite gradient for every variable (dropout on)', () => {
    const net = createUNet({ ...SMALL, dropout: 0.1, numClasses: 2 }, 2);
    const x = tf.randomNormal([3, 8, 8, 1]);
    const { value, grads } = tf.variableGrads(() =>
      tf.mean(tf.square(tf.sub(net.apply(x, [1, 500, 999], { training: true, dropoutSeed: 4, labels: [0, 1, 2] }), x))) as tf.Scalar,
    );
    expect(Number.isFinite(value.dataSync()[0])).to.equal(true);
    for (const [name, v] of net.params) {
      const g = grads[v.name];
      expect(g, name).to.not.equal(undefined);
      expect(g.shape, name).to.deep.equal(v.shape);
      expect(g.dataSync().every(Number.isFinite), name).to.equal(true);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    net.dispose();
  });

  const gradCases: Array<[string, UNetConfig]> = [
    ['8×8×1, batch 2', SMALL],
    ['28×28×1 (MNIST-like: 28 → 14 → 7), batch 2', { ...SMALL, imageSize: 28, channelMult: [1, 2, 2], attnResolutions: [7] }],
  ];
  for (const [label, config] of gradCases) {
    it(`whole-network gradient matches the cpu backend with built-in ops and autodiff (${label})`, async () => {
      const ours = mseGrads(config, 2);
      const ref = await onCpu(() => withReferenceOps(() => mseGrads(config, 2)));
      expect([...ours.keys()]).to.deep.equal([...ref.keys()]);
      // float32 through ~20 layers with reductions in different orders. Measured: max|Δ| ~ 1e-6 of each gradient's
      // scale; allowed 1e-4. Parameters whose true gradient is 0 (biases and timestep projections right before a
      // GroupNorm with one channel per group: the per-channel constant cancels) carry only rounding noise (~1e-9),
      // so their scale is floored at 1e-3 of the largest gradient.
      const global = Math.max(...[...ref.values()].map((r) => Math.max(...r.map(Math.abs))));
      for (const [name, g] of ours) {
        const r = ref.get(name)!;
        let scale = 0;
        let err = 0;
        r.forEach((v, i) => {
          scale = Math.max(scale, Math.abs(v));
          err = Math.max(err, Math.abs(g[i] - v));
        });
        expect(err, `${name}: max|Δ| ${err}, scale ${scale}`).to.be.at.most(1e-4 * Math.max(scale, 1e-3 * global));
      }
    });
  }

  it('dropout masks follow dropoutSeed; inference ignores dropout', () => {
    const net = createUNet({ ...SMALL, dropout: 0.3 }, 5);
    const x = tf.randomNormal([2, 8, 8, 1]);
    const run = (seed: number) => tf.tidy(() => Array.from(net.apply(x, 100, { training: true, dropoutSeed: seed }).dataSync()));
    expect(run(1)).to.deep.equal(run(1));
    expect(run(1)).to.not.deep.equal(run(2));
    expect(() => net.apply(x, 100, { training: true })).to.throw(/dropoutSeed/);
    tf.dispose(x);
    net.dispose();
  });

  it('tensor count does not grow across 3 training iterations (variableGrads + Adam)', () => {
    const net = createUNet({ ...SMALL, dropout: 0.1 }, 6);
    const opt = tf.train.adam(2e-4);
    const x = tf.randomNormal([2, 8, 8, 1]);
    const step = (i: number) => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(net.apply(x, [3, 4], { training: true, dropoutSeed: i }), x))) as tf.Scalar);
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(0); // Adam creates its moment variables on the first step
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 3; i++) step(i);
    expect(tf.memory().numTensors).to.equal(before);
    opt.dispose();
    tf.dispose(x);
    net.dispose();
  });

  it('class conditioning changes the output; no labels means the null class', () => {
    // 64 channels: GroupNorm(32) groups 2 channels, so the per-channel embedding shift is not normalised away.
    const net = createUNet({ ...SMALL, baseChannels: 64, channelMult: [1], attnResolutions: [], numClasses: 3 }, 7);
    const x = tf.randomNormal([2, 8, 8, 1]);
    const out = (labels?: number[]) => tf.tidy(() => Array.from(net.apply(x, 50, { training: false, labels }).dataSync()));
    const a = out([0, 1]), b = out([2, 2]), n = out([3, 3]);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).to.be.above(1e-3);
    expect(out()).to.deep.equal(n);
    expect(Array.from(tf.tidy(() => net.predictEps(x, 50).dataSync()))).to.deep.equal(n);
    expect(() => out([4, 0])).to.throw(/outside/);
    const plain = createUNet(SMALL, 7);
    expect(() => plain.apply(x, 50, { training: false, labels: [0, 0] })).to.throw(/numClasses/);
    tf.dispose(x);
    net.dispose();
    plain.dispose();
  });

  it('rejects invalid configs and input shapes with clear errors', () => {
    expect(() => createUNet({ ...SMALL, imageSize: 6, channelMult: [1, 2, 2] }, 0)).to.throw(/divisible/);
    expect(() => createUNet({ ...SMALL, dropout: 1 }, 0)).to.throw(/dropout/);
    const net = createUNet(SMALL, 0);
    expect(() => net.predictEps(tf.zeros([1, 4, 4, 1]), 1)).to.throw(/input shape/);
    expect(() => net.predictEps(tf.zeros([2, 8, 8, 1]), [1])).to.throw(/timesteps/);
    net.dispose();
  });
});
