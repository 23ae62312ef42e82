// Content digests of COPY sources for cache keys: names, types, modes, link
// targets and file contents — never mtimes or host owners. The stat cache
// (stat-cache.ts) avoids re-reading unchanged files, so a no-op rebuild of a
// large context reads metadata only.
import { createHash } from 'node:crypto';
import type { BuildContext } from '../context/context.js';
import { childrenOf, listContextTree, S_IFDIR, S_IFLNK, S_IFREG, type ContextTree, type EntryStat, type TreeNode } from '../context/tree.js';
import { RACY_MS, statIdentity, type StatCache } from './stat-cache.js';
import { Limiter } from '../limiter.js';

/** Files read and hashed at once when the stat cache does not know them (a cold build). */
const HASHING_AT_ONCE = 8;

/** A context file the stat cache did not know during a deferred walk: hashed when the digest is asked for. */
type Later = () => Promise<string>;
type Part = string | Promise<string> | Later;

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
const DIGEST_FORM = 'content-digest-v1';

/**
 * The walk of contextSourcesDigest. `defer`: the files the stat cache does not know are not
 * read during the walk but when digest() is called, so that the caller can first copy them,
 * hashing as it copies (stage.ts), and each is read once.
 *
 * The walk lists the tree natively (context/tree.ts); when the listing of every folder is what
 * it was when the stat cache last summarised these sources, the digest is the one recorded then
 * and no file's entry is looked at (a no-op rebuild: one comparison).
 */
export async function walkContextSources(context: BuildContext, sources: string[], stats: StatCache, defer: boolean): Promise<SourcesWalk> {
  const walkStart = Date.now();
  const trees: [string, ContextTree][] = [];
  // What is walked (the key of its summary), and a sum of what the walk found.
  const key = createHash('sha256').update(JSON.stringify([DIGEST_FORM, context.dir, context.ignore.source, sources])).digest('hex');
  const summary = createHash('sha256');
  let totalBytes = 0;
  let newestCtimeMs = 0;
  for (const src of sources) {
    const tree = await listContextTree(context, await context.resolve(src));
    trees.push([src, tree]);
    totalBytes += tree.totalBytes;
    newestCtimeMs = Math.max(newestCtimeMs, tree.newestCtimeMs);
    summary.update(`src\0${src}\0`);
    for (const r of tree.roots) summary.update(`${r.rel}\0${r.st.mode}\0${statIdentity(r.st)}\0`);
    summary.update(`${tree.listing}\0`);
  }
  const listing = summary.digest('hex');
  const known = stats.treeDigest(key, listing);
  if (known !== undefined) return { unknownBytes: 0, totalBytes, digest: () => Promise.resolve(known) };

  const parts: Part[] = [];
  const hashing = new Limiter(HASHING_AT_ONCE);
  const sizes = { unknownBytes: 0, totalBytes };
  const hash = (abs: string, st: EntryStat): Promise<string> => hashing.run(() => stats.fileDigest(abs, st));
  const unknown = (abs: string, st: EntryStat, prefix: string): Part => {
    sizes.unknownBytes += st.size;
    if (defer) return () => hash(abs, st).then((d) => `${prefix}${d}\0`);
    const part = hash(abs, st).then((d) => `${prefix}${d}\0`);
    part.catch(() => undefined); // awaited (and its error thrown) after the walk
    return part;
  };
  for (const [src, tree] of trees) {
    parts.push(`src\0${src}\0`);
    for (const root of tree.roots) walkNode(root, stats, parts, unknown);
  }
  // Summarised only when no entry changed within RACY_MS of the walk: a change in the same clock
  // tick keeps the ctime, and the digest may come from a later read of a file whose ctime did not move.
  const racy = newestCtimeMs >= walkStart - RACY_MS;
  return {
    ...sizes,
    digest: async () => {
      // Every deferred file started (a few at a time, by the limiter), then summed in walk order.
      const started = parts.map((p) => (typeof p === 'function' ? p() : p));
      for (const p of started) if (typeof p !== 'string') p.catch(() => undefined);
      // Summed in chunks: one update per part was 200 ms of a touch rebuild of copy-many (24,000 parts).
      const h = createHash('sha256');
      let chunk = '';
      for (const part of started) {
        chunk += typeof part === 'string' ? part : await part;
        if (chunk.length >= 1 << 16) {
          h.update(chunk);
          chunk = '';
        }
      }
      const digest = h.update(chunk).digest('hex');
      if (!racy) stats.recordTree(key, listing, digest);
      return digest;
    },
  };
}

function walkNode(node: TreeNode, stats: StatCache, parts: Part[], unknown: (abs: string, st: EntryStat, prefix: string) => Part): void {
  const { rel, st } = node;
  const mode = (st.mode & 0o177777).toString(8);
  const type = st.mode & 0o170000;
  if (type === S_IFDIR) {
    parts.push(`d\0${rel}\0${mode}\0`);
    for (const child of childrenOf(node)) walkNode(child, stats, parts, unknown);
  } else if (type === S_IFLNK) {
    parts.push(`l\0${rel}\0${node.link ?? ''}\0`);
  } else if (type === S_IFREG) {
    const known = stats.known(node.abs, st);
    const prefix = `f\0${rel}\0${mode}\0`;
    parts.push(known !== undefined ? `${prefix}${known}\0` : unknown(node.abs, st, prefix));
  }
}
