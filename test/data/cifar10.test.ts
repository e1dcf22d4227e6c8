/** CIFAR-10 binary reader and downloader, on a tiny fixture in the official format built at test time (no internet). */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CIFAR10_ENV, downloadCifar10, loadCifar10, readCifar10Batch } from '../../src/core/data/cifar10.js';
import { downloadFile } from '../../src/core/data/download.js';
import { FIXTURE_TEST_RECORDS, FIXTURE_TRAIN_RECORDS, fixtureLabel, fixtureLevel, writeFixture } from './cifar10Fixture.js';

const any = { recordsPerFile: null };

/** Expect the promise to reject with a message matching every pattern; returns the message. */
async function rejects(p: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let msg: string | null = null;
  try {
    await p;
  } catch (e) {
    msg = (e as Error).message;
    if (process.env.SHOW_ERRORS) console.log(`      -> ${msg}`);
  }
  expect(msg, 'expected an error').to.be.a('string');
  for (const re of patterns) expect(msg).to.match(re);
  return msg as string;
}

describe('data/cifar10', function () {
  this.timeout(20000);
  let root: string;
  let fx: { dir: string; archive: string };
  const fresh = (name: string) => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  /** a copy of the extracted fixture directory to damage */
  const dirCopy = (name: string) => {
    const d = join(fresh(name), 'cifar-10-batches-bin');
    cpSync(fx.dir, d, { recursive: true });
    return d;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'cifar10-test-'));
    fx = await writeFixture(fresh('fixture'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('reader', () => {
    it('reads the archive (extracting next to it), NHWC with the known pixels and labels', async () => {
      const archive = join(fresh('from-archive'), 'cifar-10-binary.tar.gz');
      copyFileSync(fx.archive, archive);
      const train = await loadCifar10('train', { path: archive, ...any });
      expect(train.size).to.equal(5 * FIXTURE_TRAIN_RECORDS);
      expect(train.shape).to.deep.equal([32, 32, 3]);
      expect([train.name, train.discrete, train.range]).to.deep.equal(['cifar10-train', true, [-1, 1]]);
      expect(Array.from(train.labels)).to.deep.equal(Array.from({ length: 15 }, (_, i) => fixtureLabel(Math.floor(i / 3), i % 3)));
      expect(existsSync(join(root, 'from-archive', 'cifar-10-batches-bin', 'data_batch_5.bin'))).to.equal(true);
      // row 7 = batch file 2, record 1; pixel (y=5, x=9), channel G: byte 1 + 1024 + 5*32 + 9 of the record
      const y = 5, x = 9, c = 1;
      const t = train.rows([7]);
      const v = (await t.data())[(y * 32 + x) * 3 + c];
      tf.dispose(t);
      expect(v).to.equal(Math.fround(fixtureLevel(2, 1, c, y * 32 + x) / 127.5 - 1));
      const row = train.row(14);
      for (let p = 0; p < 1024; p += 97) for (let ch = 0; ch < 3; ch++) expect(Math.round((row[p * 3 + ch] + 1) * 127.5)).to.equal(fixtureLevel(4, 2, ch, p));
      const test = await loadCifar10('test', { path: archive, ...any });
      expect([test.size, test.name]).to.deep.equal([FIXTURE_TEST_RECORDS, 'cifar10-test']);
      expect(Array.from(test.labels)).to.deep.equal([fixtureLabel(5, 0), fixtureLabel(5, 1)]);
    });

    it('reads the extracted directory, a directory containing it, and a directory containing the archive, with equal hashes', async () => {
      const a = await loadCifar10('train', { path: fx.dir, ...any });
      const b = await loadCifar10('train', { path: join(root, 'fixture'), ...any });
      const onlyArchive = fresh('only-archive');
      copyFileSync(fx.archive, join(onlyArchive, 'cifar-10-binary.tar.gz'));
      const c = await loadCifar10('train', { path: onlyArchive, ...any });
      expect(b.hash).to.equal(a.hash);
      expect(c.hash).to.equal(a.hash);
    });

    it('extracts to a given cacheDir and re-extracts when the archive changes', async () => {
      const dir = fresh('cached');
      const archive = join(dir, 'cifar-10-binary.tar.gz');
      copyFileSync(fx.archive, archive);
      const cacheDir = join(dir, 'cache');
      const a = await loadCifar10('test', { path: archive, cacheDir, ...any });
      expect(readdirSync(cacheDir)).to.deep.equal(['cifar-10-batches-bin']); // no temp directory left behind
      const dmg = dirCopy('other-src');
      writeFileSync(join(dmg, 'test_batch.bin'), readFileSync(join(dmg, 'data_batch_1.bin')));
      const { c: create } = await import('tar');
      await create({ gzip: true, file: archive, cwd: join(root, 'other-src') }, ['cifar-10-batches-bin']);
      const b = await loadCifar10('test', { path: archive, cacheDir, ...any });
      expect(b.size).to.equal(FIXTURE_TRAIN_RECORDS);
      expect(b.hash).to.not.equal(a.hash);
    });

    it('reads the path from env CIFAR10_PATH when no path option is given', async () => {
      const saved = process.env[CIFAR10_ENV];
      process.env[CIFAR10_ENV] = fx.dir;
      try {
        const ds = await loadCifar10('test', any);
        expect(ds.size).to.equal(FIXTURE_TEST_RECORDS);
        process.env[CIFAR10_ENV] = join(root, 'nowhere');
        await rejects(loadCifar10('test', any), /does not exist/, /env CIFAR10_PATH/);
      } finally {
        if (saved === undefined) delete process.env[CIFAR10_ENV];
        else process.env[CIFAR10_ENV] = saved;
      }
    });

    it('missing path: says what to set and where to get the archive', async () => {
      const msg = await rejects(loadCifar10('train', { path: join(root, 'missing') }), /missing/, /CIFAR10_PATH/, /cifar-10-binary\.tar\.gz/,
        /https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar\.html/, /path.*option/);
      expect(msg).to.match(/from the path option/);
      await rejects(loadCifar10('train', { path: fresh('empty') }), /holds neither cifar-10-batches-bin\/, cifar-10-binary\.tar\.gz nor the batch files/);
    });

    it('missing batch file: named', async () => {
      const d = dirCopy('missing-batch');
      rmSync(join(d, 'data_batch_3.bin'));
      await rejects(loadCifar10('train', { path: d, ...any }), /missing batch file data_batch_3\.bin/);
      expect((await loadCifar10('test', { path: d, ...any })).size).to.equal(FIXTURE_TEST_RECORDS);
    });

    it('truncated file: names the file and the byte counts', async () => {
      const d = dirCopy('truncated');
      truncateSync(join(d, 'data_batch_2.bin'), 3 * 3073 - 100);
      await rejects(loadCifar10('train', { path: d, ...any }), /data_batch_2\.bin is truncated or corrupt: 9119 bytes is not a multiple of the 3073-byte record/);
      truncateSync(join(d, 'data_batch_2.bin'), 2 * 3073);
      expect((await loadCifar10('train', { path: d, ...any })).size).to.equal(14);
      await rejects(loadCifar10('train', { path: d, recordsPerFile: 3 }), /data_batch_2\.bin is truncated: 6146 bytes = 2 records, expected 9219 bytes = 3 records/);
      // the official size is the default expectation
      await rejects(loadCifar10('test', { path: d }), /test_batch\.bin is truncated: 6146 bytes = 2 records, expected 30730000 bytes = 10000 records/);
    });

    it('corrupt label byte: names the file and the record', async () => {
      const d = dirCopy('bad-label');
      const f = join(d, 'test_batch.bin');
      const buf = readFileSync(f);
      buf[3073] = 10;
      writeFileSync(f, buf);
      await rejects(loadCifar10('test', { path: d, ...any }), /test_batch\.bin is corrupt: record 1 \(byte offset 3073\) has label byte 10/);
      expect(() => readCifar10Batch(f, null)).to.throw(/record 1/);
    });

    it('corrupt or wrong archive: names the archive', async () => {
      const bad = join(fresh('bad-gzip'), 'cifar-10-binary.tar.gz');
      writeFileSync(bad, Buffer.from('this is not a gzip file'.repeat(50)));
      await rejects(loadCifar10('train', { path: bad, ...any }), new RegExp(`archive ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt or not a \\.tar\\.gz`));
      const whole = readFileSync(fx.archive);
      const cut = join(fresh('cut-gzip'), 'cifar-10-binary.tar.gz');
      writeFileSync(cut, whole.subarray(0, whole.length >> 1));
      await rejects(loadCifar10('train', { path: cut, ...any }), /cut-gzip\/cifar-10-binary\.tar\.gz is corrupt/, /unexpected end of file/);
      expect(existsSync(join(root, 'cut-gzip', 'cifar-10-batches-bin')), 'no partial extraction left').to.equal(false);
      const src = fresh('python-version');
      mkdirSync(join(src, 'cifar-10-batches-py'));
      writeFileSync(join(src, 'cifar-10-batches-py', 'data_batch_1'), 'pickle');
      const { c: create } = await import('tar');
      const py = join(fresh('python-archive'), 'cifar-10-python.tar.gz');
      await create({ gzip: true, file: py, cwd: src }, ['cifar-10-batches-py']);
      await rejects(loadCifar10('train', { path: py, ...any }), /has no cifar-10-batches-bin\/ directory: is it the binary version/);
    });
  });

  describe('downloader (local server on 127.0.0.1 only)', () => {
    let server: http.Server;
    let base: string;
    let archiveBytes: Buffer;

    before(async () => {
      archiveBytes = readFileSync(fx.archive);
      server = http.createServer((req, res) => {
        if (req.url === '/cifar-10-binary.tar.gz') {
          res.writeHead(200, { 'content-length': archiveBytes.length, 'content-type': 'application/gzip' });
          res.end(archiveBytes);
        } else if (req.url === '/redirect') {
          res.writeHead(302, { location: '/cifar-10-binary.tar.gz' });
          res.end();
        } else if (req.url === '/hang') {
          // never answers
        } else if (req.url === '/cut') {
          res.writeHead(200, { 'content-length': archiveBytes.length });
          res.write(archiveBytes.subarray(0, 100), () => res.destroy());
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found');
        }
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('downloads through a redirect, verifies the checksums, reports progress, and the result loads', async () => {
      const sha256 = createHash('sha256').update(archiveBytes).digest('hex');
      const md5 = createHash('md5').update(archiveBytes).digest('hex');
      const dest = fresh('download');
      const seen: Array<[number, number | null]> = [];
      const r = await downloadCifar10(`${base}/redirect`, dest, { sha256, md5: md5.toUpperCase(), onProgress: (a, b) => seen.push([a, b]) });
      expect(r).to.deep.equal({ path: join(dest, 'cifar-10-binary.tar.gz'), bytes: archiveBytes.length, sha256, md5 });
      expect(seen.at(-1)).to.deep.equal([archiveBytes.length, archiveBytes.length]);
      expect(readdirSync(dest)).to.deep.equal(['cifar-10-binary.tar.gz']);
      const ds = await loadCifar10('test', { path: dest, ...any });
      expect(ds.size).to.equal(FIXTURE_TEST_RECORDS);
      // already there and matching: not downloaded again (the server would 404 this URL)
      expect((await downloadCifar10(`${base}/gone`, dest, { sha256 })).sha256).to.equal(sha256);
    });

    it('a checksum mismatch keeps nothing', async () => {
      const dest = fresh('download-bad-sum');
      await rejects(downloadCifar10(`${base}/cifar-10-binary.tar.gz`, dest, { md5: '0'.repeat(32) }), /md5 mismatch/, /expected 0{32}/);
      expect(readdirSync(dest)).to.deep.equal([]);
    });

    it('HTTP 404: a clear error, no file', async () => {
      const dest = fresh('download-404');
      await rejects(downloadCifar10(`${base}/nope.tar.gz`, dest), /HTTP 404 Not Found/, /\/nope\.tar\.gz/);
      expect(readdirSync(dest)).to.deep.equal([]);
    });

    it('refused connection: tells the user to download the archive manually and pass its path', async () => {
      const closed = http.createServer();
      await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((ok) => closed.close(ok));
      const dest = fresh('download-refused');
      await rejects(downloadCifar10(`http://127.0.0.1:${port}/cifar-10-binary.tar.gz`, dest, { timeoutMs: 5000 }),
        /Could not download CIFAR-10/, /ECONNREFUSED/, /no internet access/, /manually/, /cifar\.html/, /CIFAR10_PATH/);
      expect(readdirSync(dest)).to.deep.equal([]);
    });

    it('a server that never answers times out within the bound', async () => {
      const t0 = Date.now();
      await rejects(downloadCifar10(`${base}/hang`, fresh('download-hang'), { timeoutMs: 300 }), /within 300 ms/, /manually/);
      expect(Date.now() - t0).to.be.below(5000);
    });

    it('a connection cut mid-body is an error, not a short file', async () => {
      const dest = join(fresh('download-cut'), 'x.bin');
      await rejects(downloadFile(`${base}/cut`, dest, { timeoutMs: 2000 }), /truncated|connection lost/);
      expect(existsSync(dest)).to.equal(false);
      expect(readdirSync(join(root, 'download-cut'))).to.deep.equal([]);
    });
  });
});
