// File-system helpers for the store: atomic writes (temp → fsync → rename),
// fsync of directories, streaming sha256, tree removal, and mapping of errno
// values to StoreErrors users can act on (ENOSPC, EACCES, EROFS).
import { createReadStream, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { constants } from 'node:os';
import * as path from 'node:path';
import { StoreError } from '../errors.js';
import { Digest } from '../image/digest.js';
import { currentOwner } from './owner.js';
import { randomHex, sha256 } from '../native/index.js';

/** A short random suffix for temp names; the pid is the one /proc shows, for cleanTemp. */
export function randomSuffix(): string {
  return `${currentOwner().pid}-${randomHex(6)}`;
}

/**
 * Removes a file if it is there: one unlink. rmSync's `force` lstats first and loads Node's tree
 * remover (~1 ms of a no-op build, which removes its lock, lease and session files).
 */
export function unlinkIfAny(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e;
  }
}

export function errnoOf(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  // Node's system errors carry the name as `code`; the native engine's errors (NativeError) a
  // code of their own and the number as `errno`.
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  if (typeof errno === 'number' && errno !== 0) {
    const name = ERRNO_NAMES.get(Math.abs(errno));
    if (name) return name;
  }
  return code === undefined ? undefined : String(code);
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** Turns a system error into a StoreError with a stable code; other errors pass through. */
export function storeFsError(e: unknown, what: string): unknown {
  if (e instanceof StoreError) return e;
  switch (errnoOf(e)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreError('NO_SPACE', `no space left on the device of the store while ${what}; free some space or run 'nbuild prune'`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new StoreError('STORE_PERMISSION', `permission denied while ${what}: ${(e as Error).message}`, { cause: e });
    case 'EROFS':
      return new StoreError('STORE_READ_ONLY', `the store is on a read-only file system (${what})`, { cause: e });
    default:
      return e;
  }
}

export async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems refuse fsync on directories; the rename is still atomic.
    if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'EBADF') throw e;
  } finally {
    await fh.close();
  }
}

/**
 * Write `data` to `dest` so readers see the old file or the whole new one, never a part.
 * `durable: false` skips the fsyncs, for records that only save time (their loss after a crash
 * costs a re-probe or a cleanup scan, and their readers treat a bad file as missing); those are
 * written in place, three system calls without thread-pool round trips (docs/decisions.md,
 * "Cached steps looked up in place").
 */
export async function writeFileAtomic(
  dest: string,
  data: Buffer | string,
  tmpDir = path.dirname(dest),
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  const tmp = path.join(tmpDir, `.${path.basename(dest)}.${randomSuffix()}.tmp`);
  if (!durable) {
    try {
      writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 });
      renameSync(tmp, dest);
    } catch (e) {
      try {
        unlinkIfAny(tmp);
      } catch {
        // the write's own error is the one to report
      }
      throw storeFsError(e, `writing ${dest}`);
    }
    return;
  }
  try {
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, dest);
    if (durable) await fsyncPath(path.dirname(dest));
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw storeFsError(e, `writing ${dest}`);
  }
}

/** Streaming sha256 of a file. */
export async function hashFile(file: string): Promise<{ digest: Digest; size: number }> {
  const h = sha256();
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: Digest.fromHex(h.hex()), size };
}

/**
 * Remove a tree even when it holds folders without write permission (layer
 * trees keep the image's modes, e.g. dr-xr-xr-x).
 */
export async function removeTree(p: string): Promise<void> {
  try {
    await fs.rm(p, { recursive: true, force: true });
    return;
  } catch (e) {
    if (errnoOf(e) !== 'EACCES' && errnoOf(e) !== 'EPERM' && errnoOf(e) !== 'ENOTEMPTY') throw e;
  }
  await makeWritable(p);
  await fs.rm(p, { recursive: true, force: true });
}

async function makeWritable(dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st || !st.isDirectory()) return;
  await fs.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await makeWritable(path.join(dir, e.name));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw e;
  }
}
