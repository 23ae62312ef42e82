// A read-only view of a layer stack as one tree, for steps that read the
// current image from outside the sandbox (COPY's parent folders, --chown
// names, COPY --from) and for the SBOM scan. Paths inside it resolve through
// src/fs/in-root.ts. Mounted as a kernel overlay in nbuild's own mount
// namespace (the user namespace it re-executed into), so nothing is copied.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { mountOverlayView, unmountView } from '../native/index.js';

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
  // mount(2) and umount2(2) from the addon: mount(8) and umount(8) were ~20 ms of process
  // start-up each, per view (docs/decisions.md, "Views mounted without mount(8)").
  try {
    mountOverlayView(parent, lower, target);
  } catch (error) {
    throw new NbuildError('MOUNT_FAILED', `cannot mount a view of the image's layers: ${(error as Error).message.trim()}`, { cause: error });
  }
  return {
    dir: target,
    release: async () => {
      try {
        unmountView(target);
      } catch {
        // gone already (a namespace that ended): nothing to release
      }
    },
  };
}

function commonParent(dirs: string[]): string {
  let parent = path.dirname(dirs[0]);
  while (!dirs.every((d) => d.startsWith(parent + path.sep))) parent = path.dirname(parent);
  return parent;
}
