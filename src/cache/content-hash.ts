// Content digests of COPY sources for cache keys: names, types, modes, link
// targets and file contents — never mtimes or host owners. The stat cache
// (stat-cache.ts) avoids re-reading unchanged files, so a no-op rebuild of a
// large context reads metadata only.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { BuildContext } from '../context/context.js';
import type { StatCache } from './stat-cache.js';
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
 * One digest over every file a COPY would take from the context. The walk is synchronous and
 * in order; the files the stat cache does not know are hashed meanwhile, several at a time,
 * and their digests go into the sum in walk order.
 */
export async function contextSourcesDigest(context: BuildContext, sources: string[], stats: StatCache): Promise<string> {
  return (await walkContextSources(context, sources, stats, false)).digest();
}

/**
 * The walk of contextSourcesDigest. `defer`: the files the stat cache does not know are not
 * read during the walk but when digest() is called, so that the caller can first copy them,
 * hashing as it copies (stage.ts), and each is read once.
 */
export async function walkContextSources(context: BuildContext, sources: string[], stats: StatCache, defer: boolean): Promise<SourcesWalk> {
  const parts: Part[] = [];
  const hashing = new Limiter(HASHING_AT_ONCE);
  const sizes = { unknownBytes: 0, totalBytes: 0 };
  const hash = (abs: string, st: Stats): Promise<string> => hashing.run(() => stats.fileDigest(abs, st));
  const unknown = (abs: string, st: Stats, prefix: string): Part => {
    sizes.unknownBytes += st.size;
    if (defer) return () => hash(abs, st).then((d) => `${prefix}${d}\0`);
    const part = hash(abs, st).then((d) => `${prefix}${d}\0`);
    part.catch(() => undefined); // awaited (and its error thrown) after the walk
    return part;
  };
  for (const src of sources) {
    parts.push(`src\0${src}\0`);
    for (const entry of await context.resolve(src)) {
      await walkEntry(context, entry.abs, entry.rel, entry.stat, stats, parts, sizes, unknown);
    }
  }
  return {
    ...sizes,
    digest: async () => {
      // Every deferred file started (a few at a time, by the limiter), then summed in walk order.
      const started = parts.map((p) => (typeof p === 'function' ? p() : p));
      for (const p of started) if (typeof p !== 'string') p.catch(() => undefined);
      const h = createHash('sha256');
      for (const part of started) h.update(typeof part === 'string' ? part : await part);
      return h.digest('hex');
    },
  };
}

async function walkEntry(
  context: BuildContext,
  abs: string,
  rel: string,
  st: Stats,
  stats: StatCache,
  parts: Part[],
  sizes: { unknownBytes: number; totalBytes: number },
  unknown: (abs: string, st: Stats, prefix: string) => Part,
): Promise<void> {
  const mode = (st.mode & 0o177777).toString(8);
  if (st.isDirectory()) {
    parts.push(`d\0${rel}\0${mode}\0`);
    // Synchronous readdir/lstat on purpose: a no-op rebuild of a 20,000-file
    // context is nothing but these metadata calls, and the promise API's
    // thread-pool round trip per call made the walk ~4x slower (profiled).
    for (const name of readdirSync(abs).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      // abs is absolute and normalised, name a plain entry name: concatenation = path.join, minus its normalize pass
      const childAbs = abs.endsWith('/') ? abs + name : `${abs}/${name}`;
      const childSt = lstatSync(childAbs);
      if (context.isExcluded(childRel, childSt.isDirectory())) {
        if (!childSt.isDirectory() || context.ignore.canSkipDirectory(childRel)) continue;
      }
      await walkEntry(context, childAbs, childRel, childSt, stats, parts, sizes, unknown);
    }
  } else if (st.isSymbolicLink()) {
    parts.push(`l\0${rel}\0${await fs.readlink(abs)}\0`);
  } else if (st.isFile()) {
    const known = stats.known(abs, st);
    const prefix = `f\0${rel}\0${mode}\0`;
    sizes.totalBytes += st.size;
    parts.push(known !== undefined ? `${prefix}${known}\0` : unknown(abs, st, prefix));
  }
}
