// A read-only view of a layer stack as one tree, for steps that read the
// current image from outside the sandbox (COPY's parent folders, --chown
// names, COPY --from) and for the SBOM scan. Paths inside it resolve through
// src/fs/in-root.ts. Mounted as a kernel overlay in nbuild's own mount
// namespace (the user namespace it re-executed into), so nothing is copied.
import { execFile, type ExecFileOptions } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';

// Promisified at the call: reading execFile when this module loads would load node:child_process
// (and node:net) into every build (the bundle requires built-ins on first use: scripts/bundle.mjs).
const run = (file: string, args: readonly string[], options: ExecFileOptions = {}) => promisify(execFile)(file, args, { ...options, encoding: 'utf8' as const });

export interface RootfsView {
  /** The merged tree; an empty folder for a stage with no layers. */
  readonly dir: string;
  release(): Promise<void>;
}

/** `lowerDirs` top-most first. */
export async function openRootfsView(lowerDirs: string[], scratchDir: string): Promise<RootfsView> {
  if (lowerDirs.length === 0) {
    const dir = path.join(scratchDir, 'empty');
    await fs.mkdir(dir, { recursive: true });
    return { dir, release: async () => {} };
  }
  if (lowerDirs.length === 1) return { dir: lowerDirs[0], release: async () => {} };
  const target = path.join(scratchDir, 'view');
  await fs.mkdir(target, { recursive: true });
  // Relative lowerdir names from a common parent keep the option string short.
  const parent = commonParent(lowerDirs);
  const lower = lowerDirs.map((d) => path.relative(parent, d)).join(':');
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,userxattr,lowerdir=${lower}`, target], { cwd: parent });
  } catch (error) {
    throw new NbuildError('MOUNT_FAILED', `cannot mount a view of the image's layers: ${(error as Error).message.trim()}`, { cause: error });
  }
  return {
    dir: target,
    release: async () => {
      await run('umount', ['-l', target]).catch(() => undefined);
    },
  };
}

function commonParent(dirs: string[]): string {
  let parent = path.dirname(dirs[0]);
  while (!dirs.every((d) => d.startsWith(parent + path.sep))) parent = path.dirname(parent);
  return parent;
}
