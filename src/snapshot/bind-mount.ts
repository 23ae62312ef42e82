// RUN --mount=type=bind, with BuildKit's rules: the source resolves inside its root (the context,
// or the `from` image or stage), symlinks included, never above it; a rw mount writes to a
// throw-away copy-on-write layer (BuildKit discards rw bind writes), so neither the context, the
// host nor the store's layers are ever written through it.
// The source is resolved here and mounted by path in the sandbox: nothing a build runs can change
// the context or a store tree in between (a rw bind writes to its own throw-away layer).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RunMount } from '../frontend/dockerfile/types.js';
import { DockerfileError, type SourceLocation } from '../errors.js';
import type { IsolationMode } from './ladder.js';
import { prepareRunWorkspace } from './workspace.js';
import type { SandboxMount } from '../sandbox/spec.js';
import { resolveInRoot } from '../fs/in-root.js';

export interface BindRoot {
  /** The folder `source` is inside of: the context, or the tree of the `from` image or stage. */
  dir: string;
  /** How errors name it: `the build context`, `"busybox"`. */
  name: string;
}

export interface BindPlace {
  where: SourceLocation;
  /** The step's isolation mode: the throw-away layer uses kernel overlay when the step does. */
  mode: IsolationMode;
  /** A folder private to the step (removed after it) for throw-away layers. */
  scratchDir: string;
  /** The store's root: a rw source must not hold it (the throw-away layer lives there). */
  storeRoot: string;
}

type BindMount = Extract<RunMount, { type: 'bind' }>;

export async function bindMount(m: BindMount, root: BindRoot, at: BindPlace): Promise<SandboxMount> {
  const named = m.source ?? '/';
  const source = await resolveInRoot(root.dir, named);
  const st = await fs.lstat(source).catch(() => undefined);
  if (!st) {
    throw new DockerfileError(at.where, `RUN --mount=type=bind: source "${named}" not found in ${root.name} (symlinks are resolved inside it)`);
  }
  if (!m.readwrite) return { type: 'bind', source, target: m.target, readonly: true };
  if (!st.isDirectory() && !st.isFile()) {
    throw new DockerfileError(at.where, `RUN --mount=type=bind,rw: source "${named}" is neither a file nor a folder`);
  }
  if (await holds(source, at.storeRoot)) {
    throw new DockerfileError(at.where, `RUN --mount=type=bind,rw: source "${named}" holds nbuild's store (${at.storeRoot}); mount it read-only, or keep the store out of the context`);
  }
  const scratch = await fs.mkdtemp(path.join(at.scratchDir, 'bind-'));
  if (st.isFile()) return { type: 'bind', source: await privateCopy(source, st, scratch), target: m.target, readonly: false };
  // The same machinery as the step's own root: an overlay upper, or a copy where overlay is not allowed.
  const layer = await prepareRunWorkspace(at.mode === 'overlay' ? 'overlay' : 'copy', [source], scratch);
  if (layer.rootfs.kind === 'overlay') {
    return { type: 'overlay', source, upperDir: layer.rootfs.upperDir, workDir: layer.rootfs.workDir, target: m.target, readonly: false };
  }
  return { type: 'bind', source: layer.rootfs.path, target: m.target, readonly: false };
}

/** A copy of one file, with its owner, mode and times, that the step may change at will. */
async function privateCopy(source: string, st: import('node:fs').Stats, scratch: string): Promise<string> {
  const copy = path.join(scratch, 'file');
  await fs.copyFile(source, copy);
  await fs.chown(copy, st.uid, st.gid);
  await fs.chmod(copy, st.mode & 0o7777);
  await fs.utimes(copy, st.atime, st.mtime);
  return copy;
}

/** True when `dir` is `inner` or one of its parents (both resolved on the host). */
async function holds(dir: string, inner: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.realpath(dir), fs.realpath(inner).catch(() => path.resolve(inner))]);
  return b === a || b.startsWith(a.endsWith('/') ? a : a + '/');
}
