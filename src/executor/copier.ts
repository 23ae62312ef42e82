// Copies files into a COPY/ADD staging tree with the ownership and modes the
// image must see, as BuildKit's copier (tonistiigi/fsutil copy) does. Symlinks are
// copied as links, hard links stay hard links, modes, mtimes and the xattrs images
// carry are kept, and ownership is set explicitly (0:0 for the context, never the
// invoking host user). What is already at the destination decides as in BuildKit:
// folders merge, a file replaces a file or link, and a folder never becomes a file
// (nor a file or link a folder): that is an error.
import * as fs from 'node:fs/promises';
import { constants, lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import * as path from 'node:path';
import { Limiter } from '../limiter.js';
import { NbuildError } from '../errors.js';
import { copyXattrs } from '../native/index.js';
import { applyChmod, type Chmod } from '../frontend/dockerfile/chmod.js';
import { ROOT_OWNER, type Owner, type StagedTree } from './staging.js';
import { isWhiteout } from '../fs/overlay.js';
import type { EntryFields, SourcedFiles } from './sourced-files.js';

export interface CopyOptions {
  /**
   * The staging tree over the image: what exists at a destination, staged or in the image. A
   * hard link is only ever made to a file inside its staging root.
   */
  tree: StagedTree;
  /**
   * Without a step owner (the tree's, --chown), copied entries keep the source's ids (COPY --from)
   * rather than get root's (the context). The owner itself is applied by the tree (setOwner).
   */
  keepSourceIds: boolean;
  /** --chmod, applied to every copied entry (not to folders that were there already). */
  chmod?: Chmod;
  /** Return true to leave an entry (and, for a folder, everything below) out. */
  exclude?: (rel: string, isDir: boolean) => boolean;
  /** Folders whose subtree the filters can prune without a walk. */
  canSkip?: (rel: string) => boolean;
  /** Seconds since the epoch for every copied entry's mtime (reproducible builds). */
  mtime?: number;
  /** The build context: a socket there becomes an empty file (BuildKit's context transfer). */
  socketsAsFiles?: boolean;
  /**
   * Copies one regular file to `dest` (nothing there), keeping its mode; default fs.copyFile,
   * reflinked where the file system can. A context COPY's also hashes it (stat-cache.ts).
   */
  copyFile?: (src: string, dest: string, stat: Stats) => Promise<void>;
  /**
   * Regular files are not copied but collected here with the fields they would get, for the
   * layer writer to read from their source, and so are folders the copy makes where nothing was
   * (staged or in the image) and everything below them (sourced-files.ts).
   */
  sourced?: SourcedFiles;
}

/** Where an entry is made. */
interface Place {
  /** Its folder was created by this copy: nothing is in the way. */
  fresh: boolean;
  setgid: boolean;
  /** The folder's entries in the image (it exists there), for conflicts; undefined when none. */
  image?: Map<string, 'dir' | 'other'>;
  /** The folder is a sourced one (options.sourced): what goes in it is sourced too. */
  sourced?: boolean;
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
  private readonly ours: Owner = { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 };

  constructor(private readonly options: CopyOptions) {}

  /**
   * Copies the source `src` (`stat` is what it names, a top-level link followed) to the image
   * path `dest`, resolved. A folder's content goes into `dest`, which the caller has made: as
   * in BuildKit, that folder keeps its owner and mode (it existed, or was made with the
   * destination's parents) and takes the source's mtime. `rel` names the source for the filters.
   */
  async copyTop(src: string, stat: Stats, dest: string, rel: string): Promise<void> {
    const { tree } = this.options;
    const at = tree.staged(dest);
    const existing = await tree.lstat(dest);
    if (stat.isDirectory()) {
      if (!existing?.staged || !existing.st.isDirectory()) throw cannotCopyToNonDir(dest);
      const inside: Place = { fresh: false, setgid: (existing.st.mode & 0o2000) !== 0, image: await imageEntries(tree, dest) };
      await this.copyChildren(src, at, rel, inside);
      const mtime = this.options.mtime ?? stat.mtime;
      await fs.lutimes(at, mtime, mtime);
      return;
    }
    if (existing?.st.isDirectory()) throw cannotReplaceDir(dest);
    const parent = await fs.lstat(path.dirname(at));
    // A source named on the line that is a link was followed (`stat` is its target's, which the
    // context checked is inside it): a sourced file is read from the target, as the layer writer
    // opens no link.
    const from = this.options.sourced && (await fs.lstat(src)).isSymbolicLink() ? await fs.realpath(src) : src;
    await this.copyLeaf(from, at, stat, { fresh: false, setgid: (parent.mode & 0o2000) !== 0 });
  }

  /** One non-folder entry. */
  private async copyLeaf(src: string, dest: string, stat: Stats, at: Place): Promise<void> {
    const socket = stat.isSocket() && this.options.socketsAsFiles === true;
    if (!stat.isFile() && !stat.isSymbolicLink() && !socket) return; // fifos, devices: skipped (nbuild cannot make them)
    // (Sourced files of one inode become hard links when listed: SourcedFiles.list.)
    if (stat.nlink > 1 && !socket && !this.options.sourced) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = this.links.get(key);
      if (first) {
        await first.done;
        // A later source may have staged a link where one of the first copy's folders was
        // (the conflict rules refuse that; this holds whatever they miss): link(2) would
        // follow it, anywhere. Then this one is copied instead.
        if (await this.reachable(first.dest)) {
          if (!at.fresh) await this.removeNonDir(dest);
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
    const root = this.options.tree.stagingRoot;
    this.realRoot ??= fs.realpath(root);
    const dir = path.dirname(dest);
    const real = await fs.realpath(dir).catch(() => undefined);
    return real !== undefined && real === path.join(await this.realRoot, path.relative(root, dir));
  }

  private async copyOne(src: string, dest: string, stat: Stats, at: Place): Promise<void> {
    if (!at.fresh) await this.removeNonDir(dest);
    const sourced = this.options.sourced;
    if (sourced && (at.sourced || !stat.isSymbolicLink())) {
      // What finish() would give it, without an entry on disk.
      if (stat.isSymbolicLink()) sourced.addSymlink(dest, await fs.readlink(src), this.fieldsOf(stat, false));
      else sourced.addFile(dest, src, stat, this.fieldsOf(stat, false));
      return;
    }
    if (stat.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dest);
    else if (stat.isSocket()) await fs.writeFile(dest, '', { mode: stat.mode & 0o777 }); // BuildKit sends a context socket as an empty file
    else {
      if (this.options.copyFile) await this.options.copyFile(src, dest, stat);
      else await fs.copyFile(src, dest, constants.COPYFILE_FICLONE); // keeps the source's mode
      copyXattrs(src, dest);
    }
    await this.finish(dest, stat, false, at.setgid ? 'inherits-gid' : 'made');
  }

  /** A folder below the top one: made (or merged into the one there) with the source's metadata. */
  private async copyDir(src: string, dest: string, rel: string, stat: Stats, at: Place, imageDir: boolean): Promise<void> {
    const existing = at.fresh ? undefined : await fs.lstat(dest).catch(() => undefined);
    if ((existing && !existing.isDirectory()) || (!at.sourced && this.options.sourced?.has(dest))) throw cannotCopyToNonDir(this.imagePath(dest));
    if (this.options.sourced && existing === undefined && !imageDir) {
      // Nothing there, staged or in the image: the folder and all below it are sourced.
      this.options.sourced.addDir(dest, src, this.fieldsOf(stat, true));
      await this.copyChildren(src, dest, rel, { fresh: true, setgid: false, sourced: true });
      return;
    }
    const created = existing === undefined;
    if (created) await fs.mkdir(dest);
    // Until its own chmod below, a new folder has its parent's setgid bit (Linux), and
    // entries made inside a setgid folder take the folder's group.
    const inside: Place = {
      fresh: created,
      setgid: created ? at.setgid : ((existing as Stats).mode & 0o2000) !== 0,
      image: imageDir ? await imageEntries(this.options.tree, this.imagePath(dest)) : undefined,
    };
    await this.copyChildren(src, dest, rel, inside);
    copyXattrs(src, dest);
    await this.finish(dest, stat, true, !created ? 'existing' : at.setgid ? 'inherits-gid' : 'made');
  }

  private async copyChildren(src: string, dest: string, rel: string, inside: Place): Promise<void> {
    const { names, children } = this.options.sourced ? listSync(src) : await list(src);
    const work: Promise<void>[] = [];
    for (const [i, name] of names.entries()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const childSrc = path.join(src, name);
      const childDest = path.join(dest, name);
      const childStat = children[i];
      const isDir = childStat.isDirectory();
      const excluded = this.options.exclude?.(childRel, isDir) ?? false;
      if (excluded && (!isDir || this.options.canSkip?.(childRel))) continue;
      const inImage = inside.image?.get(name);
      if (!isDir) {
        if (inImage === 'dir') throw cannotReplaceDir(this.imagePath(childDest));
        work.push(this.copyLeaf(childSrc, childDest, childStat, inside));
        continue;
      }
      if (inImage === 'other') throw cannotCopyToNonDir(this.imagePath(childDest));
      // An exception below an excluded folder may re-include something.
      const sub = (): Promise<void> =>
        excluded
          ? this.copyFilteredDir(childSrc, childDest, childRel, childStat, inside, inImage === 'dir')
          : this.copyDir(childSrc, childDest, childRel, childStat, inside, inImage === 'dir');
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
  }

  /** An excluded folder is only created if something below it is kept (BuildKit's delayed parents). */
  private async copyFilteredDir(src: string, dest: string, rel: string, stat: Stats, at: Place, imageDir: boolean): Promise<void> {
    const before = at.fresh ? undefined : await fs.lstat(dest).catch(() => undefined);
    await this.copyDir(src, dest, rel, stat, at, imageDir);
    if (before || this.options.sourced?.holdsIn(dest)) return;
    if (this.options.sourced?.has(dest)) this.options.sourced.delete(dest);
    else if ((await fs.readdir(dest)).length === 0) await fs.rmdir(dest);
  }

  /** A staged file or link about to be replaced (a staged folder never is). */
  private async removeNonDir(dest: string): Promise<void> {
    this.options.sourced?.delete(dest);
    const st = await fs.lstat(dest).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) throw cannotReplaceDir(this.imagePath(dest));
    await fs.unlink(dest);
  }

  private imagePath(staged: string): string {
    return '/' + path.relative(this.options.tree.stagingRoot, staged);
  }

  /**
   * `made`: dest was created just now, so it is owned by our ids (our group unless
   * 'inherits-gid') and, for a file, has the source's mode: the calls that would change
   * nothing are skipped.
   */
  private async finish(dest: string, stat: Stats, isDir: boolean, origin: 'made' | 'inherits-gid' | 'existing'): Promise<void> {
    const made = origin !== 'existing';
    await this.options.tree.setOwner(dest, this.options.keepSourceIds ? stat : ROOT_OWNER, origin === 'made' ? this.ours : undefined);
    if (!stat.isSymbolicLink()) {
      const own = stat.mode & 0o7777;
      const mode = this.modeOf(stat, isDir);
      // After chown (which clears setuid and setgid bits). A file we just copied already has
      // the source's mode; a new folder has mkdir's (umask-filtered) one.
      if (isDir || !made || mode !== own || (mode & 0o6000) !== 0 || stat.isSocket()) await fs.chmod(dest, mode);
    }
    const mtime = this.mtimeOf(stat);
    await fs.lutimes(dest, mtime / 1000, mtime / 1000);
  }

  /** What finish() gives an entry, for a sourced one. */
  private fieldsOf(stat: Stats, isDir: boolean): EntryFields {
    const { uid, gid } = this.options.tree.ownerOr(this.options.keepSourceIds ? stat : ROOT_OWNER);
    return { owner: { uid, gid }, mode: stat.isSymbolicLink() ? 0o777 : this.modeOf(stat, isDir), mtime: Math.floor(this.mtimeOf(stat) / 1000) };
  }

  /** The permission bits a copied entry gets: the source's, or --chmod's. */
  private modeOf(stat: Stats, isDir: boolean): number {
    const own = stat.mode & 0o7777;
    return this.options.chmod ? applyChmod(this.options.chmod, own, isDir) : own;
  }

  /** A copied entry's mtime in ms: the build's timestamp, else the source's (whole ms, as a Date keeps it). */
  private mtimeOf(stat: Stats): number {
    return this.options.mtime !== undefined ? this.options.mtime * 1000 : stat.mtime.getTime();
  }
}

/** A source folder's entries, sorted, with their lstat. */
async function list(dir: string): Promise<{ names: string[]; children: Stats[] }> {
  const names = (await fs.readdir(dir)).sort();
  return { names, children: await Promise.all(names.map((name) => fs.lstat(path.join(dir, name)))) };
}

/**
 * The same without a thread-pool hop per entry, for a context folder the walk has just read
 * (its entries are in the kernel's caches): 24,000 promised lstat calls took ~0.4 s of the JS
 * thread in a copy-many COPY, more than the layer writer's read of its 200 MB.
 */
function listSync(dir: string): { names: string[]; children: Stats[] } {
  const names = readdirSync(dir).sort();
  return { names, children: names.map((name) => lstatSync(path.join(dir, name))) };
}

/** The entries of image folder `dir` (absent: a whiteout), or undefined when the image lacks it. */
async function imageEntries(tree: StagedTree, dir: string): Promise<Map<string, 'dir' | 'other'> | undefined> {
  if (!(await tree.inImage(dir))?.isDirectory()) return undefined;
  let entries: Dirent[];
  try {
    entries = await fs.readdir(path.join(tree.imageRoot, dir), { withFileTypes: true });
  } catch {
    return undefined;
  }
  const out = new Map<string, 'dir' | 'other'>();
  for (const e of entries) {
    if (e.isCharacterDevice() && isWhiteout(await fs.lstat(path.join(tree.imageRoot, dir, e.name)))) continue; // absent
    out.set(e.name, e.isDirectory() ? 'dir' : 'other');
  }
  return out;
}

function cannotCopyToNonDir(p: string): NbuildError {
  return new NbuildError('COPY_CONFLICT', `cannot copy to non-directory: ${p}`);
}

function cannotReplaceDir(p: string): NbuildError {
  return new NbuildError('COPY_CONFLICT', `cannot replace to directory ${p} with file`);
}
