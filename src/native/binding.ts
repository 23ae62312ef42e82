// Loads the compiled addon. The shape below is the raw binding: the facade in index.ts
// validates and fills in every option before calling it.
import { NativeError } from './errors.js';
import { nativeFiles } from './location.js';

export interface RawLayerResult { digest: string; diffId: string; size: number; uncompressedSize: number }
export interface RawIdMap { uids: RawRange[]; gids: RawRange[] }
export interface RawRange { containerId: number; hostId: number; size: number }

export interface RawWriteOptions {
  sourceDir: string; outputPath: string; mode: string; compression: string; level: number; threads: number; gzipEngine: string;
  idMap?: RawIdMap; clampMtime?: number; exclude: string[];
  /** Sourced entries, packed (index.ts packSourced): NUL-joined paths, sources and links, nine numbers each. */
  sourcedPaths?: string; sourcedSources?: string; sourcedLinks?: string; sourcedFields?: Float64Array;
}
export interface RawExtractOptions {
  inputPath: string; destDir: string; whiteouts: string; idMap?: RawIdMap;
  ignoreChownErrors: boolean; expectedDiffId?: string; addArchive?: boolean; whiteoutsOver?: string[];
}

/**
 * Folders listed by listDirs: per folder its entry names joined by NUL, its entry count and the
 * sha256 of its listing; per entry (in order) six numbers in `stats`: mode, dev, ino, size,
 * mtimeMs, ctimeMs (as fs.Stats has them); `links`: the symlinks' targets in order.
 */
export interface RawDirListings {
  names: string[];
  counts: number[];
  digests: string[];
  stats: Float64Array;
  links: string[];
  newestCtimeMs: number;
}

export interface Binding {
  writeLayer(o: RawWriteOptions): Promise<RawLayerResult & { hashed?: (HashedCopy & { index: number })[] }>;
  digestTree(o: RawWriteOptions): Promise<RawLayerResult>;
  recompressLayer(o: RawWriteOptions & { inputPath: string }): Promise<RawLayerResult>;
  extractLayer(o: RawExtractOptions): Promise<RawLayerResult>;
  sha256File(path: string): Promise<{ digest: string; size: number }>;
  sha256Files(paths: string[]): Promise<string[]>;
  copyFileHashed(src: string, dst: string): Promise<HashedCopy>;
  listDirs(dirs: string[]): Promise<RawDirListings>;
  /**
   * The file mapped read-only: a Buffer, or with asString a latin1 string over the mapping
   * (undefined where this Node has no external strings). Used by bin/start.cjs for the CLI bundle
   * and its code cache, before this module loads.
   */
  mapFile(file: string, asString?: boolean): Buffer | string | undefined;
  layerDigests(path: string): Promise<RawLayerResult & { compression: 'gzip' | 'zstd' | 'none' }>;
  engineInfo(): { zstd: string; deflate: string; threads: number };
  copyXattrs(src: string, dst: string): void;
  mountOverlayView(parent: string, lower: string, target: string): void;
  unmountView(target: string): void;
  spawnPiped(file: string, argv: string[], stdio: number[]): RawSpawned;
  Sha256: new () => RawSha256;
  sha256Hex(data: string | Uint8Array): string;
  randomHex(bytes: number): string;
}

/** An incremental SHA-256: strings are hashed as UTF-8; hex() finishes it. */
export interface RawSha256 {
  update(data: string | Uint8Array): RawSha256;
  hex(): string;
}

/** A program started by spawnPiped: the parent's end of each piped slot (else -1), and its exit. */
export interface RawSpawned {
  pid: number;
  fds: number[];
  exited: Promise<{ code: number | null; signal: number | null }>;
}

let cached: Binding | undefined;

/** The addon, loaded once, from where nativeFiles() says (process.dlopen: the single executable has no require of files). */
export function binding(): Binding {
  if (cached) return cached;
  const file = nativeFiles().addon;
  const module = { exports: {} };
  try {
    process.dlopen(module, file);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new NativeError('NATIVE_MISSING', `cannot load the layer engine ${file}: ${why}`, { cause: e, path: file });
  }
  cached = module.exports as Binding;
  return cached;
}

/** A file copied and hashed in one read; `identity` (what the file was while read) unless it changed meanwhile. */
export interface HashedCopy {
  digest: string;
  size: number;
  identity?: { dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number };
}
