import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { unpickle, opaqueGlobal } from '../../src/core/import/pickle.js';
import { selectStateDict } from '../../src/core/import/stateDict.js';
import { dtypeOfStorage, halfToFloat } from '../../src/core/import/torchDtype.js';
import { readTorchFile } from '../../src/core/import/torchFile.js';
import { TorchStorage, TorchTensor } from '../../src/core/import/torchTensor.js';
import { ZipArchive } from '../../src/core/import/zip.js';
import { FIXTURES, readJson } from './fixtures.js';

const noHooks = { findClass: opaqueGlobal, persistentLoad: (p: unknown) => p };

/** A one-entry zip archive (stored or deflated), written the way the format describes. */
function makeZip(name: string, data: Buffer, deflate: boolean): Buffer {
  const body = deflate ? deflateRawSync(data) : data;
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(deflate ? 8 : 0, 8);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(deflate ? 8 : 0, 10);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = 30 + nameBuf.length + body.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + nameBuf.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, nameBuf, body, central, nameBuf, eocd]);
}

describe('import: zip reader', () => {
  it('lists and reads the entries of a torch.save archive', () => {
    const file = join(FIXTURES, 'strided.pt');
    const zip = new ZipArchive(readFileSync(file), file);
    expect(zip.names()).to.include.members(['strided/data.pkl', 'strided/data/0', 'strided/version']);
    expect(zip.read('strided/version').toString().trim()).to.equal('3');
  });

  it('reads stored and deflated entries alike', () => {
    const payload = Buffer.from('hello torch '.repeat(50));
    for (const deflate of [false, true]) {
      const zip = new ZipArchive(makeZip('a/b.txt', payload, deflate), 'mem.zip');
      expect(zip.read('a/b.txt').equals(payload), `deflate=${deflate}`).to.equal(true);
    }
  });

  it('names the file and the problem for non-zip, truncated and corrupted input', () => {
    expect(() => new ZipArchive(Buffer.from('just some text, not an archive'), 'x.pt')).to.throw(/x\.pt: not a zip archive/);
    const good = readFileSync(join(FIXTURES, 'strided.pt'));
    expect(() => new ZipArchive(good.subarray(0, 900), 'cut.pt')).to.throw(/cut\.pt: truncated zip archive/);
    const bad = Buffer.from(good);
    const zip = new ZipArchive(bad, 'flip.pt');
    const e = zip.entries.get('strided/data/0')!;
    bad[e.localHeaderOffset + 30 + e.name.length + bad.readUInt16LE(e.localHeaderOffset + 28) + 5] ^= 0xff;
    expect(() => zip.read('strided/data/0')).to.throw(/flip\.pt: corrupt zip entry "strided\/data\/0": CRC-32/);
    expect(() => zip.read('nope')).to.throw(/zip entry "nope" is missing/);
  });
});

describe('import: unpickler', () => {
  it('decodes the opcodes of protocol 2 and 4 containers and scalars', () => {
    // pickle.dumps({'a': [1, -2, 300, 70000, 2**70, 1.5, True, None, (1,), 'é', b'xy', {1: (2, 3, 4)}]}, protocol=4 / 2)
    const p4 = '8004954c000000000000007d948c0161945d94284b014afeffffff4d2c014a701101008a09000000000000000040473ff8000000000000' +
      '884e4b0185948c02c3a99443027879947d944b014b024b034b0487947365732e';
    const p2 = '80027d710058010000006171015d7102284b014afeffffff4d2c014a701101008a09000000000000000040473ff8000000000000884e4b01' +
      '8571035802000000c3a97104635f636f646563730a656e636f64650a710558020000007879710658060000006c6174696e3171078671085271097d710a' +
      '4b014b024b034b0487710b7365732e';
    for (const hex of [p4, p2]) {
      const a = (unpickle(Buffer.from(hex, 'hex'), noHooks, 'test') as Map<string, unknown[]>).get('a')!;
      expect(a.slice(0, 4)).to.deep.equal([1, -2, 300, 70000]);
      expect(a[4]).to.equal(2n ** 70n);
      expect(a.slice(5, 10)).to.deep.equal([1.5, true, null, [1], 'é']);
      expect(a[11]).to.deep.equal(new Map([[1, [2, 3, 4]]]));
    }
    const a4 = (unpickle(Buffer.from(p4, 'hex'), noHooks, 'test') as Map<string, unknown[]>).get('a')!;
    expect([...(a4[10] as Uint8Array)]).to.deep.equal([0x78, 0x79]);
  });

  it('rejects an unknown opcode, truncated data and a stack underflow with the byte offset', () => {
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0xff]), noHooks, 'f.pt: data.pkl')).to.throw(/f\.pt: data\.pkl: corrupt or unsupported pickle: unknown opcode 0xff \(at byte 2\)/);
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x58, 0x10, 0, 0, 0, 0x61]), noHooks, 'g')).to.throw(/unexpected end of data/);
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x61]), noHooks, 'h')).to.throw(/stack underflow/);
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x4e]), noHooks, 'i')).to.throw(/unexpected end of data/);
  });
});

