// Copies files into a COPY/ADD staging tree with the ownership and modes the
// image must see. Symlinks are copied as links, hard links stay hard links,
// modes and mtimes are kept, and ownership is set explicitly (0:0 for the
// context, never the invoking host user).
import * as fs from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import * as path from 'node:path';
import { Limiter } from '../limiter.js';

export interface CopyOptions {
  /** The tree the copy writes into (a staging root): a hard link is only ever made to a file inside it. */
  root: string;
  /** Owner for every copied entry; undefined keeps the source's ids (COPY --from). */
  owner?: { uid: number; gid: number };
  /** --chmod: the new mode bits (permission + special bits) for an entry. */
  chmod?: (mode: number, isDir: boolean) => number;
  /** Return true to leave an entry (and, for a folder, everything below) out. */
  exclude?: (rel: string, isDir: boolean) => boolean;
  /** Folders whose subtree the ignore rules can prune without a walk. */
  canSkip?: (rel: string) => boolean;
  /** Seconds since the epoch for every copied entry's mtime (reproducible builds). */
  mtime?: number;
}

/** Where an entry is made: `fresh` when its folder was created by this copy (nothing is in the way). */
interface Place {
  fresh: boolean;
  setgid: boolean;
}

/** Files copied at once: enough to keep libuv's threads and the disk busy, bounded for memory. */
const IN_FLIGHT = 32;
/** Folders walked side by side (see copyDir). */
const DIRS_AT_ONCE = 8;

export class Copier {
  // "dev:ino" → the first destination and when it is complete (hard links wait for it).
  private readonly links = new Map<string, { dest: string; done: Promise<void> }>();
  private readonly copies = new Limiter(IN_FLIGHT);
  private dirsRunning = 0;
  private realRoot: Promise<string> | undefined;
  // Entries we create are owned by our own ids: chown only when the owner must differ.
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;

  constructor(private readonly options: CopyOptions) {}

  /** Copies `src` (any type) to `dest`; for folders, `rel` names its place for the filters. */
  async copy(src: string, dest: string, rel: string, st?: Stats): Promise<void> {
    const stat = st ?? (await fs.lstat(src));
    const parent = await fs.lstat(path.dirname(dest));
    const at: Place = { fresh: false, setgid: (parent.mode & 0o2000) !== 0 };
    if (stat.isDirectory()) await this.copyDir(src, dest, rel, stat, at);
    else await this.copyLeaf(src, dest, stat, at);
  }

  /** One non-folder entry. */
  private async copyLeaf(src: string, dest: string, stat: Stats, at: Place): Promise<void> {
    if (!stat.isFile() && !stat.isSymbolicLink()) return; // sockets, fifos, devices: skipped, as BuildKit does
    if (stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = this.links.get(key);
      if (first) {
        await first.done;
        // A later source may have staged a link where one of the first copy's folders was:
        // link(2) would follow it, anywhere. Then this one is copied instead.
        if (await this.reachable(first.dest)) {
          if (!at.fresh) await fs.rm(dest, { force: true, recursive: true });
          await fs.link(first.dest, dest);
          return;
        }
        return this.copies.run(() => this.copyOne(src, dest, stat, at));
      }
      const done = this.copies.run(() => this.copyOne(src, dest, stat, at));
      this.links.set(key, { dest, done: done.catch(() => undefined) });
      return done;
    }
    return this.copies.run(() => this.copyOne(src, dest, stat, at));
  }

  /** True when the folders on the way to `dest` (below the root) are all real folders. */
  private async reachable(dest: string): Promise<boolean> {
    this.realRoot ??= fs.realpath(this.options.root);
    const dir = path.dirname(dest);
    const real = await fs.realpath(dir).catch(() => undefined);
    return real !== undefined && real === path.join(await this.realRoot, path.relative(this.options.root, dir));
  }

  private async copyOne(src: string, dest: string, stat: Stats, at: Place): Promise<void> {
    if (!at.fresh) await fs.rm(dest, { force: true, recursive: true });
    if (stat.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dest);
    else await fs.copyFile(src, dest, constants.COPYFILE_FICLONE); // keeps the source's mode
    await this.finish(dest, stat, false, at.setgid ? 'inherits-gid' : 'made');
  }

