// The layer engine: tar + compression + hashing of layers, and safe extraction. Bytes are
// handled in C++ off the JS thread; this facade checks arguments and applies defaults.
import path from 'node:path';
import { binding, type HashedCopy, type RawDirListings, type RawIdMap, type RawSha256 } from './binding.js';
import { fromNative, NativeError } from './errors.js';

export { NativeError } from './errors.js';

export interface IdMapEntry { containerId: number; hostId: number; size: number }
export interface IdMapping { uids: IdMapEntry[]; gids: IdMapEntry[] }
export type Compression = 'gzip' | 'zstd' | 'none';
/** Digests are "sha256:<hex>"; size = blob bytes, uncompressedSize = tar bytes. */
export interface LayerResult { digest: string; diffId: string; size: number; uncompressedSize: number }

/**
 * An entry of the layer that is not in sourceDir (COPY from the context, executor/sourced-files.ts):
 * a file's bytes are read from `source` while the tar is written; a folder's entries are the
 * sourced ones below it.
 */
export interface SourcedFile {
  type: 'file' | 'dir' | 'symlink';
  /** Where it goes, relative to sourceDir (its folder is there, or is a sourced folder). */
  path: string;
  /** Absolute: a file's bytes, a file's or folder's xattrs; '' for none. */
  source: string;
  /** A symlink's target. */
  linkname?: string;
  /**
   * A file with more than one link: its source's inode. The writer makes the first of an inode
   * in the tar's order the file and the others hard links to it, as for sourceDir's own files.
   */
  dev?: number;
  ino?: number;
  /** A file's entry size: bytes past it are not read, missing ones are written as zeros. */
  size: number;
  mode: number;
  /** Ids as files in sourceDir have them (mapped by idMap as theirs are). */
  uid: number;
  gid: number;
  /** Seconds since the epoch (clamped by clampMtime as the tree's). */
  mtime: number;
  /** Report the sha256 of its bytes (WrittenLayer.hashed). */
  hash: boolean;
}

/** writeLayer's result: with the digests of the sourced files that asked for one, by index. */
export interface WrittenLayer extends LayerResult {
  hashed?: (HashedCopy & { index: number })[];
}

export interface WriteLayerOptions {
  sourceDir: string;
  outputPath: string;
  /** overlay-upper: char 0/0 → .wh.NAME, opaque xattr → .wh..wh..opq */
  mode: 'overlay-upper' | 'plain';
  compression: Compression;
  /** gzip 1–9 (default 6), zstd 1–19 (default 3); ignored for none. */
  level?: number;
  /**
   * zlib (default): one gzip stream made like pigz (128 KiB blocks, 32 KiB dictionary, sync
   * flush, combined CRC). libdeflate: independent 1 MiB gzip members (a valid multi-member
   * gzip file), 2–3x faster at the same level; see docs/decisions.md.
   */
  gzipEngine?: 'zlib' | 'libdeflate';
  /** Compression threads; default all cores. The output bytes do not depend on it. */
  threads?: number;
  /** host ids → image ids (identity when absent) */
  idMap?: IdMapping;
  /** epoch seconds; later mtimes become this */
  clampMtime?: number;
  /** paths relative to sourceDir left out, with everything below them */
  exclude?: string[];
  /** Files put in the layer from elsewhere (none of them may be in sourceDir too). */
  sourced?: readonly SourcedFile[];
}

