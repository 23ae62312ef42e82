// Content digests of context files by stat identity (device, inode, size, mtime, ctime): a
// no-op rebuild reads metadata only. Kept per source folder, one small shard file each, under
// the store's context-stat/ (STAT_CACHE_DIR): a build reads the shards of the folders its
// COPYs look at and nothing else, so its cost does not grow with what other builds left in the
// store (docs/decisions.md, "Stat cache per folder").
//
// A shard is `nbuild-stat-v1 <sha256 of the rest>\n` + JSON {dir, files: {name: [id, digest]}}.
// Beside them, one file per walk key (content-hash.ts: context folder, .dockerignore, sources):
// the digest of those sources when their whole native listing had the sha256 `listing`,
// `nbuild-stat-v1 <sum>\n` + JSON {tree: key, listing, digest}, rewritten when the tree changes,
// so an unchanged tree is one small read and one comparison, with no shard read; and one more
// per walk key, {folders: key, entries: {folder: [listing, files digest]}}, read when that
// summary misses: a folder whose own listing is unchanged needs none of its files' entries.
// Written by rename, not synced: after a crash a shard may be empty or torn, and then its
// checksum (or the folder it names) does not match and it is read as empty, never trusted.
import { constants, mkdirSync, readFileSync, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { exists, unlinkIfAny, writeFileAtomic } from '../store/fsutil.js';
import { LEGACY_STAT_CACHE_FILE } from '../store/check.js';
import { copyFileHashed, sha256Hex } from '../native/index.js';
import type { HashedCopy } from '../native/binding.js';

const MAGIC = 'nbuild-stat-v1 ';

/** The store's folder of stat cache shards. */
export const STAT_CACHE_DIR = 'context-stat';

/** What a stat cache entry needs of a file's stat. */
export type StatIdentity = Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

interface Shard {
  /** name → [stat identity, digest] */
  files: Map<string, [string, string]>;
  /** Names recorded with a ctime too recent to keep on disk (RACY_MS): used by this build only. */
  racy: Set<string>;
  dirty: boolean;
}

/**
 * An entry whose ctime is within this long of when it was recorded is not kept for later builds
 * (git's "racy" entries): a file changed again in the same clock tick keeps its ctime, size and
 * mtime, and a later build would take the old digest for the new bytes. The walk summaries of
 * content-hash.ts use the same margin.
 */
export const RACY_MS = 2000;

export class StatCache {
  private readonly shards = new Map<string, Shard>();
  /** Walk summaries read or recorded, by walk key ('' listing: none on disk). */
  private readonly trees = new Map<string, { listing: string; digest: string; dirty: boolean }>();
  /** Per walk key, each folder's files digest under its native listing (content-hash.ts). */
  private readonly folderSets = new Map<string, { folders: ReadonlyMap<string, [string, string]>; dirty: boolean }>();

  /**
   * `dir`: the store's context-stat folder; `tmpDir`: where atomic writes stage (the store's tmp/,
   * cleaned after a crash); `legacyFile`: the one-file cache of older versions, removed on save.
   */
  constructor(
    private readonly dir: string,
    private readonly tmpDir: string,
    private readonly legacyFile?: string,
  ) {}

  static ofStore(store: { root: string; tmpRoot: string }): StatCache {
    return new StatCache(path.join(store.root, STAT_CACHE_DIR), store.tmpRoot, path.join(store.root, 'cache', LEGACY_STAT_CACHE_FILE));
  }

  /** The cached digest of a file, if its stat identity is unchanged. */
  known(abs: string, st: StatIdentity): string | undefined {
    const hit = this.shard(path.dirname(abs)).files.get(path.basename(abs));
    return hit && hit[0] === statIdentity(st) ? hit[1] : undefined;
  }

  /** Remembers a digest read elsewhere (a COPY that hashed the file while copying it). */
  record(abs: string, st: StatIdentity, digest: string): void {
    const shard = this.shard(path.dirname(abs));
    const name = path.basename(abs);
    shard.files.set(name, [statIdentity(st), digest]);
    if (st.ctimeMs >= Date.now() - RACY_MS) shard.racy.add(name);
    else shard.racy.delete(name);
    shard.dirty = true;
  }

  /**
   * The content digest recorded for the walk `key` (what was walked: context, .dockerignore,
   * sources) if its listing summary then was `listing`, else undefined.
   */
  treeDigest(key: string, listing: string): string | undefined {
    let tree = this.trees.get(key);
    if (!tree) {
      const v = readFramed(this.treeFile(key));
      const ok = v && v['tree'] === key && typeof v['listing'] === 'string' && typeof v['digest'] === 'string';
      tree = { listing: ok ? (v['listing'] as string) : '', digest: ok ? (v['digest'] as string) : '', dirty: false };
      this.trees.set(key, tree);
    }
    return tree.listing === listing && tree.digest !== '' ? tree.digest : undefined;
  }

  /** Remembers the content digest of the walk `key` under its listing summary (one per key: the last one wins). */
  recordTree(key: string, listing: string, digest: string): void {
    this.trees.set(key, { listing, digest, dirty: true });
  }

  /**
   * The folders of the walk `key` as last recorded: folder → [its native listing digest, the
   * digest of its files' parts then]. One file per walk key, read when the whole tree's summary
   * missed (a touched or edited file).
   */
  folderDigests(key: string): ReadonlyMap<string, [string, string]> {
    let set = this.folderSets.get(key);
    if (!set) {
      const folders = new Map<string, [string, string]>();
      const v = readFramed(this.foldersFile(key));
      const entries = v && v['folders'] === key ? v['entries'] : undefined;
      if (entries !== null && typeof entries === 'object' && !Array.isArray(entries)) {
        for (const [dir, e] of Object.entries(entries as Record<string, unknown>)) {
          if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string') folders.set(dir, [e[0], e[1]]);
        }
      }
      set = { folders, dirty: false };
      this.folderSets.set(key, set);
    }
    return set.folders;
  }

  /** Replaces the folders recorded for the walk `key` (written by save()). */
  recordFolderDigests(key: string, folders: ReadonlyMap<string, [string, string]>): void {
    this.folderSets.set(key, { folders, dirty: true });
  }

  /** Writes the shards that changed; concurrent builds may each write one, the last one wins. */
  async save(): Promise<void> {
    // Small files without fsync (a lost one costs a rehash), each written and renamed in place on
    // this thread: through the thread pool, a touched file's rebuild waited on each step
    // (docs/decisions.md, "Cached steps looked up in place"). Every write is tried; the first
    // failure is reported.
    const made = new Set<string>();
    let failed: unknown;
    const write = async (file: string, text: () => string): Promise<void> => {
      try {
        const parent = path.dirname(file);
        if (!made.has(parent)) {
          mkdirSync(parent, { recursive: true, mode: 0o700 });
          made.add(parent);
        }
        await writeFileAtomic(file, text(), this.tmpDir, { durable: false });
      } catch (e) {
        failed ??= e;
      }
    };
    let wrote = false;
    for (const [dir, shard] of this.shards) {
      if (!shard.dirty) continue;
      shard.dirty = false;
      const kept = shard.racy.size === 0 ? shard.files : new Map([...shard.files].filter(([name]) => !shard.racy.has(name)));
      await write(this.shardFile(dir), () => encodeShard(dir, kept));
      wrote = true;
    }
    for (const [key, tree] of this.trees) {
      if (!tree.dirty) continue;
      tree.dirty = false;
      await write(this.treeFile(key), () => frame(JSON.stringify({ tree: key, listing: tree.listing, digest: tree.digest })));
      wrote = true;
    }
    for (const [key, set] of this.folderSets) {
      if (!set.dirty) continue;
      set.dirty = false;
      await write(this.foldersFile(key), () => frame(JSON.stringify({ folders: key, entries: Object.fromEntries(set.folders) })));
      wrote = true;
    }
    if (wrote && this.legacyFile) {
      try {
        unlinkIfAny(this.legacyFile);
      } catch (e) {
        failed ??= e;
      }
    }
    if (failed !== undefined) throw failed;
  }

  private shard(dir: string): Shard {
    let shard = this.shards.get(dir);
    if (!shard) {
      shard = { files: readShard(this.shardFile(dir), dir), racy: new Set(), dirty: false };
      this.shards.set(dir, shard);
    }
    return shard;
  }

  /** context-stat/<2 hex>/<62 hex> of sha256(folder): 256 fan-out folders keep each listing short. */
  shardFile(dir: string): string {
    return this.fanOut(sha256Hex(dir));
  }

  private treeFile(key: string): string {
    return walkSummaryFile(this.dir, key);
  }

  /** A walk's folder digests' file, under a name no shard or summary has. */
  private foldersFile(key: string): string {
    return this.fanOut(sha256Hex(`folders\0${key}`));
  }

  private fanOut(hex: string): string {
    return fanOut(this.dir, hex);
  }
}

/** A walk summary's file in the stat cache folder `dir`, by the walk's key, under a name no folder's shard has. */
function walkSummaryFile(dir: string, key: string): string {
  return fanOut(dir, sha256Hex(`tree\0${key}`));
}

function fanOut(dir: string, hex: string): string {
  return path.join(dir, hex.slice(0, 2), hex.slice(2));
}

/**
 * A context file into a COPY's staging tree. Its digest unknown, the native engine hashes it as
 * it copies it (one read of the file; the cache key is made from these digests afterwards, see
 * stage.ts); known, it is copied as any file is (reflinked where the file system can).
 */
export async function copyContextFile(stats: StatCache, src: string, dest: string, st: StatIdentity): Promise<void> {
  if (stats.known(src, st) !== undefined) {
    await fs.copyFile(src, dest, constants.COPYFILE_FICLONE);
    return;
  }
  rememberRead(stats, src, await copyFileHashed(src, dest));
}

/**
 * Keeps the digest of the context file `src` as the native engine read it (a copy, or the layer
 * writer's sourced file), under what the file was while read: one that changed meanwhile is not remembered.
 */
export function rememberRead(stats: StatCache, src: string, read: HashedCopy): void {
  if (read.identity) stats.record(src, read.identity, read.digest);
}

/** The stat identity a cached digest is kept under. */
export function statIdentity(st: StatIdentity): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export function encodeShard(dir: string, files: ReadonlyMap<string, [string, string]>): string {
  return frame(JSON.stringify({ dir, files: Object.fromEntries(files) }));
}

function frame(body: string): string {
  return `${MAGIC}${sum(body)}\n${body}`;
}

/** A framed file's JSON object; undefined when missing, torn (checksum), of another version or not an object. */
function readFramed(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    // Synchronous on purpose: one small read, asked for in the middle of a walk.
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const nl = text.indexOf('\n');
  if (!text.startsWith(MAGIC) || nl < 0) return undefined;
  const body = text.slice(nl + 1);
  if (text.slice(MAGIC.length, nl) !== sum(body)) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A shard's entries; a missing, torn or foreign one (another folder's, another version's) is empty. */
function readShard(file: string, dir: string): Map<string, [string, string]> {
  const files = new Map<string, [string, string]>();
  const v = readFramed(file);
  if (!v || v['dir'] !== dir || v['files'] === null || typeof v['files'] !== 'object') return files;
  for (const [name, entry] of Object.entries(v['files'] as Record<string, unknown>)) {
    if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && typeof entry[1] === 'string') files.set(name, [entry[0], entry[1]]);
  }
  return files;
}

function sum(body: string): string {
  return sha256Hex(body);
}

/**
 * `nbuild prune`: drops what the stat cache keeps for folders that no longer exist (a CI
 * runner's checkouts in a new folder each time would otherwise add shards forever): a shard whose
 * folder is gone, a walk's folder digests when none of its folders is left, with that walk's
 * summary, and files that are torn or of another version (read as empty anyway). Only a cache:
 * a folder that comes back costs one more hashing of its files. `dir`: the store's context-stat/.
 */
export async function pruneStatCache(dir: string): Promise<{ files: number; bytes: number }> {
  const removed = { files: 0, bytes: 0 };
  const remove = async (file: string): Promise<void> => {
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st) return;
    await fs.rm(file, { force: true });
    removed.files++;
    removed.bytes += st.size;
  };
  let fans: string[];
  try {
    fans = await fs.readdir(dir);
  } catch {
    return removed; // no stat cache yet
  }
  for (const fan of fans) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    const names = await fs.readdir(path.join(dir, fan)).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(dir, fan, name);
      const v = readFramed(file);
      if (v === undefined) await remove(file);
      else if (typeof v['dir'] === 'string') {
        if (!(await present(v['dir']))) await remove(file);
      } else if (typeof v['folders'] === 'string') {
        const entries = v['entries'];
        const folders = entries !== null && typeof entries === 'object' ? Object.keys(entries) : [];
        if (!(await anyPresent(folders))) {
          await remove(file);
          await remove(walkSummaryFile(dir, v['folders']));
        }
      }
    }
  }
  return removed;
}

/** The folder is there, or cannot be looked at (EACCES): only a folder known to be gone loses its cache. */
function present(folder: string): Promise<boolean> {
  return exists(folder).catch(() => true);
}

/** Whether any of the folders is present, looked at one by one until one is (usually the first). */
async function anyPresent(folders: readonly string[]): Promise<boolean> {
  for (const f of folders) if (await present(f)) return true;
  return false;
}
