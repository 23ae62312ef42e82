// Build cache records: what a cache key (parent chain + instruction) produced.
import { Digest } from '../image/digest.js';

export interface CacheLayerRef {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
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
