/** Atomic HTTP(S) file download with redirects, idle timeout, progress and optional sha256/md5 verification. */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadOptions {
  /** expected hex digests; a mismatch deletes the download and throws */
  sha256?: string;
  md5?: string;
  /** called as bytes arrive; total is null when the server sends no Content-Length */
  onProgress?: (received: number, total: number | null) => void;
  /** abort when the connection is idle (no connect, headers or data) this long; default 30,000 ms */
  timeoutMs?: number;
  /** default 5 */
  maxRedirects?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  md5: string;
}

/** Network-level failures (no route, refused, DNS, timeout): the cases where a manual download is the fix. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EPIPE', 'ECONNABORTED',
]);

export class DownloadError extends Error {
  constructor(message: string, readonly url: string, readonly network: boolean, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

function request(url: URL, timeoutMs: number, redirectsLeft: number, origin: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new DownloadError(`cannot download ${url.href}: only http and https URLs are supported`, origin, false));
      return;
    }
    const req = (url.protocol === 'https:' ? https : http).get(url, { timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new DownloadError(`too many redirects downloading ${origin} (last: ${url.href})`, origin, false, status));
          return;
        }
        resolve(request(new URL(res.headers.location, url), timeoutMs, redirectsLeft - 1, origin));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DownloadError(`HTTP ${status} ${res.statusMessage ?? ''} downloading ${url.href}`.trim(), origin, false, status));
        return;
      }
      res.setTimeout(timeoutMs, () => res.destroy(new DownloadError(`download of ${url.href} stalled: no data for ${timeoutMs} ms`, origin, true)));
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new DownloadError(`no response from ${url.host} within ${timeoutMs} ms (ETIMEDOUT)`, origin, true)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof DownloadError) reject(e);
      else reject(new DownloadError(`cannot reach ${url.host} (${e.code ?? e.message})`, origin, NETWORK_CODES.has(e.code ?? ''), undefined, { cause: e }));
    });
  });
}

/**
 * Download url to destPath: streamed to `destPath.partial-<random>`, verified, then renamed (so destPath is
 * either absent or complete). Throws DownloadError (network = true when the host could not be reached).
 */
export async function downloadFile(url: string, destPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  mkdirSync(dirname(destPath), { recursive: true });
  const tmp = `${destPath}.partial-${randomBytes(6).toString('hex')}`;
  try {
    const res = await request(new URL(url), timeoutMs, opts.maxRedirects ?? 5, url);
    const lengthHeader = res.headers['content-length'];
    const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const sha256 = createHash('sha256');
    const md5 = createHash('md5');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        sha256.update(chunk);
        md5.update(chunk);
        opts.onProgress?.(received, total);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, meter, createWriteStream(tmp));
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      throw new DownloadError(`connection lost downloading ${url} after ${received} bytes (${(e as Error).message})`, url, true, undefined, { cause: e });
    }
    if (total !== null && received !== total) {
      throw new DownloadError(`download of ${url} is truncated: ${received} of ${total} bytes`, url, true);
    }
    const result: DownloadResult = { path: destPath, bytes: received, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
    for (const algo of ['sha256', 'md5'] as const) {
      const want = opts[algo];
      if (want && want.toLowerCase() !== result[algo]) {
        throw new DownloadError(`${algo} mismatch for ${url}: expected ${want.toLowerCase()}, got ${result[algo]} (${received} bytes); the file was not kept`, url, false);
      }
    }
    renameSync(tmp, destPath);
    return result;
  } finally {
    rmSync(tmp, { force: true });
  }
}
