// WORKDIR creates its folder when the image lacks it (Docker's rule), owned by
// the current USER as BuildKit does; an existing folder makes no layer.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DockerfileError } from '../../errors.js';
import type { WorkdirInstruction } from '../../frontend/dockerfile/types.js';
import { resolveUser } from '../../sandbox/index.js';
import type { Layer } from '../../image/image.js';
import { commitLayer } from '../commit.js';
import { lstatIn, openRootfsView } from '../rootfs-view.js';
import { relInImage, stageParents } from '../staging.js';
import type { StepEnv } from '../context.js';
import { loc } from './metadata.js';

export async function workdirLayer(
  env: StepEnv,
  instr: WorkdirInstruction,
  lowerDirs: string[],
  dir: string,
  user: string | undefined,
  workDir: string,
): Promise<Layer | undefined> {
  const staging = path.join(workDir, 'layer');
  const view = await openRootfsView(lowerDirs, path.join(workDir, 'image'));
  try {
    const rel = await relInImage(view.dir, dir);
    const existing = await lstatIn(view.dir, rel);
    if (existing?.isDirectory()) return undefined;
    if (existing) throw new DockerfileError(loc(instr), `WORKDIR ${dir}: exists in the image and is not a folder`);
    const owner = user ? await resolveUser(view.dir, user).catch(() => undefined) : undefined;
    await fs.mkdir(staging);
    await stageParents(view.dir, staging, '/' + rel, owner ? { uid: owner.uid, gid: owner.gid } : undefined);
  } finally {
    await view.release();
  }
  return commitLayer(env, staging, 'plain', instr);
}
