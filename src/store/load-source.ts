// Where loadArchive reads from: a tar (optionally gzip-compressed) streamed once
// into the store's temp dir with every file hashed on the way, or an OCI layout
// folder read in place. Names are archive-relative; one that escapes the archive
// (absolute, `..`) or is given twice is refused before anything is used.
import { createHash } from 'node:crypto';
import { createReadStream, constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { readTar } from '../oci/tar.js';
import { hashFile } from './fsutil.js';

export interface MaterializedFile {
  /** A file in the work dir, ours to move into the store. */
  file: string;
  digest: Digest;
  size: number;
}

export interface LoadSource {
  has(name: string): Promise<boolean>;
  /** Reads a small file (JSON); refuses anything larger than `max`. */
  readSmall(name: string, max?: number): Promise<Buffer>;
  /** A verified private copy of a file, with its digest. */
  materialize(name: string): Promise<MaterializedFile>;
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
    const h = createHash('sha256');
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
    files.set(name, { file, digest: Digest.fromHex(h.digest('hex')), size });
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
  return {
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
}

/** An OCI layout folder, read in place; every file used is copied and hashed first. */
export function dirSource(dir: string, work: string): LoadSource {
  let n = 0;
  // Regular files only: a symlink in a layout could point anywhere on the host.
  const real = async (name: string): Promise<string | undefined> => {
    const p = path.join(dir, cleanName(name));
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isFile()) throw invalid(`${name} in ${dir} is not a regular file`);
    return p;
  };
  const need = async (name: string): Promise<string> => {
    const p = await real(name);
    if (!p) throw invalid(`${name} is missing from ${dir}`);
    return p;
  };
  return {
    has: async (name) => (await real(name)) !== undefined,
    async readSmall(name, max = SMALL_MAX) {
      const p = await need(name);
      const st = await fs.stat(p);
      if (st.size > max) throw invalid(`${name} is too large (${st.size} bytes)`);
      return fs.readFile(p);
    },
    async materialize(name) {
      const p = await need(name);
      const copy = path.join(work, `f${n++}`);
      await fs.copyFile(p, copy, fsc.COPYFILE_FICLONE);
      return { file: copy, ...(await hashFile(copy)) };
    },
  };
}