export interface ExtractLayerOptions {
  inputPath: string;
  destDir: string;
  /** overlay: keep overlay whiteouts (a lower dir); apply: delete (flatten onto a tree) */
  whiteouts: 'overlay' | 'apply';
  /** image ids → host ids */
  idMap?: IdMapping;
  ignoreChownErrors?: boolean;
  /** checked while extracting; on mismatch destDir is removed (when this call created it) */
  expectedDiffId?: string;
  /**
   * With whiteouts 'overlay': the unpacked layers (top-most first) the result goes on top of; a
   * whiteout is made only where they have the path, since elsewhere it hides nothing (--squash).
   */
  whiteoutsOver?: string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const LEVELS: Record<Compression, [number, number, number]> = { gzip: [1, 9, 6], zstd: [1, 19, 3], none: [0, 0, 0] };

function invalid(name: string, expected: string, actual: unknown): NativeError {
  return new NativeError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${String(actual)} of type ${typeof actual}`);
}

function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0')) throw invalid(name, 'a non-empty string', v);
  return v;
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(name, `an integer in [${min}, ${max}]`, v);
  return v;
}

function checkIdMap(name: string, m: IdMapping | undefined): RawIdMap | undefined {
  if (m === undefined) return undefined;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.uids) || !Array.isArray(m.gids)) throw invalid(name, 'an IdMapping', m);
  const ranges = (which: string, list: IdMapEntry[]) =>
    list.map((e, i) => ({
      containerId: checkInt(`${name}.${which}[${i}].containerId`, e.containerId, 0, 0xffffffff),
      hostId: checkInt(`${name}.${which}[${i}].hostId`, e.hostId, 0, 0xffffffff),
      size: checkInt(`${name}.${which}[${i}].size`, e.size, 1, 0xffffffff),
    }));
  return { uids: ranges('uids', m.uids), gids: ranges('gids', m.gids) };
}

function checkEngine(v: unknown): 'zlib' | 'libdeflate' {
  if (v === undefined) return 'zlib';
  if (v !== 'zlib' && v !== 'libdeflate') throw invalid('gzipEngine', "'zlib' or 'libdeflate'", v);
  return v;
}

function cleanRelative(p: string): string {
  const n = path.posix.normalize(p).replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (n === '' || n === '.' || n.startsWith('/') || n === '..' || n.startsWith('../')) throw invalid('exclude entry', 'a path inside sourceDir', p);
  return n;
}

const SOURCED_TYPES = { file: '0', symlink: '2', dir: '5' } as const;

/** Thousands of sourced entries cross to the addon as three NUL-joined strings and one Float64Array (nine numbers each). */
function packSourced(files: readonly SourcedFile[]): { sourcedPaths: string; sourcedSources: string; sourcedLinks: string; sourcedFields: Float64Array } {
  const fields = new Float64Array(files.length * 9);
  files.forEach((f, i) => {
    if (cleanRelative(checkString('sourced path', f.path)) !== f.path) throw invalid('sourced path', 'a clean path inside sourceDir', f.path);
    const source = f.source === '' ? '' : checkString('sourced source', f.source);
    if (source !== '' && !source.startsWith('/')) throw invalid('sourced source', "an absolute path or ''", source);
    if (!(f.type in SOURCED_TYPES)) throw invalid('sourced type', "'file', 'dir' or 'symlink'", f.type);
    const link = f.type === 'symlink' ? checkString('sourced linkname', f.linkname) : '';
    if (link.includes('\0')) throw invalid('sourced linkname', 'a path', link);
    fields.set([checkInt('size', f.size, 0, 2 ** 53), checkInt('mode', f.mode, 0, 0o7777), checkInt('uid', f.uid, 0, 2 ** 32 - 1), checkInt('gid', f.gid, 0, 2 ** 32 - 1), checkInt('mtime', f.mtime, -(2 ** 53), 2 ** 53), f.hash ? 1 : 0, SOURCED_TYPES[f.type].charCodeAt(0), checkInt('dev', f.dev ?? 0, 0, 2 ** 53), checkInt('ino', f.ino ?? 0, 0, 2 ** 53)], i * 9);
  });
  return {
    sourcedPaths: files.map((f) => f.path).join('\0'),
    sourcedSources: files.map((f) => f.source).join('\0'),
    sourcedLinks: files.map((f) => (f.type === 'symlink' ? (f.linkname as string) : '')).join('\0'),
    sourcedFields: fields,
  };
}

async function call<T>(run: () => Promise<T>): Promise<T> {
  const context = new Error();
  try {
    return await run();
  } catch (e) {
    throw fromNative(e, context);
  }
}

/** Writes sourceDir as a layer blob to outputPath; digest and diff_id come from the same pass. */
export async function writeLayer(o: WriteLayerOptions): Promise<WrittenLayer> {
  const cores = engineInfo().threads;
  if (o.mode !== 'overlay-upper' && o.mode !== 'plain') throw invalid('mode', "'overlay-upper' or 'plain'", o.mode);
  if (!(o.compression in LEVELS)) throw invalid('compression', "'gzip', 'zstd' or 'none'", o.compression);
  const [lo, hi, def] = LEVELS[o.compression];
  const raw = {
    sourceDir: path.resolve(checkString('sourceDir', o.sourceDir)),
    outputPath: path.resolve(checkString('outputPath', o.outputPath)),
    mode: o.mode,
    compression: o.compression,
    level: o.level === undefined || o.compression === 'none' ? def : checkInt('level', o.level, lo, hi),
    gzipEngine: checkEngine(o.gzipEngine),
    threads: o.threads === undefined ? cores : checkInt('threads', o.threads, 1, 256),
    idMap: checkIdMap('idMap', o.idMap),
    clampMtime: o.clampMtime === undefined ? undefined : checkInt('clampMtime', o.clampMtime, 0, 2 ** 53),
    exclude: (o.exclude ?? []).map((p) => cleanRelative(checkString('exclude entry', p))),
    ...(o.sourced && o.sourced.length > 0 ? packSourced(o.sourced) : {}),
  };
  return call(() => binding().writeLayer(raw));
}

/**
 * Re-encodes a layer blob (gzip, zstd or plain tar, by its magic bytes) as `compression` into
 * `outputPath`, streaming: same diff_id, new digest and size. Checked: the tar's sha256 on the way
 * out equals the decoder's.
 */
export async function recompressLayer(o: { inputPath: string; outputPath: string; compression: Compression; level?: number; threads?: number }): Promise<LayerResult> {
  if (!(o.compression in LEVELS)) throw invalid('compression', "'gzip', 'zstd' or 'none'", o.compression);
  const [lo, hi, def] = LEVELS[o.compression];
  const raw = {
    inputPath: path.resolve(checkString('inputPath', o.inputPath)),
    sourceDir: '',
    outputPath: path.resolve(checkString('outputPath', o.outputPath)),
    mode: 'plain',
    compression: o.compression,
    level: o.level === undefined || o.compression === 'none' ? def : checkInt('level', o.level, lo, hi),
    // As writeLayer's default: one gzip member per 1 MiB block, compressed in parallel.
    gzipEngine: 'libdeflate',
    threads: o.threads === undefined ? engineInfo().threads : checkInt('threads', o.threads, 1, 256),
    exclude: [],
  };
  return call(() => binding().recompressLayer(raw));
}

export interface DigestTreeOptions {
  sourceDir: string;
  mode: 'overlay-upper' | 'plain';
  /** epoch seconds; later mtimes become this (0: every mtime is 0, the tree's content alone counts) */
  clampMtime?: number;
}

/**
 * The sha256 (and size) of the uncompressed layer tar writeLayer would make of sourceDir, with
 * nothing written: two trees with the same content, modes, owners, links and xattrs have the same one.
 */
export async function digestTree(o: DigestTreeOptions): Promise<{ digest: string; size: number }> {
  if (o.mode !== 'overlay-upper' && o.mode !== 'plain') throw invalid('mode', "'overlay-upper' or 'plain'", o.mode);
  const raw = {
    sourceDir: path.resolve(checkString('sourceDir', o.sourceDir)),
    outputPath: '',
    mode: o.mode,
    compression: 'none',
    level: 0,
    gzipEngine: 'zlib',
    threads: 1,
    clampMtime: o.clampMtime === undefined ? undefined : checkInt('clampMtime', o.clampMtime, 0, 2 ** 53),
    exclude: [],
  };
  const r = await call(() => binding().digestTree(raw));
  return { digest: r.diffId, size: r.uncompressedSize };
}

/** Applies a layer blob (gzip, zstd or plain tar) to destDir, refusing anything that would escape it. */
export async function extractLayer(o: ExtractLayerOptions): Promise<LayerResult> {
  if (o.whiteouts !== 'overlay' && o.whiteouts !== 'apply') throw invalid('whiteouts', "'overlay' or 'apply'", o.whiteouts);
  if (o.expectedDiffId !== undefined && !DIGEST.test(o.expectedDiffId)) throw invalid('expectedDiffId', 'sha256:<64 hex>', o.expectedDiffId);
  if (o.whiteoutsOver !== undefined && o.whiteouts !== 'overlay') throw invalid('whiteoutsOver', "whiteouts 'overlay'", o.whiteouts);
  const raw = {
    inputPath: path.resolve(checkString('inputPath', o.inputPath)),
    destDir: path.resolve(checkString('destDir', o.destDir)),
    whiteouts: o.whiteouts,
    idMap: checkIdMap('idMap', o.idMap),
    ignoreChownErrors: o.ignoreChownErrors === true,
    expectedDiffId: o.expectedDiffId,
    whiteoutsOver: o.whiteoutsOver?.map((d, i) => path.resolve(checkString(`whiteoutsOver[${i}]`, d))),
  };
  return call(() => binding().extractLayer(raw));
}

/**
 * Unpacks an ADD archive (gzip, zstd or plain tar) into destDir with every path resolved inside
 * it, as in a chroot there (BuildKit's chrootarchive): a symlink already in destDir, or one the
 * archive makes, never leads out of it. `.wh.` names are plain files; a leading `/` is dropped;
 * existing folders keep their metadata; owners are the archive's.
 */
export async function extractArchive(o: { inputPath: string; destDir: string }): Promise<void> {
  const raw = {
    inputPath: path.resolve(checkString('inputPath', o.inputPath)),
    destDir: path.resolve(checkString('destDir', o.destDir)),
    whiteouts: 'apply',
    ignoreChownErrors: false,
    addArchive: true,
  };
  await call(() => binding().extractLayer(raw));
}

/** sha256 of a file, off the JS thread. */
/**
 * SHA-256 of bytes held in memory (configs, manifests, cache keys), here rather than through
 * node:crypto: its first use loads ~17 modules, ~10 ms of a no-op build (docs/decisions.md,
 * "Start-up: a no-op build loads neither node:crypto nor node:stream"). The same OpenSSL digest.
 * Strings are hashed as UTF-8, as node:crypto's update(string).
 */
export type Sha256 = RawSha256;

/** An incremental SHA-256: update() as often as needed, then hex() once (64 lowercase hex digits). */
export function sha256(): Sha256 {
  return new (binding().Sha256)();
}

/** The SHA-256 of one string (as UTF-8) or one run of bytes, as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return binding().sha256Hex(data);
}

/** `bytes` random bytes from the kernel as hex (temp names, lock nonces). */
export function randomHex(bytes: number): string {
  return binding().randomHex(bytes);
}

export async function sha256File(file: string): Promise<{ digest: string; size: number }> {
  const p = path.resolve(checkString('path', file));
  return call(() => binding().sha256File(p));
}

/**
 * How many native calls a batched walk keeps under way (the context listing, the hashing of
 * unknown files): two of libuv's four pool threads, as many as this machine kind's cores.
 */
export const CALLS_AT_ONCE = 2;

/** sha256 of many files (absolute paths) in one call off the JS thread, in the order given. */
export async function sha256Files(files: string[]): Promise<string[]> {
  files.forEach((f, i) => {
    if (!checkString(`files[${i}]`, f).startsWith('/')) throw invalid(`files[${i}]`, 'an absolute path', f);
  });
  return call(() => binding().sha256Files(files));
}

/**
 * Copies the regular file `src` to the new file `dst` (src's permission bits) and hashes it in
 * the same pass, off the JS thread: a COPY reads each context file once.
 */
export async function copyFileHashed(src: string, dst: string): Promise<HashedCopy> {
  const from = path.resolve(checkString('src', src));
  const to = path.resolve(checkString('dst', dst));
  return call(() => binding().copyFileHashed(from, to));
}

/**
 * Lists folders (absolute paths) in one call off the JS thread: their entries' lstat fields,
 * sorted as Array.prototype.sort sorts the names, and symlink targets (the context walk,
 * context/tree.ts, which decides which folders to list). Absolute paths only: thousands of
 * path.resolve calls were a tenth of a no-op rebuild's walk (profiled).
 */
export async function listDirs(dirs: string[]): Promise<RawDirListings> {
  // Named only when wrong: a label per folder was ~0.2 MB of a copy-many no-op.
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i];
    if (typeof d !== 'string' || d === '' || d.includes('\0')) throw invalid(`dirs[${i}]`, 'a non-empty string', d);
    if (!d.startsWith('/')) throw invalid(`dirs[${i}]`, 'an absolute path', d);
  }
  return call(() => binding().listDirs(dirs));
}

/**
 * digest, diff_id and sizes of a layer blob (gzip, zstd or plain tar), decoded off the JS thread
 * without unpacking it; `compression` is what the blob's magic bytes say it is.
 */
export async function layerDigests(file: string): Promise<LayerResult & { compression: Compression }> {
  const p = path.resolve(checkString('path', file));
  return call(() => binding().layerDigests(p));
}

/**
 * Copies `src`'s extended attributes that images carry (user.*, file capabilities) onto `dst`,
 * neither following a last symlink; one the destination refuses is left out (as BuildKit).
 */
export function copyXattrs(src: string, dst: string): void {
  const from = path.resolve(checkString('src', src));
  const to = path.resolve(checkString('dst', dst));
  try {
    binding().copyXattrs(from, to);
  } catch (e) {
    throw fromNative(e, new Error());
  }
}

/** Library versions and the number of cores the engine uses by default. */
export function engineInfo(): { zstd: string; deflate: string; threads: number } {
  return binding().engineInfo();
}

/**
 * Mounts a read-only overlay of `lower` (layer folders relative to `parent`, top-most first,
 * joined by ':') at `target`, with mount(2) itself: the caller is in the launcher's user and mount
 * namespaces (snapshot/rootfs-view.ts).
 */
export function mountOverlayView(parent: string, lower: string, target: string): void {
  try {
    binding().mountOverlayView(path.resolve(checkString('parent', parent)), checkString('lower', lower), path.resolve(checkString('target', target)));
  } catch (e) {
    throw fromNative(e, new Error());
  }
}

/** Detaches a view mounted by mountOverlayView (umount2 with MNT_DETACH). */
export function unmountView(target: string): void {
  try {
    binding().unmountView(path.resolve(checkString('target', target)));
  } catch (e) {
    throw fromNative(e, new Error());
  }
}
