// An OCI image layout folder (image-layout.md): `oci-layout`, `index.json` and
// `blobs/sha256/<hex>`. The one place nbuild writes and reads layout folders
// (export type=oci-layout, --cache-to/--cache-from type=local). Every blob is
// hashed while it is written (temp file beside it, renamed only when the digest
// and size match) and while it is read, so neither a half-written nor a wrong blob
// is ever visible or believed; index.json is replaced atomically and last.
import { constants as fsc, createReadStream, createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { OCI_INDEX } from '../image/media-types.js';
import type { Index } from '../image/types.js';
import { errnoOf } from '../store/fsutil.js';
import { type PartialOutput, removeDeadTemps, replaceFile, tempBeside } from '../fs/partial.js';
import { sha256 } from '../native/index.js';

export const LAYOUT_FILE = 'oci-layout';
export const LAYOUT_VERSION = '1.0.0';
export const LAYOUT_CONTENT = Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
export const INDEX_FILE = 'index.json';
export const BLOBS_DIR = 'blobs/sha256';

/** What a blob is known by: its digest and size (a descriptor's identity). */
export interface BlobId {
  digest: Digest;
  size: number;
}

/**
 * Where writeBlob takes bytes from: in-memory bytes, a file, or a stream. `fromStore`: a blob
 * of nbuild's store, hashed when it entered it (content-addressed, `store check` rehashes):
 * copied as a reflink where the file system can, its size checked, not rehashed; hashing a
 * 200 MB layer again cost 1.5 s against 0.2 s for the copy (docs/decisions.md).
 */
export type BlobSource = Buffer | { file: string; fromStore?: boolean } | Readable;

export interface WriteBlobOptions {
  /** The digest and size the bytes must have; without it the blob is named by what was written. */
  expect?: BlobId;
  /** Told of each chunk written (progress). */
  onBytes?: (n: number) => void;
}

export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
}

export function indexBytes(index: Index): Buffer {
  return Buffer.from(`${JSON.stringify(index)}\n`);
}

/** The path of a blob inside a layout (also the name of its tar entry in an archive). */
export function blobName(digest: Digest): string {
  return `${BLOBS_DIR}/${digest.hex}`;
}

export class OciLayout {
  private constructor(
    readonly dir: string,
    /** Records what this writer added to an existing layout, to remove on failure (partial.ts). */
    private readonly made?: PartialOutput,
  ) {}

  /** Opens an existing layout for reading; `oci-layout`, when there, must say version 1.0.0. */
  static async open(dir: string): Promise<OciLayout> {
    const layout = new OciLayout(path.resolve(dir));
    await layout.checkLayoutFile(false);
    return layout;
  }

  /**
   * Opens `dir` for writing, making it (and blobs/sha256, oci-layout) where missing. Temps of
   * writers that died are removed. `made` hears of each file and folder this call creates.
   */
  static async create(dir: string, made?: PartialOutput): Promise<OciLayout> {
    const layout = new OciLayout(path.resolve(dir), made);
    await fs.mkdir(path.dirname(layout.dir), { recursive: true });
    for (const d of [layout.dir, path.join(layout.dir, 'blobs'), path.join(layout.dir, BLOBS_DIR)]) {
      const fresh = await fs.mkdir(d).then(() => true, (e: unknown) => (errnoOf(e) === 'EEXIST' ? false : Promise.reject(e)));
      if (fresh && d !== layout.dir) made?.add(d);
    }
    if (!(await fs.stat(layout.dir)).isDirectory()) throw new NbuildError('LAYOUT_INVALID', `${layout.dir} exists and is not a folder (an OCI layout is a folder)`);
    for (const d of [layout.dir, path.join(layout.dir, BLOBS_DIR)]) await removeDeadTemps(d);
    await layout.checkLayoutFile(true);
    return layout;
  }

  blobPath(digest: Digest): string {
    return path.join(this.dir, BLOBS_DIR, digest.hex);
  }

  /** Whether a blob of that digest (and size, when given) is there, as a regular file. Its bytes are checked when read. */
  async hasBlob(digest: Digest, size?: number): Promise<boolean> {
    const st = await fs.lstat(this.blobPath(digest)).catch(() => undefined);
    return st !== undefined && st.isFile() && (size === undefined || st.size === size);
  }

