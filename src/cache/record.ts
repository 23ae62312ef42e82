// Build cache records: what a cache key (parent chain + instruction) produced.
import { Digest } from '../image/digest.js';
import type { Layer } from '../image/image.js';

export interface CacheLayerRef {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

/** A layer as a record names it. */
export function layerRef(layer: Layer): CacheLayerRef {
  return { digest: layer.digest.toString(), diffId: layer.diffId.toString(), size: layer.size, mediaType: layer.mediaType };
}

/** The layer a record names. */
export function layerOfRef(ref: CacheLayerRef): Layer {
  return Object.freeze({ digest: Digest.parse(ref.digest), diffId: Digest.parse(ref.diffId), size: ref.size, mediaType: ref.mediaType });
}

/** JSON-serialisable; `config` is the step's config delta, opaque to the store. */
export interface CacheRecord {
  layer?: CacheLayerRef;
  config: unknown;
  createdAt: string;
}

export function isCacheRecord(v: unknown): v is CacheRecord {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<CacheRecord>;
  if (typeof r.createdAt !== 'string' || !('config' in r)) return false;
  if (r.layer === undefined) return true;
  const l = r.layer;
  return (
    l !== null &&
    typeof l === 'object' &&
    Digest.isValid(l.digest) &&
    Digest.isValid(l.diffId) &&
    Number.isSafeInteger(l.size) &&
    l.size >= 0 &&
    typeof l.mediaType === 'string'
  );
}
