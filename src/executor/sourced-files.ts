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
  /** By staged path (absolute, below the staging root). */
  private readonly entries = new Map<string, SourcedFile & { linkKey?: string }>();
  /** How many sourced entries each staged or sourced folder holds. */
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
    this.put(dest, {
      ...this.entry('file', dest, socket ? '' : src, fields),
      size: socket ? 0 : st.size,
      hash: !socket && this.needsDigest(src, st),
      // Files of one inode are one file and hard links to it (list() picks which is first).
      linkKey: !socket && st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined,
    });
  }

  /** A folder made at `dest` (nothing there in the staging tree or the image): its entries are sourced. */
  addDir(dest: string, src: string, fields: EntryFields): void {
    this.put(dest, this.entry('dir', dest, src, fields));
  }

  addSymlink(dest: string, target: string, fields: EntryFields): void {
    this.put(dest, { ...this.entry('symlink', dest, '', fields), linkname: target });
  }

  has(dest: string): boolean {
    return this.entries.has(dest);
  }

  /** What is at `dest` goes (a later copy replaces it, an empty filtered folder is dropped). */
  delete(dest: string): void {
    if (!this.entries.delete(dest)) return;
    const dir = path.dirname(dest);
    const left = (this.perFolder.get(dir) ?? 1) - 1;
    if (left === 0) this.perFolder.delete(dir);
    else this.perFolder.set(dir, left);
  }

  /** Whether the folder `dir` (staged or sourced) holds a sourced entry. */
  holdsIn(dir: string): boolean {
    return this.perFolder.has(dir);
  }

  /**
   * For the layer writer (native writeLayer's `sourced`). Files of one inode: the first in the
   * tar's order is the file, the others hard links to it, as the writer makes of a staged tree.
   */
  list(): SourcedFile[] {
    const groups = new Map<string, (SourcedFile & { linkKey?: string })[]>();
    for (const e of this.entries.values()) {
      if (e.linkKey === undefined) continue;
      const group = groups.get(e.linkKey);
      if (group) group.push(e);
      else groups.set(e.linkKey, [e]);
    }
    const linkTo = new Map<SourcedFile, string>();
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      group.sort((a, b) => tarOrder(a.path, b.path));
      for (const other of group.slice(1)) linkTo.set(other, group[0].path);
    }
    return [...this.entries.values()].map((entry) => {
      const { linkKey: _, ...e } = entry;
      const first = linkTo.get(entry);
      return first === undefined ? e : { ...e, type: 'hardlink', linkname: first, size: 0, hash: false };
    });
  }

  private entry(type: SourcedFile['type'], dest: string, source: string, f: EntryFields): SourcedFile {
    return { type, path: path.relative(this.stagingRoot, dest), source, size: 0, mode: f.mode, uid: f.owner.uid, gid: f.owner.gid, mtime: f.mtime, hash: false };
  }

  private put(dest: string, e: SourcedFile & { linkKey?: string }): void {
    if (this.entries.size >= this.max && !this.entries.has(dest)) throw new TooManySourced(`more than ${this.max} entries`);
    if (!this.entries.has(dest)) this.perFolder.set(path.dirname(dest), (this.perFolder.get(path.dirname(dest)) ?? 0) + 1);
    this.entries.set(dest, e);
  }
}

/** The layer writer's order: a folder's entries by name (bytes), each folder right after its parent's entry. */
function tarOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]), Buffer.from(pb[i]));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}
