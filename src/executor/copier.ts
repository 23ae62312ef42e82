// Copies files into a COPY/ADD staging tree with the ownership and modes the
// image must see. Symlinks are copied as links, hard links stay hard links,
// modes and mtimes are kept, and ownership is set explicitly (0:0 for the
// context, never the invoking host user).
import * as fs from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import * as path from 'node:path';

export interface CopyOptions {
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

export class Copier {
  private readonly links = new Map<string, string>(); // "dev:ino" → first destination

  constructor(private readonly options: CopyOptions) {}

  /** Copies `src` (any type) to `dest`; for folders, `rel` names its place for the filters. */
  async copy(src: string, dest: string, rel: string, st?: Stats): Promise<void> {
    const stat = st ?? (await fs.lstat(src));
    if (stat.isDirectory()) {
      await this.copyDir(src, dest, rel, stat);
      return;
    }
    if (stat.nlink > 1 && !stat.isDirectory()) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = this.links.get(key);
      if (first) {
        await fs.rm(dest, { force: true });
        await fs.link(first, dest);
        return;
      }
      this.links.set(key, dest);
    }
    await fs.rm(dest, { force: true, recursive: true });
    if (stat.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(src), dest);
    } else if (stat.isFile()) {
      await fs.copyFile(src, dest, constants.COPYFILE_FICLONE);
    } else {
      return; // sockets, fifos and devices from a context are skipped, as BuildKit does
    }
    await this.finish(dest, stat, false);
  }

  private async copyDir(src: string, dest: string, rel: string, stat: Stats): Promise<void> {
    const existing = await fs.lstat(dest).catch(() => undefined);
    if (existing && !existing.isDirectory()) await fs.rm(dest, { force: true });
    if (!existing?.isDirectory()) await fs.mkdir(dest);
    const names = (await fs.readdir(src)).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const childSrc = path.join(src, name);
      const childStat = await fs.lstat(childSrc);
      const isDir = childStat.isDirectory();
      if (this.options.exclude?.(childRel, isDir)) {
        if (!isDir || this.options.canSkip?.(childRel)) continue;
        // An exception below an excluded folder may re-include something.
        await this.copyFilteredDir(childSrc, path.join(dest, name), childRel, childStat);
        continue;
      }
      await this.copy(childSrc, path.join(dest, name), childRel, childStat);
    }
    await this.finish(dest, stat, true);
  }

  /** An excluded folder is only created if something below it is kept. */
  private async copyFilteredDir(src: string, dest: string, rel: string, stat: Stats): Promise<void> {
    const before = await fs.lstat(dest).catch(() => undefined);
    await this.copyDir(src, dest, rel, stat);
    if (!before && (await fs.readdir(dest)).length === 0) await fs.rmdir(dest);
  }

  private async finish(dest: string, stat: Stats, isDir: boolean): Promise<void> {
    const uid = this.options.owner?.uid ?? stat.uid;
    const gid = this.options.owner?.gid ?? stat.gid;
    await fs.lchown(dest, uid, gid);
    if (!stat.isSymbolicLink()) {
      const mode = this.options.chmod ? this.options.chmod(stat.mode & 0o7777, isDir) : stat.mode & 0o7777;
      await fs.chmod(dest, mode); // after chown: chown clears setuid bits
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
