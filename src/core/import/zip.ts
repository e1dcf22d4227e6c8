/**
 * A minimal zip reader for torch.save archives (PKWARE APPNOTE 6.3: end-of-central-directory record, central
 * directory, local headers; zip64 records for archives past 4 GB). Entries are stored (torch writes them
 * uncompressed, 64-byte aligned) or deflated (node:zlib inflateRawSync); each entry's CRC-32 is checked.
 * Errors name the file and what is wrong.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Offset of the end-of-central-directory record (searched backwards over a possible trailing comment), or -1. */
function findEocd(buf: Buffer): number {
  const last = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= last; i--) if (buf.readUInt32LE(i) === SIG_EOCD) return i;
  return -1;
}

const u64 = (buf: Buffer, at: number): number => Number(buf.readBigUInt64LE(at));

/** Sizes and offset that a central entry leaves at 0xFFFFFFFF live in its zip64 extra field (id 0x0001). */
function applyZip64Extra(e: ZipEntry, buf: Buffer, extraStart: number, extraLen: number): void {
  let p = extraStart;
  while (p + 4 <= extraStart + extraLen) {
    const id = buf.readUInt16LE(p), len = buf.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      if (e.size === 0xffffffff) { e.size = u64(buf, q); q += 8; }
      if (e.compressedSize === 0xffffffff) { e.compressedSize = u64(buf, q); q += 8; }
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = u64(buf, q);
      return;
    }
    p += 4 + len;
  }
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(private readonly buf: Buffer, readonly file: string) {
    const fail = (msg: string): never => {
      throw new Error(`${file}: ${msg}`);
    };
    const eocd = findEocd(buf);
    if (eocd < 0) {
      const isZipStart = buf.length >= 4 && buf.readUInt32LE(0) === SIG_LOCAL;
      fail(isZipStart
        ? `truncated zip archive: no end-of-central-directory record in its ${buf.length} bytes (was the download or copy interrupted?)`
        : `not a zip archive (no end-of-central-directory record); PyTorch checkpoints are zip files since torch 1.6`);
    }
    let count = buf.readUInt16LE(eocd + 10);
    let cdSize = buf.readUInt32LE(eocd + 12);
    let cdOffset = buf.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || buf.readUInt32LE(loc) !== SIG_ZIP64_LOCATOR) fail('zip64 archive without a zip64 end-of-central-directory locator');
      const z = u64(buf, loc + 8);
      if (z + 56 > buf.length || buf.readUInt32LE(z) !== SIG_ZIP64_EOCD) fail('corrupt zip64 end-of-central-directory record');
      count = u64(buf, z + 32);
      cdSize = u64(buf, z + 40);
      cdOffset = u64(buf, z + 48);
    }
    if (cdOffset + cdSize > buf.length) fail(`truncated zip archive: the central directory ends at byte ${cdOffset + cdSize}, the file has ${buf.length} bytes`);
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.length || buf.readUInt32LE(p) !== SIG_CENTRAL) fail(`corrupt zip central directory (entry ${i} at byte ${p})`);
      const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
      const e: ZipEntry = {
        name: buf.toString('utf8', p + 46, p + 46 + nameLen),
        method: buf.readUInt16LE(p + 10),
        crc32: buf.readUInt32LE(p + 16),
        compressedSize: buf.readUInt32LE(p + 20),
        size: buf.readUInt32LE(p + 24),
        localHeaderOffset: buf.readUInt32LE(p + 42),
      };
      applyZip64Extra(e, buf, p + 46 + nameLen, extraLen);
      this.entries.set(e.name, e);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's uncompressed bytes (a view into the file buffer for stored entries), CRC-checked. */
  read(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.file}: zip entry "${name}" is missing`);
    const buf = this.buf;
    const at = e.localHeaderOffset;
    if (at + 30 > buf.length || buf.readUInt32LE(at) !== SIG_LOCAL) throw new Error(`${this.file}: corrupt zip entry "${name}" (no local header at byte ${at})`);
    const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
    const end = start + e.compressedSize;
    if (end > buf.length) {
      throw new Error(`${this.file}: truncated: zip entry "${name}" needs bytes up to ${end}, the file has ${buf.length}`);
    }
    const raw = buf.subarray(start, end);
    let data: Buffer;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        throw new Error(`${this.file}: zip entry "${name}" does not inflate (${(err as Error).message})`);
      }
    } else throw new Error(`${this.file}: zip entry "${name}" uses compression method ${e.method}; supported: 0 (stored), 8 (deflate)`);
    if (data.length !== e.size) throw new Error(`${this.file}: zip entry "${name}" has ${data.length} bytes, its directory says ${e.size}`);
    const crc = crc32(data) >>> 0;
    if (crc !== e.crc32) {
      throw new Error(`${this.file}: corrupt zip entry "${name}": CRC-32 ${crc.toString(16)} does not match the directory's ${e.crc32.toString(16)}`);
    }
    return data;
  }
}
