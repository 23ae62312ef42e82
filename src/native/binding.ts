// Loads the compiled addon. The shape below is the raw binding: the facade in index.ts
// validates and fills in every option before calling it.
import { createRequire } from 'node:module';
import { packagePath } from '../package-root.js';
import { NativeError } from './errors.js';

export interface RawLayerResult { digest: string; diffId: string; size: number; uncompressedSize: number }
export interface RawIdMap { uids: RawRange[]; gids: RawRange[] }
export interface RawRange { containerId: number; hostId: number; size: number }

export interface RawWriteOptions {
  sourceDir: string; outputPath: string; mode: string; compression: string; level: number; threads: number; gzipEngine: string;
  idMap?: RawIdMap; clampMtime?: number; exclude: string[]; ownerOverride?: { uid: number; gid: number };
}
export interface RawExtractOptions {
  inputPath: string; destDir: string; whiteouts: string; idMap?: RawIdMap;
  ignoreChownErrors: boolean; expectedDiffId?: string; addArchive?: boolean;
}

export interface Binding {
  writeLayer(o: RawWriteOptions): Promise<RawLayerResult>;
  digestTree(o: RawWriteOptions): Promise<RawLayerResult>;
  extractLayer(o: RawExtractOptions): Promise<RawLayerResult>;
  sha256File(path: string): Promise<{ digest: string; size: number }>;
  engineInfo(): { zstd: string; deflate: string; threads: number };
  copyXattrs(src: string, dst: string): void;
}

let cached: Binding | undefined;

/** The addon, loaded once, from build/Release of the package. */
export function binding(): Binding {
  if (cached) return cached;
  const file = packagePath('build', 'Release', 'nbuild_native.node');
  try {
    cached = createRequire(import.meta.url)(file) as Binding;
  } catch (e) {
    throw new NativeError('NATIVE_MISSING', `cannot load the layer engine ${file}: run "npm run build:native"`, { cause: e, path: file });
  }
  return cached;
}
