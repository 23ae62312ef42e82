// Content digests of COPY sources for cache keys: names, types, modes, link
// targets and file contents — never mtimes or host owners. The stat cache
// (stat-cache.ts) avoids re-reading unchanged files, so a no-op rebuild of a
// large context reads metadata only.
import type { BuildContext } from '../context/context.js';
import { childrenOf, isDir, listContextTree, S_IFLNK, S_IFREG, type ContextTree, type EntryStat, type TreeNode } from '../context/tree.js';
import { RACY_MS, statIdentity, type StatCache } from './stat-cache.js';
import { CALLS_AT_ONCE, sha256, sha256Files, sha256Hex } from '../native/index.js';

/**
 * The files the stat cache does not know (a cold build) are hashed by the addon, this many per
 * call, CALLS_AT_ONCE calls at once: a call and a promise per file cost more than reading a
 * small file (docs/decisions.md, "Unknown context files hashed in batches").
 */
const FILES_PER_CALL = 256;

/** A context file the stat cache did not know during the walk: its digest is set when hashed (or, deferred, when the caller read it). */
interface Unknown {
  abs: string;
  st: EntryStat;
  /** The part's text before the digest. */
  prefix: string;
  digest?: string;
}
type Part = string | Unknown;

/** A walk of a COPY's context sources: how much of it the stat cache knew, and its digest. */
export interface SourcesWalk {
  /** Bytes of the files the stat cache did not know, and of all files. */
  unknownBytes: number;
  totalBytes: number;
  /** The digest; a deferred walk hashes the files still unknown now (a copy may have recorded them). */
  digest(): Promise<string>;
}

/**
 * One digest over every file a COPY would take from the context. The files the stat cache does
 * not know are hashed several at a time, and their digests go into the sum in walk order.
 */
export async function contextSourcesDigest(context: BuildContext, sources: string[], stats: StatCache): Promise<string> {
  return (await walkContextSources(context, sources, stats, false)).digest();
}

/** Bumped when the parts summed below change, so a cached summary of an older form is not used. */
const DIGEST_FORM = 'content-digest-v2';

/**
 * A folder's files and links (not its subfolders) in the digest: their parts, or the digest they
 * had when the folder's native listing was the same (`known`), recorded per folder in the stat
 * cache. A touched file then costs the parts of its own folder, not of the whole tree.
 */
interface FolderFiles {
  node: TreeNode;
  parts: Part[];
  known?: string;
  digest?: string;
}

function isFolderFiles(p: Part | FolderFiles): p is FolderFiles {
  return typeof p === 'object' && 'node' in p;
}

function partText(p: Part): string {
  if (typeof p === 'string') return p;
  if (p.digest === undefined) throw new Error(`internal error: ${p.abs} was not hashed`);
  return `${p.prefix}${p.digest}\0`;
}

/** Hashes the files not hashed yet, in batches, and records each digest in the stat cache. */
async function hashUnknown(files: Unknown[], stats: StatCache): Promise<void> {
  const todo = files.filter((f) => f.digest === undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const from = next;
      next += FILES_PER_CALL;
      const batch = todo.slice(from, next);
      const digests = await sha256Files(batch.map((f) => f.abs));
      batch.forEach((f, i) => {
        f.digest = digests[i] as string;
        stats.record(f.abs, f.st, f.digest);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CALLS_AT_ONCE, todo.length) }, worker));
}

/**
 * The walk of contextSourcesDigest. `defer`: the files the stat cache does not know are not
 * read during the walk but when digest() is called, so that the caller can first copy them,
 * hashing as it copies (stage.ts), and each is read once.
 *
 * The walk lists the tree natively (context/tree.ts); when the listing of every folder is what
 * it was when the stat cache last summarised these sources, the digest is the one recorded then
 * and no file's entry is looked at (a no-op rebuild: one comparison). Otherwise each folder whose
 * own listing is unchanged gives the digest of its files recorded then (a Merkle walk: a touched
 * or edited file costs its folder's entries), and only the others look at their files.
 *
 * The form: per source `src\0SRC\0`; per folder `d\0REL\0MODE\0` then `F\0FILES\0` (FILES: the
 * sha256 of its files' `f\0NAME\0MODE\0DIGEST\0` and links' `l\0NAME\0TARGET\0` in name order),
 * then its subfolders in name order; a source that is a file or link, `f\0REL\0…` or `l\0REL\0…`.
 */