  private async copyDir(src: string, dest: string, rel: string, stat: Stats, at: Place): Promise<void> {
    const existing = at.fresh ? undefined : await fs.lstat(dest).catch(() => undefined);
    if (existing && !existing.isDirectory()) await fs.rm(dest, { force: true });
    const created = !existing?.isDirectory();
    if (created) await fs.mkdir(dest);
    // Until its own chmod below, a new folder has its parent's setgid bit (Linux), and
    // entries made inside a setgid folder take the folder's group.
    const inside: Place = { fresh: created, setgid: created ? at.setgid : ((existing as Stats).mode & 0o2000) !== 0 };
    const names = (await fs.readdir(src)).sort();
    const children = await Promise.all(names.map((name) => fs.lstat(path.join(src, name))));
    const work: Promise<void>[] = [];
    for (const [i, name] of names.entries()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const childSrc = path.join(src, name);
      const childDest = path.join(dest, name);
      const childStat = children[i];
      const isDir = childStat.isDirectory();
      const excluded = this.options.exclude?.(childRel, isDir) ?? false;
      if (excluded && (!isDir || this.options.canSkip?.(childRel))) continue;
      if (!isDir) {
        work.push(this.copyLeaf(childSrc, childDest, childStat, inside));
        continue;
      }
      // An exception below an excluded folder may re-include something.
      const sub = (): Promise<void> =>
        excluded ? this.copyFilteredDir(childSrc, childDest, childRel, childStat, inside) : this.copyDir(childSrc, childDest, childRel, childStat, inside);
      // A few folders are walked side by side, the rest depth-first in place: what is pending
      // (and held in memory) stays bounded however large the tree.
      if (this.dirsRunning < DIRS_AT_ONCE) {
        this.dirsRunning++;
        work.push(sub().finally(() => this.dirsRunning--));
      } else {
        const done = sub();
        work.push(done);
        await done.catch(() => undefined);
      }
    }
    // Every child settles before the folder's own mode and mtime are set (or an error surfaces).
    const results = await Promise.allSettled(work);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.finish(dest, stat, true, !created ? 'existing' : at.setgid ? 'inherits-gid' : 'made');
  }

  /** An excluded folder is only created if something below it is kept. */
  private async copyFilteredDir(src: string, dest: string, rel: string, stat: Stats, at: Place): Promise<void> {
    const before = at.fresh ? undefined : await fs.lstat(dest).catch(() => undefined);
    await this.copyDir(src, dest, rel, stat, at);
    if (!before && (await fs.readdir(dest)).length === 0) await fs.rmdir(dest);
  }

  /**
   * `made`: dest was created just now, so it is owned by our ids (our group unless
   * 'inherits-gid') and, for a file, has the source's mode: the calls that would change
   * nothing are skipped.
   */
  private async finish(dest: string, stat: Stats, isDir: boolean, origin: 'made' | 'inherits-gid' | 'existing'): Promise<void> {
    const uid = this.options.owner?.uid ?? stat.uid;
    const gid = this.options.owner?.gid ?? stat.gid;
    const made = origin !== 'existing';
    if (origin !== 'made' || uid !== this.euid || gid !== this.egid) await fs.lchown(dest, uid, gid);
    if (!stat.isSymbolicLink()) {
      const mode = this.options.chmod ? this.options.chmod(stat.mode & 0o7777, isDir) : stat.mode & 0o7777;
      // After chown (which clears setuid bits). A file we just copied already has the source's
      // mode; a new folder has mkdir's (umask-filtered) one.
      if (isDir || !made || mode !== (stat.mode & 0o7777) || (mode & 0o6000) !== 0) await fs.chmod(dest, mode);
    }
    const mtime = this.options.mtime !== undefined ? this.options.mtime : stat.mtime;
    await fs.lutimes(dest, mtime, mtime);
  }
}

/** --chmod: octal (`755`) or symbolic (`u=rwx,g=rx,o=`, `+x`, `a-w`). */
export function parseChmod(spec: string): (mode: number, isDir: boolean) => number {
  if (/^[0-7]{1,4}$/.test(spec)) {
    const bits = parseInt(spec, 8);
    return () => bits;
  }
  const clauses = spec.split(',').map((clause) => {
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!m) throw new Error(`invalid --chmod value "${spec}"`);
    return { who: m[1] || 'a', op: m[2], perms: m[3] };
  });
  return (mode, isDir) => {
    let result = mode;
    for (const { who, op, perms } of clauses) {
      let mask = 0;
      const scope = (u: number, g: number, o: number): number =>
        (who.includes('u') || who.includes('a') ? u : 0) | (who.includes('g') || who.includes('a') ? g : 0) | (who.includes('o') || who.includes('a') ? o : 0);
      if (perms.includes('r')) mask |= scope(0o400, 0o040, 0o004);
      if (perms.includes('w')) mask |= scope(0o200, 0o020, 0o002);
      if (perms.includes('x') || (perms.includes('X') && (isDir || (mode & 0o111) !== 0))) mask |= scope(0o100, 0o010, 0o001);
      if (perms.includes('s')) mask |= scope(0o4000, 0o2000, 0);
      if (perms.includes('t')) mask |= 0o1000;
      const whoMask = scope(0o4700, 0o2070, 0o1007);
      if (op === '+') result |= mask;
      else if (op === '-') result &= ~mask;
      else result = (result & ~whoMask) | mask;
    }
    return result;
  };
}
