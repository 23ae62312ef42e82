// Where loadArchive reads from: a tar (optionally gzip-compressed) streamed once
// through the tar codec (src/oci/tar.ts) into the store's temp dir with every file
// hashed on the way, or an OCI layout folder read in place through `OciLayout`
// (src/oci/layout.ts: blobs verified while copied, never through a symlink). Both
// check index.json and oci-layout with the layout module's checks. Archive names
// are archive-relative; one that escapes the archive (absolute, `..`) or is given
// twice is refused before anything is used.
import { createReadStream, constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import type { Index } from '../image/types.js';
import { type BlobId, INDEX_FILE, LAYOUT_FILE, OciLayout, blobName, checkLayoutVersion, parseIndex } from '../oci/layout.js';
import { readTar } from '../oci/tar.js';
import { sha256 } from '../native/index.js';

export interface MaterializedFile {
  /** A file in the work dir, ours to move into the store. */
  file: string;
  digest: Digest;
  size: number;
}

/** Files of a tar archive by name (a `docker save` archive's manifest.json and what it names). */
export interface ArchiveFiles {
  has(name: string): Promise<boolean>;
  /** Reads a small file (JSON); refuses anything larger than `max`. */
  readSmall(name: string, max?: number): Promise<Buffer>;
  /** A verified private copy of a file, with its digest. */
  materialize(name: string): Promise<MaterializedFile>;
}

export interface LoadSource {
  /** index.json, checked (and oci-layout's version when there); undefined when there is none. */
  ociIndex(): Promise<Index | undefined>;
  /** A blob of the OCI layout as a private file, checked against `id`; `what` names it in errors. */
  blob(id: BlobId, what: string): Promise<MaterializedFile>;
  /** Named files: a tar archive's; a layout folder has only its layout. */
  files?: ArchiveFiles;
}

const SMALL_MAX = 16 << 20;

export function invalid(why: string): NbuildError {
  return new NbuildError('ARCHIVE_INVALID', `cannot load: ${why}`);
}

/** Normalises an archive path; refuses absolute paths and `..`. */
export function cleanName(name: string): string {
  if (name.startsWith('/')) throw invalid(`archive entry ${JSON.stringify(name)} is an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw invalid(`archive entry ${JSON.stringify(name)} escapes the archive`);
  return parts.join('/');
}

/** A layout check's error (LAYOUT_INVALID, LAYOUT_VERSION) as a load's. */
function asInvalid(e: unknown): unknown {
  return e instanceof NbuildError && e.code.startsWith('LAYOUT_') ? invalid(e.message) : e;
}

/** Streams a tar into `work`, hashing every regular file. */
export async function tarSource(archive: string, work: string): Promise<LoadSource> {
  const files = new Map<string, MaterializedFile>();
  const links = new Map<string, string>();
  let n = 0;
  const head = Buffer.alloc(2);
  const fh = await fs.open(archive, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  let input: Readable = createReadStream(archive, { highWaterMark: 1 << 20 });
  if (head[0] === 0x1f && head[1] === 0x8b) input = input.pipe(createGunzip());
  await readTar(input, async (entry, body) => {
    const name = cleanName(entry.name);
    if (name === '' || entry.type === 'dir') return;
    if (files.has(name) || links.has(name)) throw invalid(`archive entry ${JSON.stringify(name)} appears twice`);
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      // Old `docker save` archives link shared layer.tar files; resolved inside the archive only.
      const target = entry.type === 'symlink' ? path.posix.join(path.posix.dirname(name), entry.linkname) : entry.linkname;
      links.set(name, cleanName(path.posix.normalize(target)));
      return;
    }
    if (entry.type !== 'file') throw invalid(`archive entry ${JSON.stringify(name)} is not a regular file (type ${JSON.stringify(entry.typeflag)})`);
    const file = path.join(work, `f${n++}`);
    const out = await fs.open(file, 'wx', 0o600);
    const h = sha256();
    let size = 0;
    try {
      for await (const chunk of body) {
        h.update(chunk);
        size += chunk.length;
        await out.write(chunk);
      }
    } finally {
      await out.close();
    }
    files.set(name, { file, digest: Digest.fromHex(h.hex()), size });
  });
  const resolve = (name: string): MaterializedFile | undefined => {
    let cur = cleanName(name);
    for (let hops = 0; hops < 16; hops++) {
      const f = files.get(cur);
      if (f) return f;
      const next = links.get(cur);
      if (next === undefined) return undefined;
      cur = next;
    }
    throw invalid(`too many links at ${JSON.stringify(name)}`);
  };
  const taken = new Set<string>();
  const named: ArchiveFiles = {
    has: async (name) => resolve(name) !== undefined,
    async readSmall(name, max = SMALL_MAX) {
      const f = resolve(name);
      if (!f) throw invalid(`${name} is missing from the archive`);
      if (f.size > max) throw invalid(`${name} is too large (${f.size} bytes)`);
      return fs.readFile(f.file);
    },
    async materialize(name) {
      const f = resolve(name);
      if (!f) throw invalid(`${name} is missing from the archive`);
      // A file named twice (links) is moved once; later uses get a copy.
      if (!taken.has(f.file)) {
        taken.add(f.file);
        return f;
      }
      const copy = path.join(work, `f${n++}`);
      await fs.copyFile(f.file, copy, fsc.COPYFILE_FICLONE);
      return { ...f, file: copy };
    },
  };
  return {
    files: named,
    async ociIndex() {
      if (!(await named.has(INDEX_FILE))) return undefined;
      try {
        if (await named.has(LAYOUT_FILE)) checkLayoutVersion(await named.readSmall(LAYOUT_FILE, 4096), LAYOUT_FILE);
        return parseIndex(await named.readSmall(INDEX_FILE), INDEX_FILE);
      } catch (e) {
        throw asInvalid(e);
      }
    },
    async blob(id, what) {
      const name = blobName(id.digest);
      if (!(await named.has(name))) throw invalid(`${what} ${id.digest} is missing from the archive`);
      const f = await named.materialize(name);
      if (!f.digest.equals(id.digest)) throw new NbuildError('DIGEST_MISMATCH', `cannot load: ${name} has digest ${f.digest}, not ${id.digest}`);
      if (f.size !== id.size) throw new NbuildError('SIZE_MISMATCH', `cannot load: ${what} ${id.digest} is ${f.size} bytes, the descriptor says ${id.size}`);
      return f;
    },
  };
}

/** An OCI layout folder, read in place: each blob used is copied into `work` through the layout's verified read. */
export async function layoutSource(dir: string, work: string): Promise<LoadSource> {
  const layout = await OciLayout.open(dir).catch((e: unknown) => Promise.reject(asInvalid(e)));
  let n = 0;
  return {
    async ociIndex() {
      if (!(await layout.hasIndex())) return undefined;
      return layout.readIndex().catch((e: unknown) => Promise.reject(asInvalid(e)));
    },
    async blob(id, what) {
      if (!(await layout.hasBlob(id.digest))) throw invalid(`${what} ${id.digest} is missing from ${dir}`);
      const file = path.join(work, `f${n++}`);
      try {
        await layout.copyBlobTo(id, file);
      } catch (e) {
        if (e instanceof NbuildError && e.code === 'BLOB_CORRUPT') throw new NbuildError('DIGEST_MISMATCH', `cannot load: ${e.message}`, { cause: e });
        throw e;
      }
      return { file, ...id };
    },
  };
}
