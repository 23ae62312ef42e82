// Building a layer's tree in a staging folder, over the image it changes. Paths are
// image paths ("/usr/bin"): they are resolved as the image will see them once the layer
// is applied (staged entries over the image's, symlinks followed inside the root), so a
// step writes *through* the image's symlinked folders (merged /usr: /bin -> usr/bin), and
// the folders a layer holds carry the image's own metadata, or the layer would change them.
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { lstatIn, resolveInTrees } from '../fs/in-root.js';

export interface Owner {
  uid: number;
  gid: number;
}

export const ROOT_OWNER: Owner = Object.freeze({ uid: 0, gid: 0 });

/**
 * What the folders a step creates get (BuildKit's MkdirAll): mode, and mtime when the build fixes
 * one; their owner is the tree's (`rootOwned`: root's whatever the step's owner, as for the
 * folders an ADD archive only implies).
 */
export interface NewDirs {
  mode: number;
  /** Seconds since the epoch; undefined = now. */
  mtime?: number;
  rootOwned?: boolean;
}

export class StagedTree {
  constructor(
    readonly imageRoot: string,
    readonly stagingRoot: string,
    /**
     * The step's owner (COPY/ADD --chown's ids, WORKDIR's USER): everything the step copies or
     * unpacks and every folder it makes is given these ids, here (setOwner, mkdirAll) and nowhere
     * else. Undefined: root's, or the source's ids where a step keeps them.
     */
    readonly owner?: Owner,
  ) {}

  /**
   * Gives the staged entry `at` its owner: the step's when it has one, else `otherwise` (root's
   * for the build context, never the host user's; the source entry's for COPY --from and archive
   * entries). `has`: the ids `at` already has when known (made by this process, or renamed
   * from an extraction), to skip a chown that changes nothing. True when it chowned, which
   * clears setuid and setgid: the caller sets the mode after.
   */
  async setOwner(at: string, otherwise: Owner, has?: Owner): Promise<boolean> {
    const { uid, gid } = this.ownerOr(otherwise);
    if (has && has.uid === uid && has.gid === gid) return false;
    await fs.lchown(at, uid, gid);
    return true;
  }

  /** The owner an entry gets (setOwner): the step's, else `otherwise`. */
  ownerOr(otherwise: Owner): Owner {
    return this.owner ?? otherwise;
  }

  /** `p` as the image will see it: staged entries over the image's, links followed inside the root. */
  resolve(p: string, followLast = true): Promise<string> {
    return resolveInTrees([this.stagingRoot, this.imageRoot], p, followLast);
  }

  /** `rel` below the folder `dir` (an image path) resolved as in a chroot at `dir` (ADD's archives). */
  async resolveBelow(dir: string, rel: string, followLast = true): Promise<string> {
    const inside = await resolveInTrees([path.join(this.stagingRoot, dir), path.join(this.imageRoot, dir)], rel, followLast);
    return path.posix.join(dir, inside);
  }

  /** Where the image path `p` is in the staging folder. */
  staged(p: string): string {
    return path.join(this.stagingRoot, p);
  }

  /** The entry at image path `p` (resolved; a last link not followed): the staged one, else the image's. */
  async lstat(p: string): Promise<{ st: Stats; staged: boolean } | undefined> {
    const staged = await fs.lstat(this.staged(p)).catch(() => undefined);
    if (staged) return { st: staged, staged: true };
    const inImage = await this.inImage(p);
    return inImage ? { st: inImage, staged: false } : undefined;
  }

  /**
   * The image's entry at `p`, if the image's own folders lead to it: where this step staged a
   * folder over an image link, the link's target is not below it (and no lstat follows a link).
   */
  async inImage(p: string): Promise<Stats | undefined> {
    let at = this.imageRoot;
    let st: Stats | undefined = await fs.lstat(at);
    for (const part of p.split('/').filter(Boolean)) {
      if (!st?.isDirectory()) return undefined;
      at = path.join(at, part);
      st = await lstatIn(this.imageRoot, path.relative(this.imageRoot, at));
    }
    return st;
  }

  /**
   * Makes the folder `dir` (a resolved image path: no link on the way) and its parents in
   * the staging tree. A folder already staged is left as it is; one the image has is staged
   * with the image's mode, owner and mtime; a missing one is created as `made` says. Returns
   * the folders created (not in the image before).
   */
  async mkdirAll(dir: string, made: NewDirs): Promise<string[]> {
    const created: string[] = [];
    let current = '';
    let imageParent: Stats | undefined = await fs.lstat(this.imageRoot);
    for (const part of dir.split('/').filter(Boolean)) {
      current += '/' + part;
      // the image's entry, when its own folders lead there (see inImage)
      const existing: Stats | undefined = imageParent?.isDirectory() ? await lstatIn(this.imageRoot, current) : undefined;
      imageParent = existing;
      const at = this.staged(current);
      const staged = await fs.lstat(at).catch(() => undefined);
      if (staged) {
        if (!staged.isDirectory()) throw notAFolder(current);
        continue;
      }
      if (existing && !existing.isDirectory()) throw notAFolder(current);
      await fs.mkdir(at);
      if (existing) {
        await fs.lchown(at, existing.uid, existing.gid);
        await fs.chmod(at, existing.mode & 0o7777);
        await fs.utimes(at, existing.atime, existing.mtime);
      } else {
        if (made.rootOwned) await fs.lchown(at, ROOT_OWNER.uid, ROOT_OWNER.gid);
        else await this.setOwner(at, ROOT_OWNER);
        await fs.chmod(at, made.mode); // not mkdir's: the umask would clear bits of it
        if (made.mtime !== undefined) await fs.utimes(at, made.mtime, made.mtime);
        created.push(current);
      }
    }
    return created;
  }
}

function notAFolder(p: string): NbuildError {
  return new NbuildError('NOT_A_FOLDER', `cannot make ${p}: it is not a folder in the image`);
}
