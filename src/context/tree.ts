// The context walk below a COPY's sources: the folders are listed by the native engine (readdir,
// fstatat, readlinkat off the JS thread), up to DIRS_PER_CALL folders per call, two calls under
// way; what .dockerignore keeps, and which folders are entered, is decided here, as before, while
// the engine lists the next ones (docs/decisions.md, "Native context walk").
import { CALLS_AT_ONCE, listDirs, sha256 } from '../native/index.js';
import type { RawDirListings } from '../native/binding.js';
import type { BuildContext, ContextEntry } from './context.js';

/** The fields of an entry's lstat the walk uses (fs.Stats has them too). */
export interface EntryStat {
  mode: number;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface TreeNode {
  /** Path relative to the context root, '/'-separated ('' for the root). */
  rel: string;
  abs: string;
  st: EntryStat;
  /** A symlink's target. */
  link?: string;
  /** A listed folder's kept subfolders, in name order (undefined for none). */
  subfolders?: TreeNode[];
  /**
   * Where .dockerignore has patterns, a listed folder's kept entries in name order: folders as
   * nodes, other entries as their index in `listing`; without patterns every entry is kept and
   * this is not made (see childrenOf).
   */
  kept?: (TreeNode | number)[];
  listing?: FolderListing;
  /** A listed folder: the native sha256 of its entries' names, stat identities, modes and link targets. */
  listingDigest?: string;
  /** A listed folder: the newest ctime of its entries (a folder changed in the same clock tick looks unchanged). */
  newestCtimeMs?: number;
}

/** A folder's entries as listDirs gave them: names joined by NUL, six stat numbers each from `base` in `stats`. */
interface FolderListing {
  joined: string;
  stats: Float64Array;
  base: number;
  /** entry index → symlink target */
  links?: Map<number, string>;
}

export interface ContextTree {
  roots: TreeNode[];
  /**
   * sha256 over every listing made (folder path, and the native digest of its names, types,
   * modes, stat identities and link targets), in order: the same value means the same tree.
   */
  listing: string;
  /** The newest ctime of any entry listed: a tree changed in the same clock tick looks unchanged. */
  newestCtimeMs: number;
  /** Bytes of the regular files kept. */
  totalBytes: number;
}

const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** Folders per native call: bounds one result's size; CALLS_AT_ONCE calls run at once. */
const DIRS_PER_CALL = 256;
/** Fewer only when fewer are waiting: each call costs a thread-pool round trip. */
const MIN_DIRS_PER_CALL = 16;

export function isDir(st: EntryStat): boolean {
  return (st.mode & S_IFMT) === S_IFDIR;
}

function statAt(s: Float64Array, o: number): EntryStat {
  return { mode: s[o] as number, dev: s[o + 1] as number, ino: s[o + 2] as number, size: s[o + 3] as number, mtimeMs: s[o + 4] as number, ctimeMs: s[o + 5] as number };
}

/**
 * The sources' entries (context.resolve) with everything below them that .dockerignore keeps.
 * Only folders get a node while listing; files get theirs from childrenOf, when the walk needs
 * them (not when its summary is known): a no-op rebuild makes no object per file.
 */
export async function listContextTree(context: BuildContext, entries: ContextEntry[]): Promise<ContextTree> {
  const roots: TreeNode[] = entries.map((e) => ({ rel: e.rel, abs: e.abs, st: e.stat }));
  const summary = sha256();
  const filter = !context.ignore.matchesNothing;
  let newestCtimeMs = 0;
  let totalBytes = 0;
  for (const r of roots) {
    if ((r.st.mode & S_IFMT) === S_IFREG) totalBytes += r.st.size;
    newestCtimeMs = Math.max(newestCtimeMs, r.st.ctimeMs);
  }
  // The folders to list, in breadth-first order: a folder's subfolders are appended when its
  // listing is read, and listings are read in this order, so the summary sums the same folders
  // in the same order as one level at a time would.
  const queue = roots.filter((r) => isDir(r.st));
  // Reads one call's listings (the folders queue[from, from + n)), in queue order.
  const read = (from: number, listing: RawDirListings): void => {
    newestCtimeMs = Math.max(newestCtimeMs, listing.newestCtimeMs);
    const s = listing.stats;
    // `abs\0digest\0` per folder, joined once (a string per folder and their concatenation were
    // ~1 MB of garbage in copy-many's no-op, which the scavenges then walked over).
    const summed: string[] = [];
    let k = 0;
    let l = 0;
    for (let d = 0; d < listing.counts.length; d++) {
      const dir = queue[from + d] as TreeNode;
      const digest = listing.digests[d] as string;
      summed.push(dir.abs, digest);
      dir.listingDigest = digest;
      dir.newestCtimeMs = 0;
      const count = listing.counts[d] as number;
      const kept: (TreeNode | number)[] | undefined = filter ? (dir.kept = []) : undefined;
      if (count === 0) continue;
      const joined = listing.names[d] as string;
      const folder: FolderListing = { joined, stats: s, base: 6 * k };
      dir.listing = folder;
      // Made when needed: a folder of files only (no patterns) needs neither.
      let prefix: string | undefined;
      let absPrefix: string | undefined;
      // Names are cut out of `joined` only where needed: for folders, and for files when
      // .dockerignore has patterns (no string per file on a no-op rebuild otherwise).
      let at = 0;
      for (let e = 0; e < count; e++, k++) {
        const end = e === count - 1 ? joined.length : joined.indexOf('\0', at);
        const begin = at;
        at = end + 1;
        const type = (s[6 * k] as number) & S_IFMT;
        if ((s[6 * k + 5] as number) > dir.newestCtimeMs) dir.newestCtimeMs = s[6 * k + 5] as number;
        if (type === S_IFLNK) (folder.links ??= new Map()).set(e, listing.links[l++] as string);
        if (type === S_IFDIR) {
          const name = joined.slice(begin, end);
          prefix ??= dir.rel === '' ? '' : `${dir.rel}/`;
          // abs is absolute and normalised, a name a plain entry name: concatenation is path.join
          absPrefix ??= dir.abs.endsWith('/') ? dir.abs : `${dir.abs}/`;
          const rel = prefix + name;
          if (filter && context.isExcluded(rel, true) && context.ignore.canSkipDirectory(rel)) continue;
          const node: TreeNode = { rel, abs: absPrefix + name, st: statAt(s, 6 * k) };
          (dir.subfolders ??= []).push(node);
          kept?.push(node);
          queue.push(node);
        } else {
          if (kept) {
            prefix ??= dir.rel === '' ? '' : `${dir.rel}/`;
            if (context.isExcluded(prefix + joined.slice(begin, end), false)) continue;
            kept.push(e);
          }
          if (type === S_IFREG) totalBytes += s[6 * k + 3] as number;
        }
      }
    }
    summed.push('');
    summary.update(summed.join('\0'));
  };
  await listInOrder(queue, read);
  return { roots, listing: summary.hex(), newestCtimeMs, totalBytes };
}

/**
 * Lists the folders of `queue`, which grows while its listings are read: CALLS_AT_ONCE native
 * calls under way, each taking the next folders not yet handed out (a share of what is waiting,
 * so that the calls finish together, at most DIRS_PER_CALL). Each call's result is read (`read`)
 * as soon as every call before it has been: the threads list the next folders while this one
 * reads, with no wait at each depth of the tree.
 */
async function listInOrder(queue: TreeNode[], read: (from: number, listing: RawDirListings) => void): Promise<void> {
  let handedOut = 0;
  let readUpTo = 0;
  let underWay = 0;
  const done = new Map<number, RawDirListings>();
  let failed: unknown;
  let wake: (() => void) | undefined;
  const start = (): void => {
    while (underWay < CALLS_AT_ONCE && handedOut < queue.length && failed === undefined) {
      const waiting = queue.length - handedOut;
      const n = Math.min(DIRS_PER_CALL, waiting, Math.max(MIN_DIRS_PER_CALL, Math.ceil(waiting / CALLS_AT_ONCE)));
      const from = handedOut;
      handedOut += n;
      underWay++;
      listDirs(queue.slice(from, from + n).map((d) => d.abs)).then(
        (listing) => {
          underWay--;
          done.set(from, listing);
          wake?.();
        },
        (e: unknown) => {
          underWay--;
          failed ??= e;
          wake?.();
        },
      );
    }
  };
  start();
  while (readUpTo < queue.length || underWay > 0) {
    const listing = done.get(readUpTo);
    if (listing) {
      done.delete(readUpTo);
      const from = readUpTo;
      readUpTo += listing.counts.length;
      read(from, listing);
      start();
      continue;
    }
    if (failed !== undefined && underWay === 0) throw failed;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
}

/** A listed folder's kept entries as nodes, in name order. */
export function childrenOf(dir: TreeNode): TreeNode[] {
  const { kept, listing } = dir;
  if (!listing) return [];
  const prefix = dir.rel === '' ? '' : `${dir.rel}/`;
  const absPrefix = dir.abs.endsWith('/') ? dir.abs : `${dir.abs}/`;
  const names = listing.joined.split('\0');
  const fileNode = (e: number): TreeNode => {
    const name = names[e] as string;
    return { rel: prefix + name, abs: absPrefix + name, st: statAt(listing.stats, listing.base + 6 * e), link: listing.links?.get(e) };
  };
  if (kept) return kept.map((e) => (typeof e === 'number' ? fileNode(e) : e));
  // Everything kept: the folders are the subfolders' nodes, in the same (name) order.
  let next = 0;
  return names.map((_, e) => ((listing.stats[listing.base + 6 * e] as number) & S_IFMT) === S_IFDIR ? (dir.subfolders?.[next++] as TreeNode) : fileNode(e));
}
