// The errors of writing an output (-o, `nbuild save`) name the output, not the store: a full
// output disk is not the store's to prune.
import { NbuildError } from '../errors.js';
import { errnoOf, storeFsError } from '../store/fsutil.js';

/** Turns a failure while writing the output `dest` into an error that names it. */
export function outputError(e: unknown, dest: string, storeRoot: string): unknown {
  const code = errnoOf(e);
  const errno = (e as { errno?: unknown }).errno;
  if (code === undefined || typeof errno !== 'number' || errno === 0) return e; // not a failed system call
  // A copy's error names its source as path and its target as dest: the target is what failed.
  const where = (e as { dest?: unknown }).dest ?? (e as { path?: unknown }).path;
  // Reading the store (a blob, the rootfs extracted in its temp folder) fails as the store's.
  if (typeof where === 'string' && (where === storeRoot || where.startsWith(`${storeRoot}/`))) return storeFsError(e, `writing ${dest}`);
  const detail = (e as Error).message;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new NbuildError('OUTPUT_NO_SPACE', `no space left on the device of ${dest}; free some space there or write the output elsewhere`, { cause: e });
    case 'EROFS':
      return new NbuildError('OUTPUT_READ_ONLY', `cannot write ${dest}: it is on a read-only file system`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new NbuildError('OUTPUT_PERMISSION', `cannot write ${dest}: permission denied (${detail})`, { cause: e });
    default:
      return new NbuildError('OUTPUT_FAILED', `cannot write ${dest}: ${detail}`, { cause: e });
  }
}
