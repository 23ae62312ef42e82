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

/**
 * One digest over every file a COPY would take from the context. The walk is synchronous and
 * in order; the files the stat cache does not know are hashed meanwhile, several at a time,
 * and their digests go into the sum in walk order.
 */
export async function contextSourcesDigest(context: BuildContext, sources: string[], stats: StatCache): Promise<string> {
  const parts: (string | Promise<string>)[] = [];
  const hashing = new Limiter(HASHING_AT_ONCE);
  const hash = (abs: string, st: Stats): Promise<string> => hashing.run(() => stats.fileDigest(abs, st));
  for (const src of sources) {
    parts.push(`src\0${src}\0`);
    for (const entry of await context.resolve(src)) {
      await walkEntry(context, entry.abs, entry.rel, entry.stat, stats, parts, hash);
    }
  }
  const h = createHash('sha256');
  for (const part of parts) h.update(typeof part === 'string' ? part : await part);
  return h.digest('hex');
}

async function walkEntry(
  context: BuildContext,
  abs: string,
  rel: string,
  st: Stats,
  stats: StatCache,
  parts: (string | Promise<string>)[],
  hash: (abs: string, st: Stats) => Promise<string>,
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
      await walkEntry(context, childAbs, childRel, childSt, stats, parts, hash);
    }
  } else if (st.isSymbolicLink()) {
    parts.push(`l\0${rel}\0${await fs.readlink(abs)}\0`);
  } else if (st.isFile()) {
    const known = stats.known(abs, st);
    const prefix = `f\0${rel}\0${mode}\0`;
    if (known !== undefined) {
      parts.push(`${prefix}${known}\0`);
    } else {
      const part = hash(abs, st).then((d) => `${prefix}${d}\0`);
      part.catch(() => undefined); // awaited (and its error thrown) after the walk
      parts.push(part);
    }
  }
}