  /**
   * Writes a blob: into a temp file beside its final name, hashed on the way, renamed into
   * place only when digest and size are right. A blob already present (same size) is kept.
   * Returns its id and whether bytes were written.
   */
  async writeBlob(source: BlobSource, opts: WriteBlobOptions = {}): Promise<BlobId & { written: boolean }> {
    const { expect } = opts;
    if (Buffer.isBuffer(source) && !expect) {
      const id = { digest: Digest.of(source), size: source.length };
      return this.writeBlob(source, { ...opts, expect: id });
    }
    if (expect && (await this.hasBlob(expect.digest, expect.size))) return { ...expect, written: false };
    const dir = path.join(this.dir, BLOBS_DIR);
    const tmp = tempBeside(path.join(dir, expect?.digest.hex ?? 'blob'));
    try {
      if (expect && !Buffer.isBuffer(source) && 'file' in source && source.fromStore) {
        await fs.copyFile(source.file, tmp, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
        const size = (await fs.stat(tmp)).size;
        if (size !== expect.size) throw new NbuildError('BLOB_CORRUPT', `${this.where(expect.digest)}: the store's copy has ${size} bytes, the descriptor says ${expect.size}`);
        opts.onBytes?.(size);
        this.made?.add(this.blobPath(expect.digest));
        await fs.rename(tmp, this.blobPath(expect.digest));
        return { ...expect, written: true };
      }
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : 'file' in source ? createReadStream(source.file, { highWaterMark: 1 << 20 }) : source;
      const check = new BlobCheck(expect, opts.onBytes);
      await pipeline(input, check.stream(), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      const id = check.result(this.where(expect?.digest));
      const target = this.blobPath(id.digest);
      if (!expect && (await this.hasBlob(id.digest, id.size))) {
        await fs.rm(tmp, { force: true });
        return { ...id, written: false };
      }
      this.made?.add(target);
      await fs.rename(tmp, target);
      return { ...id, written: true };
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** A stream of the blob's bytes that fails (BLOB_CORRUPT) when they are not `id`'s digest and size. */
  async readBlob(id: BlobId, onBytes?: (n: number) => void): Promise<Readable> {
    const where = this.where(id.digest);
    let fh: fs.FileHandle;
    try {
      // Not through a symlink: a layout is someone else's folder, its links could point anywhere on the host.
      fh = await fs.open(this.blobPath(id.digest), fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') throw new NbuildError('BLOB_UNKNOWN', `${where} is missing`, { cause: e });
      if (code === 'ELOOP') throw new NbuildError('BLOB_CORRUPT', `${where} is a symlink, not a regular file`, { cause: e });
      throw e;
    }
    const file = fh.createReadStream({ highWaterMark: 1 << 20 });
    const verify = new BlobCheck(id, onBytes, where).stream();
    // pipe() forwards neither errors nor an early stop: a read error fails the reader, a reader that stops closes the file.
    file.on('error', (e) => verify.destroy(e));
    verify.on('close', () => file.destroy());
    return file.pipe(verify);
  }

  /** A small blob (manifest, config) in memory, verified; refused when larger than `max`. */
  async readBlobBytes(id: BlobId, max = 16 << 20): Promise<Buffer> {
    if (id.size > max) throw new NbuildError('BLOB_CORRUPT', `${this.where(id.digest)}: ${id.size} bytes, more than ${max} for a manifest or config`);
    const chunks: Buffer[] = [];
    for await (const c of await this.readBlob(id)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Copies a verified blob to `file` (created, not overwritten). */
  async copyBlobTo(id: BlobId, file: string, onBytes?: (n: number) => void): Promise<void> {
    await pipeline(await this.readBlob(id, onBytes), createWriteStream(file, { flags: 'wx', mode: 0o644 }));
  }

  async hasIndex(): Promise<boolean> {
    return fs.stat(path.join(this.dir, INDEX_FILE)).then((s) => s.isFile(), () => false);
  }

  /** index.json (an empty index when there is none yet); LAYOUT_INVALID when it is not an image index. */
  async readIndex(): Promise<Index> {
    const file = path.join(this.dir, INDEX_FILE);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return emptyIndex();
      throw e;
    }
    return parseIndex(bytes, file);
  }

  /** Replaces index.json with `fn(current)` atomically (temp + rename): readers see the old or the new one. */
  async updateIndex(fn: (index: Index) => Index): Promise<Index> {
    const next = fn(await this.readIndex());
    const file = path.join(this.dir, INDEX_FILE);
    if (!(await fs.stat(file).then(() => true, () => false))) this.made?.add(file);
    await replaceFile(file, indexBytes(next));
    return next;
  }

  private where(digest?: Digest): string {
    return digest ? `${this.dir}: blob ${digest}` : `${this.dir}: blob`;
  }

  private async checkLayoutFile(write: boolean): Promise<void> {
    const file = path.join(this.dir, LAYOUT_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw new NbuildError('LAYOUT_INVALID', `${file} is not an OCI layout file`, { cause: e });
      if (!write) return;
      this.made?.add(file);
      await replaceFile(file, LAYOUT_CONTENT);
      return;
    }
    checkLayoutVersion(Buffer.from(text), file);
  }
}

/**
 * The checks of index.json, shared by layout folders and archives (load): an OCI image index
 * whose entries all have valid digests, else LAYOUT_INVALID naming `where`.
 */
export function parseIndex(bytes: Buffer, where: string): Index {
  let index: Index;
  try {
    index = JSON.parse(bytes.toString('utf8')) as Index;
  } catch {
    throw new NbuildError('LAYOUT_INVALID', `${where} is not valid JSON`);
  }
  if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests) || !index.manifests.every((d) => Digest.isValid(d?.digest))) {
    throw new NbuildError('LAYOUT_INVALID', `${where} is not an OCI image index`);
  }
  return index;
}

/** The check of an `oci-layout` file: version 1.0.0, else LAYOUT_INVALID / LAYOUT_VERSION naming `where`. */
export function checkLayoutVersion(bytes: Buffer, where: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (e) {
    throw new NbuildError('LAYOUT_INVALID', `${where} is not an OCI layout file`, { cause: e });
  }
  if (version !== LAYOUT_VERSION) throw new NbuildError('LAYOUT_VERSION', `${where}: unsupported imageLayoutVersion ${String(version)}`);
}

/**
 * Hashes and counts bytes passed through stream(); fails as soon as there are too many, or at the
 * end on a mismatch. Not a Transform subclass: a class that extends one at the top of this module
 * would load node:stream with the module, in every build (docs/decisions.md, "Start-up: a no-op
 * build loads neither node:crypto nor node:stream").
 */
class BlobCheck {
  private readonly hash = sha256();
  private size = 0;
  private digest?: Digest;

  constructor(private readonly expect: BlobId | undefined, private readonly onBytes?: (n: number) => void, private readonly where?: string) {}

  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.size += chunk.length;
        if (this.expect && this.size > this.expect.size) {
          done(new NbuildError('BLOB_CORRUPT', `${this.where ?? 'blob'} ${this.expect.digest}: more than the ${this.expect.size} bytes its descriptor says`));
          return;
        }
        this.hash.update(chunk);
        this.onBytes?.(chunk.length);
        done(null, chunk);
      },
      flush: (done: TransformCallback) => {
        if (this.where === undefined) {
          done(); // writer: checked by result() once the file is complete
          return;
        }
        try {
          this.result(this.where);
          done();
        } catch (e) {
          done(e as Error);
        }
      },
    });
  }

  result(where: string): BlobId {
    this.digest ??= Digest.fromHex(this.hash.hex());
    const id = { digest: this.digest, size: this.size };
    if (this.expect && (id.size !== this.expect.size || !id.digest.equals(this.expect.digest))) {
      throw new NbuildError('BLOB_CORRUPT', `${where}: the bytes are ${id.digest} (${id.size} bytes), the descriptor says ${this.expect.digest} (${this.expect.size} bytes)`);
    }
    return id;
  }
}
