// A RUN workspace for one step: the root the sandbox runs on, and how its changes become an
// overlay-format upper dir for the layer writer, whatever the isolation mode.
import { mkdir, rm } from 'node:fs/promises';
import { NbuildError } from '../errors.js';
import { join } from 'node:path';
import type { SandboxRootfs } from '../sandbox/spec.js';
import { diffSnapshot, materializeLayers, normalizeFuseUpper } from './copy.js';
import { mountFuseOverlayfs, unmount } from './fuse.js';
import type { IsolationMode } from './ladder.js';

export interface RunWorkspace {
  mode: IsolationMode;
  rootfs: SandboxRootfs;
  isolation: 'namespaces' | 'chroot';
  /** Produces the upper dir (changes only, whiteouts for deletions) after the RUN. */
  commit(): Promise<{ upperDir: string }>;
  /** Removes the whole workspace dir, upper dir included: write the layer before. */
  dispose(): Promise<void>;
}

/** Prepares `dir` (created, must be private to this step) for a RUN on `lowerDirs`. */
export async function prepareRunWorkspace(mode: IsolationMode, lowerDirs: string[], dir: string): Promise<RunWorkspace> {
  await mkdir(dir, { recursive: true });
  const upperDir = join(dir, 'upper');
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  switch (mode) {
    case 'overlay': {
      const workDir = join(dir, 'work');
      await mkdir(upperDir);
      await mkdir(workDir);
      return {
        mode,
        rootfs: { kind: 'overlay', lowerDirs, upperDir, workDir },
        isolation: 'namespaces',
        commit: async () => {
          await rm(workDir, { recursive: true, force: true });
          return { upperDir };
        },
        dispose,
      };
    }
    case 'copy':
    case 'chroot': {
      const root = join(dir, 'root');
      await materializeLayers(lowerDirs, root);
      return {
        mode,
        rootfs: { kind: 'dir', path: root },
        isolation: mode === 'chroot' ? 'chroot' : 'namespaces',
        commit: async () => {
          await diffSnapshot(lowerDirs, root, upperDir);
          await rm(root, { recursive: true, force: true });
          return { upperDir };
        },
        dispose,
      };
    }
    case 'fuse-overlayfs': {
      const workDir = join(dir, 'work');
      const merged = join(dir, 'merged');
      await mkdir(upperDir);
      await mkdir(workDir);
      await mkdir(merged);
      // Mounted only while the sandbox runs (runSandboxed calls up/down around the helper), in
      // nbuild's own mount namespace: no failure path, not even nbuild dying, leaves it mounted.
      let mounted = false;
      const down = async (): Promise<void> => {
        if (!mounted) return;
        await unmount(merged);
        mounted = false;
      };
      const up = async (): Promise<void> => {
        if (mounted) throw new NbuildError('ISOLATION', `the fuse-overlayfs root ${merged} is already mounted`);
        mounted = true; // a failed mount is cleaned up by down() too
        try {
          await mountFuseOverlayfs(lowerDirs, upperDir, workDir, merged);
        } catch (e) {
          await down().catch(() => {});
          throw e;
        }
      };
      return {
        mode,
        rootfs: { kind: 'dir', path: merged, upperDir, mount: { up, down } },
        isolation: 'namespaces',
        commit: async () => {
          await down();
          await rm(workDir, { recursive: true, force: true });
          await normalizeFuseUpper(upperDir, lowerDirs);
          return { upperDir };
        },
        // Never rm through a live mount (that would write whiteouts): unmount first or fail.
        dispose: async () => {
          await down();
          await dispose();
        },
      };
    }
    default: {
      const never: never = mode;
      return never;
    }
  }
}
