// The entries a COPY from the context puts in its layer straight from the context: the layer
// writer reads each file once (its tar entry, and its sha256 for the cache key when the stat
// cache lacks it), and no staging tree holds them, so the COPY creates no file for them and no
// folder below the folders it creates. The copier decides every entry's owner, mode and mtime as
// it would for a staged one; folders that were there (the image's, the destination's) are still
// staged, so its rules about what is in the way read the tree as before. Used when nothing later
// in the build reads the layer's tree (steps/copy.ts streamsIntoLayer): the store unpacks a
// layer from its blob when something does.
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import type { SourcedFile } from '../native/index.js';
import type { Owner } from './staging.js';

/** What an entry gets in the layer, as the copier decides it. */
export interface EntryFields {
  owner: Owner;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

/**
 * At most this many entries are sourced: the list is held until the layer is written (~1 KB per
 * entry of the JS heap in a copy-many COPY), so a COPY of more is staged instead (copy.ts), and
 * the peak stays bounded however large the context.
 */
export const MAX_SOURCED = 100_000;

/** Thrown by add*() past MAX_SOURCED: the COPY is staged instead. */
export class TooManySourced extends Error {}

export class SourcedFiles {
  /** By path below the staging root (the entry's `path`). */
  private readonly entries = new Map<string, SourcedFile>();
  /** How many sourced entries each staged or sourced folder holds (by path below the root). */
  private readonly perFolder = new Map<string, number>();

  /** `needsDigest`: whether the writer must hash the file (the stat cache does not know it). */
  constructor(
    private readonly stagingRoot: string,
    private readonly needsDigest: (src: string, st: Stats) => boolean,
    private readonly max = MAX_SOURCED,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The regular file `src` (a context socket: an empty file, nothing read) at the staged path `dest`. */
  addFile(dest: string, src: string, st: Stats, fields: EntryFields): void {
    const socket = st.isSocket();
    const e = this.entry('file', dest, socket ? '' : src, fields);
    e.size = socket ? 0 : st.size;
    e.hash = !socket && this.needsDigest(src, st);
    // Files of one inode are one file and hard links to it: the writer makes the first in the tar the file.
    if (!socket && st.nlink > 1) {
      e.dev = st.dev;
      e.ino = st.ino;
    }
    this.put(e);
  }

  /** A folder made at `dest` (nothing there in the staging tree or the image): its entries are sourced. */
  addDir(dest: string, src: string, fields: EntryFields): void {
    this.put(this.entry('dir', dest, src, fields));
  }

  addSymlink(dest: string, target: string, fields: EntryFields): void {
    const e = this.entry('symlink', dest, '', fields);
    e.linkname = target;
    this.put(e);
  }

  has(dest: string): boolean {
    return this.entries.has(this.rel(dest));
  }

  /** What is at `dest` goes (a later copy replaces it, an empty filtered folder is dropped). */
  delete(dest: string): void {
    const rel = this.rel(dest);
    if (!this.entries.delete(rel)) return;
    const dir = path.posix.dirname(rel);
    const left = (this.perFolder.get(dir) ?? 1) - 1;
    if (left === 0) this.perFolder.delete(dir);
    else this.perFolder.set(dir, left);
  }

  /** Whether the folder `dir` (staged or sourced) holds a sourced entry. */
  holdsIn(dir: string): boolean {
    return this.perFolder.has(this.rel(dir));
  }

  /** For the layer writer (native writeLayer's `sourced`). */
  list(): SourcedFile[] {
    return [...this.entries.values()];
  }

  private rel(dest: string): string {
    return path.relative(this.stagingRoot, dest) || '.';
  }

  private entry(type: SourcedFile['type'], dest: string, source: string, f: EntryFields): SourcedFile {
    return { type, path: this.rel(dest), source, size: 0, mode: f.mode, uid: f.owner.uid, gid: f.owner.gid, mtime: f.mtime, hash: false };
  }

  private put(e: SourcedFile): void {
    const fresh = !this.entries.has(e.path);
    if (fresh && this.entries.size >= this.max) throw new TooManySourced(`more than ${this.max} entries`);
    if (fresh) this.perFolder.set(path.posix.dirname(e.path), (this.perFolder.get(path.posix.dirname(e.path)) ?? 0) + 1);
    this.entries.set(e.path, e);
  }
}
