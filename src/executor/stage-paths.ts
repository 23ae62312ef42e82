// Paths in a stage's (or image's) tree, as COPY --from and RUN --mount from= name them: their
// wildcards matched in the tree (globInRoot), and a digest of what they hold for a cache key
// (digestPaths). The tree is a read-only view (snapshot/rootfs-view.ts); paths resolve inside it.
import * as fs from 'node:fs/promises';
import { hasWildcard, segmentMatcher, unescapeSegment } from '../context/glob.js';
import { resolveInRoot } from '../fs/in-root.js';
import { digestTree, sha256, sha256File } from '../native/index.js';

/**
 * `COPY --from=stage /a/b/* …`: wildcards match names in the stage's tree, one segment at a
 * time; past the first wildcard a plain segment's `\` escapes are Match escapes (BuildContext.expand).
 */
export async function globInRoot(root: string, pattern: string): Promise<string[]> {
  let found = [''];
  let globbing = false;
  for (const seg of pattern.split('/').filter((p) => p !== '' && p !== '.')) {
    const next: string[] = [];
    const plain = hasWildcard(seg) ? undefined : globbing ? unescapeSegment(seg) : seg;
    if (hasWildcard(seg)) globbing = true;
    else if (plain === undefined) return [];
    for (const base of found) {
      if (plain !== undefined) {
        next.push(`${base}/${plain}`);
        continue;
      }
      const re = segmentMatcher(seg);
      const names = await fs.readdir(await resolveInRoot(root, base || '/')).catch(() => [] as string[]);
      for (const name of names.sort()) if (re.test(name)) next.push(`${base}/${name}`);
    }
    found = next;
  }
  return found;
}

/**
 * A digest of what `paths` hold in the tree at `root`, as BuildKit's content checksum of a copy's
 * sources (tarsum): each match's path, type, mode, owner, and for a folder the layer tar of
 * everything below it with every mtime 0 (names, modes, owners, links, xattrs, bytes), for a file
 * its bytes; never an mtime. A path that matches nothing counts as missing (the step itself then
 * fails on it, with its own error).
 */
export async function digestPaths(root: string, paths: readonly string[]): Promise<string> {
  const h = sha256();
  for (const p of paths) {
    h.update(`src\0${p}\0`);
    const matches = hasWildcard(p) ? await globInRoot(root, p) : [p];
    for (const match of matches) {
      // (A path that cannot be resolved, a link loop say, is missing too: the step reports it.)
      const abs = await resolveInRoot(root, match).catch(() => undefined);
      const st = abs === undefined ? undefined : await fs.stat(abs).catch(() => undefined);
      if (abs === undefined || !st) {
        h.update(`missing\0${match}\0`);
        continue;
      }
      const head = `${match}\0${st.mode.toString(8)}\0${st.uid}:${st.gid}\0`;
      if (st.isDirectory()) h.update(`d\0${head}${(await digestTree({ sourceDir: abs, mode: 'plain', clampMtime: 0 })).digest}\0`);
      else if (st.isFile()) h.update(`f\0${head}${(await sha256File(abs)).digest}\0`);
      else h.update(`o\0${head}${st.rdev}\0`);
    }
  }
  return h.hex();
}
