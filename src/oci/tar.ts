// A small streaming tar reader and writer for image archives (POSIX ustar, PAX
// for long names). Archives hold regular files and folders; the reader also
// reports symlinks and hard links so loaders can resolve aliases old `docker save`
// archives use. Nothing is ever held in memory beyond one 512-byte block and the
// chunk being copied.
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { NbuildError } from '../errors.js';

const BLOCK = 512;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  typeflag: string;
  size: number;
  linkname: string;
  mode: number;
}

// ---------------------------------------------------------------- writer

export class TarWriter {
  private written = 0;

  constructor(private readonly fh: FileHandle, private readonly mtime = 0) {}

  async addDir(name: string): Promise<void> {
    const n = name.endsWith('/') ? name : `${name}/`;
    await this.header(n, '5', 0, 0o755);
  }

  async addBuffer(name: string, data: Buffer): Promise<void> {
    await this.header(name, '0', data.length, 0o644);
    await this.write(data);
    await this.pad(data.length);
  }

  /** Copies a file into the archive in chunks; fails if its size changes under us. */
  /** `onBytes`: told of each chunk written (progress). */
  async addFile(name: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    await this.header(name, '0', size, 0o644);
    let copied = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const buf = chunk as Buffer;
      copied += buf.length;
      if (copied > size) break;
      await this.write(buf);
      onBytes?.(buf.length);
    }
    if (copied !== size) throw new NbuildError('ARCHIVE_WRITE', `${file} changed size while being archived (${copied} ≠ ${size})`);
    await this.pad(size);
  }

  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
  }

  private async header(name: string, typeflag: string, size: number, mode: number): Promise<void> {
    if (Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name)) {
      const pax = paxRecord('path', name);
      await this.write(ustarHeader(`PaxHeaders.0/${asciiTail(name, 80)}`, 'x', pax.length, 0o644, this.mtime));
      await this.write(pax);
      await this.pad(pax.length);
      name = asciiTail(name, 100);
    }
    await this.write(ustarHeader(name, typeflag, size, mode, this.mtime));
  }

  private async write(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    this.written += buf.length;
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest) await this.write(Buffer.alloc(BLOCK - rest));
  }
}

function asciiTail(name: string, max: number): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(len - bodyLen).length) len = bodyLen + String(len).length;
  return Buffer.from(`${len}${body}`);
}

function ustarHeader(name: string, typeflag: string, size: number, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (size < 8 ** 11) octal(h, 124, 12, size);
  else base256(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.write('        ', 148, 8, 'ascii');
  h.write(typeflag, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

function octal(h: Buffer, off: number, len: number, v: number): void {
  h.write(`${v.toString(8).padStart(len - 1, '0')}\u0000`, off, len, 'ascii');
}

function base256(h: Buffer, off: number, len: number, v: number): void {
  let x = BigInt(v);
  for (let i = off + len - 1; i > off; i--) {
    h[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  h[off] = 0x80;
}

// ---------------------------------------------------------------- reader

const bad = (why: string): NbuildError => new NbuildError('ARCHIVE_INVALID', `not a valid tar archive: ${why}`);

/** Pull-based byte source over a Readable. */
class Source {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly it: AsyncIterator<Buffer>;
  private done = false;

  constructor(input: Readable) {
    this.it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly n bytes, or null at a clean end; a partial read is an error. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return null;
      throw bad('truncated');
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Up to `max` bytes (at least 1) of what is next, for streaming bodies. */
  async some(max: number): Promise<Buffer> {
    if (!(await this.fill(1))) throw bad('truncated');
    const first = this.chunks[0];
    const n = Math.min(max, first.length);
    const out = first.subarray(0, n);
    if (n === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

function parseNumber(h: Buffer, off: number, len: number): number {
  if (h[off] & 0x80) {
    let v = 0n;
    for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(h[i]);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('number too large');
    return Number(v);
  }
  const s = h.toString('ascii', off, off + len).replace(/[\0 ]+$/g, '').replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw bad(`bad octal field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function cstr(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return parseNumber(h, 148, 8) === sum;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) throw bad('bad PAX record');
    const len = Number(data.toString('ascii', off, sp));
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > data.length) throw bad('bad PAX record length');
    const rec = data.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'dir', '2': 'symlink', '1': 'hardlink' };
const MAX_META = 1 << 20;

/**
 * Reads a tar stream, calling `onEntry` for each entry. `body` yields the entry's
 * bytes; whatever `onEntry` does not consume is skipped.
 */
export async function readTar(input: Readable, onEntry: (e: TarEntry, body: AsyncGenerator<Buffer>) => Promise<void>): Promise<void> {
  const src = new Source(input);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await src.read(BLOCK);
    if (h === null) return; // EOF without the end blocks: accepted, as GNU tar does
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw bad('header checksum mismatch');
    const typeflag = String.fromCharCode(h[156]);
    let size = parseNumber(h, 124, 12);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw bad('metadata entry too large');
      const data = (await src.read(size + padOf(size))) ?? Buffer.alloc(0);
      const body = data.subarray(0, size);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (typeflag === 'L') longName = cstr(body, 0, body.length);
      else if (typeflag === 'K') longLink = cstr(body, 0, body.length);
      continue;
    }
    const prefix = h.toString('ascii', 257, 263) === 'ustar\u0000' ? cstr(h, 345, 155) : '';
    let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
    if (pax.size !== undefined) size = Number(pax.size);
    if (!Number.isSafeInteger(size) || size < 0) throw bad('bad entry size');
    pax = {};
    longName = longLink = undefined;
    const type = TYPES[typeflag] ?? 'other';
    // Links and folders carry no data whatever their size field says.
    if (type === 'dir' || type === 'symlink' || type === 'hardlink') size = 0;
    if (name.endsWith('/') && type === 'file' && size === 0 && typeflag === '\0') name = name.replace(/\/+$/, '');
    const entry: TarEntry = { name, type, typeflag, size, linkname, mode: parseNumber(h, 100, 8) };
    let left = size;
    async function* body(): AsyncGenerator<Buffer> {
      while (left > 0) {
        const chunk = await src.some(Math.min(left, 1 << 20));
        left -= chunk.length;
        yield chunk;
      }
    }
    await onEntry(entry, body());
    while (left > 0) left -= (await src.some(Math.min(left, 1 << 20))).length;
    if (padOf(size)) await src.read(padOf(size));
  }
}

function padOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
