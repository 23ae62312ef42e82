// Building a layer's tree in a staging folder: the parent folders of what a
// step adds must carry the image's own metadata, or the layer would change them.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { lstatIn, resolveInRoot } from './rootfs-view.js';

/**
 * Creates `dirInImage` and its parents under `stagingRoot`. A folder the image
 * already has keeps its mode, owner and mtime; a new one is 0755 and owned by
 * root, or by `targetOwner` for the last folder itself (COPY --chown, WORKDIR as USER).
 * A folder already staged is left as it is. `dirInImage` must be resolved (no symlink
 * in the staging tree or the image on the way, see resolveInTrees): anything in the
 * staging tree that is not a real folder is refused, so nothing is created through a link.
 */
export async function stageParents(imageRoot: string, stagingRoot: string, dirInImage: string, targetOwner?: { uid: number; gid: number }): Promise<void> {
  const parts = dirInImage.split('/').filter(Boolean);
  let current = '';
  for (let i = 0; i < parts.length; i++) {
    current += '/' + parts[i];
    const staged = path.join(stagingRoot, current);
    const made = await fs.mkdir(staged).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        return false;
      },
    );
    if (!made) {
      if (!(await fs.lstat(staged)).isDirectory()) throw new NbuildError('STAGING', `cannot stage ${current}: it is not a folder in the layer being built`);
      continue;
    }
    const existing = await lstatIn(imageRoot, await relInImage(imageRoot, current));
    if (existing?.isDirectory()) {
      await fs.lchown(staged, existing.uid, existing.gid);
      await fs.chmod(staged, existing.mode & 0o7777);
      await fs.utimes(staged, existing.atime, existing.mtime);
    } else {
      const owner = i === parts.length - 1 && targetOwner ? targetOwner : { uid: 0, gid: 0 };
      await fs.lchown(staged, owner.uid, owner.gid);
      await fs.chmod(staged, 0o755);
    }
  }
}

/** The path of an absolute image path relative to the view root, symlinked parents resolved. */
export async function relInImage(root: string, p: string): Promise<string> {
  const real = await resolveInRoot(root, p, false);
  return path.relative(root, real);
}
