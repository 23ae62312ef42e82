// The store lock: serialises changes to refs.json, cache records and gc.
// Node has no flock(2), so this is an O_EXCL lock file holding the owner's pid
// and start time; a lock whose owner is gone (SIGKILL, crash) is taken over.
// Takeover renames the stale file aside and checks that what it renamed really
// was the stale owner's, so two processes cannot both take over the same lock.
import { closeSync, openSync, writeSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { StoreError } from '../errors.js';
import { errnoOf, storeFsError, unlinkIfAny } from './fsutil.js';
import { currentOwner, ownerAlive, parseOwner } from './owner.js';
import { randomHex } from '../native/index.js';

const WAIT_LIMIT_MS = 10 * 60 * 1000;

export class FileLock {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Run `fn` holding the lock (in-process queue first, then the lock file). */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => (release = r));
    await prev;
    try {
      await this.acquire();
      try {
        return await fn();
      } finally {
        unlinkIfAny(this.file);
      }
    } finally {
      release();
    }
  }

  private async acquire(): Promise<void> {
    const me = JSON.stringify({ ...currentOwner(), nonce: randomHex(8) });
    const started = Date.now();
    let delay = 5;
    for (;;) {
      // Taken and released in place (three system calls, no thread-pool round trips): a build
      // takes the lock a few times even when every step is cached.
      try {
        const fd = openSync(this.file, 'wx', 0o644);
        try {
          writeSync(fd, me);
        } finally {
          closeSync(fd);
        }
        return;
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw storeFsError(e, 'taking the store lock');
      }
      const text = await fs.readFile(this.file, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // released between open and read
      const owner = parseOwner(text);
      // An unparsable lock is one whose writer died between open and write, unless it is brand new.
      const stat = await fs.stat(this.file).catch(() => undefined);
      const young = stat !== undefined && Date.now() - stat.mtimeMs < 2000;
      if ((owner && !ownerAlive(owner)) || (!owner && !young)) {
        await this.takeOver(text);
        continue;
      }
      if (Date.now() - started > WAIT_LIMIT_MS) {
        throw new StoreError('STORE_LOCKED', `the store is locked by process ${owner?.pid ?? '?'} (${this.file}); if no nbuild is running, remove that file`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  private async takeOver(staleText: string): Promise<void> {
    const aside = `${this.file}.stale-${process.pid}-${randomHex(4)}`;
    try {
      await fs.rename(this.file, aside);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return;
      throw e;
    }
    const moved = await fs.readFile(aside, 'utf8').catch(() => staleText);
    if (moved !== staleText) {
      // We moved a live lock someone took meanwhile: put it back (link fails if the name is taken again).
      await fs.link(aside, this.file).catch(() => undefined);
    }
    await fs.rm(aside, { force: true });
  }
}
