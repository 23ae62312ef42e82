// Resolving a path inside an image root from TypeScript (the C++ side is native/core/safe_path.h):
// a tree, or a stack of layer trees seen as one, symlinks followed as the image would see them
// ("/" is the root, `..` stops there), an overlay whiteout meaning "absent". Used by COPY and its
// staging, RUN's mount targets and bind sources, --chown name lookups and the SBOM scan.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { isWhiteout } from './overlay.js';

/** lstat inside a tree without following a final symlink; undefined when absent. */
export async function lstatIn(root: string, rel: string): Promise<import('node:fs').Stats | undefined> {
  try {
    const st = await fs.lstat(path.join(root, rel));
    // An overlay whiteout left in a single-layer view means "absent".
    if (isWhiteout(st)) return undefined;
    return st;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * Resolves `p` (absolute in the image) to a real path inside `root`, following
 * symlinks as the image would see them (an absolute link target is relative to
 * `root`; `..` never climbs above it).
 */
export async function resolveInRoot(root: string, p: string, followLast = true): Promise<string> {
  return path.join(root, await resolveInTrees([root], p, followLast));
}

/**
 * Resolves `p` in a stack of trees seen as one, top-most first (a COPY's staging tree over the
 * image): each name is looked up in the first tree that has it, symlinks are followed with "/"
 * being the stack's root, and `..` stops there. Returns the path in the image ("/a/b"), whose
 * every existing part is a real folder: nothing reached through it is outside the trees.
 */
export async function resolveInTrees(roots: string[], p: string, followLast = true): Promise<string> {
  return (await walkTrees(roots, p, followLast)).image;
}

/**
 * The file `p` names in a stack of trees (top-most first), symlinks followed as resolveInTrees
 * does: the top-most tree's entry and its real path, or undefined when it is absent or deleted
 * by a whiteout. Every part of the path above it is a real folder in that tree.
 */
export async function findInTrees(roots: string[], p: string): Promise<Found | undefined> {
  return (await walkTrees(roots, p, true)).found;
}

interface Found {
  path: string;
  st: import('node:fs').Stats;
}

async function walkTrees(roots: string[], p: string, followLast: boolean): Promise<{ image: string; found?: Found }> {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  const resolved: string[] = [];
  const found: (Found | undefined)[] = [];
  // For each folder of `resolved`, the trees it is a real folder in (top-most first): a lower
  // tree is not looked into below a name an upper tree has as something else (a folder over a
  // link hides the link's target), so no lstat ever goes through a link.
  const live: boolean[][] = [roots.map(() => true)];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      if (resolved.length > 0) {
        resolved.pop();
        live.pop();
        found.pop();
      }
      continue;
    }
    const step = await lookUp(roots, live[live.length - 1], [...resolved, part]);
    if (step.found?.st.isSymbolicLink() && (parts.length > 0 || followLast)) {
      if (++hops > 40) throw new NbuildError('SYMLINK_LOOP', `too many levels of symbolic links in ${p}`);
      const target = await fs.readlink(step.found.path);
      if (target.startsWith('/')) {
        resolved.length = 0;
        live.length = 1;
        found.length = 0;
      }
      parts.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    resolved.push(part);
    live.push(step.live);
    found.push(step.found);
  }
  return { image: '/' + resolved.join('/'), found: found[found.length - 1] };
}

/**
 * One name in the stack of trees: the entry that shows (the first live tree's), and the trees
 * it is a folder in that a deeper name can come from.
 */
async function lookUp(roots: string[], liveHere: boolean[], parts: string[]): Promise<{ found?: Found; live: boolean[] }> {
  const live = roots.map(() => false);
  let found: Found | undefined;
  for (let i = 0; i < roots.length; i++) {
    if (!liveHere[i]) continue;
    const candidate = path.join(roots[i], ...parts);
    const st = await fs.lstat(candidate).catch(() => undefined);
    // An overlay whiteout left in a single-layer view means "absent", and hides the trees below.
    if (st && isWhiteout(st)) break;
    if (!st) continue;
    found ??= { path: candidate, st };
    if (!st.isDirectory()) break;
    live[i] = true;
  }
  return { found, live };
}
