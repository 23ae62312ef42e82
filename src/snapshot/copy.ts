// Copy-based snapshots through the native helper: materialize a lower stack into a plain dir,
// and later diff that dir against the stack into an overlay-format upper dir. Must run as root
// of the user namespace (or real root) so that ownership is kept.
import { NbuildError } from '../errors.js';
import { callHelper, helperAnswer } from '../sandbox/helper.js';

export interface TreeStats {
  files: number;
  dirs: number;
  whiteouts: number;
  bytes: number;
}

type TreeAnswer = ({ ok: true } & TreeStats) | { ok: false; errno: number; message: string };

async function callTree(command: 'materialize' | 'diff' | 'fuse-upper', request: object): Promise<TreeStats> {
  const out = await callHelper(command, [], request);
  if (out.error) throw out.error;
  const ans = helperAnswer<TreeAnswer>(out.stdout);
  if (ans === undefined) throw new NbuildError('SNAPSHOT', `nbuild-sandbox ${command} failed (exit ${out.code}): ${out.stderr.trim()}`);
  if (!ans.ok) throw new NbuildError('SNAPSHOT', `snapshot ${command}: ${ans.message}`);
  return { files: ans.files, dirs: ans.dirs, whiteouts: ans.whiteouts, bytes: ans.bytes };
}

/** Copies the merged view of `lowerDirs` (top-most first) into `dest` (reflinks where possible). */
export function materializeLayers(lowerDirs: string[], dest: string): Promise<TreeStats> {
  return callTree('materialize', { lowerDirs, dest });
}

/**
 * Writes into `upperDir` what `snapshot` changed relative to `lowerDirs`: new and changed
 * entries, 0/0 character-device whiteouts for deletions (the layer writer's 'overlay-upper' input).
 */
export function diffSnapshot(lowerDirs: string[], snapshot: string, upperDir: string): Promise<TreeStats> {
  return callTree('diff', { lowerDirs, snapshot, upper: upperDir });
}

/**
 * Rewrites in place an upper dir left by fuse-overlayfs into the kernel overlay's format (0/0
 * whiteouts, `user.overlay.opaque=y` only where a lower layer has the path, no fuse-overlayfs
 * markers or xattrs). `lowerDirs` are the layers it was mounted on.
 */
export function normalizeFuseUpper(upperDir: string, lowerDirs: string[]): Promise<TreeStats> {
  return callTree('fuse-upper', { upper: upperDir, lowerDirs });
}
