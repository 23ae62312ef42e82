// Owner records for temp dirs and store sessions: tmp/<name>.owner holds the
// owning process's identity. The next Store.open removes what dead owners left.
import { readdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errnoOf, removeTree, unlinkIfAny, writeFileAtomic } from './fsutil.js';
import { currentOwner, ownerAlive, parseOwner, pidRunning } from './owner.js';

/** Stray entries with no owner record are removed once older than this. */
const ORPHAN_AGE_MS = 10 * 60 * 1000;

export async function writeOwnerFile(tmpRoot: string, name: string): Promise<void> {
  // The owner record is written before the dir exists, so no dir is ever ownerless. Not synced:
  // after a crash a lost or empty record leaves its dir to the orphan-age rule below.
  await writeFileAtomic(path.join(tmpRoot, `${name}.owner`), JSON.stringify(currentOwner()), tmpRoot, { durable: false });
}

const sessions = new Set<string>();

/** A record that this process uses the store; removed at exit (or by the next open after a crash). */
export async function writeSessionFile(tmpRoot: string, name: string): Promise<void> {
  await writeOwnerFile(tmpRoot, name);
  if (sessions.size === 0) process.once('exit', () => sessions.forEach((f) => unlinkIfAny(f)));
  sessions.add(path.join(tmpRoot, `${name}.owner`));
}

export async function cleanTemp(tmpRoot: string): Promise<void> {
  // Listed on this thread: usually empty, and then nothing below needs fs/promises at all.
  let names: string[];
  try {
    names = readdirSync(tmpRoot);
  } catch {
    names = [];
  }
  const owned = new Set<string>();
  for (const n of names) {
    if (!n.endsWith('.owner')) continue;
    const base = n.slice(0, -'.owner'.length);
    owned.add(base);
    const text = await fs.readFile(path.join(tmpRoot, n), 'utf8').catch(() => undefined);
    const owner = text === undefined ? undefined : parseOwner(text);
    if (owner && ownerAlive(owner)) continue;
    if (!owner && text !== undefined && !(await isOld(path.join(tmpRoot, n)))) continue;
    // Outside the user namespace a tree with the image's owners may not be removable:
    // keep its record then, so a later open (in the namespace) retries.
    const removed = await removeTree(path.join(tmpRoot, base)).then(() => true, () => false);
    if (removed) await fs.rm(path.join(tmpRoot, n), { force: true });
  }
  for (const n of names) {
    if (n.endsWith('.owner') || owned.has(n)) continue;
    const p = path.join(tmpRoot, n);
    // Atomic-write temps carry their writer's pid: `.name.<pid>-<rand>.tmp`.
    const pid = /\.(\d+)-[0-9a-f]+\.tmp$/.exec(n)?.[1];
    const dead = pid !== undefined && !pidRunning(Number(pid));
    if (dead || (await isOld(p))) await removeTree(p).catch(() => undefined);
  }
}

async function isOld(p: string): Promise<boolean> {
  try {
    const st = await fs.lstat(p);
    return Date.now() - st.mtimeMs > ORPHAN_AGE_MS;
  } catch (e) {
    return errnoOf(e) === 'ENOENT';
  }
}


/**
 * The earliest start among other live processes (now if none): blobs newer than
 * this may be about to be used. This process is left out: it is the one collecting.
 */
export async function liveOwnersSince(tmpRoot: string): Promise<number> {
  const me = currentOwner();
  let since = Date.now();
  for (const n of await fs.readdir(tmpRoot).catch(() => [] as string[])) {
    if (!n.endsWith('.owner')) continue;
    const text = await fs.readFile(path.join(tmpRoot, n), 'utf8').catch(() => undefined);
    const owner = text === undefined ? undefined : parseOwner(text);
    if (owner && owner.pid !== me.pid && ownerAlive(owner)) since = Math.min(since, owner.since);
  }
  return since;
}

/** Live owners other than this process. */
export async function otherLiveOwners(tmpRoot: string): Promise<number> {
  const me = currentOwner();
  const pids = new Set<number>();
  for (const n of await fs.readdir(tmpRoot).catch(() => [] as string[])) {
    if (!n.endsWith('.owner')) continue;
    const text = await fs.readFile(path.join(tmpRoot, n), 'utf8').catch(() => undefined);
    const owner = text === undefined ? undefined : parseOwner(text);
    if (owner && owner.pid !== me.pid && ownerAlive(owner)) pids.add(owner.pid);
  }
  return pids.size;
}
