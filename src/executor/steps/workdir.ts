// WORKDIR creates its folder when the image lacks it (Docker's rule), with the
// folders on the way, owned by the current USER as BuildKit does; an existing
// folder (or a symlink to one) makes no layer.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DockerfileError } from '../../errors.js';
import type { WorkdirInstruction } from '../../frontend/dockerfile/types.js';
import { resolveUser } from '../../sandbox/index.js';
import type { Layer } from '../../image/image.js';
import { commitLayer } from '../commit.js';
import { openRootfsView } from '../../snapshot/rootfs-view.js';
import { StagedTree } from '../staging.js';
import type { StepEnv } from '../context.js';
import { describeMetadata, loc } from './metadata.js';
import { expandInstruction } from '../../frontend/dockerfile/index.js';
import { expansionLookup } from '../state.js';
import type { Step } from '../step.js';

/** The cache key is the chain so far: a hit also knows whether the folder existed. */
export const workdirStep: Step<WorkdirInstruction> = {
  describe(raw, stage, build) {
    const instr = expandInstruction(raw, expansionLookup(stage), build.escape);
    const { createdBy, change } = describeMetadata(instr, stage.config);
    return { kind: 'layer', createdBy: createdBy ?? '', material: { createdBy, user: stage.config.User ?? '' }, instr, change };
  },
  async apply(ctx, instr, state) {
    const workDir = await ctx.env.store.tempDir('workdir');
    try {
      const lowerDirs = await ctx.env.store.lowerDirs(state.layers);
      return await workdirLayer(ctx.env, instr, lowerDirs, state.config.WorkingDir ?? '/', state.config.User, workDir);
    } finally {
      await ctx.env.store.removeTempDir(workDir);
    }
  },
};

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
    await fs.mkdir(staging);
    // The folders WORKDIR makes are its USER's (root's without one, or when the image cannot name it).
    const owner = user ? await resolveUser(view.dir, user).catch(() => undefined) : undefined;
    const tree = new StagedTree(view.dir, staging, owner ? { uid: owner.uid, gid: owner.gid } : undefined);
    // BuildKit's Mkdir follows every link, the last one too (WORKDIR /link-to-a-folder).
    const real = await tree.resolve(dir);
    const existing = await tree.lstat(real);
    if (existing?.st.isDirectory()) return undefined;
    if (existing) throw new DockerfileError(loc(instr), `WORKDIR ${dir}: exists in the image and is not a folder`);
    await tree.mkdirAll(real, { mode: 0o755, mtime: env.timestamp }).catch((error: Error) => {
      throw new DockerfileError(loc(instr), `WORKDIR ${dir}: ${error.message}`, { cause: error });
    });
  } finally {
    await view.release();
  }
  return commitLayer(env, staging, 'plain', { instr });
}