describe('import: torch.save files', () => {
  it('honours size, stride and storage offset (transposed, sliced, stepped, expanded, float16, 0-d, shared views)', () => {
    const sd = selectStateDict(readTorchFile(join(FIXTURES, 'strided.pt')));
    const expected = readJson<Record<string, { shape: number[]; data: number[] }>>('strided.json');
    expect([...sd.tensors.keys()]).to.deep.equal(Object.keys(expected));
    for (const [name, t] of sd.tensors) {
      expect(t.shape, name).to.deep.equal(expected[name].shape);
      expect([...t.values(name)], name).to.deep.equal(expected[name].data);
    }
  });

  it('reads the legacy (pre-1.6) format with the same views', () => {
    const sd = selectStateDict(readTorchFile(join(FIXTURES, 'strided_legacy.pt')));
    const expected = readJson<Record<string, { shape: number[]; data: number[] }>>('strided.json');
    expect([...sd.tensors.keys()]).to.deep.equal(Object.keys(expected));
    for (const [name, t] of sd.tensors) expect([...t.values(name)], name).to.deep.equal(expected[name].data);
  });

  it('converts float16 storages exactly', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00].map(halfToFloat)).to.deep.equal([1, -2, 65504, 2 ** -24, -0, Infinity]);
    const sd = selectStateDict(readTorchFile(join(FIXTURES, 'ddpm_tiny_f16.pt')));
    const w = sd.tensors.get('conv_in.weight')!;
    expect(w.storage.dtype.name).to.equal('float16');
    expect(w.shape).to.deep.equal([32, 3, 3, 3]);
    expect(w.values('conv_in.weight').every(Number.isFinite)).to.equal(true);
  });

  it('finds the state dict inside training checkpoints and strips the DataParallel prefix', () => {
    const wrapped = readTorchFile(join(FIXTURES, 'wrapped.pt'));
    const auto = selectStateDict(wrapped);
    expect(auto.path).to.equal('ema_models_states.eps_model');
    expect([...auto.tensors.keys()]).to.deep.equal(['w', 'b']);
    expect([...auto.tensors.get('w')!.values('w')]).to.deep.equal([0.5, 0.5, 0.5, 0.5]);
    const raw = selectStateDict(wrapped, 'models_states.eps_model');
    expect([...raw.tensors.get('w')!.values('w')]).to.deep.equal([1, 1, 1, 1]);
    expect(() => selectStateDict(wrapped, 'it')).to.throw(/--key "it" is a number, not a state dict/);
    expect(() => selectStateDict(wrapped, 'ema')).to.throw(/--key "ema": no entry "ema" at the top level/);
    const list = readTorchFile(join(FIXTURES, 'list.pt'));
    expect(() => selectStateDict(list)).to.throw(/2 state dicts found \("0" with 2 tensors, "4" with 2 tensors\); choose one with --key/);
    expect([...selectStateDict(list, '-1').tensors.get('b')!.values('b')]).to.deep.equal([0.25, 0.25]);
  });

  it('gives clear errors for malformed and unsupported files', function () {
    const dir = mkdtempSync(join(tmpdir(), 'torch-bad-'));
    try {
      const good = readFileSync(join(FIXTURES, 'ddpm_tiny_f16.pt'));
      const write = (name: string, data: Buffer) => {
        const p = join(dir, name);
        writeFileSync(p, data);
        return p;
      };
      const truncated = write('truncated.pt', good.subarray(0, Math.floor(good.length / 2)));
      expect(() => readTorchFile(truncated)).to.throw(/truncated\.pt: truncated zip archive/);
      const text = write('notzip.pt', Buffer.from('{"not": "a checkpoint"}'));
      expect(() => readTorchFile(text)).to.throw(/notzip\.pt: not a zip archive/);
      expect(() => readTorchFile(join(dir, 'missing.pt'))).to.throw(/missing\.pt: file does not exist/);
      const noPkl = write('nopkl.pt', makeZip('x/other.bin', Buffer.from('abc'), false));
      expect(() => readTorchFile(noPkl)).to.throw(/nopkl\.pt: zip archive without data\.pkl/);
      const badPkl = write('badpkl.pt', makeZip('m/data.pkl', Buffer.from([0x80, 0x02, 0x7d, 0xfe]), true));
      expect(() => readTorchFile(badPkl)).to.throw(/badpkl\.pt: m\/data\.pkl: corrupt or unsupported pickle: unknown opcode 0xfe/);
      const sd = selectStateDict(readTorchFile(join(FIXTURES, 'int32.pt')));
      expect(() => sd.tensors.get('w')!.values('w')).to.throw(/int32\.pt: tensor "w" has dtype int32 \(IntStorage\); supported: float32, float16, bfloat16, float64/);
      const legacy = readFileSync(join(FIXTURES, 'strided_legacy.pt'));
      const cutLegacy = write('legacy_cut.pt', legacy.subarray(0, legacy.length - 30));
      expect(() => readTorchFile(cutLegacy)).to.throw(/legacy_cut\.pt \(legacy torch\.save format\): truncated: storage \S+ needs bytes up to/);
      // a storage shorter than its persistent id declares (6 float32 elements need 24 bytes)
      const short = new TorchTensor(new TorchStorage('short.pt', '0', dtypeOfStorage('FloatStorage'), 6, () => new Uint8Array(10)), 0, [2, 3], [3, 1]);
      expect(() => short.values('w')).to.throw(/short\.pt: tensor "w": storage data\/0 is truncated: 10 bytes, 6 float32 elements need 24/);
      const outside = new TorchTensor(new TorchStorage('view.pt', '1', dtypeOfStorage('FloatStorage'), 6, () => new Uint8Array(24)), 2, [2, 3], [3, 1]);
      expect(() => outside.values('v')).to.throw(/view\.pt: tensor "v": view \(offset 2, size \[2,3\], stride \[3,1\]\) reaches element 7 of a storage with 6/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
