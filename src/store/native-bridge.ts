// The store's view of the native layer engine (src/native/index.ts). Loaded
// lazily so that commands that never unpack a layer do not load the addon.
import { StoreError } from '../errors.js';

export interface ExtractOptions {
  inputPath: string;
  destDir: string;
  whiteouts: 'overlay' | 'apply';
  ignoreChownErrors?: boolean;
  expectedDiffId?: string;
}

export interface ExtractResult {
  digest: string;
  diffId: string;
  size: number;
  uncompressedSize: number;
}

interface NativeLayerApi {
  extractLayer(o: ExtractOptions): Promise<ExtractResult>;
}

let api: Promise<NativeLayerApi> | undefined;

export function nativeLayers(): Promise<NativeLayerApi> {
  api ??= (import('../native/index.js') as Promise<NativeLayerApi>).catch((e: unknown) => {
    api = undefined;
    throw new StoreError('NATIVE_UNAVAILABLE', `the native layer engine is not available: ${(e as Error).message}`, { cause: e });
  });
  return api;
}
