// ADD's extras over COPY: local tar archives (plain, gzip, bzip2, xz, zstd) are
// unpacked at the destination, and URLs are downloaded (with --checksum checked).
import * as fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NbuildError } from '../../errors.js';
import { extractArchive, NativeError } from '../../native/index.js';

const run = promisify(execFile);

const MAGICS: [number, number[]][] = [
  [0, [0x1f, 0x8b]], // gzip
  [0, [0x42, 0x5a, 0x68]], // bzip2
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], // xz
  [0, [0x28, 0xb5, 0x2f, 0xfd]], // zstd
  [257, [0x75, 0x73, 0x74, 0x61, 0x72]], // "ustar"
];

/** True when the file is a tar, compressed or not (a compressed non-tar is copied as is). */
export async function isTarArchive(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const magic = MAGICS.some(([off, bytes]) => bytesRead >= off + bytes.length && bytes.every((b, i) => head[off + i] === b));
    if (!magic) return false;
  } finally {
    await fh.close();
  }
  // An archive has at least one entry (BuildKit: tar.Reader.Next() succeeds); GNU tar would
  // also accept a compressed stub as an empty archive. Stop listing after the first name.
  try {
    const { stdout } = await run('sh', ['-c', 'tar -tf "$1" 2>/dev/null | head -n 1', 'sh', file]);
    return stdout.trim() !== '';
  } catch {
    return false;
  }
}

/**
 * Unpacks an archive into `dest` with every path resolved inside `dest` (the native extractor, as
 * BuildKit unpacks in a chroot at the destination): a symlink staged there by an earlier source,
 * or made by the archive itself, never leads out. bzip2 and xz are first decompressed into
 * `scratchDir` (the extractor reads gzip, zstd and plain tar itself).
 */
export async function unpackArchive(file: string, dest: string, scratchDir: string): Promise<void> {
  let input = file;
  try {
    const tool = await externalDecompressor(file);
    if (tool) {
      input = path.join(scratchDir, `unpacked-${createHash('sha256').update(file).digest('hex').slice(0, 16)}.tar`);
      await decompressTo(tool, file, input);
    }
    await extractArchive({ inputPath: input, destDir: dest });
  } catch (error) {
    const why = error instanceof NativeError ? error.message : (error as Error).message.trim();
    throw new NbuildError('ADD_ARCHIVE', `ADD: cannot unpack ${path.basename(file)}: ${why}`, { cause: error });
  } finally {
    if (input !== file) await fs.rm(input, { force: true });
  }
}

/** bzip2 or xz, which the native extractor does not read; undefined for the others. */
async function externalDecompressor(file: string): Promise<'bzip2' | 'xz' | undefined> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    await fh.read(head, 0, head.length, 0);
    if (head.subarray(0, 3).equals(Buffer.from([0x42, 0x5a, 0x68]))) return 'bzip2';
    if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    return undefined;
  } finally {
    await fh.close();
  }
}

async function decompressTo(tool: 'bzip2' | 'xz', file: string, out: string): Promise<void> {
  const child = spawn(tool, ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  await pipeline(child.stdout, createWriteStream(out, { mode: 0o600 }));
  const code = await exited;
  if (code !== 0) throw new Error(`${tool} -d failed: ${stderr.trim() || `exit ${code}`}`);
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Downloads a URL to `dir`; the file is named after the URL's last path part. */
export async function downloadUrl(url: string, dir: string, checksum?: string): Promise<{ file: string; name: string }> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new NbuildError('ADD_URL', `ADD ${url}: cannot download (${cause}); is this host offline? Put the file in the context and COPY it instead`, { cause: error });
  }
  if (!response.ok || !response.body) throw new NbuildError('ADD_URL', `ADD ${url}: the server answered ${response.status} ${response.statusText}`);
  const name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '') || 'download';
  const file = path.join(dir, `url-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
  const hash = createHash('sha256');
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  const digest = `sha256:${hash.digest('hex')}`;
  if (checksum && checksum !== digest) {
    await fs.rm(file, { force: true });
    throw new NbuildError('ADD_CHECKSUM', `ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`);
  }
  const modified = response.headers.get('last-modified');
  if (modified) {
    const when = new Date(modified);
    if (!Number.isNaN(when.getTime())) await fs.utimes(file, when, when);
  }
  return { file, name };
}