export async function walkContextSources(context: BuildContext, sources: string[], stats: StatCache, defer: boolean): Promise<SourcesWalk> {
  const walkStart = Date.now();
  const trees: [string, ContextTree][] = [];
  // What is walked (the key of its summary), and a sum of what the walk found.
  const key = sha256Hex(JSON.stringify([DIGEST_FORM, context.dir, context.ignore.source, sources]));
  const summary = sha256();
  let totalBytes = 0;
  let newestCtimeMs = 0;
  for (const src of sources) {
    const tree = await listContextTree(context, context.resolve(src));
    trees.push([src, tree]);
    totalBytes += tree.totalBytes;
    newestCtimeMs = Math.max(newestCtimeMs, tree.newestCtimeMs);
    summary.update(`src\0${src}\0`);
    for (const r of tree.roots) summary.update(`${r.rel}\0${r.st.mode}\0${statIdentity(r.st)}\0`);
    summary.update(`${tree.listing}\0`);
  }
  const listing = summary.hex();
  const known = stats.treeDigest(key, listing);
  if (known !== undefined) return { unknownBytes: 0, totalBytes, digest: () => Promise.resolve(known) };

  const recorded = stats.folderDigests(key);
  const parts: (Part | FolderFiles)[] = [];
  const folders: FolderFiles[] = [];
  const sizes = { unknownBytes: 0, totalBytes };
  const pending: Unknown[] = [];
  const unknown = (abs: string, st: EntryStat, prefix: string): Part => {
    sizes.unknownBytes += st.size;
    const u: Unknown = { abs, st, prefix };
    pending.push(u);
    return u;
  };
  const walk: Walker = { stats, recorded, folders, unknown };
  for (const [src, tree] of trees) {
    parts.push(`src\0${src}\0`);
    for (const root of tree.roots) walkNode(root, walk, parts);
  }
  // Not deferred: the files are hashed from now on, while the caller goes on; an error is thrown
  // by digest().
  let hashed = defer ? undefined : hashUnknown(pending, stats);
  hashed?.catch(() => undefined);
  // Summarised only when no entry changed within RACY_MS of the walk: a change in the same clock
  // tick keeps the ctime, and the digest may come from a later read of a file whose ctime did not move.
  const racy = newestCtimeMs >= walkStart - RACY_MS;
  return {
    ...sizes,
    digest: async () => {
      if (!hashed) {
        // Deferred: the caller may have read some by now (a streamed COPY hashes as it writes).
        for (const u of pending) u.digest ??= stats.known(u.abs, u.st);
        hashed = hashUnknown(pending, stats);
      }
      await hashed;
      // Summed in walk order; a folder whose files digest is not recorded sums its own parts first.
      const texts = parts.map((part) => {
        if (!isFolderFiles(part)) return partText(part);
        if (part.known !== undefined) return `F\0${(part.digest = part.known)}\0`;
        return `F\0${(part.digest = sumParts(part.parts.map(partText)))}\0`;
      });
      const digest = sumParts(texts);
      if (!racy) stats.recordTree(key, listing, digest);
      // Each folder's files digest under its listing, unless a file there changed within RACY_MS.
      const keep = new Map<string, [string, string]>();
      for (const f of folders) {
        if (f.node.listingDigest === undefined || f.digest === undefined || (f.node.newestCtimeMs ?? 0) >= walkStart - RACY_MS) continue;
        keep.set(f.node.abs, [f.node.listingDigest, f.digest]);
      }
      if (changedFolders(recorded, keep)) stats.recordFolderDigests(key, keep);
      return digest;
    },
  };
}

interface Walker {
  stats: StatCache;
  recorded: ReadonlyMap<string, [string, string]>;
  folders: FolderFiles[];
  unknown: (abs: string, st: EntryStat, prefix: string) => Part;
}

/** Whether the folders to record differ from those recorded (so a touch rebuild rewrites nothing when only a racy folder changed). */
function changedFolders(recorded: ReadonlyMap<string, [string, string]>, keep: ReadonlyMap<string, [string, string]>): boolean {
  if (keep.size !== recorded.size) return true;
  for (const [dir, [l, f]] of keep) {
    const r = recorded.get(dir);
    if (!r || r[0] !== l || r[1] !== f) return true;
  }
  return false;
}

/** sha256 of the texts in order, summed in chunks: one update per part was 200 ms of a touch rebuild of copy-many (24,000 parts). */
function sumParts(texts: string[]): string {
  const h = sha256();
  let chunk = '';
  for (const p of texts) {
    chunk += p;
    if (chunk.length >= 1 << 16) {
      h.update(chunk);
      chunk = '';
    }
  }
  return h.update(chunk).hex();
}

function modeText(st: EntryStat): string {
  return (st.mode & 0o177777).toString(8);
}

function walkNode(node: TreeNode, walk: Walker, parts: (Part | FolderFiles)[]): void {
  if (!isDir(node.st)) {
    filePart(node, node.rel, walk, parts as Part[]);
    return;
  }
  parts.push(`d\0${node.rel}\0${modeText(node.st)}\0`);
  const files: FolderFiles = { node, parts: [] };
  const before = node.listingDigest === undefined ? undefined : walk.recorded.get(node.abs);
  if (before && before[0] === node.listingDigest) files.known = before[1];
  parts.push(files);
  walk.folders.push(files);
  const subfolders: TreeNode[] = [];
  if (files.known !== undefined) {
    // Only the subfolders.
    subfolders.push(...(node.subfolders ?? []));
  } else {
    for (const child of childrenOf(node)) {
      if (isDir(child.st)) subfolders.push(child);
      else filePart(child, child.rel.slice(child.rel.lastIndexOf('/') + 1), walk, files.parts);
    }
  }
  for (const sub of subfolders) walkNode(sub, walk, parts);
}

/** A file's or link's part, named `label` (its name in a folder, its path as a source). */
function filePart(node: TreeNode, label: string, walk: Walker, into: Part[]): void {
  const type = node.st.mode & 0o170000;
  if (type === S_IFLNK) {
    into.push(`l\0${label}\0${node.link ?? ''}\0`);
  } else if (type === S_IFREG) {
    const known = walk.stats.known(node.abs, node.st);
    const prefix = `f\0${label}\0${modeText(node.st)}\0`;
    into.push(known !== undefined ? `${prefix}${known}\0` : walk.unknown(node.abs, node.st, prefix));
  }
}
